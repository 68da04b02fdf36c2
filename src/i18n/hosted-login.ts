import { catalogueFor } from "./catalogue.ts";
import { formatMessage, type HostedLoginStrings, plural } from "./messages.ts";
import { negotiateLocale } from "./negotiate.ts";

export interface HostedLoginWords {
  /** The page's `lang`, and its Content-Language. */
  locale: string;
  strings: HostedLoginStrings;
  /** "It expires in 10 minutes." */
  codeExpires(minutes: number): string;
  /** "3 tries left." */
  attemptsLeft(remaining: number): string;
  /** Fills `{{appName}}`, `{{email}}`… in one of `strings` (not HTML-escaped: the page escapes). */
  format(message: string, values: Record<string, string | number>): string;
}

/**
 * The hosted login page's words for one request, negotiated like a login email's locale (the
 * `ui_locales` or `locale` asked for, then Accept-Language, then the app's default). Only built-in
 * translations apply: apps customise emails, not the page.
 */
export function hostedLoginWords(
  requested: string | undefined,
  acceptLanguage: string | undefined,
  appDefault: string | undefined,
): HostedLoginWords {
  const { locale } = negotiateLocale(requested, acceptLanguage, appDefault);
  const { catalogue } = catalogueFor(locale);
  return {
    locale,
    strings: catalogue.hostedLogin,
    codeExpires: (minutes) =>
      formatMessage(catalogue.hostedLogin.codeExpires, {
        expiresIn: plural(locale, catalogue.minutes, minutes),
      }),
    attemptsLeft: (remaining) => plural(locale, catalogue.hostedLogin.attemptsLeft, remaining),
    format: formatMessage,
  };
}
