import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type Provider from "oidc-provider";
import type { InteractionResults } from "oidc-provider";
import { z } from "zod";
import type { App } from "../../apps/apps.ts";
import type { Context } from "../../context.ts";
import { canonicalEmail, type EmailAddress, parseEmailAddress } from "../../email-address/email-address.ts";
import { DomainError } from "../../errors.ts";
import { normalizeCode } from "../../login/code-format.ts";
import {
  pendingInteractionLogin,
  redeemInteractionLink,
  startInteractionLogin,
  verifyInteractionCode,
} from "../../oidc/interaction-logins.ts";
import { issuerPath } from "../../oidc/provider.ts";
import type { OidcProviders } from "../../oidc/providers.ts";
import { acceptFormBodies, bindBrowser, browserSecretOf, isCrossSiteForm } from "../browser-forms.ts";
import { asPublicRequest } from "../oidc-request.ts";
import { brandingOf } from "../pages/branding.ts";
import {
  codeStepPage,
  emailStepPage,
  type InteractionPaths,
  interactionExpiredPage,
} from "../pages/hosted-login-pages.ts";
import { POSTERN_BRANDING, sendPage } from "../pages/layout.ts";
import { invalidLinkPage } from "../pages/link-pages.ts";
import { en } from "../pages/messages.ts";
import { problemText, statusOfProblem } from "../pages/problem-text.ts";

const m = en;
const CODE = /^\d{6}$/;

interface Interaction {
  app: App;
  provider: Provider;
  uid: string;
  paths: InteractionPaths;
  details: Awaited<ReturnType<Provider["interactionDetails"]>>;
}

type Params = { Params: { appId: string; uid: string } };

/** The user has proved they read the email: the interaction ends in a login, and the app gets its code. */
const loginResult = (accountId: string): InteractionResults => ({
  login: { accountId, amr: ["otp"], remember: true },
});

/**
 * The hosted login page, as oidc-provider's interaction (`/oidc/{appId}/interaction/{uid}`): email,
 * then the code (or the magic link, in this browser), then back to the app with its authorization
 * code. Each step is a form post answered by a redirect to the page (or an error page at once), so
 * no step needs JavaScript.
 */
