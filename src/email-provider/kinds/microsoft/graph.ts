import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";
import { nodemailerMessage, type OutgoingEmail, type SendResult } from "../../../mail/sender.ts";
import {
  blameOf,
  type ClassifiedError,
  classifySmtpError,
  type ErrorClass,
} from "../../../mail/smtp-errors.ts";
import type { ConnectionGate, TokenSource } from "../../../mail/smtp-pool.ts";
import { failedStep, type TestStep, timed } from "../../../mail/test-steps.ts";
import { DeliveryError, type Transport } from "../../../mail/transport.ts";
import {
  checkOutboundTarget,
  OutboundBlockedError,
  type OutboundPolicy,
} from "../../../security/outbound-guard.ts";
import { tokenStep } from "../../oauth/token-step.ts";
import {
  type GraphFixValues,
  type GraphReply,
  interpretGraphReply,
  meaningMessage,
  replyLine,
} from "./graph-replies.ts";
import { missingRole } from "./token-source.ts";

/** Connect, TLS and the answer together; Graph answers sendMail in well under a second when it is well. */
const REQUEST_TIMEOUT_MS = 30_000;
/** More than any OData error body; the rest is not read. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const MAX_MESSAGE_CHARS = 300;

export interface GraphTransportOptions extends GraphFixValues {
  /** POSTERN_MICROSOFT_GRAPH_URL, without a trailing slash. */
  graphUrl: string;
  /** App-only tokens for https://graph.microsoft.com/.default. */
  tokens: TokenSource;
  policy: OutboundPolicy;
  /** Requests in flight at once from this process (Graph: 4 per app and mailbox). */
  maxConcurrent: number;
  /** The mailbox's lane, shared by every process: one admission per request. */
  gate?: ConnectionGate | undefined;
  onConnection?: ((socket: net.Socket) => void) | undefined;
  /** The process's clock, for Retry-After given as a date. */
  now: () => Date;
}

/** A failure on the way to Graph or in its answer, already classified. */
const failure = (classified: ClassifiedError, options?: ConstructorParameters<typeof DeliveryError>[1]) =>
  new DeliveryError(classified, options);

function classified(errorClass: ErrorClass, message: string, smtpReply?: string, status?: number) {
  const blame = blameOf(errorClass);
  return {
    errorClass,
    blame,
    retryable: errorClass === "network" || errorClass === "timeout" || errorClass === "transient",
    configProblem: blame === "provider" && errorClass !== "network" && errorClass !== "timeout",
    smtpReply,
    responseCode: status,
    message,
  } satisfies ClassifiedError;
}

/**
 * The MIME form of sendMail (https://learn.microsoft.com/graph/api/user-sendmail#example-4-send-a-new-message-using-mime-format):
 * nodemailer composes the message exactly as the SMTP transports do, so the headers Graph's JSON form
 * cannot carry (Auto-Submitted, Content-Language, Message-ID: only x- headers are allowed there) are
 * the same on both transports. The MIME form has no saveToSentItems, so the mailbox keeps a copy in
 * Sent Items, as Exchange does for SMTP submissions.
 */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
async function mimeBase64(email: OutgoingEmail): Promise<string> {
  const info = await composer.sendMail(nodemailerMessage(email));
  return (info.message as Buffer).toString("base64");
}

/** At most `limit` at once in this process, whatever the lane allows. */
function semaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Keep-alive HTTPS to the operator's Graph endpoint, where every new connection is first checked by
 * the outbound guard and then opened to the address it checked (the certificate still verified for
 * the configured name), as the SMTP transports connect.
 */
function guardedAgent(options: GraphTransportOptions, endpoint: { host: string; port: number }) {
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: options.maxConcurrent,
    minVersion: "TLSv1.2",
  });
  agent.createConnection = (_options, callback) => {
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
  return agent;
}

