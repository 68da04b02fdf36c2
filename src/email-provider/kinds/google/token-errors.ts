import { TokenError } from "../../oauth/token-error.ts";
import type { ServiceAccountIdentity } from "./service-account-key.ts";

/** The fields of gaxios's GaxiosError we read (google-auth-library's HTTP client). */
interface GaxiosErrorLike {
  status?: number;
  response?: { status?: number; data?: unknown };
}

export const GMAIL_SCOPE = "https://mail.google.com/";
const DELEGATION =
  "Admin console (admin.google.com) → Security → Access and data control → API controls → Manage Domain Wide Delegation";
const KEYS = "Google Cloud console → IAM & Admin → Service accounts";

/** What the token request was for, named in the messages. */
export interface TokenRequestOf extends ServiceAccountIdentity {
  senderEmail: string;
}

/**
 * Explains a refused JWT-bearer grant with the fix (Google's errors: https://developers.google.com/identity/protocols/oauth2/service-account#error-codes).
 * Google reuses `invalid_grant` for an unknown user, a bad clock and a deleted key: its
 * `error_description` tells them apart. Outages are transient: Postern retries them with backoff.
 */
export function googleTokenError(err: unknown, of: TokenRequestOf): TokenError {
  if (err instanceof TokenError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as GaxiosErrorLike;
  const status = e.status ?? e.response?.status;
  const data = (typeof e.response?.data === "object" && e.response.data !== null ? e.response.data : {}) as {
    error?: unknown;
    error_description?: unknown;
  };
  const code = typeof data.error === "string" ? data.error : undefined;
  const description = typeof data.error_description === "string" ? data.error_description : "";
  if (status === undefined || status === 429 || status >= 500) {
    return new TokenError(
      "transient",
      "Google's token endpoint could not be reached or is unavailable right now; Postern retries.",
      undefined,
    );
  }
  const delegate = `In ${DELEGATION} → Add new, enter the client ID ${of.clientId} (the number, not the service account's email) and the OAuth scope ${GMAIL_SCOPE} exactly, then Authorize; if the client ID is listed already, edit it to add the scope. A super administrator of the sender's Google Workspace must do this; it can take up to 24 hours to apply.`;
  switch (code) {
    case "unauthorized_client":
      return new TokenError(
        "token",
        /any of the scopes requested/i.test(description)
          ? `Google refused to let ${of.clientEmail} act as ${of.senderEmail} (unauthorized_client): domain-wide delegation is missing for client ID ${of.clientId} in the sender's Workspace.`
          : `Google refused the scope ${GMAIL_SCOPE} for ${of.clientEmail} acting as ${of.senderEmail} (unauthorized_client): client ID ${of.clientId} is not delegated that scope.`,
        delegate,
      );
    case "access_denied":
      return new TokenError(
        "token",
        `Google refused the scope ${GMAIL_SCOPE} for ${of.senderEmail} (access_denied).`,
        delegate,
      );
    case "admin_policy_enforced":
      return new TokenError(
        "token",
        `A policy of the sender's Google Workspace blocks ${of.clientEmail} from Gmail (admin_policy_enforced).`,
        `In Admin console → Security → Access and data control → API controls → App access control, trust the app with client ID ${of.clientId}, or allow Gmail for it.`,
      );
    case "invalid_grant":
      return invalidGrant(description, of);
    case "invalid_client":
    case "deleted_client":
      return new TokenError(
        "token",
        `Google does not know the service account ${of.clientEmail} (${code}): it was deleted.`,
        `In ${KEYS}, create a service account and a JSON key for it, paste the key here, and delegate its client ID in ${DELEGATION}.`,
      );
    case "disabled_client":
      return new TokenError(
        "token",
        `The service account ${of.clientEmail} or its key ${of.keyId} is disabled (disabled_client).`,
        `In ${KEYS} → ${of.clientEmail}, enable the account (and under Keys, the key), or create a new JSON key and paste it here.`,
      );
  }
  return new TokenError(
    "token",
    `Google refused the token request (${code ?? `HTTP ${status}`}${description ? `: ${description.slice(0, 200)}` : ""}).`,
    "Run Test connection for details, and check the service account and its delegation against the setup guide.",
  );
}

function invalidGrant(description: string, of: TokenRequestOf): TokenError {
  if (/invalid email|user id|not a valid email/i.test(description)) {
    return new TokenError(
      "token",
      `Google has no active user ${of.senderEmail} that ${of.clientEmail} may act as (invalid_grant: ${description}).`,
      "The sender email must be the primary address of an active, licensed user (not a group, an alias or a suspended user) of the Google Workspace that delegated the client ID: check it in Admin console → Directory → Users.",
    );
  }
  if (/account not found/i.test(description)) {
    return new TokenError(
      "token",
      `Google does not know the service account ${of.clientEmail} (invalid_grant: ${description}): it was deleted.`,
      `In ${KEYS}, create a service account and a JSON key for it, paste the key here, and delegate its client ID in ${DELEGATION}.`,
    );
  }
  if (/short-lived token|iat and exp|reasonable timeframe|expired|not yet valid/i.test(description)) {
    return new TokenError(
      "token",
      "Google found Postern's signed token request outside its valid time (invalid_grant): the clock of the machine Postern runs on is off.",
      "Postern dates each token request by its machine's clock and Google allows only a few minutes' difference: set the clock right (NTP) and test again.",
    );
  }
  if (/signature/i.test(description)) {
    return new TokenError(
      "token",
      `Google did not accept the signature of key ${of.keyId} (invalid_grant: ${description}): the key was deleted or disabled, or belongs to another service account.`,
      `In ${KEYS} → ${of.clientEmail} → Keys, check that key ${of.keyId} is listed and active; otherwise add a new JSON key and paste it here.`,
    );
  }
  return new TokenError(
    "token",
    `Google refused the token request (invalid_grant${description ? `: ${description.slice(0, 200)}` : ""}).`,
    `Check that ${of.senderEmail} is an active user of the Workspace, that key ${of.keyId} of ${of.clientEmail} is active, and that this machine's clock is right.`,
  );
}
