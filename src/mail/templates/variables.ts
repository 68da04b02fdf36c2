/**
 * The variables a login email template may use; nothing else resolves. Every value is a string, so a
 * section (`{{#logoUrl}}…{{/logoUrl}}`) only shows or hides its content: nothing in a template runs.
 */
export const TEMPLATE_VARIABLES = {
  appName: "The app's name",
  code: "The 6-digit login code",
  link: "The magic link (single use)",
  expiresInMinutes: "Minutes until the code and the link expire, e.g. 10",
  expiresIn: "The same in the email's language, e.g. “10 minutes”, “10 Minuten”, “10 minut”",
  requestIp: "The IP address the login was requested from",
  recipient: "The address the email is sent to",
  locale: "The email's locale, e.g. de or pt-BR",
  logoUrl: "Branding: the logo's HTTPS URL (empty when none is set)",
  accentColor: "Branding: the accent colour as #rrggbb (Postern's blue when none is set)",
  accentTextColor: "Black or white, whichever reads better on the accent colour",
  footer: "Branding: the footer line, such as your postal address (empty when none is set)",
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export type TemplateView = Record<TemplateVariable, string>;

export const isTemplateVariable = (name: string): name is TemplateVariable =>
  Object.hasOwn(TEMPLATE_VARIABLES, name);

/** A template must carry at least one of these in each body part, or nobody could sign in with it. */
export const CREDENTIAL_VARIABLES: readonly TemplateVariable[] = ["code", "link"];
