// A fake of Twilio SendGrid's v3 API over HTTPS with the test CA: POST /v3/mail/send
// (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), GET /v3/scopes, the authenticated
// domains (GET /v3/whitelabel/domains) and the verified Single Senders (GET /v3/verified_senders).
//
// Request order of mail/send: scripted failures and outage, key (401; 401 "Maximum credits exceeded" for an
// account out of credits), mail.send scope (403 access forbidden), rate window (429 with X-RateLimit-*),
// size (413), payload (400 with errors[].field), sender identity (403, field from), then 202 with
// X-Message-Id and an empty body — or 200 in sandbox mode, nothing sent.
// Not modelled: personalizations beyond the first, templates, attachments, scheduling.
import { randomUUID } from "node:crypto";
import type { CertChoice } from "./certs.ts";
import {
  type ApiAnswer,
  type ApiFakeCore,
  type ApiRequest,
  domainOf,
  isAddress,
  RequestWindow,
  startApiFakeCore,
} from "./email-api.ts";
import { waitForCount } from "./mail.ts";

export interface SendgridAccountSpec {
  scopes?: string[];
  /** Authenticated domains; `valid: false` is one whose DNS records are not verified yet. */
  domains?: { domain: string; valid: boolean }[];
  /** Single Sender verification; `verified: false` until the link in SendGrid's email is clicked. */
  verifiedSenders?: { email: string; verified: boolean }[];
  outOfCredits?: boolean;
}

export interface SendgridMessage {
  apiKey: string;
  messageId: string;
  from: { email: string; name?: string };
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  replyTo?: string;
  headers: Record<string, string>;
  trackingSettings: unknown;
  acceptedAt: Date;
}

export interface SendgridFakeOptions {
  /** Requests per key per second on mail/send before 429s (SendGrid publishes no number). */
  requestsPerSecond?: number;
  cert?: CertChoice;
}

export interface SendgridFake extends ApiFakeCore {
  readonly messages: SendgridMessage[];
  readonly throttled: number;
  addKey(apiKey: string, spec?: SendgridAccountSpec): SendgridAccountSpec;
  /** A new requests-per-second limit, starting with an empty window. */
  setRequestsPerSecond(limit: number): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<SendgridMessage[]>;
}

export const MAIL_SEND_SCOPE = "mail.send";
/** Read access to Sender Authentication (authenticated domains). */
export const DOMAINS_READ_SCOPE = "whitelabel.read";
/** The scope the fake asks for reading verified senders (the real name is not documented where we looked). */
export const VERIFIED_SENDERS_SCOPE = "verified_senders";

const errors = (message: string, field: string | null = null, help: string | null = null) => ({
  errors: [{ message, field, help }],
});

export const sendgridErrors = {
  unauthorized: (): ApiAnswer => ({
    status: 401,
    body: errors("The provided authorization grant is invalid, expired, or revoked"),
  }),
  outOfCredits: (): ApiAnswer => ({ status: 401, body: errors("Maximum credits exceeded") }),
  forbidden: (): ApiAnswer => ({ status: 403, body: errors("access forbidden") }),
  senderIdentity: (): ApiAnswer => ({
    status: 403,
    body: errors(
      "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements",
      "from",
    ),
  }),
  tooLarge: (): ApiAnswer => ({ status: 413, body: errors("Payload Too Large") }),
  tooManyRequests: (resetEpochSeconds: number, limit: number): ApiAnswer => ({
    status: 429,
    body: errors("too many requests"),
    headers: {
      "X-RateLimit-Limit": String(limit),
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(resetEpochSeconds),
    },
  }),
  serviceUnavailable: (): ApiAnswer => ({ status: 503, body: errors("Service Unavailable") }),
  badRequest: (message: string, field: string): ApiAnswer => ({ status: 400, body: errors(message, field) }),
};

