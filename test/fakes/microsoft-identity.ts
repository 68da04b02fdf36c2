// A fake of the Microsoft identity platform v2.0 token endpoint (client credentials), over HTTPS with the
// test CA. Protocol facts: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow.
//
// MSAL configuration that works (verified with @azure/msal-node 7.2.3, test CA trusted through
// NODE_EXTRA_CA_CERTS; see test/fakes-selftest/microsoft-identity.test.ts):
//
//   new ConfidentialClientApplication({ auth: {
//     clientId, clientSecret,
//     authority: fake.authority(tenant),                  // https://localhost:<port>/<tenant GUID or domain>
//     knownAuthorities: [fake.authorityHost],             // "localhost:<port>": skips instance discovery
//     authorityMetadata: fake.authorityMetadata(tenant),  // skips the openid-configuration GET
//   } })
//
// With all three, MSAL sends exactly one POST per token, as it does against login.microsoftonline.com
// (whose metadata MSAL has built in, https://learn.microsoft.com/entra/msal/javascript/node/caching), so an unknown tenant surfaces as AADSTS90002.
// Without authorityMetadata MSAL first GETs /<tenant>/v2.0/.well-known/openid-configuration (the issuer
// must share the authority's host, so the fake builds it from the Host header); an unknown tenant then
// fails earlier as ClientAuthError "endpoints_resolution_error". authorityMetadata without
// knownAuthorities fails too (MSAL tries instance discovery at login.microsoftonline.com).
// "127.0.0.1:<port>" works as well (the certificate has an IP SAN). MSAL never accepts http:// authorities.
//
// Certificate credentials: register a certificate with addCertificate (or AppSpec.certificates) and give MSAL
// `clientCertificate: { thumbprintSha256, privateKey }` instead of clientSecret; the assertion is checked in
// entra-assertions.ts. The scope https://graph.microsoft.com/.default yields a Graph token whose roles are the
// app's graphRoles (e.g. Mail.Send), as https://outlook.office365.com/.default yields SMTP.SendAsApp.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { type AcceptedAssertion, checkClientAssertion, jwtBearerAssertionType } from "./entra-assertions.ts";
import {
  type AppSpec,
  EntraDirectory,
  type FakeApp,
  type FakeCertificate,
  type FakeTenant,
  type TenantSpec,
} from "./entra-directory.ts";
import { type EntraError, entraErrorBody, entraErrors } from "./entra-errors.ts";
import {
  type AccessTokenClaims,
  exchangeAudiences,
  graphAudience,
  stsIssuer,
  TokenSigner,
} from "./entra-tokens.ts";

export type {
  AppSpec,
  FakeApp,
  FakeCertificate,
  FakeSecret,
  FakeTenant,
  TenantSpec,
} from "./entra-directory.ts";
export type { AccessTokenClaims } from "./entra-tokens.ts";

export type FailureMode = { status: 500 | 503 | 429; retryAfter?: number } | "network";

export interface TokenRequestRecord {
  tenant: string;
  clientId: string | undefined;
  /** HTTP status, 0 when the fake dropped the connection. */
  status: number;
  /** Set for certificate credentials that passed the checks. */
  assertion?: Pick<AcceptedAssertion, "alg" | "thumbprintHeader" | "x5c" | "jti"> & {
    thumbprintSha256: string;
  };
}

export type TokenVerdict = { valid: true; claims: AccessTokenClaims } | { valid: false; reason: string };

export interface MicrosoftIdentityFakeOptions {
  tenants?: TenantSpec[];
  /** Default 3599, what client-credential responses typically carry. */
  expiresIn?: number;
  /** When set, responses carry refresh_in (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow: whether Entra sends it here is uncertain). */
  refreshIn?: number;
  cert?: CertChoice;
  host?: string;
  port?: number;
  /** Refuse a client assertion whose jti was seen before (Entra itself is not known to; see entra-errors.ts). */
  rejectReplayedAssertions?: boolean;
}

