import { boundedCache } from "../bounded-cache.ts";
import { catalogueFor } from "../i18n/catalogue.ts";
import { plural } from "../i18n/messages.ts";
import type { TemplateSource } from "./templates/check.ts";
import { type RenderedEmail, renderTemplate } from "./templates/render.ts";
import type { TemplateView } from "./templates/variables.ts";

/** How long a login (its code and link) is good for. */
export const CODE_TTL_SECONDS = 10 * 60;

/** What the worker needs to compose the email; sealed in the delivery row, never stored in clear. */
export interface LoginEmailPayload {
  code: string;
  linkToken: string;
  requestIp: string;
}

/** The additional data a delivery's sealed payload is bound to. */
export const payloadContext = (deliveryId: string) => `delivery:${deliveryId}`;

export interface LoginEmailContent {
  appName: string;
  code: string;
  link: string;
  recipient: string;
  requestIp: string;
  ttlMinutes: number;
  /** The email's locale (negotiated when the login was requested). */
  locale: string;
}

/** An app's look in its login emails; null where the app set nothing. */
export interface EmailBranding {
  logoUrl: string | null;
  accentColor: string | null;
  footer: string | null;
}

export const NO_BRANDING: EmailBranding = { logoUrl: null, accentColor: null, footer: null };

/** The button colour of an app that chose none. */
export const DEFAULT_ACCENT_COLOR = "#1d4ed8";

export interface ComposedEmail extends RenderedEmail {
  /** The locale the words are in: the email's Content-Language. */
  language: string;
}

/** WCAG 2 relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** White or near-black text on the accent colour, whichever has the higher contrast. */
export function textColorOn(accent: string): string {
  const l = luminance(accent);
  const onWhite = 1.05 / (l + 0.05);
  const onDark = (l + 0.05) / (luminance("#111111") + 0.05);
  return onWhite >= onDark ? "#ffffff" : "#111111";
}

/** The same phrase for every email in a language: Intl's constructors cost more than the email's other values. */
const expiryPhrases = boundedCache<string>(256);

/**
 * "10 minutes" in the email's language: the built-in translation's phrase where there is one (written
 * for the case its sentences need), else the platform's unit formatting for the locale.
 */
export function expiresInWords(locale: string, minutes: number): string {
  const key = `${locale} ${minutes}`;
  let words = expiryPhrases.get(key);
  if (words === undefined) {
    words = expiryPhrase(locale, minutes);
    expiryPhrases.set(key, words);
  }
  return words;
}

function expiryPhrase(locale: string, minutes: number): string {
  const served = catalogueFor(locale);
  if (new Intl.Locale(served.locale).language === new Intl.Locale(locale).language) {
    return plural(locale, served.catalogue.minutes, minutes);
  }
  return new Intl.NumberFormat(locale, { style: "unit", unit: "minute", unitDisplay: "long" }).format(
    minutes,
  );
}

/** The values a template's variables take for one email. */
export function templateView(content: LoginEmailContent, branding: EmailBranding): TemplateView {
  const accentColor = branding.accentColor ?? DEFAULT_ACCENT_COLOR;
  return {
    appName: content.appName,
    code: content.code,
    link: content.link,
    expiresInMinutes: String(content.ttlMinutes),
    expiresIn: expiresInWords(content.locale, content.ttlMinutes),
    requestIp: content.requestIp,
    recipient: content.recipient,
    locale: content.locale,
    logoUrl: branding.logoUrl ?? "",
    accentColor,
    accentTextColor: textColorOn(accentColor),
    footer: branding.footer ?? "",
  };
}

/** A login email from its template (the app's own, or a built-in one), its content and the app's branding. */
export function composeLoginEmail(
  template: TemplateSource,
  content: LoginEmailContent,
  branding: EmailBranding = NO_BRANDING,
): ComposedEmail {
  return { ...renderTemplate(template, templateView(content, branding)), language: content.locale };
}
