import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { JWK } from "jose";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const at = (name: string) => timestamp(name, { withTimezone: true });

/** Dashboard accounts: developers who sign in to manage workspaces and apps. */
export const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  createdAt: createdAt(),
  lastSignInAt: at("last_sign_in_at"),
});

export const workspaces = pgTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const workspaceMembers = pgTable(
  "workspace_members",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.accountId] }), index("members_by_account").on(t.accountId)],
);

/** Premium features, unlocked per workspace by the operator. */
export const workspaceFeatures = pgTable(
  "workspace_features",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    feature: text("feature").notNull(),
    enabled: boolean("enabled").notNull(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.feature] })],
);

export const apps = pgTable(
  "apps",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    publishableKey: text("publishable_key").notNull().unique(),
    secretKeyHash: text("secret_key_hash").notNull().unique(),
    secretKeyHint: text("secret_key_hint").notNull(),
    redirectUrls: jsonb("redirect_urls").$type<string[]>().notNull().default([]),
    /** OpenID Connect client settings: `none` is a public client (PKCE only), the others use the secret key. */
    oidcTokenEndpointAuthMethod: text("oidc_token_endpoint_auth_method", {
      enum: ["client_secret_basic", "client_secret_post", "none"],
    })
      .notNull()
      .default("client_secret_basic"),
    oidcRefreshTokens: boolean("oidc_refresh_tokens").notNull().default(false),
    /** The hosted login page's branding: an https logo and an `#rrggbb` accent for its buttons. */
    logoUrl: text("logo_url"),
    accentColor: text("accent_color"),
    createdAt: createdAt(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [index("apps_by_workspace").on(t.workspaceId)],
);

/** ES256 keys that sign an app's session tokens; the private half is sealed. */
export const appSigningKeys = pgTable("app_signing_keys", {
  kid: text("kid").primaryKey(),
  appId: text("app_id")
    .notNull()
    .references(() => apps.id, { onDelete: "cascade" }),
  publicJwk: jsonb("public_jwk").$type<JWK>().notNull(),
  privateJwkSealed: text("private_jwk_sealed").notNull(),
  createdAt: createdAt(),
});

export const endUsers = pgTable(
  "end_users",
  {
    id: text("id").primaryKey(),
    appId: text("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    createdAt: createdAt(),
    lastSignInAt: at("last_sign_in_at"),
  },
  (t) => [uniqueIndex("end_users_app_email").on(t.appId, t.email)],
);

/**
 * One passwordless login in progress: a code and a magic link, stored only as hashes.
 * `appId` is null for dashboard sign-in.
 */
export const loginChallenges = pgTable(
  "login_challenges",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").references(() => apps.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    codeHash: text("code_hash").notNull(),
    linkTokenHash: text("link_token_hash").notNull().unique(),
    redirectUrl: text("redirect_url"),
    /**
     * The browser that asked for the login (hash of its `postern_browser` cookie), when it was asked
     * for from one: only there does the magic link work with one click; elsewhere it needs the code.
     */
    browserBindingHash: text("browser_binding_hash"),
    /** The hosted login page's OpenID Connect interaction this login finishes, if it came from one. */
    oidcInteractionUid: text("oidc_interaction_uid"),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: at("expires_at").notNull(),
    consumedAt: at("consumed_at"),
    supersededAt: at("superseded_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("challenges_by_audience_email").on(t.appId, t.email),
    // Keyed on the interaction alone (a random uid): an index that led with app_id too would match a
    // login's supersede (app_id = $1 and email = $2) by its app_id prefix alone, and PostgreSQL's
    // cached generic plan for it in postern_start_login could pick that one, reading every challenge
    // of the app on each login (test/perf/login-rows.test.ts).
    index("challenges_by_interaction")
      .on(t.oidcInteractionUid)
      .where(sql`${t.oidcInteractionUid} is not null`),
  ],
);

/**
 * What happened on the way to the server, for the delivery log: the host and port as configured (never
 * the resolved address, nor anything from the credentials) and a word for the failure.
 */
export interface AttemptCause {
  host?: string;
  port?: number;
  reason: "refused" | "timeout" | "dns" | "unreachable" | "reset" | "tls" | "blocked" | "other";
}

export interface DeliveryAttempt {
  at: string;
  durationMs: number;
  route: "default" | "custom";
  /** The custom provider this attempt went through (absent for the default sender and older attempts). */
  provider?: { id: string; type: string; label: string };
  /** "moved-on": the provider could not send, so the same email went on to the next one at once. */
  outcome: "sent" | "retry" | "failed" | "moved-on";
  errorClass?: string;
  smtpReply?: string;
  message?: string;
  /** Where a failed attempt was going and what happened on the way (never a credential). */
  cause?: AttemptCause;
}

/** The delivery log: one row per login email, with every attempt. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").references(() => apps.id, { onDelete: "cascade" }),
    challengeId: text("challenge_id").references(() => loginChallenges.id, { onDelete: "set null" }),
    recipient: text("recipient").notNull(),
    sender: text("sender"),
    route: text("route", { enum: ["default", "custom"] }).notNull(),
    status: text("status", {
      // suppressed: a decoy login's (invite-only sign-in for an unknown address); it is never sent.
      enum: ["queued", "sending", "sent", "retrying", "failed", "expired", "suppressed"],
    }).notNull(),
    attemptCount: integer("attempt_count").notNull().default(0),
    attempts: jsonb("attempts").$type<DeliveryAttempt[]>().notNull().default([]),
    lastError: text("last_error"),
    messageId: text("message_id"),
    /** The code and link token, sealed, so the worker can compose the email; cleared once delivery ends. */
    sealedPayload: text("sealed_payload"),
    /**
     * When the next try is scheduled (a retry, or a wait for a failing provider). Its job carries the
     * same time, so a job from an earlier schedule (replaced when a recovered provider releases the
     * email at once) finds it changed and does nothing: one email, one send.
     */
    nextAttemptAt: at("next_attempt_at"),
    expiresAt: at("expires_at").notNull(),
    createdAt: createdAt(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    sentAt: at("sent_at"),
    /** The email's locale, negotiated when it was requested (null for rows from before locales). */
    locale: text("locale"),
    /** A login email, or a test of the app's template sent from the dashboard. */
    purpose: text("purpose", { enum: ["login", "template_test"] })
      .notNull()
      .default("login"),
  },
  (t) => [
    // The delivery log's keyset order (created_at desc, id desc) within an app, with or without a status.
    index("deliveries_by_app").on(t.appId, t.createdAt, t.id),
    index("deliveries_by_app_status").on(t.appId, t.status, t.createdAt, t.id),
    // Recipient search, exact and prefix: text_pattern_ops lets LIKE 'prefix%' use the index whatever
    // the database's collation (https://www.postgresql.org/docs/current/indexes-opclass.html).
    index("deliveries_by_app_recipient").on(t.appId, t.recipient.op("text_pattern_ops"), t.createdAt),
    index("deliveries_by_status").on(t.status),
  ],
);

export const dashboardSessions = pgTable("dashboard_sessions", {
  tokenHash: text("token_hash").primaryKey(),
  accountId: text("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" }),
  csrfToken: text("csrf_token").notNull(),
  createdAt: createdAt(),
  expiresAt: at("expires_at").notNull(),
});

