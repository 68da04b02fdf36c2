import { randomUUID } from "node:crypto";
import type net from "node:net";
import { clean, guardedAgent, type HttpsAnswer, httpsRequest, retryAfter } from "../../../mail/https.ts";
import type { OutboundPolicy } from "../../../security/outbound-guard.ts";
import type { GraphReply } from "./graph-replies.ts";

/** Connect, TLS and the answer together; Graph answers sendMail in well under a second when it is well. */
const REQUEST_TIMEOUT_MS = 30_000;
/** More than any OData error body; the rest is not read. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const MAX_MESSAGE_CHARS = 300;

export interface GraphEndpoint {
  host: string;
  port: number;
}

export interface GraphClientOptions {
  policy: OutboundPolicy;
  /** Connections kept to Graph at most (one per request in flight). */
  maxSockets: number;
  onConnection?: ((socket: net.Socket) => void) | undefined;
  /** The process's clock, for a Retry-After given as a date. */
  now: () => Date;
}

/**
 * Keep-alive HTTPS to the operator's Graph endpoint (POSTERN_MICROSOFT_GRAPH_URL), where every new
 * connection is first checked by the outbound guard and then opened to the address it checked, the
 * certificate verified for the configured name, as the SMTP transports connect (src/mail/smtp-connect.ts).
 */
export function graphClient(endpoint: GraphEndpoint, options: GraphClientOptions) {
  const agent = guardedAgent(
    { ...endpoint, operator: true },
    options.policy,
    options.maxSockets,
    options.onConnection,
  );

  /** One POST with a bearer token; resolves with Graph's answer, rejects when there was none. */
  async function post(url: URL, token: string, contentType: string, body: string): Promise<GraphReply> {
    const answer = await httpsRequest(url, {
      method: "POST",
      agent,
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": contentType,
        "Content-Length": Buffer.byteLength(body),
        // Graph logs it with the request, for Microsoft support (https://learn.microsoft.com/graph/best-practices-concept#reliability-and-support).
        "client-request-id": randomUUID(),
      },
      body,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxBodyBytes: MAX_ERROR_BODY_BYTES,
    });
    return replyOf(answer, options.now());
  }

  return { post, close: () => agent.destroy() };
}

/** Status, OData error code and message, request id and Retry-After of a response (https://learn.microsoft.com/graph/errors). */
function replyOf({ status, headers, body }: HttpsAnswer, now: Date): GraphReply {
  let code = "";
  let message = "";
  try {
    const error = (JSON.parse(body.toString("utf8")) as { error?: { code?: unknown; message?: unknown } })
      .error;
    if (typeof error?.code === "string") code = error.code;
    if (typeof error?.message === "string") message = error.message;
  } catch {
    // Not an OData error body (a proxy's page, an empty 202): the status says enough.
  }
  const requestId = headers["request-id"];
  return {
    status,
    code: clean(code, 80),
    message: clean(message, MAX_MESSAGE_CHARS),
    requestId: typeof requestId === "string" ? clean(requestId, 80) : undefined,
    retryAfterSeconds: retryAfter(headers["retry-after"], now),
  };
}
