import type { FastifyInstance } from "fastify";
import { DomainError } from "../errors.ts";
import { isLoopbackHost, parseHostHeader } from "../security/loopback.ts";

/**
 * DNS rebinding protection for a loopback-only Postern (the dev mailbox mode). A web page on
 * evil.example can point its own name at 127.0.0.1 and then read this server same-origin; its requests
 * still carry "Host: evil.example", so every request must name a loopback host or PUBLIC_URL's host.
 */
export function refuseForeignHosts(app: FastifyInstance, publicUrl: string): void {
  const publicHost = new URL(publicUrl);
  const publicPort = Number(publicHost.port || (publicHost.protocol === "https:" ? 443 : 80));
  const allowed = (header: string | undefined): boolean => {
    const parsed = header === undefined ? undefined : parseHostHeader(header);
    if (!parsed) return false;
    if (isLoopbackHost(parsed.host)) return true;
    return parsed.host === publicHost.hostname && (parsed.port ?? publicPort) === publicPort;
  };
  app.addHook("onRequest", async (request) => {
    // The raw header: request.host follows X-Forwarded-Host under trustProxy, and a same-origin page
    // may set that header freely.
    const host = request.raw.headers.host;
    if (!allowed(host)) {
      throw new DomainError(
        "misdirected",
        "host_not_allowed",
        `This Postern runs the dev mailbox and answers only on loopback (localhost, 127.0.0.1, [::1]) or ${publicHost.host}, not on ${host ? `"${host}"` : "a request without a Host header"}.`,
      );
    }
  });
}
