import type Provider from "oidc-provider";
import type { AdapterPayload, Configuration, KoaContextWithOIDC } from "oidc-provider";
import { type App, getAppById } from "../apps/apps.ts";
import { privateSigningJwks } from "../apps/signing-keys.ts";
import type { Context } from "../context.ts";
import { findEndUser } from "../login/end-user-login.ts";
import { sameSecret, sha256 } from "../security/tokens.ts";
import { oidcAdapter } from "./adapter.ts";

/**
 * Each app is its own OpenID Connect issuer, `{PUBLIC_URL}/oidc/{appId}`, with the app as its one
 * client and the app's ES256 keys as its keys. One issuer per app rather than one for all: an issuer
 * has one key set, and the app's tokens must be signed with the app's keys (the same ones that sign
 * the `/v1/login/email` session tokens), so a token of one app can never verify for another. It also
 * gives every app its own discovery document, sessions and cookies (scoped to its path).
 * oidc-provider's author recommends one Provider instance per issuer (node-oidc-provider#95).
 */
export const issuerPath = (appId: string) => `/oidc/${appId}`;
export const issuerOf = (publicUrl: string, appId: string) => `${publicUrl}${issuerPath(appId)}`;

/** The OpenID Connect methods an app's client may authenticate with at the token endpoint. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** The app as its issuer's client. Exact redirect URIs: the app's allowed redirect URLs, nothing else. */
export function clientMetadataOf(app: App): AdapterPayload {
  const confidential = app.oidcTokenEndpointAuthMethod !== "none";
  return {
    client_id: app.id,
    client_name: app.name,
    // Only the hash of the secret key is kept; the comparison below hashes what the client sends.
    ...(confidential ? { client_secret: app.secretKeyHash } : {}),
    token_endpoint_auth_method: app.oidcTokenEndpointAuthMethod,
    redirect_uris: app.redirectUrls,
    post_logout_redirect_uris: app.redirectUrls,
    grant_types: app.oidcRefreshTokens ? ["authorization_code", "refresh_token"] : ["authorization_code"],
    response_types: ["code"],
    id_token_signed_response_alg: "ES256",
    require_auth_time: true,
  };
}

/** The pages oidc-provider renders itself, drawn by the HTTP layer in Postern's own style. */
export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, app: App, out: { error: string; error_description?: string }): void;
  logoutSource(ctx: KoaContextWithOIDC, app: App, form: string): void;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC, app: App): void;
}

const TTL = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  IdToken: 3600,
  Interaction: 3600,
  Grant: 14 * 24 * 3600,
  Session: 14 * 24 * 3600,
  RefreshToken: 14 * 24 * 3600,
};

export async function buildProvider(ctx: Context, app: App, pages: ProviderPages): Promise<Provider> {
  const appId = app.id;
  const current = async () => (await getAppById(ctx.db, appId)) ?? app;
  const configuration: Configuration = {
    adapter: oidcAdapter(ctx, appId, async () => {
      const fresh = await getAppById(ctx.db, appId);
      return fresh ? clientMetadataOf(fresh) : undefined;
    }),
    async findAccount(_koa, sub) {
      const user = await findEndUser(ctx.db, appId, sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        // Only a login that proved the person reads the address gets here: it is verified by construction.
        claims: async () => ({ sub: user.id, email: user.email, email_verified: true }),
      };
    },
    // amr with `openid`: a relying party can always tell how the person signed in (a one-time code or link).
    claims: { openid: ["sub", "amr"], email: ["email", "email_verified"] },
    scopes: ["openid", "email", "offline_access"],
    // The ID token carries the email claims too (not only userinfo), as Postern's session tokens do.
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    clientAuthMethods: ["none", "client_secret_basic", "client_secret_post"],
    clientDefaults: { id_token_signed_response_alg: "ES256", grant_types: ["authorization_code"] },
    enabledJWA: { idTokenSigningAlgValues: ["ES256"] },
    pkce: { methods: ["S256"], required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    jwks: { keys: await privateSigningJwks(ctx.db, ctx.secrets, appId) },
    cookies: {
      // Derived from the operator key, so every process signs and checks cookies alike, across restarts.
      keys: ctx.secrets.deriveKeys(`oidc-cookies:${appId}`).map((key) => key.toString("base64url")),
      // Lax, not None: no cross-site iframes are offered (no session management), only top-level redirects.
      long: { signed: true, httpOnly: true, sameSite: "lax", path: issuerPath(appId) },
      short: { signed: true, httpOnly: true, sameSite: "lax" },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (koa, form) => pages.logoutSource(koa, await current(), form),
        postLogoutSuccessSource: async (koa) => pages.postLogoutSuccessSource(koa, await current()),
      },
    },
    interactions: { url: (_koa, interaction) => `${issuerPath(appId)}/interaction/${interaction.uid}` },
    // The hosted login page belongs to the app's own developer: logging in is consenting, so a
    // grant for what was asked is made just in time instead of showing a consent screen.
    async loadExistingGrant(koa) {
      const { oidc } = koa;
      const accountId = oidc.session?.accountId;
      if (!oidc.client || !accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client.clientId);
      const grant = grantId
        ? await oidc.provider.Grant.find(grantId)
        : new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId });
      if (!grant) return undefined;
      if (oidc.params?.scope) grant.addOIDCScope(String(oidc.params.scope));
      await grant.save();
      return grant;
    },
    clientBasedCORS: (_koa, origin, client) =>
      (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
    async renderError(koa, out) {
      pages.renderError(koa, await current(), out as { error: string; error_description?: string });
    },
    ttl: TTL,
  };
  // Loaded on the first OpenID Connect request, not at start: it is the largest module Postern loads
  // (about a third of a second), and most processes never serve an OIDC request.
  const { default: OidcProvider } = await import("oidc-provider");
  const provider = new OidcProvider(issuerOf(ctx.config.publicUrl, appId), configuration);
  // Postern's own code sets X-Forwarded-Proto/Host from PUBLIC_URL before handing a request over
  // (see src/http/routes/oidc.ts), so the provider builds its URLs from PUBLIC_URL, never the Host header.
  provider.proxy = true;
  // oidc-provider answers its own failures (500 with its error page); the log still needs them.
  provider.on("server_error", (_koa, err) => ctx.log.error({ err, appId }, "OpenID Connect provider error"));
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(
    this: { clientSecret?: string },
    actual,
  ) {
    return (
      typeof actual === "string" &&
      this.clientSecret !== undefined &&
      sameSecret(this.clientSecret, sha256(actual))
    );
  };
  return provider;
}
