/**
 * Every audit action in words. Written on the server, so the dashboard, the SDK and anyone reading the
 * API get the same sentence, and it can use what only the server knows: an app's name, a member's
 * address. The sentence follows the actor's name: "ana@example.com" + "renamed the app “Shop” …".
 */

export const AUDIT_ACTIONS = [
  "workspace.created",
  "workspace.renamed",
  "feature.unlocked",
  "feature.locked",
  "member.invited",
  "member.role_changed",
  "member.removed",
  "app.created",
  "app.updated",
  "app.deleted",
  "app.secret_key_rotated",
  "email_provider.created",
  "email_provider.updated",
  "email_provider.deleted",
  "email_provider.tested",
  "email_provider.disabled",
  "email_provider.enabled",
  "email_provider.reordered",
  "email_settings.updated",
  "email_template.saved",
  "email_template.reset",
  "email_template.test_sent",
  "delivery.resent",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditFacts {
  action: string;
  actorAccountId: string | null;
  targetId: string;
  changes: Record<string, unknown>;
  /** The target app's current name, or null when the target is not an app or the app is gone. */
  appName: string | null;
  /** The target account's address, for member actions. */
  targetEmail: string | null;
}

const featureNames: Record<string, string> = { "custom-email-provider": "custom email providers" };

const fieldNames: Record<string, string> = {
  name: "name",
  redirectUrls: "redirect URLs",
  "oidc.tokenEndpointAuthMethod": "token endpoint authentication",
  "oidc.refreshTokens": "refresh tokens",
  "branding.logoUrl": "logo",
  "branding.accentColor": "accent colour",
  type: "kind",
  senderEmail: "sender address",
  senderName: "sender name",
  fallbackToDefault: "fallback to the default sender",
  host: "host",
  port: "port",
  security: "security",
  username: "username",
  password: "password",
  clientSecret: "client secret",
  clientId: "client ID",
  tenantId: "tenant ID",
  provider: "provider",
  defaultLocale: "default language",
  logoUrl: "logo",
  accentColor: "accent colour",
  replyTo: "reply-to address",
  footer: "footer",
};

const stepNames: Record<string, string> = {
  token: "getting a token",
  resolve: "looking up the server",
  connect: "connecting",
  tls: "TLS",
  ehlo: "the greeting",
  authenticate: "signing in",
  send: "sending the test email",
};

const quoted = (text: string) => `“${text}”`;

function fieldName(key: string): string {
  return fieldNames[key] ?? key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

function valueWords(value: unknown): string {
  if (value === null || value === undefined || value === "") return "none";
  if (value === true) return "on";
  if (value === false) return "off";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(valueWords).join(", ");
  if (typeof value === "string" || typeof value === "number") return String(value);
  return JSON.stringify(value);
}

const isChange = (value: unknown): value is { from: unknown; to: unknown } =>
  typeof value === "object" && value !== null && "from" in value && "to" in value;

/** "name from “A” to “B”, redirect URLs to https://…"; secrets only as "a new password". */
/** Recorded to say which thing changed (which of an app's providers), not as a change of their own. */
const ABOUT_KEYS = new Set(["providerId", "position"]);

/** "the email provider", or for one after the primary "fallback email provider 2" (its place when recorded). */
const whichProvider = (f: AuditFacts) =>
  typeof f.changes.position === "number" && f.changes.position > 0
    ? `fallback email provider ${f.changes.position + 1}`
    : "the email provider";

function changeList(changes: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === "(changed)") parts.push(`a new ${fieldName(key)}`);
    else if (isChange(value))
      parts.push(`the ${fieldName(key)} from ${valueWords(value.from)} to ${valueWords(value.to)}`);
    else if (typeof value === "object" && value !== null && !Array.isArray(value))
      for (const [inner, v] of Object.entries(value)) {
        if (v !== undefined) add(`${key}.${inner}`, v);
      }
    else parts.push(`the ${fieldName(key)} to ${valueWords(value)}`);
  };
  for (const [key, value] of Object.entries(changes)) if (!ABOUT_KEYS.has(key)) add(key, value);
  return parts.join("; ");
}

const withChanges = (sentence: string, changes: Record<string, unknown>) => {
  const list = changeList(changes);
  return list ? `${sentence}: ${list}` : sentence;
};

function appOf(facts: AuditFacts): string {
  if (facts.appName) return quoted(facts.appName);
  const recorded = facts.changes.name;
  return typeof recorded === "string" ? quoted(recorded) : "an app since deleted";
}

