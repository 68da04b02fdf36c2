import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import {
  closeSession,
  findSession,
  openDashboardLink,
  redeemDashboardLinkInBrowser,
  redeemDashboardLinkWithCode,
  requestDashboardSignIn,
  SESSION_TTL_SECONDS,
  verifyDashboardCode,
} from "../../dashboard-sessions/dashboard-sessions.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { requestedLocaleSchema } from "../../i18n/locales.ts";
import { normalizeCode } from "../../login/code-format.ts";
import { listWorkspaces } from "../../workspaces/workspaces.ts";
import { SESSION_COOKIE, sessionGuard } from "../auth.ts";
import { bindBrowser } from "../browser-forms.ts";
import { idSchema, loginCodeSchema, problems } from "../schemas.ts";
import { registerLinkPages } from "./magic-link-pages.ts";

/**
 * Dashboard sign-in: the same passwordless flow, ending in an HttpOnly session cookie. `devMailbox`
 * says whether this process serves the dev mailbox, so the sign-in page offers it only where it exists.
 */
export function dashboardAuthRoutes(ctx: Context, options: { devMailbox: boolean }): FastifyPluginAsyncZod {
  const secure = ctx.config.publicUrl.startsWith("https:");
  const setSessionCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: "lax",
      secure,
      path: "/",
      maxAge: SESSION_TTL_SECONDS,
    });

  return async (app) => {
    app.post(
      "/api/auth/email",
      {
        schema: {
          tags: ["dashboard auth"],
          summary: "Email a sign-in code to a dashboard account",
          description:
            "The email is in the request's `locale` if Postern has a translation for it, else in the browser's Accept-Language, else English. Sets the `postern_browser` cookie: the sign-in link works with one click only in this browser (elsewhere it asks for the code).",
          body: z.strictObject({ email: emailAddressSchema, locale: requestedLocaleSchema.optional() }),
          response: { 202: z.object({ loginId: z.string(), expiresAt: z.string() }), ...problems },
        },
      },
      async (request, reply) => {
        const browserSecret = bindBrowser(request, reply, ctx.config.publicUrl);
        return reply.status(202).send(
          await requestDashboardSignIn(ctx, request.body.email, request.ip, browserSecret, {
            locale: request.body.locale,
            acceptLanguage: request.headers["accept-language"],
          }),
        );
      },
    );

    app.post(
      "/api/auth/email/verify",
      {
        schema: {
          tags: ["dashboard auth"],
          summary: "Verify the code; sets the session cookie and returns the CSRF token",
          body: z.strictObject({
            loginId: idSchema,
            code: loginCodeSchema,
          }),
          response: {
            200: z.object({
              csrfToken: z.string(),
              account: z.object({ id: z.string(), email: z.string() }),
            }),
            ...problems,
          },
        },
      },
      async (request, reply) => {
        const session = await verifyDashboardCode(
          ctx,
          request.body.loginId,
          normalizeCode(request.body.code),
          request.ip,
        );
        setSessionCookie(reply, session.token);
        return {
          csrfToken: session.csrfToken,
          account: { id: session.account.id, email: session.account.email },
        };
      },
    );

    registerLinkPages(app, ctx.config.publicUrl, {
      path: "/api/auth/email/link",
      tags: ["dashboard auth"],
      backHref: "/sign-in",
      open: async (token, browserSecret) => {
        const { challenge, boundHere } = await openDashboardLink(ctx, token, browserSecret);
        return { email: challenge.email, boundHere, branding: { name: "Postern" } };
      },
      redeemInBrowser: (token, browserSecret) => redeemDashboardLinkInBrowser(ctx, token, browserSecret),
      redeemWithCode: (token, code, ip) => redeemDashboardLinkWithCode(ctx, token, code, ip),
      signedIn: (reply, session) => {
        setSessionCookie(reply, session.token);
        return reply.redirect("/", 303);
      },
    });

    app.get(
      "/api/session",
      {
        schema: {
          tags: ["dashboard auth"],
          summary:
            "Whether this browser is signed in, and what the sign-in page should offer (no 401 when signed out)",
          response: {
            200: z.object({
              signedIn: z.boolean(),
              devMailbox: z.boolean(),
              signup: z.enum(["open", "invite"]),
            }),
          },
        },
      },
      async (request) => {
        const token = request.cookies[SESSION_COOKIE];
        return {
          signedIn: token ? (await findSession(ctx, token)) !== undefined : false,
          devMailbox: options.devMailbox,
          signup: ctx.config.signup,
        };
      },
    );

    app.register(async (scope) => {
      scope.addHook("preHandler", sessionGuard(ctx));
      const signedIn = scope.withTypeProvider<ZodTypeProvider>();

      signedIn.post(
        "/api/auth/logout",
        {
          schema: { tags: ["dashboard auth"], summary: "Sign out", response: { 204: z.null(), ...problems } },
        },
        async (request, reply) => {
          const token = request.cookies[SESSION_COOKIE];
          if (token) await closeSession(ctx, token);
          reply.clearCookie(SESSION_COOKIE, { path: "/" });
          return reply.status(204).send(null);
        },
      );

      signedIn.get(
        "/api/me",
        {
          schema: {
            tags: ["dashboard auth"],
            summary: "The signed-in account, its workspaces and the CSRF token for mutations",
            response: {
              200: z.object({
                account: z.object({ id: z.string(), email: z.string() }),
                csrfToken: z.string(),
                workspaces: z.array(
                  z.object({
                    id: z.string(),
                    name: z.string(),
                    role: z.string(),
                    features: z.record(z.string(), z.boolean()),
                  }),
                ),
                devMailbox: z.boolean(),
              }),
              ...problems,
            },
          },
        },
        async (request) => {
          const workspaces = await listWorkspaces(ctx.db, request.account.id);
          return {
            account: { id: request.account.id, email: request.account.email },
            csrfToken: request.csrfToken,
            workspaces: workspaces.map((w) => ({
              id: w.id,
              name: w.name,
              role: w.role,
              features: w.features,
            })),
            devMailbox: options.devMailbox,
          };
        },
      );
    });
  };
}
