import net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";
import SMTPConnection from "nodemailer/lib/smtp-connection/index.js";
import {
  checkOutboundTarget,
  isPublicAddress,
  OutboundBlockedError,
  type OutboundPolicy,
} from "../security/outbound-guard.ts";
import { type MailSender, nodemailerMessage, type OutgoingEmail, SMTP_TIMEOUTS } from "./sender.ts";
import {
  type ClassifiedError,
  classifySmtpError,
  type ErrorClass,
  type SmtpEndpoint,
} from "./smtp-errors.ts";

/** A source of OAuth access tokens for XOAUTH2 (one per provider version). */
export interface TokenSource {
  /** `fresh` skips any cache: used once after the server refused a cached token. */
  getToken(fresh: boolean): Promise<{ accessToken: string; expiresAt: number }>;
}

/**
 * Admits each new pooled connection where the provider limits connections across processes (e.g.
 * Exchange's per-mailbox cap): `open` resolves once the connection may exist, `release` when it closed.
 */
export interface ConnectionGate {
  open(): Promise<{ release(): void }>;
  /** Idle connections close after this, handing their place to whoever needs it. */
  idleTimeoutMs: number;
}

/** Where and how to submit mail: everything a custom provider kind resolves to. */
export interface SmtpTarget {
  host: string;
  port: number;
  /** starttls: STARTTLS required (never opportunistic); tls: implicit TLS; none: only for allowlisted relays. */
  security: "starttls" | "tls" | "none";
  auth:
    | { method: "password"; user: string; pass: string }
    | { method: "xoauth2"; user: string; tokens: TokenSource };
  /** At most this many connections to the server from one process. */
  maxConnections: number;
  connectionGate?: ConnectionGate;
  /**
   * Set by kinds whose endpoint is the operator's own (the OAuth providers' POSTERN_MICROSOFT_SMTP), never
   * from a developer's input: the policy's trusted endpoints then apply, but only over TLS.
   */
  operatorEndpoint?: boolean;
}

/** The outbound guard for one target: the operator's endpoint is trusted only over TLS. */
function checkTarget(target: SmtpTarget, policy: OutboundPolicy) {
  return checkOutboundTarget(target.host, target.port, policy, undefined, {
    operatorEndpoint: target.operatorEndpoint === true && target.security !== "none",
  });
}

/** Marks an error with the class the worker should see (e.g. a refused destination). */
function classified<T extends Error>(error: T, errorClass: ClassifiedError["errorClass"]): T {
  return Object.assign(error, { errorClass });
}

/**
 * Resolves and checks the destination, then opens a TCP connection to the checked address. Used for
 * every pooled connection, so a DNS change cannot point an open pool at an internal address.
 */
async function connectChecked(target: SmtpTarget, policy: OutboundPolicy) {
  let checked: Awaited<ReturnType<typeof checkTarget>>;
  try {
    checked = await checkTarget(target, policy);
  } catch (err) {
    if (err instanceof OutboundBlockedError) throw classified(err, "blocked");
    throw err;
  }
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: checked.address, port: target.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        classified(
          Object.assign(new Error("Connection timed out."), {
            code: "ETIMEDOUT",
            host: target.host,
            port: target.port,
          }),
          "timeout",
        ),
      );
    }, SMTP_TIMEOUTS.connectionTimeout);
    s.once("connect", () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      // The configured host, not the resolved address, is what the developer recognises.
      reject(
        classified(Object.assign(err, { endpoint: { host: target.host, port: target.port } }), "network"),
      );
    });
  });
  return { socket, checked };
}

/** A checked connection that holds its gate's admission until the socket closes. */
async function gatedConnect(target: SmtpTarget, policy: OutboundPolicy, gate: ConnectionGate | undefined) {
  const admission = await gate?.open();
  try {
    const { socket } = await connectChecked(target, policy);
    if (admission) socket.once("close", () => admission.release());
    return socket;
  } catch (err) {
    admission?.release();
    throw err;
  }
}

function transportOptions(target: SmtpTarget) {
  return {
    ...SMTP_TIMEOUTS,
    host: target.host,
    port: target.port,
    secure: target.security === "tls",
    requireTLS: target.security === "starttls",
    ignoreTLS: target.security === "none",
    // Node's trust store (plus NODE_EXTRA_CA_CERTS); the hostname is checked even though we dial an IP.
    tls: { minVersion: "TLSv1.2" as const, rejectUnauthorized: true, servername: target.host },
    auth:
      target.auth.method === "password"
        ? { user: target.auth.user, pass: target.auth.pass }
        : { type: "OAuth2" as const, user: target.auth.user },
  };
}

/**
 * A pooled sender for one provider version. Every new connection goes through the outbound guard;
 * XOAUTH2 connections ask the token source, and a `535` with a cached token is retried once with a
 * fresh one (Exchange answers 535 directly, so nodemailer's own renewal never triggers).
 */
