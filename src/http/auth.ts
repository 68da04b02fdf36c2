import { isIP } from "node:net";
import type {} from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Account } from "../accounts/accounts.ts";
import { type App, invalidAppKey } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { findSession } from "../dashboard-sessions/dashboard-sessions.ts";
import { DomainError } from "../errors.ts";
import { sameSecret } from "../security/tokens.ts";

export const SESSION_COOKIE = "postern_session";

declare module "fastify" {
  interface FastifyRequest {
    account: Account;
    csrfToken: string;
    publicApp: App;
    /** The end user's address for rate limits: the socket's, or the one a secret-key caller vouches for. */
    clientIp: string;
  }
}

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** Dashboard routes: a valid session cookie, and the CSRF token on every mutation. */
export function sessionGuard(ctx: Context) {
  return async (request: FastifyRequest) => {
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await findSession(ctx, token) : undefined;
    if (!session)
      throw new DomainError(
        "unauthorized",
        "not_signed_in",
        "Sign in to the dashboard first; your session may have expired.",
      );
    if (unsafeMethods.has(request.method)) {
      const sent = request.headers["x-csrf-token"];
      if (typeof sent !== "string" || !sameSecret(sent, session.csrfToken)) {
        throw new DomainError(
          "forbidden",
          "csrf_failed",
          "This request is missing the x-csrf-token header that matches your session.",
        );
      }
    }
    request.account = session.account;
    request.csrfToken = session.csrfToken;
  };
}

/**
 * Public login API: the app's publishable key as a bearer token (from browsers), or its secret key
 * (from the developer's server). Only a secret-key caller may name the end user's address in
 * `x-postern-client-ip`, so per-IP limits apply to the user rather than to the developer's server.
 */
export function appKeyGuard(ctx: Context) {
  return async (request: FastifyRequest) => {
    const key = bearer(request);
    const app = key?.startsWith("pk_")
      ? await ctx.appCache.byPublishableKey(key)
      : key?.startsWith("sk_")
        ? await ctx.appCache.bySecretKey(key)
        : undefined;
    if (!app) throw invalidAppKey();
    request.publicApp = app;
    request.clientIp = request.ip;
    const forwarded = request.headers["x-postern-client-ip"];
    if (typeof forwarded === "string") {
      if (!key!.startsWith("sk_")) {
        throw new DomainError(
          "forbidden",
          "client_ip_needs_secret_key",
          "Only a call with the app's secret key may set x-postern-client-ip.",
          { field: "x-postern-client-ip" },
        );
      }
      if (!isIP(forwarded.trim())) {
        throw new DomainError(
          "invalid",
          "invalid_client_ip",
          "x-postern-client-ip must be an IPv4 or IPv6 address.",
          { field: "x-postern-client-ip" },
        );
      }
      request.clientIp = forwarded.trim();
    }
  };
}

/** Operator routes: the POSTERN_OPERATOR_TOKEN as a bearer token; disabled when it is not set. */
export function operatorGuard(ctx: Context) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const expected = ctx.config.operatorToken;
    if (!expected) {
      throw new DomainError(
        "forbidden",
        "operator_api_disabled",
        "The operator API is off: set POSTERN_OPERATOR_TOKEN to use it.",
      );
    }
    const token = bearer(request);
    if (!token || !sameSecret(token, expected)) {
      throw new DomainError(
        "unauthorized",
        "invalid_operator_token",
        "Send the operator token as `Authorization: Bearer …`.",
      );
    }
  };
}
