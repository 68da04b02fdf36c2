/** Shapes of the management API, as /openapi.json describes them. */

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  /** Template problems also say where: `line` and `column` count from 1. */
  line?: number | null;
  column?: number | null;
  errors?: { field: string; message: string; code?: string; line?: number | null; column?: number | null }[];
  /** Rate limits: seconds until a retry can succeed, and the operator setting that sets the limit. */
  retryAfter?: number;
  setting?: string;
}

export interface Account {
  id: string;
  email: string;
}

export type Role = "owner" | "admin" | "member";

export type Feature = "custom-email-provider";

export interface WorkspaceSummary {
  id: string;
  name: string;
  role: Role;
  features: Partial<Record<Feature, boolean>>;
}

export interface Workspace extends WorkspaceSummary {
  createdAt: string;
}

export interface Me {
  account: Account;
  csrfToken: string;
  workspaces: WorkspaceSummary[];
  devMailbox: boolean;
}

export interface Member {
  accountId: string;
  email: string;
  role: Role;
  joinedAt: string;
}

export interface AuditEvent {
  id: string;
  action: string;
  /** What happened, in words, after the actor's address. */
  summary: string;
  actorAccountId: string | null;
  /** Null for the operator; email null for an account since deleted. */
  actor: { id: string; email: string | null } | null;
  targetType: string;
  targetId: string;
  changes: Record<string, unknown>;
  createdAt: string;
}

export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "none";

export interface App {
  id: string;
  workspaceId: string;
  name: string;
  publishableKey: string;
  secretKeyHint: string;
  redirectUrls: string[];
  /** The app's OpenID Connect issuer (discovery at {issuer}/.well-known/openid-configuration). */
  issuer: string;
  oidc: { tokenEndpointAuthMethod: TokenEndpointAuthMethod; refreshTokens: boolean };
  branding: { logoUrl: string | null; accentColor: string | null };
  createdAt: string;
  updatedAt: string;
  /** The custom email provider's health, in the apps list and the app's own view (null: none). */
  emailProviderHealth?: {
    status: ProviderHealth["status"];
    reason: string | null;
    since: string | null;
    /** False: switched off, so its health is not a concern (login emails use the default sender). */
    enabled?: boolean;
  } | null;
}

export interface AppWithSecret extends App {
  secretKey: string;
}

export type DeliveryStatus = "queued" | "sending" | "sent" | "retrying" | "failed" | "expired";
export const deliveryStatuses: DeliveryStatus[] = [
  "queued",
  "sending",
  "sent",
  "retrying",
  "failed",
  "expired",
];

export type Route = "default" | "custom";

export interface DeliveryAttempt {
  at: string;
  durationMs: number;
  route: Route;
  outcome: "sent" | "retry" | "failed";
  errorClass?: string;
  smtpReply?: string;
  message?: string;
  /** For a failure on the way to the server: where it was going and what happened. */
  cause?: {
    host?: string;
    port?: number;
    reason: "refused" | "timeout" | "dns" | "unreachable" | "reset" | "tls" | "blocked" | "other";
  };
  /** How to fix it: the hint Test connection gives for the same failure. */
  hint: string | null;
}

export interface Delivery {
  id: string;
  recipient: string;
  sender: string | null;
  route: Route;
  status: DeliveryStatus;
  attemptCount: number;
  attempts: DeliveryAttempt[];
  lastError: string | null;
  messageId: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  expiresAt: string;
  /** When a waiting email is tried next. */
  nextAttemptAt: string | null;
  /** A failed or expired login email, which can be resent as a new login. */
  resendable: boolean;
  /** The email's locale (null for emails from before locales). */
  locale: string | null;
  /** template_test: sent from the template editor to a developer. */
  purpose: "login" | "template_test";
}

export interface DevMessage {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  receivedAt: string;
}

// Email provider

/** `none` (plaintext) is accepted only for hosts on the operator's allowlist. */
export type SmtpSecurity = "starttls" | "tls" | "none";
export type OAuthProviderName = "microsoft";

export type TestStepName = "token" | "resolve" | "connect" | "tls" | "ehlo" | "authenticate" | "send";