/**
 * Sliding-window limits for small limits on one key (a few emails per address): the times of the
 * hits in the longest window of the key's rules, newest last. One upsert per key checks every rule
 * and appends the hit; its row lock serialises concurrent requests for that key and no other.
 */
export const rateLimitWindows = pgTable("rate_limit_windows", {
  key: text("key").primaryKey(),
  hits: at("hits").array().notNull(),
});

/**
 * Sliding-window events of Postern versions before rate_limit_windows. Unused; kept so processes of
 * the previous version keep working during a rolling upgrade (migrations are additive within a major
 * version). Drop with the next major.
 */
export const rateLimitEvents = pgTable(
  "rate_limit_events",
  {
    key: text("key").notNull(),
    at: at("at").notNull().defaultNow(),
  },
  (t) => [index("rate_limit_by_key").on(t.key, t.at)],
);

/** Fixed-window counters for large budgets (per IP, per app): one atomic upsert per request. */
export const rateLimitCounters = pgTable(
  "rate_limit_counters",
  {
    key: text("key").notNull(),
    windowStart: at("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    actorAccountId: text("actor_account_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    changes: jsonb("changes").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("audit_by_workspace").on(t.workspaceId, t.createdAt)],
);

/**
 * An app's custom email providers, tried in `position` order (the lowest is the primary, which the
 * single-provider routes address). Secrets are sealed; `version` changes with every saved change.
 */
export const emailProviders = pgTable(
  "email_providers",
  {
    id: text("id").primaryKey(),
    appId: text("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    /** Priority within the app: a login email moves to the next provider only on a provider-level failure. */
    position: integer("position").notNull().default(0),
    type: text("type").notNull(),
    version: integer("version").notNull().default(1),
    senderEmail: text("sender_email").notNull(),
    senderName: text("sender_name"),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull(),
    sealedSecrets: jsonb("sealed_secrets").$type<Record<string, string>>().notNull(),
    fallbackToDefault: boolean("fallback_to_default").notNull().default(false),
    /** Switched off by the developer: kept, but login emails go through the default sender and nothing probes it. */
    enabled: boolean("enabled").notNull().default(true),
    health: text("health", { enum: ["unknown", "working", "failing"] })
      .notNull()
      .default("unknown"),
    healthReason: text("health_reason"),
    /** When the current health began ("failing since"); a repeated failure changes only the reason. */
    healthAt: at("health_at"),
    /** Whom the failure blames, as its error class ("auth", "network", "tls", …); null unless failing. */
    healthCause: text("health_cause"),
    /** The last time a send, a probe or a test looked at the provider. */
    healthCheckedAt: at("health_checked_at"),
    /**
     * When a failing provider is next probed. Taking a probe is a conditional update of this column,
     * so among many worker processes exactly one probes each provider each interval.
     */
    nextProbeAt: at("next_probe_at"),
    /** The health the workspace's owners and admins were last emailed about, and when (at most one an hour). */
    alertedHealth: text("alerted_health", { enum: ["working", "failing"] }),
    alertedAt: at("alerted_at"),
    /** When the owners and admins were last emailed that a credential expires (at most one a week). */
    credentialAlertedAt: at("credential_alerted_at"),
    lastTest: jsonb("last_test").$type<Record<string, unknown>>(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    updatedBy: text("updated_by"),
  },
  (t) => [
    // Every login checks that the address is no sender email.
    index("email_providers_by_sender").on(t.senderEmail),
    index("email_providers_by_app").on(t.appId, t.position),
  ],
);

/**
 * Sending limits of one sender mailbox (e.g. Exchange Online's, per mailbox), shared by every Postern
 * process. `sender` is a key such as "microsoft:login@contoso.com"; its row is locked while a slot is taken.
 */
export const senderLimits = pgTable("sender_limits", {
  sender: text("sender").primaryKey(),
  /** The provider asked us to stop (quota used up, continuous-error throttling, broken config). */
  pausedUntil: at("paused_until"),
  pauseReason: text("pause_reason"),
  /** Lowered below the setting after the provider refused a connection (Exchange's 432 4.3.2). */
  connectionCap: integer("connection_cap"),
  connectionCapUntil: at("connection_cap_until"),
});

/** One open SMTP connection to a limited sender; a lease lapses when its process stops renewing it. */
export const senderConnectionLeases = pgTable(
  "sender_connection_leases",
  {
    id: text("id").primaryKey(),
    sender: text("sender").notNull(),
    holder: text("holder").notNull(),
    expiresAt: at("expires_at").notNull(),
  },
  (t) => [
    index("sender_connection_leases_by_sender").on(t.sender, t.expiresAt),
    index("sender_connection_leases_by_holder").on(t.holder),
  ],
);

/** Messages handed to a limited sender, kept for its rolling one-minute window. */
export const senderMessages = pgTable(
  "sender_messages",
  {
    id: text("id").primaryKey(),
    sender: text("sender").notNull(),
    /** When the send started, then when it ended: the window counts a message until a minute after it ended. */
    at: at("at").notNull(),
  },
  (t) => [index("sender_messages_by_sender").on(t.sender, t.at)],
);

/**
 * Messages handed to a sender with a daily limit (Gmail's 2,000 a day per user, Exchange's 10,000
 * recipients a day), one row per hour: the last 24 rows are the rolling day.
 */
export const senderHourlyCounts = pgTable(
  "sender_hourly_counts",
  {
    sender: text("sender").notNull(),
    hour: at("hour").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sender, t.hour] })],
);

