import { z } from "zod";
import { smtpOauthBody } from "../oauth/index.ts";
import type { ProviderKind } from "./kind.ts";
import { smtpBasic, smtpBasicBody } from "./smtp-basic.ts";
import { smtpOauth } from "./smtp-oauth.ts";

/** Every provider kind Postern knows; the PUT body is discriminated by `type`. */
export const providerKinds: Record<string, ProviderKind> = {
  smtp_basic: smtpBasic as unknown as ProviderKind,
  smtp_oauth: smtpOauth as unknown as ProviderKind,
};

export const providerBodySchema = z.discriminatedUnion("type", [smtpBasicBody, smtpOauthBody]);
export type ProviderBody = z.infer<typeof providerBodySchema>;

export function kindOf(type: string): ProviderKind {
  const kind = providerKinds[type];
  if (!kind) throw new Error(`unknown provider kind ${type}`);
  return kind;
}
