import type { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt } from "jose";
import type { TokenSource } from "../../../mail/smtp-pool.ts";
import type { Metrics } from "../../../metrics/metrics.ts";
import { singleFlight } from "../../oauth/single-flight.ts";
import { TokenError } from "../../oauth/token-error.ts";
import { type MicrosoftCredential, msalCredential } from "./credentials.ts";
import type { MicrosoftOperatorSettings } from "./operator-settings.ts";
import { microsoftTokenError } from "./token-errors.ts";

/** The scope Exchange requires for app-only SMTP, POP and IMAP (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth). */
export const EXCHANGE_SCOPE = "https://outlook.office365.com/.default";
/** App-only Graph calls ask for the app's granted application permissions (https://learn.microsoft.com/graph/auth-v2-service). */
export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
/** MSAL has this cloud's endpoints built in; any other host gets them from us, so nothing is discovered. */
const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";
const TOKEN_TIMEOUT_MS = 15_000;

export interface EntraApp {
  tenantId: string;
  clientId: string;
  /** Named in the fix when Entra does not know the certificate (the portal shows SHA-1 thumbprints). */
  certificateThumbprintSha1?: string;
}

/** Endpoint metadata as Entra's openid-configuration gives it, so MSAL needs no discovery request. */
function authorityMetadata(authorityHost: string, tenantId: string): string {
  const base = `${authorityHost}/${tenantId}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  });
}

/**
 * App-only tokens for one provider version from Entra's client-credentials grant, through MSAL, with a
 * client secret or a certificate's signed assertion. Several credentials are tried in order (rotation: a
 * new one added before the old is removed), each with a client of its own, since MSAL takes one.
 * MSAL serves its cached token until 5 minutes before expiry, then asks again (https://learn.microsoft.com/entra/msal/javascript/node/caching):
 * well before Exchange or Graph would refuse it. `fresh` skips the cache after a token was refused.
 */
export function entraTokenSource(
  app: EntraApp,
  credentials: readonly MicrosoftCredential[],
  scope: string,
  deps: { operator: MicrosoftOperatorSettings; metrics: Metrics; now: () => Date },
): TokenSource {
  const { authorityHost } = deps.operator;
  const custom = authorityHost !== DEFAULT_AUTHORITY_HOST;
  const auths = credentials.map((credential) => ({
    clientId: app.clientId,
    ...msalCredential(credential),
    authority: `${authorityHost}/${app.tenantId}`,
    ...(custom
      ? {
          knownAuthorities: [new URL(authorityHost).host],
          authorityMetadata: authorityMetadata(authorityHost, app.tenantId),
        }
      : {}),
  }));
  // MSAL loads with the first token a process asks for, not at start (about a tenth of a second).
  let clients: Promise<ConfidentialClientApplication[]> | undefined;
  const msalClients = () =>
    (clients ??= import("@azure/msal-node").then((msal) =>
      auths.map((auth) => new msal.ConfidentialClientApplication({ auth })),
    ));
  const count = (outcome: string) => deps.metrics.tokenRequests.inc({ provider: "microsoft", outcome });
  return singleFlight(
    async (fresh) => {
      let refused: TokenError | undefined;
      for (const client of await msalClients()) {
        try {
          const result = await client.acquireTokenByClientCredential({ scopes: [scope], skipCache: fresh });
          if (!result) throw new TokenError("token", "Microsoft returned no token.", undefined);
          if (!result.fromCache) count("issued");
          return {
            accessToken: result.accessToken,
            expiresAt: result.expiresOn?.getTime() ?? deps.now().getTime() + 5 * 60_000,
          };
        } catch (err) {
          const error = microsoftTokenError(err, app);
          count(error.errorClass === "transient" ? "unavailable" : "refused");
          // An outage is Entra's, not the credential's: the next credential would fare no better.
          if (error.errorClass === "transient") throw error;
          refused ??= error;
        }
      }
      throw refused ?? new TokenError("token", "The provider has no credential.", undefined);
    },
    { timeoutMs: TOKEN_TIMEOUT_MS, now: deps.now },
  );
}

const APP_REGISTRATION = "Microsoft Entra admin center → App registrations → your app";

/**
 * What an issued token shows to be wrong: the application permission the transport needs is not in
 * its `roles` (admin consent missing). Not a JWT we can read: the server will judge it.
 */
export function missingRole(
  accessToken: string,
  role: "SMTP.SendAsApp" | "Mail.Send",
): { summary: string; hint: string } | undefined {
  let roles: unknown;
  try {
    roles = decodeJwt(accessToken).roles;
  } catch {
    return undefined;
  }
  if (Array.isArray(roles) && roles.includes(role)) return undefined;
  const api =
    role === "Mail.Send" ? "Microsoft Graph" : "APIs my organization uses → Office 365 Exchange Online";
  return {
    summary: `The token has no ${role} role: admin consent is missing.`,
    hint: `In ${APP_REGISTRATION} → API permissions: Add a permission → ${api} → Application permissions → ${role}, then Grant admin consent.`,
  };
}
