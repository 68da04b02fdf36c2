import type { LookupAddress } from "node:dns";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import {
  type CheckedTarget,
  checkOutboundTarget,
  type HostResolver,
  OutboundBlockedError,
  type OutboundPolicy,
  systemResolver,
} from "../../../security/outbound-guard.ts";

// The developer's endpoint is reached like a developer's SMTP host (DESIGN.md, Security rules): HTTPS only,
// its name resolved and checked before every request (public addresses only, unless the operator
// allowlisted it), and the connection made to the address that was checked, so DNS cannot swap in an
// internal one between check and connect (https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html).
// Port 443 only, unless allowlisted: the guard is no port scanner.

const WEBHOOK_PORTS = [443];
const ALLOWLIST_HINT = "Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if it is a private endpoint.";
/** Enough for an error page's first lines; the rest of a response is not read. */
export const MAX_RESPONSE_BYTES = 4096;

export interface WebhookEndpoint {
  url: URL;
  host: string;
  port: number;
}

/** The endpoint a stored URL names (checked when it was saved: https, no credentials). */
export function endpointOf(url: string): WebhookEndpoint {
  const parsed = new URL(url);
  return {
    url: parsed,
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: Number(parsed.port || 443),
  };
}

/** The guard's refusals in a webhook's words (its own speak of SMTP hosts). */
function refusal(error: OutboundBlockedError, endpoint: WebhookEndpoint): OutboundBlockedError {
  const { host, port } = endpoint;
  const message = {
    blocked_address: `${host} is or resolves to a private or internal address, which Postern does not send to. ${ALLOWLIST_HINT}`,
    blocked_port: `Port ${port} is not open to webhooks: use https on port 443, or ask your operator to allowlist the host in POSTERN_SMTP_ALLOWLIST.`,
    unresolvable: error.message,
    invalid_host: `${JSON.stringify(host.slice(0, 80))} is not a host Postern can send to.`,
  }[error.code];
  return new OutboundBlockedError(error.code, message);
}

/** Resolves and checks the endpoint's host: the address to connect to, or an OutboundBlockedError. */
export async function checkEndpoint(
  endpoint: WebhookEndpoint,
  policy: OutboundPolicy,
  resolve: HostResolver = systemResolver,
): Promise<CheckedTarget> {
  try {
    return await checkOutboundTarget(
      endpoint.host,
      endpoint.port,
      { ...policy, allowedPorts: WEBHOOK_PORTS },
      resolve,
    );
  } catch (err) {
    throw err instanceof OutboundBlockedError ? refusal(err, endpoint) : err;
  }
}

/** A lookup that answers only the checked address, whatever the name: the connection is pinned to it. */
function pinnedLookup(address: string) {
  const family = net.isIPv6(address) ? 6 : 4;
  return (
    _hostname: string,
    options: { all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

export interface EndpointResponse {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  /** At most MAX_RESPONSE_BYTES of the body. */
  body: string;
}

/**
 * A failed request, by Node's code only (ECONNREFUSED, ETIMEDOUT, a TLS code): socket messages carry
 * resolved addresses and are never shown (replies.ts says what happened in words).
 */
export class EndpointError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EndpointError";
  }
}

export interface RequestOptions {
  timeoutMs: number;
  /** A keep-alive agent for sends (none: a connection of its own); a test passes its TLS socket instead. */
  agent?: https.Agent | undefined;
  socket?: tls.TLSSocket | undefined;
}

/**
 * POSTs `body` to the checked address with Node's trust store and the URL's host as the TLS name.
 * Redirects are not followed (a 3xx is an answer); the whole exchange has `timeoutMs`.
 */
export function postJson(
  endpoint: WebhookEndpoint,
  checked: CheckedTarget,
  body: string,
  headers: Record<string, string>,
  options: RequestOptions,
): Promise<EndpointResponse> {
  return new Promise((resolve, reject) => {
    const request = https.request({
      method: "POST",
      protocol: "https:",
      hostname: endpoint.host,
      port: endpoint.port,
      path: `${endpoint.url.pathname}${endpoint.url.search}`,
      lookup: pinnedLookup(checked.address) as unknown as https.RequestOptions["lookup"],
      ...(checked.servername ? { servername: checked.servername } : {}),
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
      headers: {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "Postern-Webhook/1",
        ...headers,
      },
      // Without an agent, Node uses createConnection as it is: the test's socket, already through TLS.
      ...(options.socket
        ? { createConnection: () => options.socket as unknown as net.Socket }
        : { agent: options.agent ?? false }),
    });
    const timer = setTimeout(() => {
      request.destroy(
        new EndpointError("ETIMEDOUT", `no answer within ${Math.round(options.timeoutMs / 1000)} s`),
      );
    }, options.timeoutMs);
    request.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof EndpointError ? err : new EndpointError(err.code ?? "EOTHER", "request failed"));
    });
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? "",
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      };
      response.on("data", (chunk: Buffer) => {
        if (size >= MAX_RESPONSE_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
        size += chunk.length;
        // The rest is not read: the socket is not worth keeping for an endpoint that talks this much.
        if (size >= MAX_RESPONSE_BYTES) {
          response.destroy();
          done();
        }
      });
      response.once("end", done);
      response.once("error", done);
    });
    request.end(body);
  });
}

/** Test connection's own steps: a TCP connection to the checked address, then the TLS handshake on it. */
export function connectTcp(checked: CheckedTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: checked.address, port: checked.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EndpointError("ETIMEDOUT", "the connection timed out"));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new EndpointError(err.code ?? "EOTHER", "connection failed"));
    });
  });
}

export function handshake(socket: net.Socket, checked: CheckedTarget, timeoutMs: number) {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const secure = tls.connect({
      socket,
      ...(checked.servername ? { servername: checked.servername } : {}),
      // An IP literal is checked against the certificate's IP addresses.
      host: checked.servername ?? checked.host,
      ALPNProtocols: ["http/1.1"],
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new EndpointError("ETIMEDOUT", "the TLS handshake timed out"));
    }, timeoutMs);
    secure.once("secureConnect", () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new EndpointError(err.code ?? "ETLS", "TLS handshake failed"));
    });
  });
}
