import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { getAppById } from "../../apps/apps.ts";
import { getJwks } from "../../apps/signing-keys.ts";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { DomainError, notFound } from "../../errors.ts";
import { requestedLocaleSchema } from "../../i18n/locales.ts";
import { redeemAppLoginLink, requestAppLogin, verifyAppLoginCode } from "../../login/end-user-login.ts";
import { appKeyGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

const sessionResponse = z.object({
  token: z.string(),
  user: z.object({ id: z.string(), email: z.string() }),
});

/** The end-user login API, called by developers' apps with their publishable key. */
export function publicLoginRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    app.register(async (scope) => {
      scope.addHook("preHandler", appKeyGuard(ctx));
      const authenticated = scope.withTypeProvider<ZodTypeProvider>();

      authenticated.post(
        "/v1/login/email",
        {
          schema: {
            tags: ["login"],
            summary: "Send a login code and magic link",
            description: "Answers the same way whether or not the address has logged in before.",
            security: [{ publishableKey: [] }],
            body: z.strictObject({
              email: emailAddressSchema,
              redirectUrl: z.string().max(2048).optional(),
              locale: requestedLocaleSchema
                .optional()
                .describe(
                  "The email's language (BCP 47, e.g. de or pt-BR). Without it, or when the app has no template for it: the end user's Accept-Language, then the app's default locale.",
                ),
            }),
            response: { 202: z.object({ loginId: z.string(), expiresAt: z.string() }), ...problems },
          },
        },
        async (request, reply) => {
          const result = await requestAppLogin(ctx, request.publicApp, {
            ...request.body,
            ip: request.clientIp,
            acceptLanguage: request.headers["accept-language"],
          });
          return reply.status(202).send(result);
        },
      );

      authenticated.post(
        "/v1/login/email/verify",
        {
          schema: {
            tags: ["login"],
            summary: "Exchange the emailed code for a session token",
            security: [{ publishableKey: [] }],
            body: z.strictObject({
              loginId: idSchema,
              code: z.string().regex(/^\d{6}$/, "must be the 6-digit code from the email"),
            }),
            response: { 200: sessionResponse, ...problems },
          },
        },
        async (request) =>
          verifyAppLoginCode(ctx, request.publicApp, { ...request.body, ip: request.clientIp }),
      );
    });

    app.get(
      "/v1/login/email/link",
      {
        schema: {
          tags: ["login"],
          summary: "Redeem a magic link (single use)",
          description:
            "Redirects to the login's redirectUrl with `#postern_token=<jwt>`, or shows a page saying the login succeeded.",
          querystring: z.strictObject({
            token: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "is not a valid link token"),
          }),
        },
      },
      async (request, reply) => {
        let result: Awaited<ReturnType<typeof redeemAppLoginLink>>;
        try {
          result = await redeemAppLoginLink(ctx, request.query.token);
        } catch (err) {
          if (err instanceof DomainError && request.headers.accept?.includes("text/html")) {
            return reply
              .status(400)
              .type("text/html")
              .send(page("This login link cannot be used", err.message));
          }
          throw err;
        }
        if (result.redirectUrl) {
          return reply.redirect(
            `${result.redirectUrl}#postern_token=${encodeURIComponent(result.token)}`,
            303,
          );
        }
        return reply
          .type("text/html")
          .send(page(`Signed in to ${result.app.name}`, "You can close this tab and go back to the app."));
      },
    );

    app.get(
      "/v1/apps/:appId/jwks.json",
      {
        schema: {
          tags: ["login"],
          summary: "The app's public signing keys (verify session tokens with these)",
          params: z.object({ appId: idSchema }),
        },
      },
      async (request, reply) => {
        const found = await getAppById(ctx.db, request.params.appId);
        if (!found) throw notFound("app");
        reply.header("cache-control", "public, max-age=300");
        return getJwks(ctx.db, found.id);
      },
    );
  };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
}
