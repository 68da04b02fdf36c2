import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type Provider from "oidc-provider";
import type { Context } from "../../context.ts";
import { issuerPath, type ProviderPages } from "../../oidc/provider.ts";
import { OidcProviders } from "../../oidc/providers.ts";
import { asPublicRequest } from "../oidc-request.ts";
import { brandingOf } from "../pages/branding.ts";
import { loggedOutPage, logoutPage, providerErrorPage } from "../pages/hosted-login-pages.ts";
import type { Html } from "../pages/html.ts";
import { PAGE_HEADERS } from "../pages/layout.ts";
import { en } from "../pages/messages.ts";
import { sendProblem } from "../problem.ts";
import { registerInteractionRoutes } from "./oidc-interaction.ts";

type KoaLike = { status: number; type: string; body: unknown; set(field: Record<string, string>): void };

function koaPage(koa: KoaLike, content: Html) {
  koa.set(PAGE_HEADERS);
  koa.type = "html";
  koa.body = content.toString();
}

const pages: ProviderPages = {
  renderError: (koa, app, out) => koaPage(koa, providerErrorPage(en, brandingOf(app), out)),
  logoutSource: (koa, app, form) => koaPage(koa, logoutPage(en, brandingOf(app), form)),
  postLogoutSuccessSource: (koa, app) => koaPage(koa, loggedOutPage(en, brandingOf(app))),
};

const callbacks = new WeakMap<Provider, (req: IncomingMessage, res: ServerResponse) => Promise<void>>();
const callbackOf = (provider: Provider) => {
  let callback = callbacks.get(provider);
  if (!callback) {
    callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    callbacks.set(provider, callback);
  }
  return callback;
};

/**
 * Every app's OpenID Connect provider under its issuer path, `/oidc/{appId}` (discovery at
 * `/oidc/{appId}/.well-known/openid-configuration`), and its hosted login page as the interaction.
 * oidc-provider is a Koa app: its requests are handed over raw (Fastify neither parses nor answers
 * them), with the issuer path taken off the URL as a mount would (`baseUrl`, which oidc-provider
 * reads to build its URLs).
 */
export function oidcRoutes(ctx: Context): FastifyPluginAsyncZod {
  const providers = new OidcProviders(ctx, pages);
  return async (app) => {
    await app.register(async (scope) => registerInteractionRoutes(scope, ctx, providers));

    await app.register(async (scope: FastifyInstance) => {
      // oidc-provider reads request bodies itself.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
      const mount = async (request: FastifyRequest<{ Params: { appId: string } }>, reply: FastifyReply) => {
        const { appId } = request.params;
        const prefix = issuerPath(appId);
        const url = request.raw.url ?? "";
        const found = /^[A-Za-z0-9_-]{1,64}$/.test(appId) ? await providers.get(appId) : undefined;
        if (!found || !url.startsWith(prefix)) {
          return sendProblem(
            reply,
            404,
            "issuer_not_found",
            "There is no OpenID Connect issuer at this URL.",
          );
        }
        const raw = asPublicRequest(request, ctx.config.publicUrl) as IncomingMessage & { baseUrl?: string };
        raw.url = url.slice(prefix.length) || "/";
        raw.baseUrl = prefix;
        reply.hijack();
        await callbackOf(found.provider)(raw, reply.raw);
        return reply;
      };
      scope.all("/oidc/:appId", { schema: { hide: true } }, mount);
      scope.all("/oidc/:appId/*", { schema: { hide: true } }, mount);
    });
  };
}
