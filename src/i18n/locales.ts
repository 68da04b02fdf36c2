import { z } from "zod";

/** The locales Postern ships translations for (emails and the hosted login page). */
export const BUILT_IN_LOCALES = ["en", "de", "fr", "es", "pt", "it", "nl", "pl", "ja", "zh-Hans"] as const;
export type BuiltInLocale = (typeof BUILT_IN_LOCALES)[number];

/** What Postern falls back to when nothing else applies. */
export const FALLBACK_LOCALE: BuiltInLocale = "en";

export const isBuiltInLocale = (locale: string): locale is BuiltInLocale =>
  (BUILT_IN_LOCALES as readonly string[]).includes(locale);

/**
 * Locale tags as Postern stores and sends them (a template's key, an app's default, `Content-Language`):
 * language, optional script, optional region, in BCP 47's canonical case (`pt-BR`, `zh-Hans`, `sr-Latn-RS`).
 * Extensions and private-use parts are left out on purpose: they choose nothing in an email.
 */
const SIMPLE_TAG = /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\d{3}))?$/;
const MAX_TAG = 35;

/** A well-formed BCP 47 tag in canonical form, or undefined (`EN_us`, `i-klingon`, `x`, 200 characters…). */
export function canonicalLocale(input: string): string | undefined {
  if (input.length === 0 || input.length > MAX_TAG || !/^[A-Za-z0-9-]+$/.test(input)) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(input);
    return canonical;
  } catch {
    return undefined;
  }
}

/** The language, script and region of a tag, without extensions: `de-DE-u-co-phonebk` → `de-DE`. */
export function baseLocale(tag: string): string | undefined {
  try {
    return new Intl.Locale(tag).baseName;
  } catch {
    return undefined;
  }
}

/** A tag Postern can key a template by: canonical and simple (see SIMPLE_TAG), or undefined. */
export function templateLocale(input: string): string | undefined {
  const canonical = canonicalLocale(input);
  return canonical && SIMPLE_TAG.test(canonical) ? canonical : undefined;
}

export const INVALID_LOCALE = "invalid_locale";

const localeProblem =
  "must be a language tag such as en, de, pt-BR or zh-Hans (language, optional script and region)";

/** The schema for a locale a developer stores (a template's locale, an app's default). */
export const templateLocaleSchema = z
  .string()
  .max(MAX_TAG, localeProblem)
  .transform((value, ctx) => {
    const locale = templateLocale(value);
    if (locale) return locale;
    ctx.addIssue({ code: "custom", message: localeProblem, params: { problemCode: INVALID_LOCALE } });
    return z.NEVER;
  });

/**
 * The schema for the `locale` an app passes with a login: any well-formed BCP 47 tag (an app passes its
 * user's setting, which may be a locale no template has: negotiation then falls back).
 */
export const requestedLocaleSchema = z
  .string()
  .max(MAX_TAG, localeProblem)
  .transform((value, ctx) => {
    const locale = canonicalLocale(value);
    if (locale) return locale;
    ctx.addIssue({ code: "custom", message: localeProblem, params: { problemCode: INVALID_LOCALE } });
    return z.NEVER;
  });

/** The locale's own name for itself ("Deutsch", "日本語"), for pickers. */
export function localeName(locale: string): string {
  try {
    const name = new Intl.DisplayNames([locale], { type: "language" }).of(locale);
    return name ? name.charAt(0).toLocaleUpperCase(locale) + name.slice(1) : locale;
  } catch {
    return locale;
  }
}
