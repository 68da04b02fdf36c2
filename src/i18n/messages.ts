/**
 * The shape of a translation. Strings may hold `{{name}}` placeholders: in the email strings they are
 * template variables (src/mail/templates/variables.ts), kept as they are in the built-in templates; in
 * the hosted login page's strings they are filled by `formatMessage`.
 */

/** A phrase by CLDR plural category (Intl.PluralRules); `{n}` is the number, formatted for the locale. */
export interface PluralForms {
  zero?: string;
  one?: string;
  two?: string;
  few?: string;
  many?: string;
  other: string;
}

/** The words of one login email (the app's, or the dashboard's own sign-in email). */
export interface EmailStrings {
  subject: string;
  /** Followed by the code: "Your {{appName}} login code is". */
  intro: string;
  /** The text part, before the link. */
  instruction: string;
  button: string;
  /** Under the button, before the link written out. */
  linkHelp: string;
  /** With {{expiresIn}}, the `minutes` phrase. */
  expiry: string;
  notYou: string;
}

/** The hosted login page's words (src/http/pages/), kept here with the emails'. */
export interface HostedLoginStrings {
  title: string;
  emailLabel: string;
  sendCode: string;
  sending: string;
  /** With {{email}}. */
  codeSent: string;
  /** With {{expiresIn}}, the `minutes` phrase. */
  codeExpires: string;
  codeLabel: string;
  verify: string;
  openLinkInstead: string;
  resend: string;
  changeEmail: string;
  invalidEmail: string;
  invalidCode: string;
  attemptsLeft: PluralForms;
  tooManyAttempts: string;
  expired: string;
  rateLimited: string;
  signedIn: string;
  genericError: string;
}

export interface Catalogue {
  /** "10 minutes" as the expiry sentences need it (e.g. Polish accusative after "za": 1 minutę, 2 minuty, 5 minut). */
  minutes: PluralForms;
  loginEmail: EmailStrings;
  dashboardEmail: EmailStrings;
  hostedLogin: HostedLoginStrings;
}

/** The phrase for `n` in `locale`: the CLDR category's form, else `other`; `{n}` formatted for the locale. */
export function plural(locale: string, forms: PluralForms, n: number): string {
  const category = new Intl.PluralRules(locale).select(n) as keyof PluralForms;
  const form = forms[category] ?? forms.other;
  return form.replaceAll("{n}", new Intl.NumberFormat(locale).format(n));
}

/** Fills `{{name}}` placeholders from `values` (unknown ones are left as they are). Not HTML-escaped. */
export function formatMessage(message: string, values: Record<string, string | number>): string {
  return message.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}