export function registerInteractionRoutes(
  scope: FastifyInstance,
  ctx: Context,
  providers: OidcProviders,
): void {
  acceptFormBodies(scope);
  const routes = scope.withTypeProvider<ZodTypeProvider>();
  const publicUrl = ctx.config.publicUrl;

  /** Asks for this interaction's login email, bound to the asking browser, in the language it asked for. */
  function emailLogin(ix: Interaction, request: FastifyRequest, reply: FastifyReply, email: EmailAddress) {
    return startInteractionLogin(ctx, ix.app, ix.uid, {
      email,
      ip: request.ip,
      browserSecret: bindBrowser(request, reply, publicUrl),
      uiLocales: ix.details.params.ui_locales,
      acceptLanguage: request.headers["accept-language"],
    });
  }

  /** Loads the interaction named by the URL and this browser's interaction cookie, or answers for it. */
  async function open(
    request: FastifyRequest<Params>,
    reply: FastifyReply,
  ): Promise<Interaction | undefined> {
    const { appId, uid } = request.params;
    const found = await providers.get(appId);
    if (!found) {
      sendPage(reply, 404, interactionExpiredPage(m, POSTERN_BRANDING));
      return undefined;
    }
    const branding = brandingOf(found.app);
    try {
      const details = await found.provider.interactionDetails(asPublicRequest(request, publicUrl), reply.raw);
      if (details.uid !== uid) throw new Error("interaction cookie of another interaction");
      return {
        ...found,
        uid,
        details,
        paths: { base: `${issuerPath(appId)}/interaction/${uid}` },
      };
    } catch {
      // No cookie, another browser, expired or finished: only the app can start a new one.
      sendPage(reply, 400, interactionExpiredPage(m, branding));
      return undefined;
    }
  }

  async function finish(
    ix: Interaction,
    request: FastifyRequest,
    reply: FastifyReply,
    result: InteractionResults,
  ) {
    const returnTo = await ix.provider.interactionResult(
      asPublicRequest(request, publicUrl),
      reply.raw,
      result,
      {
        mergeWithLastSubmission: false,
      },
    );
    return reply.redirect(returnTo, 303);
  }

  async function showCodeStep(
    ix: Interaction,
    reply: FastifyReply,
    status: number,
    state: { fieldError?: string; error?: string; notice?: string } = {},
  ) {
    const pending = await pendingInteractionLogin(ctx, ix.app, ix.uid);
    if (!pending)
      return sendPage(reply, status, emailStepPage(m, brandingOf(ix.app), ix.paths, { error: state.error }));
    return sendPage(
      reply,
      status,
      codeStepPage(m, brandingOf(ix.app), ix.paths, { email: pending.email, ...state }),
    );
  }

  const crossSite = (request: FastifyRequest, reply: FastifyReply) => {
    if (!isCrossSiteForm(request, publicUrl)) return false;
    sendPage(reply, 403, invalidLinkPage(m, POSTERN_BRANDING, { message: m.problems.crossSite }));
    return true;
  };

  const params = z.object({ appId: z.string().max(64), uid: z.string().max(64) });
  const schema = (summary: string) => ({
    tags: ["hosted login page"],
    summary,
    params,
    produces: ["text/html"],
  });
  const form = { consumes: ["application/x-www-form-urlencoded"] };

  routes.get(
    "/oidc/:appId/interaction/:uid",
    {
      schema: {
        ...schema("The hosted login page: the step this sign-in is at"),
        querystring: z.object({ step: z.enum(["email"]).optional(), sent: z.string().max(8).optional() }),
      },
    },
    async (request, reply) => {
      const ix = await open(request, reply);
      if (!ix) return reply;
      if (ix.details.prompt.name === "consent") {
        // The developer's own hosted page: signing in is consenting (see loadExistingGrant).
        const grant = new ix.provider.Grant({
          accountId: ix.details.session?.accountId,
          clientId: ix.app.id,
        });
        grant.addOIDCScope(String(ix.details.params.scope ?? "openid"));
        return finish(ix, request, reply, { consent: { grantId: await grant.save() } });
      }
      const pending = await pendingInteractionLogin(ctx, ix.app, ix.uid);
      if (!pending || request.query.step === "email") {
        const hint =
          typeof ix.details.params.login_hint === "string" ? ix.details.params.login_hint : undefined;
        return sendPage(
          reply,
          200,
          emailStepPage(m, brandingOf(ix.app), ix.paths, { email: pending?.email ?? hint }),
        );
      }
      return showCodeStep(
        ix,
        reply,
        200,
        request.query.sent ? { notice: m.hosted.resent(pending.email) } : {},
      );
    },
  );

  routes.post(
    "/oidc/:appId/interaction/:uid/email",
    {
      schema: {
        ...schema("Email a code and a link for this sign-in"),
        ...form,
        body: z.object({ email: z.string().max(1024).default("") }),
      },
    },
    async (request, reply) => {
      if (crossSite(request, reply)) return reply;
      const ix = await open(request, reply);
      if (!ix) return reply;
      const branding = brandingOf(ix.app);
      const typed = request.body.email;
      const parsed = parseEmailAddress(typed);
      if (!parsed.ok) {
        return sendPage(
          reply,
          400,
          emailStepPage(m, branding, ix.paths, { email: typed, error: m.problems.invalidEmail }),
        );
      }
      try {
        await emailLogin(ix, request, reply, parsed.address);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        const message =
          err.code === "sender_email_login_refused"
            ? m.problems.senderRefused(branding.name)
            : problemText(m, err);
        return sendPage(
          reply,
          statusOfProblem(err),
          emailStepPage(m, branding, ix.paths, { email: typed, error: message }),
        );
      }
      return reply.redirect(ix.paths.base, 303);
    },
  );

  routes.post(
    "/oidc/:appId/interaction/:uid/code",
    {
      schema: {
        ...schema("Sign in with the emailed code"),
        ...form,
        body: z.object({ code: z.string().max(64).default("") }),
      },
    },
    async (request, reply) => {
      if (crossSite(request, reply)) return reply;
      const ix = await open(request, reply);
      if (!ix) return reply;
      const code = normalizeCode(request.body.code);
      if (!CODE.test(code)) return showCodeStep(ix, reply, 400, { fieldError: m.problems.codeFormat });
      try {
        const user = await verifyInteractionCode(ctx, ix.app, {
          interactionUid: ix.uid,
          code,
          ip: request.ip,
        });
        return await finish(ix, request, reply, loginResult(user.id));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        const status = statusOfProblem(err);
        if (err.code === "invalid_code")
          return showCodeStep(ix, reply, status, { fieldError: problemText(m, err) });
        return showCodeStep(ix, reply, status, { error: problemText(m, err) });
      }
    },
  );

  routes.post(
    "/oidc/:appId/interaction/:uid/resend",
    { schema: schema("Email a new code for this sign-in") },
    async (request, reply) => {
      if (crossSite(request, reply)) return reply;
      const ix = await open(request, reply);
      if (!ix) return reply;
      const pending = await pendingInteractionLogin(ctx, ix.app, ix.uid);
      if (!pending) return reply.redirect(ix.paths.base, 303);
      try {
        await emailLogin(ix, request, reply, canonicalEmail(pending.email));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return showCodeStep(ix, reply, statusOfProblem(err), { error: problemText(m, err) });
      }
      return reply.redirect(`${ix.paths.base}?sent=1`, 303);
    },
  );

  routes.post(
    "/oidc/:appId/interaction/:uid/link",
    {
      schema: {
        ...schema("Sign in with the magic link, in the browser that asked (the link page's button)"),
        ...form,
        body: z.object({ token: z.string().max(256).default("") }),
      },
    },
    async (request, reply) => {
      if (crossSite(request, reply)) return reply;
      const ix = await open(request, reply);
      if (!ix) return reply;
      try {
        const user = await redeemInteractionLink(
          ctx,
          ix.app,
          ix.uid,
          request.body.token,
          browserSecretOf(request),
        );
        return await finish(ix, request, reply, loginResult(user.id));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return showCodeStep(ix, reply, statusOfProblem(err), { error: problemText(m, err) });
      }
    },
  );

  routes.post(
    "/oidc/:appId/interaction/:uid/abort",
    { schema: schema("Cancel the sign-in: the app gets access_denied") },
    async (request, reply) => {
      if (crossSite(request, reply)) return reply;
      const ix = await open(request, reply);
      if (!ix) return reply;
      return finish(ix, request, reply, {
        error: "access_denied",
        error_description: "The person cancelled the sign-in.",
      });
    },
  );
}