export function openSmtpPool(
  target: SmtpTarget,
  policy: OutboundPolicy,
  /** Sees every connection the pool opens (for the open-connections metric). */
  onConnection?: (socket: net.Socket) => void,
): MailSender {
  const gate = target.connectionGate;
  const transport = nodemailer.createTransport({
    ...transportOptions(target),
    pool: true,
    maxConnections: target.maxConnections,
    // All connections of a pool reach the limit together and reconnect together (greeting, TLS,
    // AUTH): measured as the p99 of the bench. XOAUTH2 connections renew their token on reconnect.
    maxMessages: target.auth.method === "password" ? 1000 : 100,
    ...(gate ? { idleTimeout: gate.idleTimeoutMs } : {}),
    getSocket: (
      _options: unknown,
      callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void,
    ) => {
      gatedConnect(target, policy, gate).then(
        (socket) => {
          onConnection?.(socket);
          callback(null, { connection: socket });
        },
        (err: Error) => callback(err),
      );
    },
  } as Parameters<typeof nodemailer.createTransport>[0]);
  let forceFreshToken = false;
  if (target.auth.method === "xoauth2") {
    const { tokens } = target.auth;
    transport.set(
      "oauth2_provision_cb",
      (_user: string, renew: boolean, cb: (err: Error | null, token?: string, expires?: number) => void) => {
        const fresh = renew || forceFreshToken;
        forceFreshToken = false;
        tokens.getToken(fresh).then(
          (t) => cb(null, t.accessToken, t.expiresAt),
          (err: Error) =>
            cb(
              classified(err, (err as { errorClass?: ClassifiedError["errorClass"] }).errorClass ?? "token"),
            ),
        );
      },
    );
  }
  const sendOnce = async (email: OutgoingEmail) => {
    const info = await transport.sendMail(nodemailerMessage(email));
    return { messageId: info.messageId, smtpReply: info.response };
  };
  return {
    async send(email) {
      try {
        return await sendOnce(email);
      } catch (err) {
        // The delivery log names where a failed send was going (see AttemptCause).
        if (typeof err === "object" && err !== null && !("endpoint" in err))
          Object.assign(err, { endpoint: { host: target.host, port: target.port } satisfies SmtpEndpoint });
        const code = (err as { code?: string; responseCode?: number }).code;
        if (
          target.auth.method === "xoauth2" &&
          code === "EAUTH" &&
          (err as { responseCode?: number }).responseCode === 535
        ) {
          forceFreshToken = true;
          return sendOnce(email);
        }
        throw err;
      }
    },
    async close() {
      transport.close();
    },
  };
}

export type StepName = "token" | "resolve" | "connect" | "tls" | "ehlo" | "authenticate" | "send";

