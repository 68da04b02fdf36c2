// A fake of Microsoft Graph's sendMail for app-only tokens, over HTTPS with the test CA
// (https://learn.microsoft.com/graph/api/user-sendmail). Tokens come from the identity fake and are checked like
// Graph does (signature, issuer, expiry, aud https://graph.microsoft.com); mailboxes and permissions live in
// graph-directory.ts, limits in graph-limits.ts, error bodies in graph-errors.ts, request bodies in
// graph-messages.ts. Point a client at `fake.url` (what POSTERN_MICROSOFT_GRAPH_URL would hold).
//
// Request order, as far as Graph's answers let one tell: scripted outage/failures, token (401), mailbox (404),
// Mail.Send or RBAC scope (403), concurrency and request rate (429), body (413/400/415), From (403
// ErrorSendAsDenied), message size (400), Exchange's sending limits (429), then 202 with an empty body.
// Not modelled: upload sessions, drafts (createMessage/send), the 30 min–2 h delay before RBAC changes apply,
// non-delivery reports for unknown recipients (202 means accepted, not delivered).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import type { AccessTokenClaims } from "./entra-tokens.ts";
import { graphAudience } from "./entra-tokens.ts";
import { GraphDirectory, type GraphMailbox, type MailboxSpec } from "./graph-directory.ts";
import { type GraphError, graphErrorBody, graphErrors } from "./graph-errors.ts";
import {
  defaultGraphLimits,
  GraphLimiter,
  type GraphLimits,
  type LimitViolation,
  type ThrottleReason,
} from "./graph-limits.ts";
import { parseJsonRequest, parseMimeRequest, type SubmittedMessage } from "./graph-messages.ts";
import { waitForCount } from "./mail.ts";
import type { MicrosoftIdentityFake } from "./microsoft-identity.ts";

export type { GraphMailbox, MailboxSpec } from "./graph-directory.ts";
export { type GraphError, graphErrors } from "./graph-errors.ts";
export type { GraphLimits, LimitViolation, ThrottleReason } from "./graph-limits.ts";
export type { GraphRecipient, SubmittedMessage } from "./graph-messages.ts";

/** A message Graph accepted (202). */
export interface AcceptedGraphMessage extends SubmittedMessage {
  tenantId: string;
  appId: string;
  /** The mailbox the URL named (primary address). */
  mailbox: string;
  /** How the app was allowed to use the mailbox. */
  permission: "entra-consent" | "rbac";
  requestId: string;
  clientRequestId: string;
  acceptedAt: Date;
}

export interface GraphRequestRecord {
  method: string;
  path: string;
  status: number;
  code?: string;
  appId?: string;
  mailbox?: string;
  at: Date;
}

export interface GraphFakeOptions {
  identity: MicrosoftIdentityFake;
  limits?: Partial<GraphLimits>;
  /** The fake's clock for token expiry windows, limits and outages; default Date.now. */
  now?: () => number;
  /** Which 404 an unknown mailbox gets; ErrorInvalidUser is what sendMail was seen to answer. */
  unknownMailboxCode?: "ErrorInvalidUser" | "ResourceNotFound";
  cert?: CertChoice;
  host?: string;
  port?: number;
}

export interface GraphFake {
  readonly port: number;
  /** "https://localhost:<port>", the Graph base URL. */
  readonly url: string;
  readonly limits: GraphLimits;
  readonly messages: AcceptedGraphMessage[];
  readonly requestLog: GraphRequestRecord[];
  /** Bearer tokens checked against the identity fake. */
  readonly tokenValidations: number;
  /** 429s sent, by limit. */
  readonly throttled: Readonly<Record<ThrottleReason, number>>;
  readonly limitViolations: LimitViolation[];
  /** Highest number of simultaneous requests per "<appId>/<mailbox>", counting the ones refused for it. */
  readonly maxConcurrent: ReadonlyMap<string, number>;
  /** The highest concurrency any app reached on this mailbox. */
  peakConcurrency(mailbox: string): number;
  addMailbox(tenantId: string, spec: MailboxSpec): GraphMailbox;
  setRestEnabled(address: string, enabled: boolean): void;
  /** RBAC for Applications: "Application Mail.Send" scoped to these mailboxes. */
  assignMailSend(tenantId: string, appId: string, mailboxes: string[]): void;
  removeMailSendAssignment(tenantId: string, appId: string): void;
  /** ApplicationAccessPolicy RestrictAccess: only these mailboxes. */
  restrictAccess(tenantId: string, appId: string, mailboxes: string[]): void;
  grantSendAs(address: string, trusteeMailbox: string): void;
  /** The next `count` sendMail requests get `error` (before any other check). */
  failNext(count: number, error: GraphError): void;
  /** 503 serviceNotAvailable with Retry-After for `durationMs` on the fake's clock. */
  startOutage(durationMs: number, retryAfterSeconds?: number): void;
  endOutage(): void;
  /** Real time an accepted request takes (holding its concurrency slot). */
  setLatency(ms: number): void;
  /** Moves the fake's clock forward (limits windows, outages; not token expiry, which the identity fake owns). */
  advanceClock(ms: number): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<AcceptedGraphMessage[]>;
  close(): Promise<void>;
}

