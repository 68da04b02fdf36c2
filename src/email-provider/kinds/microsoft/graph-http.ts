import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { checkOutboundTarget, type OutboundPolicy } from "../../../security/outbound-guard.ts";
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
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  agent.createConnection = (_requested, callback) => {
    checkOutboundTarget(endpoint.host, endpoint.port, options.policy, undefined, {
      operatorEndpoint: true,
    }).then(
      (checked) => {
        const socket = tls.connect({
          host: checked.address,
          port: endpoint.port,
          ...(checked.servername ? { servername: checked.servername } : {}),
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
        });
        options.onConnection?.(socket);
        callback?.(null, socket);
      },
      (err: unknown) => callback?.(err as Error, undefined as never),
    );
    return undefined;
  };

  /** One POST with a bearer token; resolves with Graph's answer, rejects when there was none. */
  function post(url: URL, token: string, contentType: string, body: string): Promise<GraphReply> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method: "POST",
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": contentType,
          "Content-Length": Buffer.byteLength(body),
          // Graph logs it with the request, for Microsoft support (https://learn.microsoft.com/graph/best-practices-concept#reliability-and-support).
          "client-request-id": randomUUID(),
        },
        timeout: REQUEST_TIMEOUT_MS,
      });
      req.once("timeout", () =>
        req.destroy(Object.assign(new Error("Request timed out."), { code: "ETIMEDOUT" })),
      );
      req.once("error", reject);
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
        });
        res.once("error", reject);
        res.once("end", () => resolve(replyOf(res, Buffer.concat(chunks), options.now())));
      });
      req.end(body);
    });
  }

  return { post, close: () => agent.destroy() };
}

/** Status, OData error code and message, request id and Retry-After of a response (https://learn.microsoft.com/graph/errors). */
function replyOf(res: IncomingMessage, body: Buffer, now: Date): GraphReply {
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
  const requestId = res.headers["request-id"];
  return {
    status: res.statusCode ?? 0,
    code: clean(code, 80),
    message: clean(message, MAX_MESSAGE_CHARS),
    requestId: typeof requestId === "string" ? clean(requestId, 80) : undefined,
    retryAfterSeconds: retryAfter(res.headers["retry-after"], now),
  };
}

/** Text from the server as one short line: it ends up in the delivery log. */
const clean = (text: string, max: number) =>
  text
    .replace(/[\p{Cc}]+/gu, " ")
    .trim()
    .slice(0, max);

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), within a day; nonsense is ignored. */
function retryAfter(header: string | string[] | undefined, now: Date): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 1), 24 * 3600);
}
