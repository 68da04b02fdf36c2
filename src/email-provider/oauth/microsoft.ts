import { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt } from "jose";
import { z } from "zod";
import { smtpHints } from "../kinds/hints.ts";
import { commonFields } from "../model.ts";
import { interpretExchangeReply } from "./exchange-replies.ts";
import { microsoftTokenError } from "./microsoft-token-errors.ts";
import type { OAuthProvider } from "./provider.ts";
import { singleFlight } from "./single-flight.ts";
import { TokenError } from "./token-error.ts";

/** The scope Exchange requires for app-only SMTP, POP and IMAP (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth). */
export const EXCHANGE_SCOPE = "https://outlook.office365.com/.default";
/** MSAL has this cloud's endpoints built in; any other host gets them from us, so nothing is discovered. */
const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";
const TOKEN_TIMEOUT_MS = 15_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** One GUID field of Entra, named for the message: the client ID, the service principal's object ID. */
const guidSchema = (what: string) =>
  z.string().trim().regex(GUID, `must be ${what}, a GUID such as 0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f`);

export const clientIdSchema = guidSchema("the Application (client) ID");

/** The Enterprise application's (service principal's) Object ID, for Exchange's New-ServicePrincipal. */
export const objectIdSchema = guidSchema("the Enterprise application's Object ID");

/** A GUID or a verified domain; `common` and `organizations` cannot get app-only tokens (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). */
export const tenantIdSchema = z
  .string()
  .trim()
  .max(253, "must be at most 253 characters")
  .refine(
    (value) => GUID.test(value) || DOMAIN.test(value),
    "must be the Directory (tenant) ID, a GUID, or a verified domain such as contoso.onmicrosoft.com",
  );

export const microsoftBody = z.strictObject({
  type: z.literal("smtp_oauth"),
  provider: z.literal("microsoft"),
  ...commonFields,
  clientId: clientIdSchema,
  clientSecret: z
    .string()
    .min(1, "must not be empty")
    .max(1024, "must be at most 1024 characters")
    .regex(/^[^\r\n\0]*$/, "must not contain line breaks or NUL")
    .optional(),
  tenantId: tenantIdSchema,
});

type MicrosoftBody = z.infer<typeof microsoftBody>;

export interface MicrosoftSettings {
  provider: "microsoft";
  tenantId: string;
  clientId: string;
}

const APP_REGISTRATION = "Microsoft Entra admin center → App registrations → your app";

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

/** Microsoft 365: Entra client credentials, then XOAUTH2 to Exchange Online's SMTP submission endpoint. */
export const microsoft: OAuthProvider<MicrosoftSettings, MicrosoftBody> = {
  destinationFields: ["tenantId", "clientId"],
  settingsOf: (body) => ({
    provider: "microsoft",
    tenantId: body.tenantId.toLowerCase(),
    clientId: body.clientId.toLowerCase(),
  }),
  smtpEndpoint: (config) => ({
    host: config.microsoft.smtpHost,
    port: config.microsoft.smtpPort,
    security: "starttls",
  }),
  maxConnections: (config) => config.microsoft.maxConnections,

  tokenSource(settings, clientSecret, env) {
    const { authorityHost } = env.config.microsoft;
    const custom = authorityHost !== DEFAULT_AUTHORITY_HOST;
    const client = new ConfidentialClientApplication({
      auth: {
        clientId: settings.clientId,
        clientSecret,
        authority: `${authorityHost}/${settings.tenantId}`,
        ...(custom
          ? {
              knownAuthorities: [new URL(authorityHost).host],
              authorityMetadata: authorityMetadata(authorityHost, settings.tenantId),
            }
          : {}),
      },
    });
    const count = (outcome: string) => env.metrics.tokenRequests.inc({ provider: "microsoft", outcome });
    // MSAL serves its cached token until 5 minutes before expiry, then asks again (https://learn.microsoft.com/entra/msal/javascript/node/caching):
    // well before Exchange would refuse it. `fresh` skips the cache after Exchange refused a token.
    return singleFlight(
      async (fresh) => {
        try {
          const result = await client.acquireTokenByClientCredential({
            scopes: [EXCHANGE_SCOPE],
            skipCache: fresh,
          });
          if (!result) throw new TokenError("token", "Microsoft returned no token.", undefined);
          if (!result.fromCache) count("issued");
          return {
            accessToken: result.accessToken,
            expiresAt: result.expiresOn?.getTime() ?? env.now().getTime() + 5 * 60_000,
          };
        } catch (err) {
          const error = microsoftTokenError(err, settings);
          count(error.errorClass === "transient" ? "unavailable" : "refused");
          throw error;
        }
      },
      { timeoutMs: TOKEN_TIMEOUT_MS, now: env.now },
    );
  },

  tokenProblem(accessToken) {
    let roles: unknown;
    try {
      roles = decodeJwt(accessToken).roles;
    } catch {
      return undefined; // not a JWT we can read: Exchange will judge it
    }
    if (Array.isArray(roles) && roles.includes("SMTP.SendAsApp")) return undefined;
    return {
      summary: "The token has no SMTP.SendAsApp role: admin consent is missing.",
      hint: `In ${APP_REGISTRATION} → API permissions: Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions → SMTP.SendAsApp, then Grant admin consent.`,
    };
  },

  // Exchange counts connections and messages per mailbox, whichever app sends (https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements), but only apps
  // of the mailbox's own tenant can send as it: the lane is per (tenant, mailbox), so an app of another
  // tenant naming the mailbox gets a lane of its own. The tenant is keyed as configured (lower-cased): a
  // GUID and a domain of one tenant make two lanes, which together may exceed the mailbox's limits until
  // Exchange's 432 or quota reply slows each down — safe, where a shared key guessed wrong would not be
  // (the GUID, a token's `tid`, is only known after a token). An app that merely claims the tenant
  // shares the lane but can neither pause it nor use up its window (ReplyMeaning.sender, SenderLane).
  senderLimits: (settings, senderEmail, config) => ({
    key: `microsoft:${settings.tenantId.toLowerCase()}:${senderEmail.toLowerCase()}`,
    maxConnections: config.microsoft.maxConnections,
    messagesPerMinute: config.microsoft.messagesPerMinute,
  }),
  interpret: (error, senderEmail) => interpretExchangeReply(error, senderEmail),

  hint(error, step, _settings, senderEmail) {
    const meaning = interpretExchangeReply(error, senderEmail);
    if (meaning) return meaning.message;
    if (error.errorClass === "token") return undefined; // the step's detail already carries the fix
    if ((step === "resolve" || step === "connect") && error.errorClass !== "blocked") {
      return "Postern could not reach Exchange Online's SMTP endpoint. Check that outbound connections to it (port 587) are allowed.";
    }
    if (error.errorClass === "auth") {
      return "Exchange refused the XOAUTH2 login. Follow the setup guide: service principal, mailbox permission, SMTP.SendAsApp with admin consent.";
    }
    return smtpHints(error);
  },
};
