import type { Context } from "../context.ts";
import type { LoginEmailContent } from "../mail/login-email.ts";
import type { TemplateSource } from "../mail/templates/check.ts";
import type { PreviewBody } from "./model.ts";
import { loadAppEmail } from "./store.ts";

/** The code shown in previews and test emails: obviously a sample, and it signs nobody in. */
export const SAMPLE_CODE = "123456";
/** A link token no login has: the link opens Postern's "cannot be used" page. */
export const SAMPLE_LINK_TOKEN = "sample-link-from-the-template-editor";
/** TEST-NET-3 (RFC 5737): an address that belongs to nobody. */
export const SAMPLE_IP = "203.0.113.7";

export function sampleContent(
  ctx: Context,
  input: { appName: string; recipient: string; locale: string; sample?: PreviewBody["sample"] },
): LoginEmailContent {
  return {
    appName: input.appName,
    code: input.sample?.code ?? SAMPLE_CODE,
    link: `${ctx.config.publicUrl}/v1/login/email/link?token=${SAMPLE_LINK_TOKEN}`,
    recipient: input.sample?.recipient ?? input.recipient,
    requestIp: input.sample?.requestIp ?? SAMPLE_IP,
    ttlMinutes: input.sample?.expiresInMinutes ?? 10,
    locale: input.locale,
  };
}

/**
 * The template an editor is looking at: the parts it sends (unsaved), the saved template's for the
 * others. With no part given, the locale's words are those of the email the app sends today.
 */
export async function draftTemplate(
  ctx: Context,
  appId: string,
  locale: string,
  draft: { subject?: string | undefined; html?: string | undefined; text?: string | null | undefined },
) {
  const stored = await loadAppEmail(ctx.db, appId, locale);
  if (!stored) return undefined;
  const base = stored.template;
  const edited = draft.subject !== undefined || draft.html !== undefined || draft.text !== undefined;
  const template: TemplateSource = {
    subject: draft.subject ?? base.subject,
    html: draft.html ?? base.html,
    text: draft.text !== undefined ? draft.text : base.text,
  };
  return {
    appName: stored.appName,
    settings: stored.settings,
    template,
    language: edited ? locale : stored.language,
  };
}
