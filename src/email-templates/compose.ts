import type { Context } from "../context.ts";
import type { deliveries } from "../db/schema.ts";
import { catalogueFor } from "../i18n/catalogue.ts";
import { FALLBACK_LOCALE } from "../i18n/locales.ts";
import {
  CODE_TTL_SECONDS,
  type ComposedEmail,
  composeLoginEmail,
  type LoginEmailPayload,
  payloadContext,
} from "../mail/login-email.ts";
import { builtInTemplate } from "../mail/templates/built-in.ts";
import { loadAppEmail, settingsFrom } from "./store.ts";
import type { TemplateTestPayload } from "./test-email.ts";

type Delivery = typeof deliveries.$inferSelect;

/** A composed login email and where replies to it go. */
export type DeliveryEmail = ComposedEmail & { replyTo?: string | undefined };

/**
 * The email of one delivery, composed when it is sent: the dashboard's sign-in email, or the app's
 * login email (its template for the delivery's locale, or the built-in one) with the app's branding.
 */
export async function composeDeliveryEmail(ctx: Context, delivery: Delivery): Promise<DeliveryEmail> {
  const payload = JSON.parse(
    ctx.secrets.open(delivery.sealedPayload!, payloadContext(delivery.id)),
  ) as LoginEmailPayload & Partial<TemplateTestPayload>;
  const locale = delivery.locale ?? FALLBACK_LOCALE;
  const linkPath = delivery.appId ? "/v1/login/email/link" : "/api/auth/email/link";
  const content = {
    code: payload.code,
    link: `${ctx.config.publicUrl}${linkPath}?token=${encodeURIComponent(payload.linkToken)}`,
    recipient: delivery.recipient,
    requestIp: payload.requestIp,
    ttlMinutes: CODE_TTL_SECONDS / 60,
  };
  if (!delivery.appId) {
    const language = catalogueFor(locale).locale;
    return composeLoginEmail(builtInTemplate("dashboard", language), {
      ...content,
      appName: "Postern",
      locale: language,
    });
  }
  const appId = delivery.appId;
  const app = await ctx.appCache.emailOf(appId, locale, () => loadAppEmail(ctx.db, appId, locale));
  const settings = app?.settings ?? settingsFrom(undefined);
  // A test from the template editor carries the draft it was sent from.
  const template = payload.template ?? app?.template ?? builtInTemplate("login", locale);
  const language = payload.template ? locale : (app?.language ?? catalogueFor(locale).locale);
  const email = composeLoginEmail(
    template,
    { ...content, appName: app?.appName ?? "your app", locale: language },
    settings.branding,
  );
  return {
    ...email,
    subject: delivery.purpose === "template_test" ? `[Test] ${email.subject}` : email.subject,
    replyTo: settings.replyTo ?? undefined,
  };
}
