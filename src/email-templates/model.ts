import { z } from "zod";
import { emailAddressSchema } from "../email-address/email-address.ts";
import { templateLocaleSchema } from "../i18n/locales.ts";

/**
 * The shapes of the template API's input. A schema that knows what is wrong names it with a problem
 * code (issue params.problemCode, read by src/http/problem.ts), like `invalid_email` does.
 */
const refuse = (ctx: z.RefinementCtx, message: string, problemCode: string) => {
  ctx.addIssue({ code: "custom", message, params: { problemCode } });
  return z.NEVER;
};

const MAX_LOGO_URL = 2048;
export const MAX_FOOTER = 500;

/** An HTTPS URL without credentials: recipients' mail clients fetch it, so it must not leak or downgrade. */
export const logoUrlSchema = z.string().transform((value, ctx) => {
  if (value.length > MAX_LOGO_URL || /[\p{Cc}\s]/u.test(value))
    return refuse(
      ctx,
      `must be an https:// URL of at most ${MAX_LOGO_URL} characters, without spaces`,
      "invalid_logo_url",
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse(ctx, "must be an https:// URL, such as https://example.com/logo.png", "invalid_logo_url");
  }
  if (url.protocol !== "https:") return refuse(ctx, "must use https://", "invalid_logo_url");
  if (url.username || url.password)
    return refuse(ctx, "must not contain a user name or password", "invalid_logo_url");
  return url.href;
});

/** #rrggbb, stored in lower case. */
export const accentColorSchema = z.string().transform((value, ctx) => {
  if (!/^#[0-9a-fA-F]{6}$/.test(value))
    return refuse(ctx, "must be a colour such as #1d4ed8", "invalid_color");
  return value.toLowerCase();
});

/** One or a few lines (a postal address); CR LF becomes LF; other control characters are refused. */
export const footerSchema = z.string().transform((value, ctx) => {
  const normalized = value.replace(/\r\n?/g, "\n").trim();
  if (/[^\P{Cc}\n]/u.test(normalized))
    return refuse(ctx, "must not contain control characters", "invalid_footer");
  if (normalized.length > MAX_FOOTER)
    return refuse(ctx, `must be at most ${MAX_FOOTER} characters`, "invalid_footer");
  if (normalized.split("\n").length > 6) return refuse(ctx, "must be at most 6 lines", "invalid_footer");
  return normalized;
});

/** PATCH semantics: an absent field is kept, `null` clears it. */
export const emailSettingsPatchSchema = z.strictObject({
  defaultLocale: templateLocaleSchema.optional(),
  logoUrl: logoUrlSchema.nullable().optional(),
  accentColor: accentColorSchema.nullable().optional(),
  replyTo: emailAddressSchema.nullable().optional(),
  footer: footerSchema.nullable().optional(),
});
export type EmailSettingsPatch = z.infer<typeof emailSettingsPatchSchema>;

/**
 * A part as sent; its size is checked by the template check (which names the line), so the schema
 * only bounds what a request can hold at all.
 */
const part = z.string().max(1_000_000, "is far larger than a template may be (100 KB)");

export const templateBodySchema = z.strictObject({
  subject: part,
  html: part,
  /** Omitted or null: derived from the HTML when the email is composed. */
  text: part.nullable().optional(),
  /** The version the editor loaded (0: it showed the built-in one); a newer save is then a conflict. */
  version: z.number().int().min(0).max(2_147_483_647).optional(),
});
export type TemplateBody = z.infer<typeof templateBodySchema>;

/** Preview and test: the unsaved parts from the editor, or the saved template for those left out. */
export const draftSchema = z.strictObject({
  subject: part.optional(),
  html: part.optional(),
  text: part.nullable().optional(),
});

export const sampleSchema = z.strictObject({
  code: z
    .string()
    .regex(/^\d{6}$/, "must be 6 digits")
    .optional(),
  recipient: emailAddressSchema.optional(),
  requestIp: z
    .string()
    .regex(/^[0-9A-Fa-f.:]{2,45}$/, "must be an IP address")
    .optional(),
  expiresInMinutes: z.number().int().min(1).max(1440).optional(),
});

export const brandingDraftSchema = z.strictObject({
  logoUrl: logoUrlSchema.nullable().optional(),
  accentColor: accentColorSchema.nullable().optional(),
  footer: footerSchema.nullable().optional(),
  replyTo: emailAddressSchema.nullable().optional(),
});

export const previewBodySchema = draftSchema.extend({
  branding: brandingDraftSchema.optional(),
  sample: sampleSchema.optional(),
});
export type PreviewBody = z.infer<typeof previewBodySchema>;

export const testBodySchema = draftSchema;
export type TestBody = z.infer<typeof testBodySchema>;