const languageOf = (facts: AuditFacts) => {
  const locale = facts.changes.locale;
  return typeof locale === "string" ? ` (${locale})` : "";
};

const sentences: Record<AuditAction, (facts: AuditFacts) => string> = {
  "workspace.created": (f) => `created the workspace ${quoted(valueWords(f.changes.name))}`,
  "workspace.renamed": (f) => {
    const name = f.changes.name;
    return isChange(name)
      ? `renamed the workspace from ${quoted(valueWords(name.from))} to ${quoted(valueWords(name.to))}`
      : "renamed the workspace";
  },
  "feature.unlocked": (f) => `unlocked ${featureNames[f.targetId] ?? f.targetId} for this workspace`,
  "feature.locked": (f) => `locked ${featureNames[f.targetId] ?? f.targetId} for this workspace`,
  "member.invited": (f) =>
    `invited ${valueWords(f.changes.email ?? f.targetEmail)} as ${valueWords(f.changes.role)}`,
  "member.role_changed": (f) => {
    const role = f.changes.role;
    const who = f.targetEmail ?? "a former member";
    return isChange(role)
      ? `changed ${who}’s role from ${valueWords(role.from)} to ${valueWords(role.to)}`
      : `changed ${who}’s role`;
  },
  "member.removed": (f) =>
    f.actorAccountId === f.targetId ? "left the workspace" : `removed ${f.targetEmail ?? "a member"}`,
  "app.created": (f) => {
    const urls = f.changes.redirectUrls;
    const name = quoted(valueWords(f.changes.name));
    return Array.isArray(urls) && urls.length > 0
      ? `created the app ${name} with redirect URLs ${valueWords(urls)}`
      : `created the app ${name}`;
  },
  "app.updated": (f) => withChanges(`changed the app ${appOf(f)}`, f.changes),
  "app.deleted": (f) => `deleted the app ${appOf(f)}`,
  "app.secret_key_rotated": (f) =>
    `rotated the secret key of ${appOf(f)} (the old one stopped working at once)`,
  "email_provider.created": (f) =>
    `set up ${typeof f.changes.position === "number" && f.changes.position > 0 ? "a fallback" : "a custom"} email provider for ${appOf(f)}${
      isChange(f.changes.senderEmail) ? `, sending as ${valueWords(f.changes.senderEmail.to)}` : ""
    }`,
  "email_provider.updated": (f) => withChanges(`changed ${whichProvider(f)} of ${appOf(f)}`, f.changes),
  "email_provider.reordered": (f) => `changed the order in which ${appOf(f)}'s email providers are tried`,
  "email_provider.deleted": (f) =>
    `removed the custom email provider of ${appOf(f)}; its emails go through the default sender`,
  "email_provider.tested": (f) => {
    const what = f.changes.saved === false ? "unsaved email provider settings" : "the email provider";
    const mail = f.changes.testEmail ? " with a test email" : "";
    if (f.changes.ok === true) return `tested ${what} of ${appOf(f)}${mail}: it worked`;
    const step = f.changes.failedStep;
    const at = typeof step === "string" ? ` at ${stepNames[step] ?? step}` : "";
    return `tested ${what} of ${appOf(f)}${mail}: it failed${at}`;
  },
  "email_provider.disabled": (f) =>
    `turned off the custom email provider of ${appOf(f)}; its emails go through the default sender until it is turned on`,
  "email_provider.enabled": (f) => `turned the custom email provider of ${appOf(f)} back on`,
  "email_settings.updated": (f) => withChanges(`changed the email settings of ${appOf(f)}`, f.changes),
  "email_template.saved": (f) => {
    const parts = f.changes.parts;
    const which = Array.isArray(parts) && parts.length > 0 ? ` (${valueWords(parts)})` : "";
    return `saved the login email${languageOf(f)} of ${appOf(f)}${which}`;
  },
  "email_template.reset": (f) => `reset the login email${languageOf(f)} of ${appOf(f)} to the default`,
  "email_template.test_sent": (f) =>
    `sent themselves a test of the login email${languageOf(f)} of ${appOf(f)}`,
  "delivery.resent": (f) =>
    `sent a new login email to ${valueWords(f.changes.recipient)} for ${appOf(f)} in place of a failed one`,
};

export function isAuditAction(action: string): action is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(action);
}

/** The sentence for an event; an action this server does not know (a newer one's) keeps its code. */
export function describeAudit(facts: AuditFacts): string {
  return isAuditAction(facts.action) ? sentences[facts.action](facts) : `did ${facts.action}`;
}
