// Certificate credentials against the identity fake, through @azure/msal-node's clientCertificate and through
// hand-made assertions for the cases msal-node never produces. Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClientApplication, type Configuration } from "@azure/msal-node";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MicrosoftIdentityFake, startMicrosoftIdentityFake } from "../fakes/microsoft-identity.ts";
import { createTestCertificate, type TestCertificate } from "../fakes/x509.ts";

const tenantId = "7e4b5ba7-59cd-4d4f-82a5-a8370ce63400";
const clientId = "2a9d0c7e-6b1f-4e3a-8c5d-0f1e2d3c4b5a";
const graphScope = "https://graph.microsoft.com/.default";
const outlookScope = "https://outlook.office365.com/.default";
const day = 24 * 3600 * 1000;

let fake: MicrosoftIdentityFake;
let current: TestCertificate;
const unregistered = createTestCertificate({ commonName: "never uploaded" });

beforeAll(async () => {
  fake = await startMicrosoftIdentityFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.tenants.clear();
  fake.rejectReplayedAssertions = false;
  current = createTestCertificate();
  fake.addTenant({
    id: tenantId,
    apps: [{ clientId, certificates: [current.certPem], graphRoles: ["Mail.Send"], secret: "old secret" }],
  });
});

function msal(
  certificate: NonNullable<Configuration["auth"]["clientCertificate"]>,
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      clientCertificate: certificate,
      authority: fake.authority(tenantId),
      knownAuthorities: [fake.authorityHost],
      authorityMetadata: fake.authorityMetadata(tenantId),
    },
  });
}

const withKey = (cert: TestCertificate) => ({
  thumbprintSha256: cert.thumbprintSha256,
  privateKey: cert.keyPem,
});

async function failure(
  cca: ConfidentialClientApplication,
  scope = graphScope,
): Promise<Record<string, unknown>> {
  const err: unknown = await cca.acquireTokenByClientCredential({ scopes: [scope] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected MSAL to fail");
  return { ...err, message: err.message };
}

/** An assertion signed by hand, for claims msal-node always gets right. */
function assertion(claims: Record<string, unknown>, cert = current): Promise<string> {
  const seconds = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: `https://localhost:${fake.port}/${tenantId}/oauth2/v2.0/token`,
    iss: clientId,
    sub: clientId,
    jti: randomUUID(),
    nbf: seconds,
    exp: seconds + 600,
    ...claims,
  })
    .setProtectedHeader({
      alg: "PS256",
      typ: "JWT",
      "x5t#S256": Buffer.from(cert.thumbprintSha256, "hex").toString("base64url"),
    })
    .sign(cert.privateKey);
}

