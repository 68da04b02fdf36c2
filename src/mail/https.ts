import type { IncomingHttpHeaders } from "node:http";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import {
  checkOutboundTarget,
  OutboundBlockedError,
  type OutboundPolicy,
} from "../security/outbound-guard.ts";
import { type ClassifiedError, classified, classifySmtpError } from "./smtp-errors.ts";

// What the HTTPS transports share (Microsoft Graph, Amazon SES, Mailgun, …): connections checked by the
// outbound guard and opened to the checked address, one bounded request, and the reading of an answer.

export interface Endpoint {
  host: string;
  port: number;
  /** The operator's endpoint (e.g. POSTERN_SES_API_URL: trusted as configured), or a vendor's public one. */
  operator: boolean;
}

/**
 * Keep-alive HTTPS where every new connection is first checked by the outbound guard and then opened to
 * the address it checked (the certificate still verified for the name), as the SMTP transports connect.
 * The operator's endpoint is trusted as configured; any other (e.g. SES's regional endpoint, built from a
 * region the schema allows only as letters, digits and dashes) must resolve to public addresses, port 443.
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
      : // HTTPS: port 443 is the only one open to it, not the SMTP ports the guard allows by default.
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

/** The host and port an https:// URL connects to (443 unless it names one). */
export const hostPortOf = (url: string): { host: string; port: number } => {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 443) };
};

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxBodyBytes` of it: the rest is not read. */
  body: Buffer;
}

/** One request through `agent`, bounded in time and in how much of the answer is read; rejects when there was none. */
export function httpsRequest(
  url: URL,
  options: {
    method: "GET" | "POST";
    agent: https.Agent;
    headers: Record<string, string | number>;
    body?: string | Buffer | undefined;
    timeoutMs: number;
    maxBodyBytes: number;
  },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: options.method,
      agent: options.agent,
      headers: options.headers,
      timeout: options.timeoutMs,
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
        if (size <= options.maxBodyBytes) chunks.push(chunk);
      });
      res.once("error", reject);
      res.once("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.end(options.body);
  });
}
