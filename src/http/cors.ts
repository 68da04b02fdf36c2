import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../apps/apps.ts";
import { DomainError } from "../errors.ts";

/**
 * CORS for the public login API, so an app's own pages can call it from the browser (with the
 * publishable key). An app's origins are those of its allowed redirect URLs: the same list that says
 * where its logins may end also says where they may start. Credentials are allowed so the browser
 * can keep the `postern_browser` binding cookie, which it does when Postern runs on the app's site
 * (auth.example.com for app.example.com); across sites browsers drop it, and the link asks for the code.
 */
export function appOrigins(app: App, publicUrl: string): Set<string> {
  const origins = new Set([new URL(publicUrl).origin]);
  for (const url of app.redirectUrls) origins.add(new URL(url).origin);
  return origins;
}

/** Preflights carry no Authorization header, so they cannot know the app: the real request decides. */
export function answerPreflights(scope: FastifyInstance, paths: string[]): void {
  for (const path of paths) {
    scope.options(path, { schema: { hide: true } }, async (request, reply) => {
      const origin = request.headers.origin;
      if (origin) {
        reply
          .header("access-control-allow-origin", origin)
          .header("access-control-allow-credentials", "true")
          .header("access-control-allow-methods", "POST")
          .header("access-control-allow-headers", "authorization, content-type")
          .header("access-control-max-age", "600")
          .header("vary", "origin");
      }
      return reply.status(204).send();
    });
  }
}

/**
 * On the real request, once the app is known: a browser on one of the app's origins may read the
 * answer; any other origin is refused (and told why, which is why it may read that refusal).
 * Returns whether the caller is a browser page of the app.
 */
export function checkBrowserOrigin(
  request: FastifyRequest,
  reply: FastifyReply,
  app: App,
  publicUrl: string,
) {
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  reply.header("vary", "origin").header("access-control-allow-origin", origin);
  if (!appOrigins(app, publicUrl).has(origin)) {
    throw new DomainError(
      "forbidden",
      "origin_not_allowed",
      `${origin} is not an origin of this app: add one of its URLs to the app's allowed redirect URLs.`,
      { field: "origin" },
    );
  }
  reply.header("access-control-allow-credentials", "true");
  return true;
}
