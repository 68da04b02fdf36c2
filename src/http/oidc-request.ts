import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";

/**
 * oidc-provider builds every URL it publishes from the request (protocol and Host). Postern states
 * its public URL once (PUBLIC_URL), so the provider is told that instead, whatever Host the request
 * carried: the discovery document can never be steered by a forged Host header, and behind a TLS
 * proxy the issuer's https URLs and Secure cookies come out right.
 */
export function asPublicRequest(request: FastifyRequest, publicUrl: string): IncomingMessage {
  const url = new URL(publicUrl);
  const raw = request.raw;
  raw.headers["x-forwarded-proto"] = url.protocol.replace(/:$/, "");
  raw.headers["x-forwarded-host"] = url.host;
  raw.headers["x-forwarded-for"] = request.ip;
  return raw;
}
