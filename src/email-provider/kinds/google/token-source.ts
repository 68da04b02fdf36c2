import type { gaxios } from "google-auth-library";
import type { TokenSource } from "../../../mail/smtp-pool.ts";
import type { Metrics } from "../../../metrics/metrics.ts";
import { type AccessToken, singleFlight } from "../../oauth/single-flight.ts";
import { TokenError } from "../../oauth/token-error.ts";
import type { ServiceAccountKey } from "./service-account-key.ts";
import { GMAIL_SCOPE, googleTokenError } from "./token-errors.ts";

/** google-auth-library's JWT grant always posts here, and names it as the assertion's `aud`. */
const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
const TOKEN_TIMEOUT_MS = 15_000;
/** A cached token is replaced this long before it expires, as google-auth-library's own clients do. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

type GoogleAuthLibrary = typeof import("google-auth-library");
let library:
  | Promise<{ JWT: GoogleAuthLibrary["JWT"]; transporterFor: (url: string) => gaxios.Gaxios }>
  | undefined;
/** google-auth-library loads with the first Google provider a process uses, not at start. */
function googleAuthLibrary() {
  library ??= import("google-auth-library").then((loaded) => ({
    JWT: loaded.JWT,
    transporterFor: (url: string) => tokenTransporter(loaded, url),
  }));
  return library;
}

/**
 * The HTTP client the JWT client posts its grant with. google-auth-library 10.x has no option for the
 * token URL (gtoken's `GOOGLE_TOKEN_URL` is a constant), but takes the Gaxios instance it sends through
 * (`AuthClientOptions.transporter`): an interceptor sends the grant to the operator's endpoint instead.
 * The assertion's `aud` stays Google's token URL, which is what Google checks.
 */
function tokenTransporter(library: GoogleAuthLibrary, tokenUrl: string): gaxios.Gaxios {
  const transporter = new library.gaxios.Gaxios({ timeout: TOKEN_TIMEOUT_MS });
  transporter.interceptors.request.add({
    resolved: async (options) => {
      if (options.url.href === GOOGLE_TOKEN_URL && tokenUrl !== GOOGLE_TOKEN_URL) {
        options.url = new URL(tokenUrl);
      }
      return options;
    },
  });
  return transporter;
}

/**
 * Access tokens for one provider version: the service account signs a JWT-bearer grant (RFC 7523)
 * acting as the sender mailbox (`sub`, domain-wide delegation) for the scope Gmail's SMTP requires
 * (https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority,
 * https://developers.google.com/gmail/imap/xoauth2-protocol). Google issues no refresh token: a token
 * is cached until 5 minutes before it expires, then a new grant is signed. `fresh` skips the cache
 * after Gmail refused a token.
 */
export function googleTokenSource(
  key: ServiceAccountKey,
  senderEmail: string,
  deps: { tokenUrl: string; metrics: Metrics; now: () => Date },
): TokenSource {
  let transporter: gaxios.Gaxios | undefined;
  const count = (outcome: string) => deps.metrics.tokenRequests.inc({ provider: "google", outcome });
  let cached: AccessToken | undefined;
  return singleFlight(
    async (fresh) => {
      if (!fresh && cached && cached.expiresAt - deps.now().getTime() > REFRESH_BEFORE_EXPIRY_MS) {
        return cached;
      }
      // A client per grant: its own cache would otherwise answer a request for a fresh token.
      const { JWT, transporterFor } = await googleAuthLibrary();
      transporter ??= transporterFor(deps.tokenUrl);
      const client = new JWT({
        email: key.clientEmail,
        key: key.privateKeyPem,
        keyId: key.keyId,
        scopes: [GMAIL_SCOPE],
        subject: senderEmail,
        transporter,
      });
      try {
        const credentials = await client.authorize();
        if (!credentials.access_token) throw new TokenError("token", "Google returned no token.", undefined);
        count("issued");
        cached = {
          accessToken: credentials.access_token,
          expiresAt: credentials.expiry_date ?? deps.now().getTime() + 5 * 60_000,
        };
        return cached;
      } catch (err) {
        const error = googleTokenError(err, { ...key, senderEmail });
        count(error.errorClass === "transient" ? "unavailable" : "refused");
        throw error;
      }
    },
    { timeoutMs: TOKEN_TIMEOUT_MS, now: deps.now },
  );
}
