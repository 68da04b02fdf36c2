// A fake of Resend's API over HTTPS with the test CA: POST /emails (https://resend.com/docs/api-reference/emails/send-email)
// with Idempotency-Key, and GET /domains, authenticated by a bearer key of a team, with Resend's error bodies
// {statusCode, message, name} (https://resend.com/docs/api-reference/errors).
//
// Request order: scripted failures and outage (sends only), key (401 missing_api_key; a bad key as 403
// invalid_api_key, or as the later docs' validation_error — `badKeyAs`), the team's rate window on every
// request (429 rate_limit_exceeded with ratelimit-* and retry-after), then per route: /domains refuses a
// sending-only key (401 restricted_api_key); /emails checks idempotency (409), the daily quota (429
// daily_quota_exceeded), fields (422), the sender's domain (403 validation_error), then 200 {id}.
import { createHash, randomUUID } from "node:crypto";
import type { CertChoice } from "./certs.ts";
import {
  type ApiAnswer,
  type ApiFakeCore,
  type ApiRequest,
  domainOf,
  isAddress,
  parseAddressString,
  RequestWindow,
  startApiFakeCore,
} from "./email-api.ts";
import { waitForCount } from "./mail.ts";

export interface ResendTeamSpec {
  ownerEmail?: string;
  domains?: {
    name: string;
    status: "verified" | "pending" | "not_started" | "failed";
    clickTracking?: boolean;
  }[];
  /** Emails a day before daily_quota_exceeded (the free plan's is 100). */
  dailyQuota?: number;
}

export interface ResendKeySpec {
  team: string;
  permission?: "full_access" | "sending_access";
}

export interface ResendMessage {
  apiKey: string;
  team: string;
  id: string;
  from: { name: string; address: string };
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  replyTo?: unknown;
  headers: Record<string, string>;
  idempotencyKey?: string;
}

export interface ResendFakeOptions {
  /** Requests per team per second (Resend's default is 2). */
  requestsPerSecond?: number;
  /** How an unknown key is refused: the long-documented 403 invalid_api_key, or 2026's validation_error. */
  badKeyAs?: "invalid_api_key" | "validation_error";
  cert?: CertChoice;
}

export interface ResendFake extends ApiFakeCore {
  readonly messages: ResendMessage[];
  readonly throttled: number;
  addTeam(team: string, spec?: ResendTeamSpec): ResendTeamSpec;
  addKey(apiKey: string, spec: ResendKeySpec): void;
  /** A new requests-per-second limit, starting with an empty window. */
  setRequestsPerSecond(limit: number): void;
  /** Today's sent count per team, as the daily quota sees it. */
  sentToday(team: string): number;
  waitForMessages(n: number, timeoutMs?: number): Promise<ResendMessage[]>;
}

const error = (
  statusCode: number,
  name: string,
  message: string,
  headers?: Record<string, string>,
): ApiAnswer => ({
  status: statusCode,
  body: { statusCode, message, name },
  ...(headers ? { headers } : {}),
});

