import type { Account } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { notFound } from "../errors.ts";
import { composeLoginEmail, type EmailBranding } from "../mail/login-email.ts";
import { checkTemplate } from "../mail/templates/check.ts";
import { templateProblemList } from "./errors.ts";
import type { PreviewBody } from "./model.ts";
import { draftTemplate, sampleContent } from "./sample.ts";

/**
 * Renders a template as the app's users would get it, with sample values: the unsaved parts and
 * branding from the editor, the saved ones for the rest. A template with problems is an answer too
 * (`ok: false` and every problem with its line), so an editor can check as someone types.
 */
export async function previewTemplate(
  ctx: Context,
  account: Account,
  appId: string,
  locale: string,
  body: PreviewBody,
) {
  await requireApp(ctx.db, account.id, appId);
  const draft = await draftTemplate(ctx, appId, locale, body);
  if (!draft) throw notFound("app");
  const problems = checkTemplate(draft.template);
  if (problems.length > 0) {
    return {
      ok: false,
      errors: templateProblemList(problems),
      email: null,
    };
  }
  const branding: EmailBranding = { ...draft.settings.branding };
  const replyTo = body.branding?.replyTo !== undefined ? body.branding.replyTo : draft.settings.replyTo;
  for (const key of ["logoUrl", "accentColor", "footer"] as const) {
    const value = body.branding?.[key];
    if (value !== undefined) branding[key] = value || null;
  }
  const email = composeLoginEmail(
    draft.template,
    sampleContent(ctx, {
      appName: draft.appName,
      recipient: account.email,
      locale: draft.language,
      sample: body.sample,
    }),
    branding,
  );
  return { ok: true, errors: [], email: { ...email, replyTo } };
}