class Refusal {
  constructor(readonly error: GraphError) {}
}

export async function startGraphFake(options: GraphFakeOptions): Promise<GraphFake> {
  const { identity } = options;
  let clockOffset = 0;
  const now = (): number => (options.now ?? Date.now)() + clockOffset;
  const limits: GraphLimits = { ...defaultGraphLimits, ...options.limits };
  const limiter = new GraphLimiter(limits, now);
  const directory = new GraphDirectory();
  const messages: AcceptedGraphMessage[] = [];
  const requestLog: GraphRequestRecord[] = [];
  const scripted: GraphError[] = [];
  let outage: { until: number; retryAfter: number } | undefined;
  let latencyMs = 0;
  let tokenValidations = 0;
  const sockets = new Set<Socket>();

  async function authenticate(req: IncomingMessage): Promise<AccessTokenClaims> {
    const header = req.headers.authorization ?? "";
    if (!/^Bearer\s+\S/i.test(header)) throw new Refusal(graphErrors.tokenMissing());
    const token = header.replace(/^Bearer\s+/i, "").trim();
    if (token.split(".").length !== 3) throw new Refusal(graphErrors.tokenMalformed());
    tokenValidations++;
    const verdict = await identity.verifyAccessToken(token);
    if (!verdict.valid) {
      if (/"exp"|expired/i.test(verdict.reason)) throw new Refusal(graphErrors.tokenExpired());
      if (/Compact|JWSInvalid|JWTInvalid|JSON|parse/i.test(verdict.reason)) {
        throw new Refusal(graphErrors.tokenMalformed());
      }
      throw new Refusal(graphErrors.tokenInvalid());
    }
    // Graph's resource is also addressed by its app id in v1 tokens.
    if (
      verdict.claims.aud !== graphAudience &&
      verdict.claims.aud !== "00000003-0000-0000-c000-000000000000"
    ) {
      throw new Refusal(graphErrors.tokenAudience());
    }
    return verdict.claims;
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= limits.maxRequestBytes) chunks.push(chunk as Buffer);
    }
    if (size > limits.maxRequestBytes) throw new Refusal(graphErrors.requestTooLarge(limits.maxRequestBytes));
    return Buffer.concat(chunks);
  }

  async function sendMail(
    req: IncomingMessage,
    user: string,
    record: GraphRequestRecord,
  ): Promise<AcceptedGraphMessage> {
    const claims = await authenticate(req);
    record.appId = claims.appid;
    const mailbox = directory.resolve(claims.tid, user);
    if (mailbox?.kind !== "user") {
      throw new Refusal(
        options.unknownMailboxCode === "ResourceNotFound"
          ? graphErrors.resourceNotFound()
          : graphErrors.invalidUser(decodeURIComponent(user)),
      );
    }
    record.mailbox = mailbox.address;
    if (!mailbox.restEnabled) throw new Refusal(graphErrors.mailboxNotEnabled());
    const permission = directory.mayUseMailbox(claims.tid, claims.appid, claims.roles ?? [], mailbox);
    if (!permission.allowed) {
      throw new Refusal(
        directory.isAccessPolicyDenial(permission)
          ? graphErrors.accessPolicyDenied()
          : graphErrors.accessDenied(),
      );
    }
    const admitted = limiter.enter(claims.appid, mailbox.address);
    if (admitted) throw new Refusal(admitted);
    try {
      const raw = await readBody(req);
      const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      let submitted: SubmittedMessage | GraphError;
      if (type === "application/json") submitted = parseJsonRequest(raw);
      else if (type === "text/plain") submitted = await parseMimeRequest(raw, mailbox.address);
      else submitted = graphErrors.unsupportedContentType(type);
      if ("status" in submitted) throw new Refusal(submitted);
      if (submitted.from !== undefined && !directory.maySendAs(mailbox, submitted.from)) {
        throw new Refusal(graphErrors.sendAsDenied());
      }
      if (submitted.sizeBytes > limits.maxMessageBytes)
        throw new Refusal(graphErrors.messageTooLarge(limits.maxMessageBytes));
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const recipients = submitted.to.length + submitted.cc.length + submitted.bcc.length;
      const overLimit = limiter.submit(claims.appid, mailbox.address, recipients);
      if (overLimit) throw new Refusal(overLimit);
      return {
        ...submitted,
        tenantId: claims.tid,
        appId: claims.appid,
        mailbox: mailbox.address,
        permission: permission.via,
        requestId: "",
        clientRequestId: "",
        acceptedAt: new Date(now()),
      };
    } finally {
      limiter.release(claims.appid, mailbox.address);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = String(req.headers["client-request-id"] ?? randomUUID());
    const url = new URL(req.url ?? "/", "https://graph.local");
    const record: GraphRequestRecord = {
      method: req.method ?? "",
      path: url.pathname,
      status: 0,
      at: new Date(now()),
    };
    requestLog.push(record);
    const ids = { "request-id": requestId, "client-request-id": clientRequestId };
    const fail = (err: GraphError): void => {
      record.status = err.status;
      record.code = err.code;
      const extra: Record<string, string> =
        err.retryAfter === undefined ? {} : { "Retry-After": String(err.retryAfter) };
      if (err.status === 401) {
        extra["WWW-Authenticate"] =
          'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
      }
      res.writeHead(err.status, { "Content-Type": "application/json", ...ids, ...extra });
      res.end(JSON.stringify(graphErrorBody(err, requestId, clientRequestId, new Date(now()))));
    };
    try {
      const [version, collection, user, action, ...rest] = url.pathname.split("/").filter(Boolean);
      if (outage && now() >= outage.until) outage = undefined;
      if (outage) throw new Refusal(graphErrors.serviceUnavailable(outage.retryAfter));
      const next = scripted.shift();
      if (next) throw new Refusal(next);
      if (version !== "v1.0") throw new Refusal(graphErrors.unknownSegment(version ?? ""));
      if (collection?.toLowerCase() === "me" && user?.toLowerCase() === "sendmail") {
        await authenticate(req);
        throw new Refusal(graphErrors.meWithAppToken());
      }
      // Graph's URL segments are case-insensitive.
      if (
        collection?.toLowerCase() !== "users" ||
        !user ||
        action?.toLowerCase() !== "sendmail" ||
        rest.length > 0
      ) {
        throw new Refusal(graphErrors.unknownSegment(rest[0] ?? action ?? user ?? collection ?? ""));
      }
      if (req.method !== "POST")
        throw new Refusal({
          status: 405,
          code: "BadRequest",
          message: `The HTTP method '${req.method}' is not allowed.`,
        });
      const accepted = await sendMail(req, user, record);
      messages.push({ ...accepted, requestId, clientRequestId });
      record.status = 202;
      res.writeHead(202, { ...ids, "Content-Length": "0" });
      res.end();
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      req.resume();
      fail(err.error);
    }
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "InternalServerError", message: String(err) } }));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");
  const port = address.port;

  return {
    port,
    url: `https://localhost:${port}`,
    limits,
    messages,
    requestLog,
    get tokenValidations() {
      return tokenValidations;
    },
    throttled: limiter.throttled,
    limitViolations: limiter.violations,
    maxConcurrent: limiter.maxConcurrent,
    peakConcurrency(mailbox) {
      let peak = 0;
      for (const [pair, value] of limiter.maxConcurrent) {
        if (pair.endsWith(`/${mailbox.toLowerCase()}`)) peak = Math.max(peak, value);
      }
      return peak;
    },
    addMailbox: (tenantId, spec) => directory.addMailbox(tenantId, spec),
    setRestEnabled(addressOf, enabled) {
      for (const mailbox of directory.mailboxes.values()) {
        if (mailbox.address === addressOf.toLowerCase()) mailbox.restEnabled = enabled;
      }
    },
    assignMailSend: (tenantId, appId, mailboxes) => directory.assignMailSend(tenantId, appId, mailboxes),
    removeMailSendAssignment: (tenantId, appId) => directory.removeMailSendAssignment(tenantId, appId),
    restrictAccess: (tenantId, appId, mailboxes) => directory.restrictAccess(tenantId, appId, mailboxes),
    grantSendAs: (addressOf, trustee) => directory.grantSendAs(addressOf, trustee),
    failNext(count, error) {
      for (let i = 0; i < count; i++) scripted.push(error);
    },
    startOutage(durationMs, retryAfterSeconds = Math.max(1, Math.ceil(durationMs / 1000))) {
      outage = { until: now() + durationMs, retryAfter: retryAfterSeconds };
    },
    endOutage() {
      outage = undefined;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    advanceClock(ms) {
      clockOffset += ms;
    },
    waitForMessages: (n, timeoutMs = 10_000) => waitForCount(messages, n, timeoutMs),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
