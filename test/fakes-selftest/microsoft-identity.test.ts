// @azure/msal-node and raw HTTPS requests against the identity fake.
// Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem so the test CA is trusted.
import { ConfidentialClientApplication, type Configuration } from "@azure/msal-node";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MicrosoftIdentityFake, startMicrosoftIdentityFake } from "../fakes/microsoft-identity.ts";

const tenantId = "7e4b5ba7-59cd-4d4f-82a5-a8370ce63400";
const clientId = "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f";
const spId = "5d1c7e2a-8b3f-4a6d-9c0e-112233445566";
const secret = "Abc8Q~secret.value_with/odd+chars";
const scope = "https://outlook.office365.com/.default";

let fake: MicrosoftIdentityFake;

beforeAll(async () => {
  fake = await startMicrosoftIdentityFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.tenants.clear();
  fake.addTenant({
    id: tenantId,
    domains: ["contoso.onmicrosoft.com"],
    apps: [{ clientId, servicePrincipalId: spId, secret, displayName: "Postern sender" }],
  });
  fake.setFailure(null);
  fake.setDelay(0);
});

/** The configuration documented at the top of microsoft-identity.ts: one POST, like the public cloud. */
function msal(tenant = tenantId, auth: Partial<Configuration["auth"]> = {}): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      clientSecret: secret,
      authority: fake.authority(tenant),
      knownAuthorities: [fake.authorityHost],
      authorityMetadata: fake.authorityMetadata(tenant),
      ...auth,
    },
  });
}

async function msalError(
  cca: ConfidentialClientApplication,
  scopes = [scope],
): Promise<Record<string, unknown>> {
  const err: unknown = await cca.acquireTokenByClientCredential({ scopes }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected MSAL to fail");
  return { ...err, message: err.message };
}

function post(body: string, tenant = tenantId, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`https://localhost:${fake.port}/${tenant}/oauth2/v2.0/token?client-request-id=abc`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded;charset=utf-8", ...headers },
    body,
  });
}

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const goodForm = { client_id: clientId, client_secret: secret, scope, grant_type: "client_credentials" };

