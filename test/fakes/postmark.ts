// A fake of Postmark's API over HTTPS with the test CA: POST /email
// (https://postmarkapp.com/developer/api/email-api), GET /server and GET /message-streams/{id}, authenticated by
// X-Postmark-Server-Token, with Postmark's ErrorCode bodies (https://postmarkapp.com/developer/api/overview#error-codes).
//
// Request order of /email: scripted failures and outage, token (401, ErrorCode 10), credits (422, 405), rate
// window (429: Postmark documents no Retry-After, so none unless asked for), body (422, 300), stream (422,
// 1235), sender signature (422, 400 / 401), pending approval (422, 412), inactive recipient (422, 406), then
// 200 {To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK"}. A Sandbox server accepts and delivers nothing.
import { randomUUID } from "node:crypto";
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

export interface PostmarkServerSpec {
  name?: string;
  deliveryType?: "Live" | "Sandbox";
  streams?: { id: string; type: "Transactional" | "Broadcasts" | "Inbound" }[];
  /** Sender signatures (an address) and verified domains (a domain), confirmed or not. */
  signatures?: { address: string; confirmed: boolean }[];
  domains?: string[];
  pendingApproval?: boolean;
  inactive?: string[];
  outOfCredits?: boolean;
}

export interface PostmarkMessage {
  token: string;
  messageId: string;
  from: { name: string; address: string };
  to: string;
  subject: string;
  textBody?: string;
  htmlBody?: string;
  replyTo?: string;
  messageStream: string;
  headers: { Name: string; Value: string }[];
  trackOpens?: unknown;
  trackLinks?: unknown;
  /** False for a Sandbox server's messages: accepted, never delivered. */
  delivered: boolean;
}

export interface PostmarkFakeOptions {
  requestsPerSecond?: number;
  /** Send Retry-After with 429s (Postmark documents none). */
  retryAfterSeconds?: number;
  cert?: CertChoice;
}

export interface PostmarkFake extends ApiFakeCore {
  readonly messages: PostmarkMessage[];
  readonly throttled: number;
  addServer(token: string, spec?: PostmarkServerSpec): PostmarkServerSpec;
  setRequestsPerSecond(limit: number): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<PostmarkMessage[]>;
}

const error = (
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): ApiAnswer => ({
  status,
  body: { ErrorCode: code, Message: message },
  ...(headers ? { headers } : {}),
});