export const resendErrors = {
  missingKey: () =>
    error(
      401,
      "missing_api_key",
      "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
    ),
  invalidKey: (as: "invalid_api_key" | "validation_error") =>
    as === "invalid_api_key"
      ? error(403, "invalid_api_key", "API key is invalid")
      : error(401, "validation_error", "API key is invalid"),
  restricted: () => error(401, "restricted_api_key", "This API key is restricted to only send emails"),
  rateLimited: (limit: number, resetSeconds: number) =>
    error(
      429,
      "rate_limit_exceeded",
      `Too many requests. You can only make ${limit} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`,
      {
        "ratelimit-limit": String(limit),
        "ratelimit-remaining": "0",
        "ratelimit-reset": String(resetSeconds),
        "retry-after": String(resetSeconds),
      },
    ),
  dailyQuota: () => error(429, "daily_quota_exceeded", "You have reached your daily email sending quota."),
  domainNotVerified: (domain: string) =>
    error(
      403,
      "validation_error",
      `The ${domain} domain is not verified. Please, add and verify your domain on https://resend.com/domains`,
    ),
  testingOnly: (owner: string) =>
    error(
      403,
      "validation_error",
      `You can only send testing emails to your own email address (${owner}). To send emails to other recipients, please verify a domain at resend.com/domains, and change the \`from\` address to an email using this domain.`,
    ),
  invalidFrom: () =>
    error(
      422,
      "invalid_from_address",
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    ),
  invalidTo: () =>
    error(
      422,
      "validation_error",
      "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    ),
  missingField: (field: string) => error(422, "missing_required_field", `Missing \`${field}\` field.`),
  idempotencyMismatch: () =>
    error(
      409,
      "invalid_idempotent_request",
      "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
    ),
  internal: () => error(500, "internal_server_error", "An unexpected error occurred."),
};

export async function startResendFake(options: ResendFakeOptions = {}): Promise<ResendFake> {
  const teams = new Map<string, ResendTeamSpec>();
  const keys = new Map<string, ResendKeySpec>();
  const messages: ResendMessage[] = [];
  const sent = new Map<string, number>();
  /** Idempotency keys per team: the payload's hash and the id it got. */
  const idempotent = new Map<string, { hash: string; id: string }>();
  const window = new RequestWindow(options.requestsPerSecond ?? 2, 1000);
  let throttled = 0;

  const bearer = (request: ApiRequest) => {
    const header = String(request.headers.authorization ?? "");
    return /^Bearer\s+\S/i.test(header) ? header.replace(/^Bearer\s+/i, "").trim() : undefined;
  };

  function send(request: ApiRequest, apiKey: string, key: ResendKeySpec, team: ResendTeamSpec): ApiAnswer {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const idempotencyKey = request.headers["idempotency-key"];
    const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    if (typeof idempotencyKey === "string") {
      const seen = idempotent.get(`${key.team}:${idempotencyKey}`);
      if (seen && seen.hash !== hash) return resendErrors.idempotencyMismatch();
      if (seen) return { status: 200, body: { id: seen.id } };
    }
    if (team.dailyQuota !== undefined && (sent.get(key.team) ?? 0) >= team.dailyQuota)
      return resendErrors.dailyQuota();
    for (const field of ["from", "to", "subject"])
      if (body[field] === undefined) return resendErrors.missingField(field);
    const from = parseAddressString(body.from);
    if (!from) return resendErrors.invalidFrom();
    const to = Array.isArray(body.to) ? body.to : [body.to];
    if (!to.every(isAddress)) return resendErrors.invalidTo();
    const verified = (team.domains ?? []).filter((d) => d.status === "verified");
    if (verified.length === 0 && !to.every((t) => t.toLowerCase() === team.ownerEmail?.toLowerCase())) {
      return resendErrors.testingOnly(team.ownerEmail ?? "owner@example.com");
    }
    const domain = domainOf(from.address);
    if (!verified.some((d) => d.name === domain)) return resendErrors.domainNotVerified(domain);
    const id = randomUUID();
    if (typeof idempotencyKey === "string") idempotent.set(`${key.team}:${idempotencyKey}`, { hash, id });
    sent.set(key.team, (sent.get(key.team) ?? 0) + 1);
    messages.push({
      apiKey,
      team: key.team,
      id,
      from,
      to,
      subject: String(body.subject),
      ...(typeof body.text === "string" ? { text: body.text } : {}),
      ...(typeof body.html === "string" ? { html: body.html } : {}),
      ...(body.reply_to !== undefined ? { replyTo: body.reply_to } : {}),
      headers: (body.headers as Record<string, string> | undefined) ?? {},
      ...(typeof idempotencyKey === "string" ? { idempotencyKey } : {}),
    });
    return { status: 200, body: { id } };
  }

  function handle(request: ApiRequest): ApiAnswer {
    const apiKey = bearer(request);
    if (!apiKey) return resendErrors.missingKey();
    const key = keys.get(apiKey);
    const team = key ? teams.get(key.team) : undefined;
    if (!key || !team) return resendErrors.invalidKey(options.badKeyAs ?? "invalid_api_key");
    const taken = window.take(key.team);
    if (!taken.ok) {
      throttled++;
      return resendErrors.rateLimited(window.limit, Math.max(1, Math.ceil(taken.resetMs / 1000)));
    }
    const path = request.path.replace(/\/+$/, "");
    if (request.method === "POST" && path === "/emails") return send(request, apiKey, key, team);
    if (request.method === "GET" && path === "/domains") {
      if (key.permission === "sending_access") return resendErrors.restricted();
      return {
        status: 200,
        body: {
          object: "list",
          has_more: false,
          data: (team.domains ?? []).map((d, i) => ({
            id: `d${i}`,
            name: d.name,
            status: d.status,
            created_at: new Date().toISOString(),
            region: "us-east-1",
            click_tracking: d.clickTracking ?? false,
          })),
        },
      };
    }
    return error(404, "not_found", "The requested endpoint does not exist.");
  }

  const core = await startApiFakeCore({
    handle,
    keyOf: (request) => {
      const apiKey = bearer(request);
      return apiKey ? keys.get(apiKey)?.team : undefined;
    },
    scriptable: (request) => request.path.startsWith("/emails"),
    ...(options.cert ? { cert: options.cert } : {}),
  });
  return {
    ...core,
    messages,
    get throttled() {
      return throttled;
    },
    addTeam(team, spec = {}) {
      teams.set(team, spec);
      return spec;
    },
    addKey(apiKey, spec) {
      keys.set(apiKey, spec);
    },
    setRequestsPerSecond(limit) {
      window.reset(limit);
    },
    sentToday: (team) => sent.get(team) ?? 0,
    waitForMessages: (n, timeoutMs = 10_000) => waitForCount(messages, n, timeoutMs),
  };
}