describe("Microsoft identity fake", () => {
  it("issues an Exchange app-only token to MSAL with the v1 claim set, then MSAL caches it", async () => {
    const cca = msal();
    const result = await cca.acquireTokenByClientCredential({ scopes: [scope] });
    expect(result?.tokenType).toBe("Bearer");
    expect(result?.fromCache).toBe(false);
    const token = result?.accessToken ?? "";
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: "JWT", alg: "RS256" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      aud: "https://outlook.office365.com",
      iss: `https://sts.windows.net/${tenantId}/`,
      idp: `https://sts.windows.net/${tenantId}/`,
      appid: clientId,
      app_displayname: "Postern sender",
      appidacr: "1",
      idtyp: "app",
      oid: spId,
      sub: spId,
      roles: ["SMTP.SendAsApp"],
      tid: tenantId,
      ver: "1.0",
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3899);
    expect(await fake.verifyAccessToken(token)).toMatchObject({ valid: true });
    expect((await cca.acquireTokenByClientCredential({ scopes: [scope] }))?.fromCache).toBe(true);
    expect(fake.tokenRequests).toBe(1);
    expect(fake.metadataRequests).toBe(0);
    expect(fake.tokenRequestLog).toEqual([{ tenant: tenantId, clientId, status: 200 }]);
  });

  it("serves openid-configuration to MSAL given only knownAuthorities, by domain name too", async () => {
    const cca = msal("contoso.onmicrosoft.com", { authorityMetadata: undefined });
    expect(await cca.acquireTokenByClientCredential({ scopes: [scope] })).toBeTruthy();
    expect(fake.metadataRequests).toBe(1);
    const config = (await (
      await fetch(
        `https://localhost:${fake.port}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
      )
    ).json()) as Record<string, string>;
    expect(config.issuer).toBe(`https://localhost:${fake.port}/${tenantId}/v2.0`);
    expect(config.token_endpoint).toBe(`https://localhost:${fake.port}/${tenantId}/oauth2/v2.0/token`);
    const jwks = (await (await fetch(config.jwks_uri ?? "")).json()) as { keys: { kid: string }[] };
    expect(jwks).toEqual(fake.publicJwks);
  });

  it.each([
    ["unknown tenant", () => msal("fabrikam.onmicrosoft.com"), [scope], "invalid_tenant", 90002, 400],
    ["malformed tenant", () => msal("not_a_tenant"), [scope], "invalid_request", 900023, 400],
    [
      "unknown client",
      () => msal(tenantId, { clientId: crypto.randomUUID() }),
      [scope],
      "unauthorized_client",
      700016,
      400,
    ],
    ["wrong secret", () => msal(tenantId, { clientSecret: "nope" }), [scope], "invalid_client", 7000215, 401],
    [
      "scope without /.default",
      () => msal(),
      ["https://outlook.office365.com/SMTP.Send"],
      "invalid_scope",
      1002012,
      400,
    ],
    [
      "two resources",
      () => msal(),
      [scope, "https://outlook.office.com/.default"],
      "invalid_scope",
      70011,
      400,
    ],
    ["unknown resource", () => msal(), ["https://example.test/.default"], "invalid_resource", 500011, 400],
  ] as const)("maps %s to MSAL's ServerError", async (_name, make, scopes, errorCode, code, status) => {
    const err = await msalError(make(), [...scopes]);
    expect(err).toMatchObject({ errorCode, status });
    expect(String(err.errorNo)).toBe(String(code));
    expect(err.errorMessage).toContain(`AADSTS${code}: `);
  });

  it("maps an expired secret to 401 invalid_client AADSTS7000222", async () => {
    fake.expireSecret(clientId);
    const err = await msalError(msal());
    expect(err).toMatchObject({ errorCode: "invalid_client", status: 401 });
    expect(err.errorMessage).toContain("AADSTS7000222: The provided client secret keys for app");
    fake.addSecret(clientId, "second secret");
    expect(
      await msal(tenantId, { clientSecret: "second secret" }).acquireTokenByClientCredential({
        scopes: [scope],
      }),
    ).toBeTruthy();
  });

  it("shapes errors like Entra: headers, fields, CRLF trailer, echoed correlation id", async () => {
    const res = await post(form({ ...goodForm, grant_type: "password" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store, no-cache");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      "error",
      "error_description",
      "error_codes",
      "timestamp",
      "trace_id",
      "correlation_id",
      "error_uri",
    ]);
    expect(body).toMatchObject({
      error: "unsupported_grant_type",
      error_codes: [70003],
      correlation_id: "abc",
      error_uri: "https://login.microsoftonline.com/error?code=70003",
    });
    expect(body.error_description).toMatch(
      /^AADSTS70003: The app requested an unsupported grant type 'password'\.\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: abc\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
    );
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it("ignores unknown fields, accepts HTTP Basic client auth, answers like Entra", async () => {
    const res = await post(form({ ...goodForm, "x-client-SKU": "msal.js.node", "x-client-VER": "7.2.3" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store, no-cache");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["token_type", "expires_in", "ext_expires_in", "access_token"]);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    const basic = Buffer.from(`${clientId}:${encodeURIComponent(secret)}`).toString("base64");
    const viaBasic = await post(form({ scope, grant_type: "client_credentials" }), tenantId, {
      Authorization: `Basic ${basic}`,
    });
    expect(viaBasic.status).toBe(200);
    expect(JSON.stringify(fake.tokenRequestLog)).not.toContain(secret);
  });

  it("leaves roles out without admin consent, honours expires_in and refresh_in settings", async () => {
    fake.setConsent(clientId, false);
    fake.expiresIn = 600;
    fake.refreshIn = 300;
    const body = (await (await post(form(goodForm))).json()) as Record<string, unknown>;
    fake.expiresIn = 3599;
    fake.refreshIn = undefined;
    expect(body).toMatchObject({ expires_in: 600, ext_expires_in: 600, refresh_in: 300 });
    expect(decodeJwt(String(body.access_token)).roles).toBeUndefined();
  });

  it("revokes earlier tokens and rejects expired or foreign ones", async () => {
    const before = await fake.mintAccessToken(clientId);
    fake.revoke(clientId);
    const after = await fake.mintAccessToken(clientId);
    expect(await fake.verifyAccessToken(before)).toEqual({ valid: false, reason: "revoked" });
    expect(await fake.verifyAccessToken(after)).toMatchObject({ valid: true });
    fake.revokeTokensIssuedBefore(new Date(Date.now() + 1000));
    expect(await fake.verifyAccessToken(after)).toEqual({ valid: false, reason: "revoked" });
    const expired = await fake.mintAccessToken(clientId, { exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await fake.verifyAccessToken(expired)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/exp/),
    });
    const other = await startMicrosoftIdentityFake({ tenants: [{ id: tenantId, apps: [{ clientId }] }] });
    const foreign = await other.mintAccessToken(clientId);
    await other.close();
    expect(await fake.verifyAccessToken(foreign)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/signature/),
    });
  });

  it("simulates outages: status with Retry-After (MSAL then throttles), dropped connections, delay", async () => {
    fake.setFailure({ status: 503, retryAfter: 30 });
    const cca = msal();
    const requests = fake.tokenRequests;
    expect(await msalError(cca)).toMatchObject({ errorCode: "temporarily_unavailable", status: 503 });
    expect(fake.tokenRequests).toBe(requests + 1);
    fake.setFailure(null);
    // MSAL replays the 503 for Retry-After seconds without calling the endpoint (msal-common's ThrottlingUtils); the
    // replayed ServerError has an empty errorCode and no status, only the cached description.
    const throttled = await msalError(cca);
    expect(throttled).toMatchObject({ name: "ServerError", errorCode: "", status: undefined });
    expect(throttled.errorMessage).toMatch(/^Fake outage\./);
    expect(fake.tokenRequests).toBe(requests + 1);

    fake.setFailure("network");
    expect(await msalError(msal())).toMatchObject({ errorCode: "network_error" });
    expect(fake.tokenRequestLog.at(-1)?.status).toBe(0);

    fake.setFailure(null);
    fake.setDelay(300);
    const started = Date.now();
    await msal().acquireTokenByClientCredential({ scopes: [scope] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("presents an untrusted certificate on request", async () => {
    const untrusted = await startMicrosoftIdentityFake({ cert: "untrusted", tenants: [{ id: tenantId }] });
    const err = await fetch(`https://localhost:${untrusted.port}/${tenantId}/discovery/keys`).catch(
      (e: unknown) => e,
    );
    await untrusted.close();
    expect(String((err as Error & { cause?: unknown }).cause)).toMatch(
      /unable to verify the first certificate/,
    );
  });
});
