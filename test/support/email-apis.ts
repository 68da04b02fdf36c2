// The three HTTP email API kinds (SendGrid, Postmark, Resend) as one shape for the delivery and API tests: a fake
// to start, the operator variables pointing Postern at it, a provider body, what the fake received, and each
// vendor's failures as the fake answers them, with what the delivery log must then show.

import type { ApiAnswer, ApiFakeCore } from "../fakes/email-api.ts";
import { type PostmarkFake, postmarkErrors, startPostmarkFake } from "../fakes/postmark.ts";
import { type ResendFake, resendErrors, startResendFake } from "../fakes/resend.ts";
import { MAIL_SEND_SCOPE, type SendgridFake, sendgridErrors, startSendgridFake } from "../fakes/sendgrid.ts";

export const SENDER = "login@acme.example";

/** A message as any of the fakes received it. */
export interface ReceivedApiMessage {
  to: string;
  fromName: string;
  fromAddress: string;
  text: string;
  headers: Record<string, string>;
}

/** One vendor failure: how to make the fake answer it, and what Postern's delivery log must say. */
export interface ApiFailure {
  name: string;
  /** Makes the next send (to `recipient`, where the answer is scripted) fail so, or sets a state of the fake. */
  arrange(recipient?: string): void;
  /** Undoes a state `arrange` set. */
  reset?(): void;
  /** The delivery's status right after: failed (this email), retrying (the provider or a pause). */
  status: "failed" | "retrying";
  errorClass: string;
  /** The stored reply line. */
  reply: RegExp;
  /** The fix the delivery log's hint (or message) carries. */
  fix: RegExp;
  /** True when the email goes out by itself once the vendor is fine again (a pause, an outage). */
  recovers?: boolean;
}

