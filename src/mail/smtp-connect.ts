import net from "node:net";
import {
  checkOutboundTarget,
  OutboundBlockedError,
  type OutboundPolicy,
} from "../security/outbound-guard.ts";
import { SMTP_TIMEOUTS } from "./sender.ts";
import type { ClassifiedError } from "./smtp-errors.ts";

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
export function checkTarget(target: SmtpTarget, policy: OutboundPolicy) {
  return checkOutboundTarget(target.host, target.port, policy, undefined, {
    operatorEndpoint: target.operatorEndpoint === true && target.security !== "none",
  });
}

/** Marks an error with the class the worker should see (e.g. a refused destination). */
export function classified<T extends Error>(error: T, errorClass: ClassifiedError["errorClass"]): T {
  return Object.assign(error, { errorClass });
}

/**
 * Resolves and checks the destination, then opens a TCP connection to the checked address. Used for
 * every pooled connection, so a DNS change cannot point an open pool at an internal address.
 */
export async function connectChecked(target: SmtpTarget, policy: OutboundPolicy) {
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
export async function gatedConnect(
  target: SmtpTarget,
  policy: OutboundPolicy,
  gate: ConnectionGate | undefined,
) {
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

export function transportOptions(target: SmtpTarget) {
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