export const postmarkErrors = {
  badToken: () =>
    error(
      401,
      10,
      "The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token.",
    ),
  invalidRequest: (message: string) => error(422, 300, message),
  notSignature: (from: string) =>
    error(
      422,
      400,
      `The 'From' address you supplied (${from}) is not a Sender Signature on your account. Please add and confirm this address in order to be able to use it in the 'From' field of your messages.`,
    ),
  notConfirmed: () => error(422, 401, "Sender signature not confirmed"),
  outOfCredits: () => error(422, 405, "Not allowed to send. You have run out of credits."),
  inactive: (to: string) =>
    error(
      422,
      406,
      `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${to}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
    ),
  pendingApproval: () =>
    error(
      422,
      412,
      "While your account is pending approval, all recipient addresses must share the same domain as the 'From' address.",
    ),
  noStream: () => error(422, 1235, "The 'MessageStream' provided does not exist on this server."),
  streamNotFound: () => error(422, 1226, "The message stream for the provided 'ID' was not found."),
  rateLimited: (retryAfter?: number) =>
    error(429, 0, "Rate limit exceeded.", retryAfter ? { "Retry-After": String(retryAfter) } : undefined),
  serviceUnavailable: () => error(503, 0, "Service unavailable."),
  internal: () => error(500, 0, "Internal server error."),
};

export async function startPostmarkFake(options: PostmarkFakeOptions = {}): Promise<PostmarkFake> {
  const servers = new Map<string, PostmarkServerSpec & { id: number }>();
  const messages: PostmarkMessage[] = [];
  const window = new RequestWindow(options.requestsPerSecond ?? 1000, 1000);
  let throttled = 0;

  const keyOf = (request: ApiRequest) => {
    const token = request.headers["x-postmark-server-token"];
    return typeof token === "string" && token ? token : undefined;
  };

  function sendEmail(request: ApiRequest, token: string, server: PostmarkServerSpec): ApiAnswer {
    if (server.outOfCredits) return postmarkErrors.outOfCredits();
    if (!window.take(token).ok) {
      throttled++;
      return postmarkErrors.rateLimited(options.retryAfterSeconds);
    }
    const body = request.body as Record<string, unknown> | undefined;
    if (!body) return postmarkErrors.invalidRequest("Received invalid JSON input.");
    const from = parseAddressString(body.From);
    if (!from) return postmarkErrors.invalidRequest(`Invalid 'From' address: '${String(body.From)}'.`);
    if (!isAddress(body.To))
      return postmarkErrors.invalidRequest(`Invalid 'To' address: '${String(body.To)}'.`);
    if (body.TextBody === undefined && body.HtmlBody === undefined) {
      return postmarkErrors.invalidRequest("Provide either email TextBody or HtmlBody or both.");
    }
    const stream = typeof body.MessageStream === "string" ? body.MessageStream : "outbound";
    const streams = server.streams ?? [{ id: "outbound", type: "Transactional" }];
    if (!streams.some((s) => s.id === stream && s.type !== "Inbound")) return postmarkErrors.noStream();
    const domain = domainOf(from.address);
    const signature = (server.signatures ?? []).find(
      (s) => s.address.toLowerCase() === from.address.toLowerCase(),
    );
    if (!(server.domains ?? []).includes(domain)) {
      if (!signature) return postmarkErrors.notSignature(String(body.From));
      if (!signature.confirmed) return postmarkErrors.notConfirmed();
    }
    if (server.pendingApproval && domainOf(body.To) !== domain) return postmarkErrors.pendingApproval();
    if ((server.inactive ?? []).includes(body.To.toLowerCase())) return postmarkErrors.inactive(body.To);
    const messageId = randomUUID();
    messages.push({
      token,
      messageId,
      from,
      to: body.To,
      subject: String(body.Subject ?? ""),
      ...(typeof body.TextBody === "string" ? { textBody: body.TextBody } : {}),
      ...(typeof body.HtmlBody === "string" ? { htmlBody: body.HtmlBody } : {}),
      ...(typeof body.ReplyTo === "string" ? { replyTo: body.ReplyTo } : {}),
      messageStream: stream,
      headers: (body.Headers as PostmarkMessage["headers"] | undefined) ?? [],
      trackOpens: body.TrackOpens,
      trackLinks: body.TrackLinks,
      delivered: server.deliveryType !== "Sandbox",
    });
    return {
      status: 200,
      body: {
        To: body.To,
        SubmittedAt: new Date().toISOString(),
        MessageID: messageId,
        ErrorCode: 0,
        Message: "OK",
      },
    };
  }

  function handle(request: ApiRequest): ApiAnswer {
    const token = keyOf(request);
    const server = token === undefined ? undefined : servers.get(token);
    if (!token || !server) return postmarkErrors.badToken();
    const path = request.path.replace(/\/+$/, "");
    if (request.method === "POST" && path === "/email") return sendEmail(request, token, server);
    if (request.method === "GET" && path === "/server") {
      return {
        status: 200,
        body: {
          ID: server.id,
          Name: server.name ?? "Postern test server",
          ApiTokens: [token],
          Color: "blue",
          SmtpApiActivated: true,
          DeliveryType: server.deliveryType ?? "Live",
          TrackOpens: false,
          TrackLinks: "None",
        },
      };
    }
    const stream = /^\/message-streams\/([^/]+)$/.exec(path);
    if (request.method === "GET" && stream) {
      const found = (server.streams ?? [{ id: "outbound", type: "Transactional" }]).find(
        (s) => s.id === decodeURIComponent(stream[1]!),
      );
      if (!found) return postmarkErrors.streamNotFound();
      return {
        status: 200,
        body: {
          ID: found.id,
          ServerID: server.id,
          Name: found.id,
          MessageStreamType: found.type,
          CreatedAt: new Date().toISOString(),
        },
      };
    }
    return { status: 404, body: { ErrorCode: 0, Message: "Not found." } };
  }

  const core = await startApiFakeCore({
    handle,
    keyOf,
    scriptable: (request) => request.path.startsWith("/email"),
    ...(options.cert ? { cert: options.cert } : {}),
  });
  let nextId = 1;
  return {
    ...core,
    messages,
    get throttled() {
      return throttled;
    },
    addServer(token, spec = { signatures: [] }) {
      const stored = Object.assign(spec, { id: nextId++ });
      servers.set(token, stored);
      return stored;
    },
    setRequestsPerSecond(limit) {
      window.limit = limit;
    },
    waitForMessages: (n, timeoutMs = 10_000) => waitForCount(messages, n, timeoutMs),
  };
}
