// Entra token endpoint error bodies (https://learn.microsoft.com/entra/identity-platform/reference-error-codes, with wordings from real
// responses quoted in public issue threads; 7000222's wording and 1002012 are the least certain).
import { randomUUID } from "node:crypto";

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export interface EntraError {
  status: number;
  error: string;
  /** AADSTS code; none for the fake's simulated outages. */
  code?: number;
  message: string;
}

export const entraErrors = {
  /** 400 invalid_request; older logs show invalid_request here too (https://learn.microsoft.com/entra/identity-platform/reference-error-codes). */
  tenantNotFound: (tenant: string): EntraError => ({
    status: 400,
    error: "invalid_tenant",
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  tenantMalformed: (tenant: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 900023,
    message: `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
  }),
  missingParameter: (name: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrantType: (grantType: string): EntraError => ({
    status: 400,
    error: "unsupported_grant_type",
    code: 70003,
    message: `The app requested an unsupported grant type '${grantType}'.`,
  }),
  appNotFound: (clientId: string, tenant: string): EntraError => ({
    status: 400,
    error: "unauthorized_client",
    code: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  missingSecret: (): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  invalidSecret: (clientId: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  expiredSecret: (clientId: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 7000222,
    message: `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  }),
  scopeWithoutDefault: (scope: string): EntraError => ({
    status: 400,
    error: "invalid_scope",
    code: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  scopeInvalid: (scope: string): EntraError => ({
    status: 400,
    error: "invalid_scope",
    code: 70011,
    message: `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  }),
  resourceNotFound: (resource: string, tenant: string): EntraError => ({
    status: 400,
    error: "invalid_resource",
    code: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  // Certificate credentials (https://learn.microsoft.com/entra/identity-platform/certificate-credentials). Wordings from
  // real responses: 700027 "key was not found" (Azure/azure-sdk-for-net#29007), "signature value did not match"
  // (Azure/azure-sdk-for-java#25109), "key used is expired" with Entra's US-format key dates (quoted in
  // Microsoft's own troubleshooting docs), 700024 (AzureAD/microsoft-authentication-library-for-java#984), 700023
  // (AzureAD/microsoft-authentication-library-for-dotnet#2746); 700021 is the least certain.
  certificateNotRegistered: (thumbprint: string, clientId: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
  }),
  assertionSignatureMismatch: (thumbprint: string, key: KeyDates): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumbprint}', Found key '${foundKey(key)}']`,
  }),
  certificateExpired: (thumbprint: string, key: KeyDates): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprint}', Found key '${foundKey(key)}']`,
  }),
  assertionOutsideTimeRange: (now: Date, notBefore: Date, expiry: Date): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700024,
    message: `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${notBefore.toISOString()}, expiry time of assertion ${expiry.toISOString()}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
  }),
  assertionAudienceMismatch: (): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700023,
    message: "Client assertion audience claim does not match Realm issuer.",
  }),
  assertionIssuerMismatch: (): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700021,
    message: "Client assertion application identifier doesn't match 'client_id' parameter.",
  }),
  /** AADSTS50027 InvalidJwtToken (https://learn.microsoft.com/entra/identity-platform/reference-error-codes). */
  assertionMalformed: (detail: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 50027,
    message: `JWT token is invalid or malformed. ${detail}`,
  }),
  /**
   * Entra is not known to reject a reused assertion (msal-node resends one for 10 minutes, the Azure CLI replays
   * federated ones); only the fake's opt-in strict mode returns this, under AADSTS50013 InvalidAssertion
   * (https://learn.microsoft.com/entra/identity-platform/reference-error-codes) with a fake-specific text.
   */
  assertionReplayed: (jti: string): EntraError => ({
    status: 400,
    error: "invalid_grant",
    code: 50013,
    message: `Assertion failed signature validation. [Reason - The assertion with jti '${jti}' was already used (Postern fake, strict replay mode).]`,
  }),
};

export interface KeyDates {
  startsAt: Date;
  endsAt: Date;
}

/** "06/29/2021 21:13:15", how Entra prints a key's dates in 700027 reasons. */
const usDate = (d: Date): string => {
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
};
const foundKey = (key: KeyDates): string => `Start=${usDate(key.startsAt)}, End=${usDate(key.endsAt)}`;

/** "2016-01-09 02:02:12Z", the format of `timestamp` and the description's Timestamp line. */
const entraTimestamp = (date: Date): string => `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;

export function entraErrorBody(err: EntraError, correlationId: string = randomUUID()): EntraErrorBody {
  const traceId = randomUUID();
  const timestamp = entraTimestamp(new Date());
  const prefix = err.code === undefined ? "" : `AADSTS${err.code}: `;
  return {
    error: err.error,
    error_description: `${prefix}${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: err.code === undefined ? [] : [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.code ?? 0}`,
  };
}
