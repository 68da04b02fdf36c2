import { escapeHtml } from "../../html-escape.ts";
import { catalogueFor } from "../../i18n/catalogue.ts";
import type { EmailStrings } from "../../i18n/messages.ts";
import type { TemplateSource } from "./check.ts";

/** Which built-in email: an app's login email, or the dashboard's own sign-in email. */
export type BuiltInKind = "login" | "dashboard";

/**
 * The default HTML, as a template a developer can start from: the translated words are written in,
 * the variables stay variables. Table layout and a <style> block that rendering inlines (juice), so
 * it holds up in Outlook and Gmail; the media query narrows the padding on phones.
 */
function html(words: EmailStrings): string {
  const w = { ...words };
  // Translations are ours, but still text: escaped before they become part of the HTML template.
  for (const key of Object.keys(w) as (keyof EmailStrings)[]) w[key] = escapeHtml(w[key]);
  return `<!doctype html>
<html lang="{{locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<style>
  body { margin: 0; padding: 0; background-color: #f4f4f5; }
  .outer { width: 100%; background-color: #f4f4f5; }
  .card { width: 100%; max-width: 480px; background-color: #ffffff; border-radius: 12px; }
  .content { padding: 32px; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5; color: #18181b; }
  .logo { display: block; width: auto; max-width: 100%; height: 48px; margin: 0 0 24px; border: 0; }
  .intro { margin: 0 0 8px; }
  .code { margin: 0 0 24px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 32px; font-weight: 700; letter-spacing: 6px; }
  .action { margin: 0 0 16px; }
  .button { display: inline-block; padding: 12px 20px; border-radius: 8px; background-color: {{accentColor}}; color: {{accentTextColor}}; font-weight: 600; text-decoration: none; }
  .help { margin: 0 0 24px; font-size: 13px; color: #52525b; word-break: break-all; }
  .help a { color: #52525b; }
  .small { margin: 0 0 12px; font-size: 13px; color: #52525b; }
  .footer { padding: 16px 32px 0; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 12px; line-height: 1.5; color: #71717a; text-align: center; white-space: pre-line; }
  @media (max-width: 520px) {
    .content { padding: 24px 20px !important; }
    .code { font-size: 28px !important; letter-spacing: 4px !important; }
  }
</style>
</head>
<body>
<table role="presentation" class="outer" cellpadding="0" cellspacing="0" border="0">
<tr><td align="center" style="padding: 32px 12px;">
<table role="presentation" class="card" cellpadding="0" cellspacing="0" border="0">
<tr><td class="content">
{{#logoUrl}}<img class="logo" src="{{logoUrl}}" alt="{{appName}}" height="48">{{/logoUrl}}
<p class="intro">${w.intro}</p>
<p class="code">{{code}}</p>
<p class="action"><a class="button" href="{{link}}">${w.button}</a></p>
<p class="help">${w.linkHelp}<br><a href="{{link}}">{{link}}</a></p>
<p class="small">${w.expiry}</p>
<p class="small">${w.notYou}</p>
</td></tr>
</table>
{{#footer}}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="max-width: 480px; width: 100%;"><tr><td class="footer">{{footer}}</td></tr></table>{{/footer}}
</td></tr>
</table>
</body>
</html>
`;
}

function text(words: EmailStrings): string {
  return `${words.intro} {{code}}

${words.instruction}
{{link}}

${words.expiry}

${words.notYou}
{{#footer}}

-- 
{{footer}}
{{/footer}}
`;
}

/**
 * The built-in template of `kind` in the translation that serves `locale` (English when there is none):
 * what an app sends until it saves its own, and what "reset to default" returns to.
 */
export function builtInTemplate(kind: BuiltInKind, locale: string): TemplateSource {
  const { catalogue } = catalogueFor(locale);
  const words = kind === "login" ? catalogue.loginEmail : catalogue.dashboardEmail;
  return { subject: words.subject, html: html(words), text: text(words) };
}
