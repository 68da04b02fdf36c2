import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { randomToken } from "../security/tokens.ts";

/**
 * The cookie that binds a login to the browser that asked for it (docs/security.md, "Magic links and
 * link scanners"). Lax, not Strict: the magic link is opened by a cross-site navigation from a
 * webmail or a Safe Links redirect, and the cookie must come along with it.
 */
export const BROWSER_COOKIE = "postern_browser";
const BROWSER_COOKIE_MAX_AGE = 24 * 3600;
const SECRET_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export function browserSecretOf(request: FastifyRequest): string | undefined {
  const value = request.cookies[BROWSER_COOKIE];
  return value && SECRET_FORMAT.test(value) ? value : undefined;
}

/** This browser's binding secret, created (and the cookie set) on its first login request. */
export function bindBrowser(request: FastifyRequest, reply: FastifyReply, publicUrl: string): string {
  const secret = browserSecretOf(request) ?? randomToken(32);
  reply.setCookie(BROWSER_COOKIE, secret, {
    httpOnly: true,
    sameSite: "lax",
    secure: publicUrl.startsWith("https:"),
    path: "/",
    maxAge: BROWSER_COOKIE_MAX_AGE,
  });
  return secret;
}

/**
 * The scope's routes take what HTML forms post, `application/x-www-form-urlencoded` (fields become
 * strings, the last of repeats), and nothing else: another body is a program's mistake, answered
 * with a problem (415) rather than a page.
 */
export function acceptFormBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  scope.addContentTypeParser("*", (_request, _payload, done) =>
    done(
      Object.assign(new Error("Send this form as application/x-www-form-urlencoded."), {
        statusCode: 415,
        code: "unsupported_media_type",
      }),
    ),
  );
}

/**
 * Whether a form post came from another site. Without this, a page elsewhere could post its own
 * link token and code and sign the visitor's browser in to an account of its choosing (login CSRF).
 * Browsers send Sec-Fetch-Site and Origin with every form post; a client that sends neither is no
 * browser, and cannot be made to post by someone else's page.
 */
export function isCrossSiteForm(request: FastifyRequest, publicUrl: string): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return true;
  const origin = request.headers.origin;
  return origin !== undefined && origin !== new URL(publicUrl).origin;
}