export interface ApiVendor {
  kind: "sendgrid" | "postmark" | "resend";
  fake: ApiFakeCore;
  /** Operator variables: the fake's base URL, and limits for a 200-email run. */
  env: Record<string, string>;
  /** The secret Postern must never show or store in clear. */
  secret: string;
  body(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The body with a key or token the fake does not know. */
  badCredential(): Record<string, unknown>;
  received(): ReceivedApiMessage[];
  failures: ApiFailure[];
  /** The connection test's checks (names and outcomes) for a good provider, without sending. */
  checks: { name: string; outcome: string; detail: RegExp }[];
  close(): Promise<void>;
}

const once = (fake: ApiFakeCore, answer: ApiAnswer) => (recipient?: string) =>
  fake.failNext(1, answer, recipient);

export async function startSendgridVendor(): Promise<ApiVendor & { fake: SendgridFake }> {
  const fake = await startSendgridFake();
  const secret = "SG.postern-test-key.s3cr3tSendGridKeyValue0123456789abcdef";
  const account = fake.addKey(secret, {
    scopes: [MAIL_SEND_SCOPE, "whitelabel.read"],
    domains: [{ domain: "acme.example", valid: true }],
  });
  return {
    kind: "sendgrid",
    fake,
    env: { POSTERN_SENDGRID_API_URL: fake.url, POSTERN_SENDGRID_MAX_CONCURRENT: "5" },
    secret,
    body: (overrides = {}) => ({
      type: "sendgrid",
      senderEmail: SENDER,
      senderName: "Acme Login",
      apiKey: secret,
      ...overrides,
    }),
    badCredential: () => ({ apiKey: "SG.unknown-key.0000" }),
    received: () =>
      fake.messages.map((m) => ({
        to: m.to[0]!,
        fromName: m.from.name ?? "",
        fromAddress: m.from.email,
        text: m.text ?? "",
        headers: m.headers,
      })),
    failures: [
      {
        name: "401 bad key",
        arrange: once(fake, sendgridErrors.unauthorized()),
        status: "retrying",
        errorClass: "auth",
        reply: /^401: The provided authorization grant is invalid/,
        fix: /Settings → API Keys → Create API Key/,
      },
      {
        name: "403 sender identity not verified",
        arrange: () => {
          account.domains = [{ domain: "acme.example", valid: false }];
        },
        reset: () => {
          account.domains = [{ domain: "acme.example", valid: true }];
        },
        status: "retrying",
        errorClass: "auth",
        reply: /^403 from: The from address does not match a verified Sender Identity/,
        fix: /Sender Authentication, authenticate the domain acme\.example .* verify login@acme\.example as a Single Sender/,
      },
      {
        name: "403 key without mail.send",
        arrange: () => {
          account.scopes = ["whitelabel.read"];
        },
        reset: () => {
          account.scopes = [MAIL_SEND_SCOPE, "whitelabel.read"];
        },
        status: "retrying",
        errorClass: "auth",
        reply: /^403: access forbidden/,
        fix: /Mail Send: Full Access/,
      },
      {
        name: "400 bad recipient",
        arrange: once(
          fake,
          sendgridErrors.badRequest("Does not contain a valid address.", "personalizations.0.to.0.email"),
        ),
        status: "failed",
        errorClass: "recipient",
        reply: /^400 personalizations\.0\.to\.0\.email: Does not contain a valid address/,
        fix: /refused the recipient/,
      },
      {
        name: "413 payload too large",
        arrange: once(fake, sendgridErrors.tooLarge()),
        status: "failed",
        errorClass: "permanent",
        reply: /^413/,
        fix: /up to 30 MB/,
      },
      {
        name: "429 with X-RateLimit-Reset",
        arrange: (recipient) =>
          fake.failNext(1, sendgridErrors.tooManyRequests(Math.ceil(Date.now() / 1000) + 1, 600), recipient),
        status: "retrying",
        errorClass: "transient",
        reply: /^429: too many requests/,
        fix: /give login emails a key of their own/,
        recovers: true,
      },
      {
        name: "503 outage",
        arrange: () => fake.startOutage(sendgridErrors.serviceUnavailable()),
        reset: () => fake.endOutage(),
        status: "retrying",
        errorClass: "network",
        reply: /^503/,
        fix: /status\.sendgrid\.com/,
        recovers: true,
      },
      {
        name: "401 out of credits",
        arrange: once(fake, sendgridErrors.outOfCredits()),
        status: "retrying",
        errorClass: "network",
        reply: /^401: Maximum credits exceeded/,
        fix: /Upgrade the plan/,
      },
    ],
    checks: [
      { name: "authenticate", outcome: "ok", detail: /accepted the API key/ },
      { name: "permission", outcome: "ok", detail: /acme\.example is authenticated/ },
      { name: "send", outcome: "skipped", detail: /No email was sent/ },
    ],
    close: () => fake.close(),
  };
}

export async function startPostmarkVendor(): Promise<ApiVendor & { fake: PostmarkFake }> {
  const fake = await startPostmarkFake();
  const secret = "7d3c9a41-5b2e-4f6a-8c1d-9e0f1a2b3c4d";
  const server = fake.addServer(secret, { name: "Acme login", domains: ["acme.example"] });
  return {
    kind: "postmark",
    fake,
    env: { POSTERN_POSTMARK_API_URL: fake.url, POSTERN_POSTMARK_MAX_CONCURRENT: "5" },
    secret,
    body: (overrides = {}) => ({
      type: "postmark",
      senderEmail: SENDER,
      senderName: "Acme Login",
      serverToken: secret,
      ...overrides,
    }),
    badCredential: () => ({ serverToken: "00000000-0000-4000-8000-000000000000" }),
    received: () =>
      fake.messages.map((m) => ({
        to: m.to,
        fromName: m.from.name,
        fromAddress: m.from.address,
        text: m.textBody ?? "",
        headers: Object.fromEntries(m.headers.map((h) => [h.Name, h.Value])),
      })),
    failures: [
      {
        name: "ErrorCode 10 bad server token",
        arrange: once(fake, postmarkErrors.badToken()),
        status: "retrying",
        errorClass: "auth",
        reply: /^401 10: The Server Token you provided/,
        fix: /Servers → your server → API Tokens/,
      },
      {
        name: "ErrorCode 300 invalid email request",
        arrange: once(
          fake,
          postmarkErrors.invalidRequest("Provide either email TextBody or HtmlBody or both."),
        ),
        status: "failed",
        errorClass: "permanent",
        reply: /^422 300: Provide either email TextBody/,
        fix: /ErrorCode and message above/,
      },
      {
        name: "ErrorCode 400 sender signature missing",
        arrange: () => {
          server.domains = [];
        },
        reset: () => {
          server.domains = ["acme.example"];
        },
        status: "retrying",
        errorClass: "auth",
        reply: /^422 400: The 'From' address you supplied/,
        fix: /Sender Signatures, verify the domain acme\.example/,
      },
      {
        name: "ErrorCode 406 inactive recipient",
        arrange: once(fake, postmarkErrors.inactive("user@example.com")),
        status: "failed",
        errorClass: "recipient",
        reply: /^422 406: You tried to send to recipient\(s\) that have been marked as inactive/,
        fix: /Suppressions/,
      },
      {
        name: "ErrorCode 412 account pending approval",
        arrange: () => {
          server.pendingApproval = true;
        },
        reset: () => {
          server.pendingApproval = false;
        },
        status: "retrying",
        errorClass: "auth",
        reply: /^422 412: While your account is pending approval/,
        fix: /Request approval/,
      },
      {
        name: "429 rate limited",
        arrange: once(fake, postmarkErrors.rateLimited(1)),
        status: "retrying",
        errorClass: "transient",
        reply: /^429: Rate limit exceeded/,
        fix: /a server of their own/,
        recovers: true,
      },
      {
        name: "503 outage",
        arrange: () => fake.startOutage(postmarkErrors.serviceUnavailable()),
        reset: () => fake.endOutage(),
        status: "retrying",
        errorClass: "network",
        reply: /^503: Service unavailable/,
        fix: /status\.postmarkapp\.com/,
        recovers: true,
      },
    ],
    checks: [
      { name: "authenticate", outcome: "ok", detail: /accepted the server token of the server "Acme login"/ },
      { name: "permission", outcome: "ok", detail: /transactional stream "outbound".*account token/ },
      { name: "send", outcome: "skipped", detail: /No email was sent/ },
    ],
    close: () => fake.close(),
  };
}

export async function startResendVendor(): Promise<ApiVendor & { fake: ResendFake }> {
  const fake = await startResendFake({ requestsPerSecond: 50 });
  const secret = "re_PosternTest_s3cr3tResendKey0123456789";
  const team = fake.addTeam("acme", { domains: [{ name: "acme.example", status: "verified" }] });
  fake.addKey(secret, { team: "acme", permission: "full_access" });
  return {
    kind: "resend",
    fake,
    env: { POSTERN_RESEND_API_URL: fake.url, POSTERN_RESEND_REQUESTS_PER_SECOND: "50" },
    secret,
    body: (overrides = {}) => ({
      type: "resend",
      senderEmail: SENDER,
      senderName: "Acme Login",
      apiKey: secret,
      ...overrides,
    }),
    badCredential: () => ({ apiKey: "re_unknown_key" }),
    received: () =>
      fake.messages.map((m) => ({
        to: m.to[0]!,
        fromName: m.from.name,
        fromAddress: m.from.address,
        text: m.text ?? "",
        headers: m.headers,
      })),
    failures: [
      {
        name: "403 invalid_api_key",
        arrange: once(fake, resendErrors.invalidKey("invalid_api_key")),
        status: "retrying",
        errorClass: "auth",
        reply: /^403 invalid_api_key: API key is invalid/,
        fix: /API Keys → Create API Key/,
      },
      {
        name: "401 validation_error API key is invalid (2026 docs)",
        arrange: once(fake, resendErrors.invalidKey("validation_error")),
        status: "retrying",
        errorClass: "auth",
        reply: /^401 validation_error: API key is invalid/,
        fix: /API Keys → Create API Key/,
      },
      {
        name: "401 missing_api_key",
        arrange: once(fake, resendErrors.missingKey()),
        status: "retrying",
        errorClass: "auth",
        reply: /^401 missing_api_key/,
        fix: /API Keys → Create API Key/,
      },
      {
        name: "401 restricted_api_key",
        arrange: once(fake, resendErrors.restricted()),
        status: "retrying",
        errorClass: "auth",
        reply: /^401 restricted_api_key/,
        fix: /Sending access for the domain acme\.example/,
      },
      {
        name: "403 domain not verified",
        arrange: () => {
          team.domains = [
            { name: "acme.example", status: "pending" },
            { name: "other.example", status: "verified" },
          ];
        },
        reset: () => {
          team.domains = [{ name: "acme.example", status: "verified" }];
        },
        status: "retrying",
        errorClass: "auth",
        reply: /^403 validation_error: The acme\.example domain is not verified/,
        fix: /Domains → Add Domain, add acme\.example/,
      },
      {
        name: "422 validation_error on the recipient",
        arrange: once(fake, resendErrors.invalidTo()),
        status: "failed",
        errorClass: "recipient",
        reply: /^422 validation_error: Invalid `to` field/,
        fix: /refused the recipient/,
      },
      {
        name: "429 rate_limit_exceeded",
        arrange: once(fake, resendErrors.rateLimited(2, 1)),
        status: "retrying",
        errorClass: "transient",
        reply: /^429 rate_limit_exceeded/,
        fix: /2 requests a second per team/,
        recovers: true,
      },
      {
        name: "429 daily_quota_exceeded",
        arrange: once(fake, resendErrors.dailyQuota()),
        status: "retrying",
        errorClass: "network",
        reply: /^429 daily_quota_exceeded/,
        fix: /Upgrade the plan/,
      },
      {
        name: "500 outage",
        arrange: () => fake.startOutage(resendErrors.internal()),
        reset: () => fake.endOutage(),
        status: "retrying",
        errorClass: "network",
        reply: /^500 internal_server_error/,
        fix: /resend-status\.com/,
        recovers: true,
      },
    ],
    checks: [
      { name: "authenticate", outcome: "ok", detail: /full-access key/ },
      { name: "permission", outcome: "ok", detail: /acme\.example is verified/ },
      { name: "send", outcome: "skipped", detail: /No email was sent/ },
    ],
    close: () => fake.close(),
  };
}

export const apiVendors = {
  sendgrid: startSendgridVendor,
  postmark: startPostmarkVendor,
  resend: startResendVendor,
} as const;