export interface TestStep {
  name: TestStepName;
  outcome: "ok" | "failed" | "skipped";
  durationMs: number;
  detail?: string;
  hint?: string;
  errorClass?: string;
  smtpReply?: string;
}

export interface TestResult {
  ok: boolean;
  testedAt: string;
  steps: TestStep[];
}

export interface ProviderHealth {
  status: "unknown" | "working" | "failing";
  reason: string | null;
  /** While failing: the error class (auth, network, timeout, tls, token, blocked, …). */
  cause: string | null;
  /** The same as `since`. */
  at: string | null;
  since: string | null;
  checkedAt: string | null;
  nextCheckAt: string | null;
  /** What happens to login emails now, in the server's words. */
  emails: string;
  /** What happens to login emails whenever this provider fails. */
  ifItFails: string;
}

interface ProviderCommon {
  senderEmail: string;
  senderName: string | null;
  effectiveSenderName: string;
  fallbackToDefault: boolean;
  /** False: switched off, login emails go through the default sender. */
  enabled: boolean;
  health: ProviderHealth;
  lastTest: TestResult | null;
  /** Increases on every save; pools and health belong to one version. */
  version: number;
  updatedAt: string;
  updatedBy: Account | null;
}

export interface SmtpBasicProvider extends ProviderCommon {
  type: "smtp_basic";
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string;
  passwordSet: boolean;
}

export interface SmtpOAuthProvider extends ProviderCommon {
  type: "smtp_oauth";
  provider: OAuthProviderName;
  clientId: string;
  tenantId: string;
  clientSecretSet: boolean;
}

export type Provider = SmtpBasicProvider | SmtpOAuthProvider;

export interface EmailProviderState {
  locked: boolean;
  defaultSender: string;
  provider: Provider | null;
}

export interface SmtpBasicInput {
  type: "smtp_basic";
  senderEmail: string;
  senderName?: string;
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string;
  password?: string;
  fallbackToDefault?: boolean;
}

export interface SmtpOAuthInput {
  type: "smtp_oauth";
  provider: OAuthProviderName;
  senderEmail: string;
  senderName?: string;
  clientId: string;
  clientSecret?: string;
  tenantId: string;
  fallbackToDefault?: boolean;
}

export type ProviderInput = SmtpBasicInput | SmtpOAuthInput;

export interface GuideStep {
  title: string;
  text: string;
  commands?: { label: string; command: string }[];
  links?: { label: string; url: string }[];
}

/** GET /api/session: answers signed-out visitors too. */
export interface SessionStatus {
  signedIn: boolean;
  devMailbox: boolean;
  signup: "open" | "invite";
}

// Login email templates

export interface EmailSettings {
  defaultLocale: string;
  logoUrl: string | null;
  accentColor: string | null;
  replyTo: string | null;
  footer: string | null;
  defaultAccentColor: string;
  updatedAt: string | null;
  updatedBy: Account | null;
}

export type EmailSettingsPatch = Partial<
  Pick<EmailSettings, "defaultLocale" | "logoUrl" | "accentColor" | "replyTo" | "footer">
>;

export interface TemplateLocale {
  locale: string;
  name: string;
  builtIn: boolean;
  customized: boolean;
  updatedAt: string | null;
}

export interface TemplateList {
  defaultLocale: string;
  locales: TemplateLocale[];
  variables: { name: string; description: string }[];
  maxBytes: number;
}

export type TemplatePart = "subject" | "html" | "text";

export interface TemplateSource {
  subject: string;
  html: string;
  /** null: derived from the HTML. */
  text: string | null;
}

export interface EmailTemplate extends TemplateSource {
  locale: string;
  name: string;
  builtIn: boolean;
  customized: boolean;
  version: number;
  updatedAt: string | null;
  updatedBy: Account | null;
}

export interface TemplateProblem {
  field: TemplatePart;
  code: string;
  message: string;
  line: number | null;
  column: number | null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  language: string;
  replyTo: string | null;
}

export interface TemplatePreview {
  ok: boolean;
  errors: TemplateProblem[];
  email: RenderedEmail | null;
}

export interface TemplateSample {
  recipient?: string;
  expiresInMinutes?: number;
}

export interface TemplateTestSent {
  deliveryId: string;
  recipient: string;
  locale: string;
}