/** Microsoft Graph's sendMail behind the transport contract: app-only token, one HTTPS request per email. */
export function graphTransport(options: GraphTransportOptions): Transport {
  const base = new URL(options.graphUrl);
  const endpoint = { host: base.hostname.replace(/^\[|\]$/g, ""), port: Number(base.port || 443) };
  const url = new URL(
    `${base.pathname.replace(/\/$/, "")}/v1.0/users/${encodeURIComponent(options.senderEmail)}/sendMail`,
    base,
  );
  const agent = guardedAgent(options, endpoint);
  const limit = semaphore(options.maxConcurrent);

  function post(token: string, body: string): Promise<GraphReply> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method: "POST",
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "text/plain",
          "Content-Length": Buffer.byteLength(body),
          // Graph echoes it and logs it with the request (https://learn.microsoft.com/graph/best-practices-concept#reliability-and-support).
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

  /** One request with the cached token, and once more with a fresh one if Graph refused it (expired, revoked). */
  async function submit(body: string): Promise<GraphReply> {
    let fresh = false;
    for (;;) {
      const token = await options.tokens.getToken(fresh).catch((err: unknown) => {
        throw failure(classifySmtpError(err));
      });
      const reply = await post(token.accessToken, body).catch((err: unknown) => {
        throw failure(connectionFailure(err, endpoint));
      });
      if (reply.status === 401 && reply.code === "InvalidAuthenticationToken" && !fresh) {
        fresh = true;
        continue;
      }
      return reply;
    }
  }

  async function send(email: OutgoingEmail): Promise<SendResult> {
    const body = await mimeBase64(email);
    const reply = await limit(async () => {
      const admission = await options.gate?.open();
      try {
        return await submit(body);
      } finally {
        admission?.release();
      }
    });
    if (reply.status === 202) {
      // 202 means Exchange took the message, not that it arrived: unknown recipients bounce later, to the mailbox (https://learn.microsoft.com/graph/outlook-things-to-know-about-send-mail).
      return {
        messageId: email.messageId,
        smtpReply: `202 Accepted${reply.requestId ? ` (request-id ${reply.requestId})` : ""}`,
        note: `Accepted by Microsoft Graph for ${options.senderEmail}: not yet delivered; unknown recipients come back as non-delivery reports to ${options.senderEmail}.`,
      };
    }
    const meaning = interpretGraphReply(reply, options);
    throw failure(classified(meaning.errorClass, meaningMessage(meaning), replyLine(reply), reply.status), {
      sender: meaning.sender,
      retryAfterSeconds:
        meaning.errorClass === "transient" || meaning.errorClass === "network"
          ? (reply.retryAfterSeconds ?? undefined)
          : undefined,
    });
  }

  return {
    send,
    async probe({ email }) {
      const [token] = await tokenStep(options.tokens, () => undefined);
      if (token!.outcome === "failed") return failedStepsAfter(token!, ["permission", "send"]);
      const steps: TestStep[] = [token!, await permissionStep(options.tokens)];
      if (!email) {
        steps.push({
          name: "send",
          outcome: "skipped",
          durationMs: 0,
          detail: "Graph has no dry run for sendMail: send a test email to prove sending.",
        });
        return steps;
      }
      const sent = await timed(() => send(email));
      if (sent.value) {
        steps.push({
          name: "send",
          outcome: "ok",
          durationMs: sent.durationMs,
          detail: sent.value.note ?? "Accepted by Microsoft Graph.",
          smtpReply: sent.value.smtpReply,
        });
        return steps;
      }
      const error =
        sent.error instanceof DeliveryError ? sent.error.classified : classifySmtpError(sent.error);
      return [...steps, ...failedStep("send", error, sent.durationMs, undefined)];
    },
    async close() {
      agent.destroy();
    },
  };
}

const failedStepsAfter = (step: TestStep, rest: TestStep["name"][]): TestStep[] => [
  step,
  ...rest.map((name) => ({ name, outcome: "skipped" as const, durationMs: 0 })),
];

/**
 * What the token shows about Mail.Send. An Entra admin consent puts it in `roles`, tenant-wide; RBAC for
 * Applications grants it in Exchange for a scope of mailboxes and never shows in the token
 * (https://learn.microsoft.com/exchange/permissions-exo/application-rbac), so a token without it proves nothing.
 */
async function permissionStep(tokens: TokenSource): Promise<TestStep> {
  const started = performance.now();
  const { accessToken } = await tokens.getToken(false);
  const durationMs = Math.round(performance.now() - started);
  if (missingRole(accessToken, "Mail.Send")) {
    return {
      name: "permission",
      outcome: "skipped",
      durationMs,
      detail:
        "The token carries no Mail.Send role. That is right with RBAC for Applications, whose grant for the mailbox lives in Exchange and never shows in a token; without that grant, sending fails with 403 ErrorAccessDenied. Send a test email to prove it.",
    };
  }
  return {
    name: "permission",
    outcome: "ok",
    durationMs,
    detail: "The token carries Mail.Send (an admin consent in Entra).",
    hint: "A tenant-wide Mail.Send consent lets this app send as any mailbox of the tenant. Grant it through RBAC for Applications for this one mailbox instead (the setup guide), then remove the consent in Entra.",
  };
}

/** A request that got no answer: the connection, TLS, the outbound guard or a timeout. */
function connectionFailure(err: unknown, endpoint: { host: string; port: number }): ClassifiedError {
  if (err instanceof OutboundBlockedError) {
    return classified(
      "blocked",
      `Postern may not connect to Microsoft Graph at ${endpoint.host}: ${err.message}`,
    );
  }
  const base = classifySmtpError(Object.assign(err as object, { endpoint }));
  const where = `Microsoft Graph at ${endpoint.host}:${endpoint.port}`;
  const errorClass = base.errorClass === "tls" || base.errorClass === "timeout" ? base.errorClass : "network";
  const message =
    errorClass === "tls"
      ? `The TLS certificate of ${where} is not trusted or does not match its name.`
      : errorClass === "timeout"
        ? `${where} did not answer in time.`
        : `Could not reach ${where} (${base.cause?.reason ?? "the connection failed"}).`;
  return { ...classified(errorClass, message), ...(base.cause ? { cause: base.cause } : {}) };
}

/** Status, OData error code and message, request id and Retry-After of a response; the token is never in it. */
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

const clean = (text: string, max: number) =>
  text
    .replace(/[\p{Cc}]+/gu, " ")
    .trim()
    .slice(0, max);

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), within a day; nonsense is ignored. */
function retryAfter(header: string | string[] | undefined, now: Date): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value.trim())
    : Math.ceil((Date.parse(value) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 1), 24 * 3600);
}
