import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import {
  blameOf,
  type ClassifiedError,
  classifySmtpError,
  type ErrorClass,
} from "../../../mail/smtp-errors.ts";
import {
  checkOutboundTarget,
  OutboundBlockedError,
  type OutboundPolicy,
} from "../../../security/outbound-guard.ts";

export interface Endpoint {
  host: string;
  port: number;
  /** The operator's POSTERN_SES_API_URL (trusted as configured), or SES's own regional endpoint. */
  operator: boolean;
}

/**
 * Keep-alive HTTPS where every new connection is first checked by the outbound guard and then opened to
 * the address it checked (the certificate still verified for the name), as the SMTP transports connect.
 * The operator's endpoint is trusted as configured; SES's regional endpoint is built from a region the
 * schema allows only as letters, digits and dashes, and must still resolve to public addresses only.
 */
export function guardedAgent(
  endpoint: Endpoint,
  policy: OutboundPolicy,
  maxSockets: number,
  onConnection?: (socket: net.Socket) => void,
): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets, minVersion: "TLSv1.2" });
  const check = () =>
    endpoint.operator
      ? checkOutboundTarget(endpoint.host, endpoint.port, policy, undefined, { operatorEndpoint: true })
      : // HTTPS to AWS: port 443 is the only one open to it, not the SMTP ports the guard allows by default.
        checkOutboundTarget(endpoint.host, endpoint.port, { ...policy, allowedPorts: [443] });
  agent.createConnection = (_options, callback) => {
    check().then(
      (checked) => {
        const socket = tls.connect({
          host: checked.address,
          port: endpoint.port,
          ...(checked.servername ? { servername: checked.servername } : {}),
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
        });
        onConnection?.(socket);
        callback?.(null, socket);
      },
      (err: unknown) => callback?.(err as Error, undefined as never),
    );
    return undefined;
  };
  return agent;
}

/** A classified failure: the blame and whether to retry follow from the class. */
export function classified(
  errorClass: ErrorClass,
  message: string,
  smtpReply?: string,
  status?: number,
): ClassifiedError {
  const blame = blameOf(errorClass);
  return {
    errorClass,
    blame,
    retryable: errorClass === "network" || errorClass === "timeout" || errorClass === "transient",
    configProblem: blame === "provider" && errorClass !== "network" && errorClass !== "timeout",
    smtpReply,
    responseCode: status,
    message,
  };
}

/** A request that got no answer (the connection, TLS, the outbound guard, a timeout), named by the configured host. */
export function connectionFailure(err: unknown, endpoint: Endpoint, service: string): ClassifiedError {
  if (err instanceof OutboundBlockedError) {
    return classified("blocked", `Postern may not connect to ${service} at ${endpoint.host}: ${err.message}`);
  }
  const base = classifySmtpError(Object.assign(err as object, { endpoint }));
  const where = `${service} at ${endpoint.host}:${endpoint.port}`;
  const errorClass = base.errorClass === "tls" || base.errorClass === "timeout" ? base.errorClass : "network";
  const message =
    errorClass === "tls"
      ? `The TLS certificate of ${where} is not trusted or does not match its name.`
      : errorClass === "timeout"
        ? `${where} did not answer in time.`
        : `Could not reach ${where} (${base.cause?.reason ?? "the connection failed"}).`;
  return { ...classified(errorClass, message), ...(base.cause ? { cause: base.cause } : {}) };
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), within a day; nonsense is ignored. */
export function retryAfter(header: string | string[] | undefined, now: Date): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 1), 24 * 3600);
}

/** Control characters out, and cut to `max`: a vendor's text goes into the delivery log. */
export const clean = (text: string, max: number) =>
  text
    .replace(/[\p{Cc}]+/gu, " ")
    .trim()
    .slice(0, max);