export interface MicrosoftIdentityFake {
  readonly port: number;
  /** "localhost:<port>", for MSAL's knownAuthorities. */
  readonly authorityHost: string;
  /** "https://localhost:<port>/<tenant>". */
  authority(tenant: string): string;
  /** The openid-configuration JSON for `authorityMetadata` (lets MSAL skip the metadata GET). */
  authorityMetadata(tenant: string): string;
  readonly tenants: Map<string, FakeTenant>;
  expiresIn: number;
  refreshIn: number | undefined;
  /** GETs of the openid-configuration (MSAL skips them when given authorityMetadata). */
  readonly metadataRequests: number;
  /** POSTs to the token endpoint (all outcomes). */
  readonly tokenRequests: number;
  readonly tokenRequestLog: TokenRequestRecord[];
  readonly publicJwks: { keys: object[] };
  /** Token requests whose client assertion repeated an earlier jti (msal-node reuses one for 10 minutes). */
  readonly assertionReplays: number;
  rejectReplayedAssertions: boolean;
  addTenant(spec?: TenantSpec): FakeTenant;
  addApp(tenantId: string, spec?: AppSpec): FakeApp;
  addSecret(clientId: string, value: string, expiresAt?: Date): void;
  /** Expires one secret, or all of the app's secrets. */
  expireSecret(clientId: string, value?: string): void;
  /** Registers a PEM certificate (public part) on the app; several may be registered at once. */
  addCertificate(clientId: string, pem: string): FakeCertificate;
  /** Removes a certificate by SHA-1 or SHA-256 thumbprint (hex). */
  removeCertificate(clientId: string, thumbprint: string): void;
  /** Admin-consented Microsoft Graph application permissions (tenant-wide), e.g. ["Mail.Send"]. */
  setGraphRoles(clientId: string, roles: string[]): void;
  setConsent(clientId: string, consented: boolean): void;
  /** Token endpoint only: answer with an error status, or drop the connection; null restores. */
  setFailure(mode: FailureMode | null): void;
  /** Token endpoint only: wait before answering. */
  setDelay(ms: number): void;
  revokeTokensIssuedBefore(date: Date): void;
  /** Revokes every token issued so far to this client. */
  revoke(clientId: string): void;
  /** Mints a token directly (no HTTP), e.g. already expired or for another audience. */
  mintAccessToken(clientId: string, overrides?: Partial<AccessTokenClaims>): Promise<string>;
  /** Signature, exp/nbf, issuer/tenant and revocation; resource checks (aud, roles) are the caller's. */
  verifyAccessToken(token: string): Promise<TokenVerdict>;
  close(): Promise<void>;
}

