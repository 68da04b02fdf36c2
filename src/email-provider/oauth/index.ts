import { z } from "zod";
import { microsoft, microsoftBody } from "./microsoft.ts";
import type { OAuthProvider } from "./provider.ts";

/** The `smtp_oauth` PUT body: one member per OAuth provider, told apart by `provider`. */
export const smtpOauthBody = z.discriminatedUnion("provider", [microsoftBody]);
export type SmtpOauthBody = z.infer<typeof smtpOauthBody>;

const providers: Record<SmtpOauthBody["provider"], OAuthProvider> = {
  microsoft: microsoft as unknown as OAuthProvider,
};

/** Every provider's non-secret fields, for the audit log. */
export const oauthFields: readonly string[] = [
  ...new Set(Object.values(providers).flatMap((p) => p.destinationFields)),
];

export function oauthProvider(id: string): OAuthProvider {
  const provider = providers[id as SmtpOauthBody["provider"]];
  if (!provider) throw new Error(`unknown OAuth provider ${id}`);
  return provider;
}