/** How an app's login emails look and which language they default to; no row: the defaults. */
export const appEmailSettings = pgTable("app_email_settings", {
  appId: text("app_id")
    .primaryKey()
    .references(() => apps.id, { onDelete: "cascade" }),
  /** The locale of a login whose request and browser name none the app can send. */
  defaultLocale: text("default_locale").notNull().default("en"),
  logoUrl: text("logo_url"),
  accentColor: text("accent_color"),
  replyTo: text("reply_to"),
  footer: text("footer"),
  updatedAt: at("updated_at").notNull().defaultNow(),
  updatedBy: text("updated_by"),
});

/**
 * An app's own login email for one locale; locales without a row use the built-in translation.
 * `text` null: the plain-text part is derived from the HTML when the email is composed.
 */
export const emailTemplates = pgTable(
  "email_templates",
  {
    appId: text("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    locale: text("locale").notNull(),
    subject: text("subject").notNull(),
    html: text("html").notNull(),
    text: text("text"),
    /** Counts saves, so an editor that loaded an older version cannot overwrite a newer one unseen. */
    version: integer("version").notNull().default(1),
    updatedAt: at("updated_at").notNull().defaultNow(),
    updatedBy: text("updated_by"),
  },
  (t) => [primaryKey({ columns: [t.appId, t.locale] })],
);

/**
 * oidc-provider's state (sessions, interactions, grants, codes, tokens), one row per object, scoped
 * to the app whose issuer made it: another app's provider never finds it. Clients are not stored
 * here; they are the apps themselves.
 */
export const oidcPayloads = pgTable(
  "oidc_payloads",
  {
    appId: text("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    model: text("model").notNull(),
    id: text("id").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    grantId: text("grant_id"),
    userCode: text("user_code"),
    uid: text("uid"),
    expiresAt: at("expires_at"),
    consumedAt: at("consumed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.model, t.id] }),
    index("oidc_payloads_by_grant").on(t.appId, t.grantId),
    index("oidc_payloads_by_uid").on(t.appId, t.model, t.uid),
    index("oidc_payloads_by_expiry").on(t.expiresAt),
  ],
);
