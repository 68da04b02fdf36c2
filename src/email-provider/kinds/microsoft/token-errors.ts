import { TokenError } from "../../oauth/token-error.ts";

/** The fields of MSAL's AuthError/ServerError we read (msal-common's ResponseHandler). */
interface MsalErrorLike {
  name?: string;
  errorCode?: string;
  errorNo?: string | number;
  status?: number;
  errorMessage?: string;
}

const APP_REGISTRATION = "Microsoft Entra admin center → App registrations → your app";
const SECRET_FIX = `Paste the client secret's Value (not its Secret ID) from ${APP_REGISTRATION} → Certificates & secrets, or create a new client secret there and save it here.`;
const TENANT_FIX = `Use the Directory (tenant) ID from ${APP_REGISTRATION} → Overview, or a verified domain of the tenant such as contoso.onmicrosoft.com.`;
const CERTIFICATE_AGAIN =
  "Upload the certificate and its private key again, or let Postern generate a new certificate";

/** AADSTS700027 says why in brackets: the key was not found, the signature did not match, or the key expired. */
function certificateRefusal(
  message: string,
  settings: { clientId: string; certificateThumbprintSha1?: string },
): TokenError {
  if (message.includes("The key used is expired")) {
    return new TokenError(
      "token",
      "The certificate Postern signs with has expired (AADSTS700027).",
      `${CERTIFICATE_AGAIN}, upload it in ${APP_REGISTRATION} → Certificates & secrets → Certificates, then remove the expired one there.`,
    );
  }
  if (message.includes("did not match the expected signature")) {
    return new TokenError(
      "token",
      "Microsoft has the certificate Postern names, but Postern's private key does not belong to it (AADSTS700027).",
      `${CERTIFICATE_AGAIN} and upload that certificate in ${APP_REGISTRATION} → Certificates & secrets → Certificates.`,
    );
  }
  const thumbprint = settings.certificateThumbprintSha1
    ? ` (thumbprint ${settings.certificateThumbprintSha1})`
    : "";
  return new TokenError(
    "token",
    `The certificate Postern signs with is not registered on app ${settings.clientId} (AADSTS700027).`,
    `Download the certificate${thumbprint} from Postern and upload it in ${APP_REGISTRATION} → Certificates & secrets → Certificates → Upload certificate.`,
  );
}

/** The AADSTS code of an Entra error: `errorNo`, else the first code in its description. */
function aadstsCode(e: MsalErrorLike): number | undefined {
  const direct = Number(e.errorNo);
  if (Number.isInteger(direct) && direct > 0) return direct;
  const match = /AADSTS(\d+)/.exec(e.errorMessage ?? "");
  return match ? Number(match[1]) : undefined;
}

/**
 * Explains a failed client-credentials request to Microsoft's token endpoint with the fix a developer
 * can apply (Entra's codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes). Outages are transient: Postern
 * retries them with backoff.
 */
export function microsoftTokenError(
  err: unknown,
  settings: { clientId: string; tenantId: string; certificateThumbprintSha1?: string },
): TokenError {
  if (err instanceof TokenError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as MsalErrorLike;
  const code = aadstsCode(e);
  const status = e.status;
  // MSAL replays a 429/5xx for Retry-After seconds without calling the endpoint; the replay has no
  // errorCode and no status (msal-common ThrottlingUtils).
  const throttledReplay = e.name === "ServerError" && !e.errorCode && status === undefined;
  if (
    e.errorCode === "network_error" ||
    e.errorCode === "temporarily_unavailable" ||
    throttledReplay ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return new TokenError(
      "transient",
      "Microsoft's token endpoint could not be reached or is unavailable right now; Postern retries.",
      undefined,
    );
  }
  switch (code) {
    case 7000215:
      return new TokenError("token", "Microsoft rejected the client secret (AADSTS7000215).", SECRET_FIX);
    case 7000222:
      return new TokenError(
        "token",
        "The client secret has expired (AADSTS7000222).",
        `Create a new client secret in ${APP_REGISTRATION} → Certificates & secrets and save it here, with its expiry date, or switch to a certificate, which Postern can generate.`,
      );
    // Certificate credentials (client assertions): https://learn.microsoft.com/entra/identity-platform/certificate-credentials
    case 700027:
      return certificateRefusal(e.errorMessage ?? "", settings);
    case 700024:
      return new TokenError(
        "token",
        "Microsoft found Postern's signed client assertion outside its valid time range (AADSTS700024).",
        "Postern dates each assertion by the clock of the machine it runs on: set that clock right (NTP) and test again.",
      );
    case 700023:
      return new TokenError(
        "token",
        "Microsoft refused the client assertion's audience (AADSTS700023).",
        `Postern addresses the assertion to the token endpoint of tenant ${settings.tenantId}: check the tenant ID, and that the operator's POSTERN_MICROSOFT_AUTHORITY_HOST is the cloud the tenant lives in.`,
      );
    case 700021:
      return new TokenError(
        "token",
        `Microsoft says the client assertion was not issued by client ID ${settings.clientId} (AADSTS700021).`,
        `Check the Application (client) ID on ${APP_REGISTRATION} → Overview.`,
      );
    case 50027:
      return new TokenError(
        "token",
        "Microsoft could not read Postern's client assertion (AADSTS50027).",
        `The stored certificate or key may be damaged. ${CERTIFICATE_AGAIN}, and upload that certificate in ${APP_REGISTRATION} → Certificates & secrets → Certificates.`,
      );
    case 700016:
      return new TokenError(
        "token",
        `Microsoft found no application with client ID ${settings.clientId} in tenant ${settings.tenantId} (AADSTS700016).`,
        `Check the Application (client) ID on ${APP_REGISTRATION} → Overview, and that the app is registered in this tenant.`,
      );
    case 90002:
      return new TokenError(
        "token",
        `Microsoft does not know the tenant ${settings.tenantId} (AADSTS90002).`,
        TENANT_FIX,
      );
    case 900023:
      return new TokenError(
        "token",
        `${settings.tenantId} is not a valid tenant identifier (AADSTS900023).`,
        TENANT_FIX,
      );
  }
  if (e.errorCode === "invalid_tenant") {
    return new TokenError("token", `Microsoft does not know the tenant ${settings.tenantId}.`, TENANT_FIX);
  }
  if (e.errorCode === "invalid_client") {
    return new TokenError(
      "token",
      `Microsoft refused the client credentials${code ? ` (AADSTS${code})` : ""}.`,
      SECRET_FIX,
    );
  }
  return new TokenError(
    "token",
    `Microsoft refused the token request (${e.errorCode || "unknown error"}${code ? `, AADSTS${code}` : ""}).`,
    "Run Test connection for details, and check the app registration against the setup guide.",
  );
}