async function postAssertion(jwt: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`https://localhost:${fake.port}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: clientId,
      scope: graphScope,
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: jwt,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("Entra certificate credentials", () => {
  it("test certificates are real X.509 that openssl reads, with the dates asked for", () => {
    const cert = createTestCertificate({
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    const dir = mkdtempSync(join(tmpdir(), "postern-x509-"));
    writeFileSync(join(dir, "c.pem"), cert.certPem);
    const text = execFileSync(
      "openssl",
      ["x509", "-in", join(dir, "c.pem"), "-noout", "-dates", "-fingerprint", "-sha256"],
      {
        encoding: "utf8",
      },
    );
    expect(text).toContain("notBefore=Jan  1 00:00:00 2020 GMT");
    expect(text).toContain("notAfter=Jan  1 00:00:00 2021 GMT");
    expect(text.replaceAll(":", "")).toContain(cert.thumbprintSha256.toUpperCase());
  });

  it("msal-node's clientCertificate (PS256, x5t#S256) gets a Graph token with Mail.Send, then an Exchange one", async () => {
    const cca = msal(withKey(current));
    const graph = await cca.acquireTokenByClientCredential({ scopes: [graphScope] });
    expect(decodeJwt(graph?.accessToken ?? "")).toMatchObject({
      aud: "https://graph.microsoft.com",
      roles: ["Mail.Send"],
      appidacr: "2",
      appid: clientId,
      tid: tenantId,
      ver: "1.0",
    });
    expect(fake.tokenRequestLog.at(-1)).toMatchObject({
      status: 200,
      assertion: {
        alg: "PS256",
        thumbprintHeader: "x5t#S256",
        x5c: false,
        thumbprintSha256: current.thumbprintSha256.toUpperCase(),
      },
    });
    const exchange = await cca.acquireTokenByClientCredential({ scopes: [outlookScope] });
    expect(decodeJwt(exchange?.accessToken ?? "")).toMatchObject({
      aud: "https://outlook.office365.com",
      roles: ["SMTP.SendAsApp"],
    });
    // msal-node reuses one signed assertion for 10 minutes; Entra accepts that, and so does the fake by default.
    expect(fake.tokenRequestLog.at(-1)?.assertion?.jti).toBe(fake.tokenRequestLog.at(-2)?.assertion?.jti);
    expect(fake.assertionReplays).toBeGreaterThanOrEqual(1);
  });

  it("accepts the x5c chain option and the deprecated SHA-1 thumbprint (RS256, x5t)", async () => {
    await msal({ ...withKey(current), x5c: current.certPem }).acquireTokenByClientCredential({
      scopes: [graphScope],
    });
    expect(fake.tokenRequestLog.at(-1)?.assertion).toMatchObject({ x5c: true, alg: "PS256" });
    await msal({
      thumbprint: current.thumbprintSha1,
      privateKey: current.keyPem,
    }).acquireTokenByClientCredential({
      scopes: [graphScope],
    });
    expect(fake.tokenRequestLog.at(-1)?.assertion).toMatchObject({ alg: "RS256", thumbprintHeader: "x5t" });
  });

  it("a certificate that is not registered fails with AADSTS700027, key not found", async () => {
    const err = await failure(msal(withKey(unregistered)));
    expect(err).toMatchObject({ errorCode: "invalid_client", status: 401 });
    expect(String(err.errorNo)).toBe("700027");
    expect(err.errorMessage).toContain(
      `AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${unregistered.thumbprintSha256.toUpperCase()}'`,
    );
  });

  it("the registered thumbprint with another key fails with AADSTS700027, signature mismatch", async () => {
    const err = await failure(
      msal({ thumbprintSha256: current.thumbprintSha256, privateKey: unregistered.keyPem }),
    );
    expect(err.errorMessage).toMatch(
      /AADSTS700027: .*\[Reason - The provided signature value did not match the expected signature value\., .*Found key 'Start=\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d, End=/,
    );
  });

  it("a certificate past its notAfter fails with AADSTS700027, key expired; a second one rotates in", async () => {
    const expired = createTestCertificate({
      notBefore: new Date(Date.now() - 400 * day),
      notAfter: new Date(Date.now() - day),
    });
    fake.addCertificate(clientId, expired.certPem);
    const err = await failure(msal(withKey(expired)));
    expect(err).toMatchObject({ errorCode: "invalid_client", status: 401 });
    expect(err.errorMessage).toContain("[Reason - The key used is expired.");
    // The current certificate still works beside it, and removing the expired one leaves it alone.
    fake.removeCertificate(clientId, expired.thumbprintSha1);
    expect(fake.tenants.get(tenantId)?.apps.get(clientId)?.certificates).toHaveLength(1);
    expect(
      await msal(withKey(current)).acquireTokenByClientCredential({ scopes: [graphScope] }),
    ).toBeTruthy();
  });

  it("an expired secret fails with AADSTS7000222 while the certificate on the same app works", async () => {
    fake.expireSecret(clientId);
    const bySecret = new ConfidentialClientApplication({
      auth: {
        clientId,
        clientSecret: "old secret",
        authority: fake.authority(tenantId),
        knownAuthorities: [fake.authorityHost],
        authorityMetadata: fake.authorityMetadata(tenantId),
      },
    });
    const err = await failure(bySecret);
    expect(err).toMatchObject({ errorCode: "invalid_client", status: 401 });
    expect(err.errorMessage).toContain("AADSTS7000222: The provided client secret keys for app");
    expect(
      await msal(withKey(current)).acquireTokenByClientCredential({ scopes: [graphScope] }),
    ).toBeTruthy();
  });

  it.each([
    [
      "expired assertion",
      { exp: Math.floor(Date.now() / 1000) - 60 },
      700024,
      "Client assertion is not within its valid time range. Current time: ",
    ],
    [
      "not yet valid",
      { nbf: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 4000 },
      700024,
      "not within its valid time range",
    ],
    [
      "wrong aud",
      { aud: "https://login.microsoftonline.com/common/oauth2/v2.0/token" },
      700023,
      "audience claim does not match",
    ],
    ["iss not the client", { iss: randomUUID() }, 700021, "doesn't match 'client_id'"],
  ] as const)("refuses an assertion with %s", async (_name, claims, code, text) => {
    const { status, body } = await postAssertion(await assertion(claims));
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: "invalid_client", error_codes: [code] });
    expect(body.error_description).toContain(`AADSTS${code}: `);
    expect(body.error_description).toContain(text);
  });

  it("accepts an assertion whose aud is the public cloud token endpoint of the tenant", async () => {
    expect(
      (
        await postAssertion(
          await assertion({ aud: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token` }),
        )
      ).status,
    ).toBe(200);
  });

  it("in strict mode, a replayed jti fails, which msal-node provokes with a second scope", async () => {
    fake.rejectReplayedAssertions = true;
    const cca = msal(withKey(current));
    expect(await cca.acquireTokenByClientCredential({ scopes: [graphScope] })).toBeTruthy();
    const err = await failure(cca, outlookScope);
    expect(err).toMatchObject({ errorCode: "invalid_grant", status: 400 });
    expect(err.errorMessage).toContain("AADSTS50013: ");
    const jwt = await assertion({});
    expect((await postAssertion(jwt)).status).toBe(200);
    expect((await postAssertion(jwt)).body).toMatchObject({ error: "invalid_grant", error_codes: [50013] });
  });
});