export async function startMicrosoftIdentityFake(
  options: MicrosoftIdentityFakeOptions = {},
): Promise<MicrosoftIdentityFake> {
  const signer = await TokenSigner.create();
  const directory = new EntraDirectory();
  const tokenRequestLog: TokenRequestRecord[] = [];
  // uti → issue time and sequence number (iat is back-dated and second-granular, too coarse for revocation).
  const issued = new Map<string, { clientId: string; at: number; seq: number }>();
  let issuedCount = 0;
  /** clientId → sequence number of the last token revoked by revoke(clientId). */
  const revokedUpTo = new Map<string, number>();
  let revokedAllBefore = 0;
  let failure: FailureMode | null = null;
  let delayMs = 0;
  let metadataRequests = 0;
  let assertionReplays = 0;
  /** jti → exp of every client assertion accepted. */
  const seenAssertions = new Map<string, number>();
  const sockets = new Set<Socket>();

  function rolesFor(app: FakeApp, resource: string): string[] {
    if (resource === graphAudience) return [...app.graphRoles];
    return app.consented && exchangeAudiences.includes(resource) ? ["SMTP.SendAsApp"] : [];
  }

  async function issueToken(
    app: FakeApp,
    resource: string,
    overrides: Partial<AccessTokenClaims> = {},
    appidacr: "1" | "2" = "1",
  ): Promise<string> {
    const subject = { ...app, resource, roles: rolesFor(app, resource), appidacr };
    const claims = { ...signer.claimsFor(subject, handle.expiresIn), ...overrides };
    issued.set(claims.uti, { clientId: app.clientId, at: Date.now(), seq: ++issuedCount });
    return signer.sign(claims);
  }

  /** The aud values a client assertion may carry for this request: the token endpoint by tenant id or domain. */
  function assertionAudiences(origin: string, tenant: FakeTenant, rawTenant: string): string[] {
    const hosts = [origin, "https://login.microsoftonline.com"];
    return hosts.flatMap((host) =>
      [tenant.id, rawTenant].flatMap((t) => [`${host}/${t}/oauth2/v2.0/token`, `${host}/${t}/oauth2/token`]),
    );
  }

  function checkAssertion(
    app: FakeApp,
    clientId: string,
    form: URLSearchParams,
    audiences: string[],
  ): AcceptedAssertion | EntraError {
    if (form.get("client_assertion_type") !== jwtBearerAssertionType) {
      return entraErrors.missingParameter("client_assertion_type");
    }
    const accepted = checkClientAssertion(form.get("client_assertion") ?? "", {
      app,
      clientId,
      audiences,
      now: new Date(),
    });
    if ("status" in accepted) return accepted;
    if (seenAssertions.has(accepted.jti)) {
      assertionReplays++;
      if (handle.rejectReplayedAssertions) return entraErrors.assertionReplayed(accepted.jti);
    }
    // A jti only needs remembering while its assertion could still be presented.
    const seconds = Date.now() / 1000;
    for (const [jti, exp] of seenAssertions) if (exp <= seconds) seenAssertions.delete(jti);
    seenAssertions.set(accepted.jti, accepted.exp);
    return accepted;
  }

  /** Validates the form the way Entra does and returns the app and resource, or an Entra error. */
  function checkTokenRequest(
    tenant: FakeTenant,
    rawTenant: string,
    form: URLSearchParams,
    basic: { id: string; secret: string } | undefined,
    origin: string,
  ): { app: FakeApp; resource: string; assertion?: AcceptedAssertion } | EntraError {
    const grantType = form.get("grant_type");
    if (!grantType) return entraErrors.missingParameter("grant_type");
    if (grantType !== "client_credentials") return entraErrors.unsupportedGrantType(grantType);
    const clientId = form.get("client_id") ?? basic?.id;
    if (!clientId) return entraErrors.missingParameter("client_id");
    const app = tenant.apps.get(clientId.toLowerCase());
    if (!app) return entraErrors.appNotFound(clientId, rawTenant);
    let assertion: AcceptedAssertion | undefined;
    if (form.has("client_assertion")) {
      const checked = checkAssertion(app, clientId, form, assertionAudiences(origin, tenant, rawTenant));
      if ("status" in checked) return checked;
      assertion = checked;
    } else {
      // client_secret may also come as HTTP Basic (RFC 6749 §2.3.1; https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
      const secret = form.get("client_secret") ?? basic?.secret;
      if (!secret) return entraErrors.missingSecret();
      const match = app.secrets.find((s) => s.value === secret);
      if (!match) return entraErrors.invalidSecret(clientId);
      if (match.expiresAt.getTime() <= Date.now()) return entraErrors.expiredSecret(clientId);
    }
    const scope = form.get("scope");
    if (!scope) return entraErrors.missingParameter("scope");
    const scopes = scope.trim().split(/\s+/);
    if (scopes.length !== 1) return entraErrors.scopeInvalid(scope);
    if (!scope.endsWith("/.default")) return entraErrors.scopeWithoutDefault(scope);
    const resource = scope.slice(0, -"/.default".length);
    if (!exchangeAudiences.includes(resource) && resource !== graphAudience) {
      return entraErrors.resourceNotFound(resource, rawTenant);
    }
    return assertion ? { app, resource, assertion } : { app, resource };
  }

  function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
    if (!header?.startsWith("Basic ")) return undefined;
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  }

  function send(res: ServerResponse, status: number, body: object, extra: Record<string, string> = {}): void {
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store, no-cache",
      Pragma: "no-cache",
      Expires: "-1",
      "x-ms-request-id": randomUUID(),
      ...extra,
    });
    res.end(JSON.stringify(body));
  }

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };

  function metadata(base: string, tenantId: string): Record<string, unknown> {
    return {
      token_endpoint: `${base}/${tenantId}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/${tenantId}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/${tenantId}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenantId}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/${tenantId}/oauth2/v2.0/logout`,
      tenant_region_scope: "EU",
    };
  }

  async function handleToken(
    req: IncomingMessage,
    res: ServerResponse,
    rawTenant: string,
    origin: string,
  ): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const basic = parseBasic(req.headers.authorization);
    const record: TokenRequestRecord = {
      tenant: rawTenant,
      clientId: form.get("client_id") ?? basic?.id,
      status: 0,
    };
    tokenRequestLog.push(record);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (failure === "network") {
      req.socket.destroy();
      return;
    }
    // Entra echoes MSAL's client-request-id as the correlation id.
    const correlationId =
      new URL(req.url ?? "/", "https://x").searchParams.get("client-request-id") ??
      form.get("client-request-id") ??
      randomUUID();
    if (failure) {
      record.status = failure.status;
      const outage = { status: failure.status, error: "temporarily_unavailable", message: "Fake outage." };
      const retryAfter: Record<string, string> =
        failure.retryAfter === undefined ? {} : { "Retry-After": String(failure.retryAfter) };
      send(res, failure.status, entraErrorBody(outage, correlationId), retryAfter);
      return;
    }
    const tenant = directory.resolve(rawTenant);
    const checked = "apps" in tenant ? checkTokenRequest(tenant, rawTenant, form, basic, origin) : tenant;
    if ("status" in checked) {
      record.status = checked.status;
      send(res, checked.status, entraErrorBody(checked, correlationId));
      return;
    }
    record.status = 200;
    const { assertion } = checked;
    if (assertion) {
      const { alg, thumbprintHeader, x5c, jti } = assertion;
      record.assertion = {
        alg,
        thumbprintHeader,
        x5c,
        jti,
        thumbprintSha256: assertion.certificate.thumbprintSha256,
      };
    }
    send(res, 200, {
      token_type: "Bearer",
      expires_in: handle.expiresIn,
      ext_expires_in: handle.expiresIn,
      ...(handle.refreshIn === undefined ? {} : { refresh_in: handle.refreshIn }),
      access_token: await issueToken(checked.app, checked.resource, {}, assertion ? "2" : "1"),
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `https://${req.headers.host ?? "localhost"}`);
    const [, rawTenant = "", ...rest] = url.pathname.split("/");
    const path = rest.join("/");
    if (req.method === "POST" && path === "oauth2/v2.0/token")
      return handleToken(req, res, rawTenant, url.origin);
    const isMetadata = path === "v2.0/.well-known/openid-configuration";
    if (req.method === "GET" && (isMetadata || path === "discovery/keys" || path === "discovery/v2.0/keys")) {
      if (isMetadata) metadataRequests++;
      const tenant = directory.resolve(rawTenant);
      if (!("apps" in tenant)) return send(res, tenant.status, entraErrorBody(tenant));
      return send(res, 200, isMetadata ? metadata(url.origin, tenant.id) : signer.jwks);
    }
    send(res, 404, { error: "not_found" });
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: "server_error", error_description: String(err) });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // Failed client handshakes (e.g. an untrusted cert) are expected in tests.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");
  const port = address.port;

  const handle: MicrosoftIdentityFake = {
    port,
    authorityHost: `localhost:${port}`,
    authority: (tenant) => `https://localhost:${port}/${tenant}`,
    authorityMetadata(tenant) {
      const resolved = directory.resolve(tenant);
      return JSON.stringify(metadata(`https://localhost:${port}`, "apps" in resolved ? resolved.id : tenant));
    },
    tenants: directory.tenants,
    expiresIn: options.expiresIn ?? 3599,
    refreshIn: options.refreshIn,
    get metadataRequests() {
      return metadataRequests;
    },
    get tokenRequests() {
      return tokenRequestLog.length;
    },
    tokenRequestLog,
    publicJwks: signer.jwks,
    get assertionReplays() {
      return assertionReplays;
    },
    rejectReplayedAssertions: options.rejectReplayedAssertions ?? false,
    addTenant: (spec) => directory.addTenant(spec),
    addApp: (tenantId, spec) => directory.addApp(tenantId, spec),
    addSecret: (clientId, value, expiresAt) => directory.addSecret(clientId, value, expiresAt),
    expireSecret: (clientId, value) => directory.expireSecret(clientId, value),
    addCertificate: (clientId, pem) => directory.addCertificate(clientId, pem),
    removeCertificate: (clientId, thumbprint) => directory.removeCertificate(clientId, thumbprint),
    setGraphRoles(clientId, roles) {
      directory.findApp(clientId).graphRoles = [...roles];
    },
    setConsent(clientId, consented) {
      directory.findApp(clientId).consented = consented;
    },
    setFailure(mode) {
      failure = mode;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    revokeTokensIssuedBefore(date) {
      revokedAllBefore = date.getTime();
    },
    revoke(clientId) {
      revokedUpTo.set(clientId.toLowerCase(), issuedCount);
    },
    mintAccessToken(clientId, overrides = {}) {
      return issueToken(
        directory.findApp(clientId),
        overrides.aud ?? "https://outlook.office365.com",
        overrides,
      );
    },
    async verifyAccessToken(token) {
      let claims: AccessTokenClaims;
      try {
        claims = await signer.verify(token);
      } catch (err) {
        return { valid: false, reason: `jwt: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (!directory.tenants.has(claims.tid) || claims.iss !== stsIssuer(claims.tid)) {
        return { valid: false, reason: `unknown tenant ${claims.tid}` };
      }
      const issue = issued.get(claims.uti);
      if (!issue) return { valid: false, reason: "unknown token id" };
      if (issue.at < revokedAllBefore || issue.seq <= (revokedUpTo.get(issue.clientId) ?? 0)) {
        return { valid: false, reason: "revoked" };
      }
      return { valid: true, claims };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  for (const spec of options.tenants ?? []) handle.addTenant(spec);
  return handle;
}