export interface TestStep {
  name: StepName;
  outcome: "ok" | "failed" | "skipped";
  durationMs: number;
  detail?: string;
  hint?: string;
  errorClass?: ErrorClass;
  smtpReply?: string;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value?: T; error?: unknown; durationMs: number }> {
  const started = performance.now();
  try {
    const value = await run();
    return { value, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { error, durationMs: Math.round(performance.now() - started) };
  }
}

/** Turns a failure into a step with a hint a developer can act on; `explain` lets a kind add its own. */
export type Explain = (error: ClassifiedError, step: StepName) => string | undefined;

/**
 * Test connection: resolve → connect → TLS → EHLO → authenticate → optional test email, each step
 * timed and explained. Stops at the first failure; the rest are reported as skipped.
 */
export async function testSmtpTarget(
  target: SmtpTarget,
  policy: OutboundPolicy,
  options: { email?: OutgoingEmail; explain: Explain },
): Promise<TestStep[]> {
  const steps: TestStep[] = [];
  const order: StepName[] = ["resolve", "connect", "tls", "ehlo", "authenticate", "send"];
  const fail = (name: StepName, error: unknown, durationMs: number) => {
    const c = classifySmtpError(error);
    steps.push({
      name,
      outcome: "failed",
      durationMs,
      detail: c.message,
      errorClass: c.errorClass,
      ...(c.smtpReply ? { smtpReply: c.smtpReply } : {}),
      ...(options.explain(c, name) ? { hint: options.explain(c, name) } : {}),
    });
    for (const rest of order.slice(order.indexOf(name) + 1))
      steps.push({ name: rest, outcome: "skipped", durationMs: 0 });
    return steps;
  };

  const resolved = await timed(() => checkTarget(target, policy));
  if (resolved.error) {
    const err =
      resolved.error instanceof OutboundBlockedError ? classified(resolved.error, "blocked") : resolved.error;
    return fail("resolve", err, resolved.durationMs);
  }
  // A private address (an allowlisted relay's, the operator's endpoint's) is not shown: developers would
  // learn the internal network from it. A literal the developer typed is theirs to see.
  const checked = resolved.value!;
  const shown = checked.servername === undefined || isPublicAddress(checked.address);
  steps.push({
    name: "resolve",
    outcome: "ok",
    durationMs: resolved.durationMs,
    detail: shown ? `${target.host} → ${checked.address}` : `${target.host} → an address the operator allows`,
  });

  const connected = await timed(() => connectChecked(target, policy));
  if (connected.error) return fail("connect", connected.error, connected.durationMs);
  steps.push({
    name: "connect",
    outcome: "ok",
    durationMs: connected.durationMs,
    detail: shown ? `TCP ${checked.address}:${target.port}` : `TCP port ${target.port}`,
  });
  let socket: net.Socket | tls.TLSSocket = connected.value!.socket;

  if (target.security === "tls") {
    const handshake = await timed(
      () =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const secure = tls.connect({
            socket,
            servername: target.host,
            minVersion: "TLSv1.2",
            rejectUnauthorized: true,
          });
          secure.once("secureConnect", () => resolve(secure));
          secure.once("error", reject);
        }),
    );
    if (handshake.error) {
      socket.destroy();
      return fail("tls", handshake.error, handshake.durationMs);
    }
    socket = handshake.value!;
    steps.push({
      name: "tls",
      outcome: "ok",
      durationMs: handshake.durationMs,
      detail: `Implicit TLS, ${(socket as tls.TLSSocket).getProtocol()}`,
    });
  }

  const connection = new SMTPConnection({
    ...transportOptions(target),
    connection: socket,
    secured: target.security === "tls",
  } as SMTPConnection.Options);
  connection.on("error", () => {});
  const greeted = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        connection.once("error", reject);
        connection.connect(() => resolve());
      }),
  );
  if (greeted.error) {
    connection.close();
    // Without TLS the failure is the missing STARTTLS (or its handshake), not the greeting.
    return fail(target.security === "starttls" ? "tls" : "ehlo", greeted.error, greeted.durationMs);
  }
  if (target.security === "starttls") {
    steps.push({
      name: "tls",
      outcome: "ok",
      durationMs: 0,
      detail: `STARTTLS, ${(connection as unknown as { _socket: tls.TLSSocket })._socket.getProtocol?.() ?? "TLS"}`,
    });
  } else if (target.security === "none") {
    steps.push({
      name: "tls",
      outcome: "skipped",
      durationMs: 0,
      detail: "Plain connection (allowlisted relay)",
    });
  }
  steps.push({
    name: "ehlo",
    outcome: "ok",
    durationMs: greeted.durationMs,
    detail: "Greeting and EHLO accepted",
  });

  const auth = target.auth;
  const login = await timed(async () => {
    const credentials =
      auth.method === "password"
        ? { user: auth.user, pass: auth.pass }
        : { user: auth.user, oauth2: await xoauth2For(auth) };
    await new Promise<void>((resolve, reject) =>
      connection.login(credentials as SMTPConnection.Credentials, (err) => (err ? reject(err) : resolve())),
    );
  });
  if (login.error) {
    connection.close();
    return fail("authenticate", login.error, login.durationMs);
  }
  steps.push({
    name: "authenticate",
    outcome: "ok",
    durationMs: login.durationMs,
    detail: auth.method === "password" ? `Signed in as ${auth.user}` : `XOAUTH2 as ${auth.user}`,
  });

  if (!options.email) {
    steps.push({ name: "send", outcome: "skipped", durationMs: 0, detail: "No test email requested" });
    connection.quit();
    return steps;
  }
  const email = options.email;
  const sent = await timed(async () => {
    const raw = await new Promise<Buffer>((resolve, reject) =>
      nodemailer
        .createTransport({ streamTransport: true, buffer: true })
        .sendMail(nodemailerMessage(email), (err, info) =>
          err ? reject(err) : resolve(info.message as Buffer),
        ),
    );
    return new Promise<string>((resolve, reject) =>
      connection.send({ from: email.from.address, to: [email.to] }, raw, (err, info) =>
        err ? reject(err) : resolve(info.response),
      ),
    );
  });
  connection.quit();
  if (sent.error) return fail("send", sent.error, sent.durationMs);
  steps.push({
    name: "send",
    outcome: "ok",
    durationMs: sent.durationMs,
    detail: `Test email sent to ${email.to}`,
    smtpReply: sent.value!,
  });
  return steps;
}

/**
 * The SASL XOAUTH2 initial response: base64("user=" + mailbox + "\x01auth=Bearer " + token + "\x01\x01")
 * (byte for byte as Microsoft documents it: https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
 */
export function xoauth2InitialResponse(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`, "utf8").toString("base64");
}

/** nodemailer's XOAUTH2 object for a single connection, fed from our token source. */
async function xoauth2For(auth: { user: string; tokens: TokenSource }) {
  const token = await auth.tokens.getToken(false);
  return {
    getToken: (_renew: boolean, cb: (err: Error | null, accessToken?: string) => void) =>
      cb(null, token.accessToken),
    buildXOAuth2Token: (accessToken?: string) =>
      xoauth2InitialResponse(auth.user, accessToken ?? token.accessToken),
  };
}
