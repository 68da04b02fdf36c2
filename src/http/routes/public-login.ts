import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { getAppById } from "../../apps/apps.ts";
import { getJwks } from "../../apps/signing-keys.ts";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { notFound } from "../../errors.ts";
import { requestedLocaleSchema } from "../../i18n/locales.ts";
import {
  openAppLoginLink,
  redeemAppLinkInBrowser,
  redeemAppLinkWithCode,
  requestAppLogin,
  verifyAppLoginCode,
} from "../../login/end-user-login.ts";
import { issuerPath } from "../../oidc/provider.ts";
import { appKeyGuard } from "../auth.ts";
import { bindBrowser } from "../browser-forms.ts";
import { answerPreflights, checkBrowserOrigin } from "../cors.ts";
import { brandingOf } from "../pages/branding.ts";
import { sendPage } from "../pages/layout.ts";
import { signedInPage } from "../pages/link-pages.ts";
import { en } from "../pages/messages.ts";
import { idSchema, problems } from "../schemas.ts";
import { registerLinkPages } from "./magic-link-pages.ts";

const sessionResponse = z.object({
  token: z.string(),
  user: z.object({ id: z.string(), email: z.string() }),
});

/** The end-user login API, called by developers' apps with their publishable key. */
export function publicLoginRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    answerPreflights(app, ["/v1/login/email", "/v1/login/email/verify"]);
    app.register(async (scope) => {
      scope.addHook("preHandler", appKeyGuard(ctx));
      scope.addHook("preHandler", async (request, reply) => {
        checkBrowserOrigin(request, reply, request.publicApp, ctx.config.publicUrl);
      });
      const authenticated = scope.withTypeProvider<ZodTypeProvider>();

      authenticated.post(
        "/v1/login/email",
        {
          schema: {
            tags: ["login"],
            summary: "Send a login code and magic link",
            description:
              "Answers the same way whether or not the address has logged in before. Called from a page on one of the app's origins (those of its allowed redirect URLs) with credentials, it sets the `postern_browser` cookie where the browser keeps it: the magic link then works with one click in that browser, and asks for the code in any other.",
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
          // Only a page of the app binds its browser (checkBrowserOrigin refused every other origin).
          const fromBrowser = request.headers.origin !== undefined;
          const result = await requestAppLogin(ctx, request.publicApp, {
            ...request.body,
            ip: request.clientIp,
            acceptLanguage: request.headers["accept-language"],
            browserSecret: fromBrowser ? bindBrowser(request, reply, ctx.config.publicUrl) : undefined,
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

    registerLinkPages(app, ctx.config.publicUrl, {
      path: "/v1/login/email/link",
      tags: ["login"],
      open: async (token, browserSecret) => {
        const { challenge, boundHere, app: owner } = await openAppLoginLink(ctx, token, browserSecret);
        const interaction = challenge.oidcInteractionUid;
        return {
          email: challenge.email,
          boundHere,
          branding: brandingOf(owner),
          ...(interaction
            ? {
                boundAction: `${issuerPath(owner.id)}/interaction/${interaction}/link`,
                onlyWhereStarted: true,
              }
            : {}),
        };
      },
      redeemInBrowser: (token, browserSecret) => redeemAppLinkInBrowser(ctx, token, browserSecret),
      redeemWithCode: (token, code, ip) => redeemAppLinkWithCode(ctx, token, code, ip),
      signedIn: (reply, session) =>
        session.redirectUrl
          ? // The token travels in the fragment: browsers never send it to a server or in a Referer.
            reply.redirect(`${session.redirectUrl}#postern_token=${encodeURIComponent(session.token)}`, 303)
          : sendPage(reply, 200, signedInPage(en, brandingOf(session.app))),
    });

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