export async function startSendgridFake(options: SendgridFakeOptions = {}): Promise<SendgridFake> {
  const accounts = new Map<string, SendgridAccountSpec>();
  const messages: SendgridMessage[] = [];
  const window = new RequestWindow(options.requestsPerSecond ?? 1000, 1000);
  let throttled = 0;

  const keyOf = (request: ApiRequest) => {
    const header = String(request.headers.authorization ?? "");
    return /^Bearer\s+\S/i.test(header) ? header.replace(/^Bearer\s+/i, "").trim() : undefined;
  };

  function mayUseSender(account: SendgridAccountSpec, from: string): boolean {
    const domain = domainOf(from);
    return (
      (account.domains ?? []).some((d) => d.valid && d.domain.toLowerCase() === domain) ||
      (account.verifiedSenders ?? []).some((s) => s.verified && s.email.toLowerCase() === from.toLowerCase())
    );
  }

  function mailSend(request: ApiRequest, apiKey: string, account: SendgridAccountSpec): ApiAnswer {
    if (account.outOfCredits) return sendgridErrors.outOfCredits();
    if (!(account.scopes ?? []).includes(MAIL_SEND_SCOPE)) return sendgridErrors.forbidden();
    const taken = window.take(apiKey);
    if (!taken.ok) {
      throttled++;
      return sendgridErrors.tooManyRequests(Math.ceil((Date.now() + taken.resetMs) / 1000), window.limit);
    }
    if (request.sizeBytes > 30 * 1024 * 1024) return sendgridErrors.tooLarge();
    const body = request.body as Record<string, unknown> | undefined;
    if (!body) return sendgridErrors.badRequest("Bad Request", "");
    const personalization = (body.personalizations as { to?: { email?: unknown }[] }[] | undefined)?.[0];
    const to = personalization?.to ?? [];
    if (to.length === 0) {
      return sendgridErrors.badRequest(
        "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
        "personalizations.0.to",
      );
    }
    const bad = to.findIndex((r) => !isAddress(r.email));
    if (bad >= 0) {
      return sendgridErrors.badRequest(
        "Does not contain a valid address.",
        `personalizations.0.to.${bad}.email`,
      );
    }
    const from = body.from as { email?: unknown; name?: string } | undefined;
    if (!isAddress(from?.email))
      return sendgridErrors.badRequest("The from email does not contain a valid address.", "from.email");
    if (typeof body.subject !== "string" || body.subject === "") {
      return sendgridErrors.badRequest(
        "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
        "subject",
      );
    }
    const content = (body.content as { type?: string; value?: string }[] | undefined) ?? [];
    if (content.length === 0)
      return sendgridErrors.badRequest(
        "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
        "content",
      );
    if (!mayUseSender(account, from.email)) return sendgridErrors.senderIdentity();
    const sandbox = (body.mail_settings as { sandbox_mode?: { enable?: boolean } } | undefined)?.sandbox_mode
      ?.enable;
    if (sandbox) return { status: 200 };
    const messageId = randomUUID().replace(/-/g, "").slice(0, 22);
    const replyTo = (body.reply_to as { email?: string } | undefined)?.email;
    messages.push({
      apiKey,
      messageId,
      from: { email: from.email, ...(from.name ? { name: from.name } : {}) },
      to: to.map((r) => String(r.email)),
      subject: body.subject,
      ...(content.find((c) => c.type === "text/plain")?.value !== undefined
        ? { text: content.find((c) => c.type === "text/plain")!.value! }
        : {}),
      ...(content.find((c) => c.type === "text/html")?.value !== undefined
        ? { html: content.find((c) => c.type === "text/html")!.value! }
        : {}),
      ...(replyTo ? { replyTo } : {}),
      headers: (body.headers as Record<string, string> | undefined) ?? {},
      trackingSettings: body.tracking_settings,
      acceptedAt: new Date(),
    });
    return { status: 202, headers: { "X-Message-Id": messageId } };
  }

  function handle(request: ApiRequest): ApiAnswer {
    const apiKey = keyOf(request);
    const account = apiKey === undefined ? undefined : accounts.get(apiKey);
    if (!apiKey || !account) return sendgridErrors.unauthorized();
    const scopes = account.scopes ?? [];
    const route = `${request.method} ${request.path.replace(/\/+$/, "")}`;
    switch (route) {
      case "POST /v3/mail/send":
        return mailSend(request, apiKey, account);
      case "GET /v3/scopes":
        return { status: 200, body: { scopes } };
      case "GET /v3/whitelabel/domains":
        if (!scopes.includes(DOMAINS_READ_SCOPE)) return sendgridErrors.forbidden();
        return {
          status: 200,
          body: (account.domains ?? []).map((d, i) => ({
            id: i + 1,
            domain: d.domain,
            valid: d.valid,
            subdomain: "em1234",
          })),
        };
      case "GET /v3/verified_senders":
        if (!scopes.includes(VERIFIED_SENDERS_SCOPE)) return sendgridErrors.forbidden();
        return {
          status: 200,
          body: {
            results: (account.verifiedSenders ?? []).map((s, i) => ({
              id: i + 1,
              from_email: s.email,
              verified: s.verified,
            })),
          },
        };
      default:
        return { status: 404, body: errors("resource not found") };
    }
  }

  const core = await startApiFakeCore({
    handle,
    keyOf,
    scriptable: (request) => request.path.startsWith("/v3/mail/send"),
    ...(options.cert ? { cert: options.cert } : {}),
  });
  return {
    ...core,
    messages,
    get throttled() {
      return throttled;
    },
    addKey(apiKey: string, spec: SendgridAccountSpec = { scopes: [MAIL_SEND_SCOPE] }) {
      accounts.set(apiKey, spec);
      return spec;
    },
    setRequestsPerSecond(limit: number) {
      window.reset(limit);
    },
    waitForMessages: (n: number, timeoutMs = 10_000) => waitForCount(messages, n, timeoutMs),
  };
}
