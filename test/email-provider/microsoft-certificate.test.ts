// Certificate credentials end to end: a certificate Postern generated, or one the developer made with openssl,
// gets real tokens from the HTTPS identity fake through msal-node, and every way Entra refuses an assertion
// comes back explained with a fix. Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt, importPKCS8, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type CertificateDescription,
  generateCertificate,
  parseUploadedCertificate,
} from "../../src/email-provider/kinds/microsoft/certificate.ts";
import {
  type MicrosoftCredential,
  type MsalCredential,
  msalCredential,
} from "../../src/email-provider/kinds/microsoft/credentials.ts";
import { microsoftTokenError } from "../../src/email-provider/kinds/microsoft/token-errors.ts";
import type { TokenError } from "../../src/email-provider/oauth/token-error.ts";
import { type MicrosoftIdentityFake, startMicrosoftIdentityFake } from "../fakes/microsoft-identity.ts";

const tenantId = "5f1c3e2a-8b7d-4c6e-9a0f-1b2c3d4e5f60";
const clientId = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const outlookScope = "https://outlook.office365.com/.default";
const day = 24 * 3600 * 1000;

let fake: MicrosoftIdentityFake;
let workDir: string;

beforeAll(async () => {
  fake = await startMicrosoftIdentityFake();
  workDir = mkdtempSync(join(tmpdir(), "postern-entra-cert-"));
});
afterAll(async () => {
  await fake?.close();
  rmSync(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.tenants.clear();
  fake.addTenant({ id: tenantId, apps: [{ clientId, secret: "the secret" }] });
});

const certificateCredential = (c: CertificateDescription): MicrosoftCredential => ({
  kind: "certificate",
  privateKeyPem: c.privateKeyPem,
  certificatePem: c.certificatePem,
  thumbprintSha256: c.thumbprintSha256,
});

function msal(credential: MsalCredential | { clientAssertion: () => Promise<string> }) {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      ...credential,
      authority: fake.authority(tenantId),
      knownAuthorities: [fake.authorityHost],
      authorityMetadata: fake.authorityMetadata(tenantId),
    },
  });
}

async function token(credential: MicrosoftCredential): Promise<string> {
  const result = await msal(msalCredential(credential)).acquireTokenByClientCredential({
    scopes: [outlookScope],
  });
  return result?.accessToken ?? "";
}

/** The explained failure of a token request, as the Microsoft provider reports it. */
async function refusal(
  client: ConfidentialClientApplication,
  certificateThumbprintSha1?: string,
): Promise<TokenError> {
  const err: unknown = await client.acquireTokenByClientCredential({ scopes: [outlookScope] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("expected Entra to refuse the token request");
  return microsoftTokenError(err, { clientId, tenantId, certificateThumbprintSha1 });
}

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: workDir, stdio: "pipe" });
}
const readOut = (name: string): string => readFileSync(join(workDir, name), "utf8");

describe("Entra certificate credentials through msal-node", () => {
  it("a certificate Postern generated and the developer registered gets an Exchange token", async () => {
    const generated = await generateCertificate({ subject: "Postern acme-login", now: new Date() });
    fake.addCertificate(clientId, generated.certificatePem);
    const claims = decodeJwt(await token(certificateCredential(generated)));
    expect(claims).toMatchObject({
      aud: "https://outlook.office365.com",
      roles: ["SMTP.SendAsApp"],
      tid: tenantId,
      // appidacr 2: the client authenticated with a certificate, not a secret.
      appidacr: "2",
    });
    // PS256 naming the certificate by x5t#S256, as Entra documents, with the certificate in x5c.
    expect(fake.tokenRequestLog.at(-1)?.assertion).toMatchObject({
      alg: "PS256",
      thumbprintHeader: "x5t#S256",
      x5c: true,
      thumbprintSha256: Buffer.from(generated.thumbprintSha256, "base64url").toString("hex").toUpperCase(),
    });
  });

  it("a certificate and PKCS#8 key made with openssl, uploaded, gets a token", async () => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-sha256",
      "-nodes",
      "-days",
      "90",
      "-subj",
      "/CN=uploaded by the developer",
      "-keyout",
      "upload-key.pem",
      "-out",
      "upload-cert.pem",
    );
    const parsed = parseUploadedCertificate(
      readOut("upload-cert.pem"),
      readOut("upload-key.pem"),
      new Date(),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    fake.addCertificate(clientId, readOut("upload-cert.pem"));
    expect(decodeJwt(await token(certificateCredential(parsed.certificate))).appidacr).toBe("2");
  });

  it("an uploaded PKCS#1 key (BEGIN RSA PRIVATE KEY) is stored as PKCS#8 and gets a token", async () => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:3072",
      "-nodes",
      "-days",
      "30",
      "-subj",
      "/CN=pkcs1",
      "-keyout",
      "p8.pem",
      "-out",
      "p1-cert.pem",
    );
    openssl("pkey", "-in", "p8.pem", "-traditional", "-out", "p1-key.pem");
    expect(readOut("p1-key.pem")).toContain("-----BEGIN RSA PRIVATE KEY-----");
    const parsed = parseUploadedCertificate(readOut("p1-cert.pem"), readOut("p1-key.pem"), new Date());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.certificate.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    fake.addCertificate(clientId, parsed.certificate.certificatePem);
    expect(await token(certificateCredential(parsed.certificate))).not.toBe("");
  });

  it("a certificate that is not registered on the app is AADSTS700027, with the thumbprint to upload", async () => {
    const registered = await generateCertificate({ subject: "registered", now: new Date() });
    fake.addCertificate(clientId, registered.certificatePem);
    const other = await generateCertificate({ subject: "never uploaded", now: new Date() });
    const err = await refusal(msal(msalCredential(certificateCredential(other))), other.thumbprintSha1);
    expect(err.errorClass).toBe("token");
    expect(err.summary).toBe(
      `The certificate Postern signs with is not registered on app ${clientId} (AADSTS700027).`,
    );
    expect(err.hint).toContain(`(thumbprint ${other.thumbprintSha1})`);
    expect(err.hint).toContain("Certificates & secrets → Certificates → Upload certificate");
  });

  it("a certificate past its notAfter is refused by Entra and explained, and the upload check refuses it first", async () => {
    const longAgo = new Date(Date.now() - 400 * day);
    const expired = await generateCertificate({ subject: "last year", now: longAgo, validDays: 365 });
    expect(expired.notAfter.getTime()).toBeLessThan(Date.now());
    fake.addCertificate(clientId, expired.certificatePem);
    const err = await refusal(msal(msalCredential(certificateCredential(expired))));
    expect(err.summary).toBe("The certificate Postern signs with has expired (AADSTS700027).");
    expect(err.hint).toContain("remove the expired one");
    const upload = parseUploadedCertificate(expired.certificatePem, expired.privateKeyPem, new Date());
    expect(upload.ok || upload.problems.map((p) => p.code)).toEqual(["expired"]);
  });

  it("a registered certificate with a key that is not its own is AADSTS700027, signature mismatch", async () => {
    const registered = await generateCertificate({ subject: "registered", now: new Date() });
    const stranger = await generateCertificate({ subject: "stranger", now: new Date() });
    fake.addCertificate(clientId, registered.certificatePem);
    const mixed = { ...certificateCredential(registered), privateKeyPem: stranger.privateKeyPem };
    const err = await refusal(msal(msalCredential(mixed)));
    expect(err.summary).toContain("Postern's private key does not belong to it (AADSTS700027)");
  });

  it("a second certificate registered before the first is removed rotates without a failed request", async () => {
    const first = await generateCertificate({ subject: "first", now: new Date() });
    const second = await generateCertificate({ subject: "second", now: new Date() });
    fake.addCertificate(clientId, first.certificatePem);
    const before = fake.tokenRequestLog.length;
    expect(await token(certificateCredential(first))).not.toBe("");
    fake.addCertificate(clientId, second.certificatePem);
    expect(await token(certificateCredential(first))).not.toBe("");
    expect(await token(certificateCredential(second))).not.toBe("");
    fake.removeCertificate(clientId, first.thumbprintSha1);
    expect(await token(certificateCredential(second))).not.toBe("");
    expect(fake.tokenRequestLog.slice(before).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it("an expired client secret is AADSTS7000222, explained as exactly that", async () => {
    fake.expireSecret(clientId);
    const err = await refusal(msal(msalCredential({ kind: "secret", clientSecret: "the secret" })));
    expect(err.summary).toBe("The client secret has expired (AADSTS7000222).");
    expect(err.hint).toContain("Create a new client secret");
  });
});

describe("client assertions msal-node never gets wrong, refused and explained", () => {
  let registered: CertificateDescription;
  beforeEach(async () => {
    registered ??= await generateCertificate({ subject: "hand-signed", now: new Date() });
    fake.addCertificate(clientId, registered.certificatePem);
  });

  /** An assertion signed by hand with the registered key (RFC 7523 §3 claims), some of them overridden. */
  async function handSigned(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const seconds = Math.floor(Date.now() / 1000);
    return new SignJWT({
      aud: `${fake.authority(tenantId)}/oauth2/v2.0/token`,
      iss: clientId,
      sub: clientId,
      jti: randomUUID(),
      nbf: seconds,
      exp: seconds + 600,
      ...claims,
    })
      .setProtectedHeader({ alg: "PS256", typ: "JWT", "x5t#S256": registered.thumbprintSha256, ...header })
      .sign(await importPKCS8(registered.privateKeyPem, "PS256"));
  }

  it.each([
    ["an assertion already expired", { exp: Math.floor(Date.now() / 1000) - 60 }, "AADSTS700024", "clock"],
    [
      "another audience",
      { aud: "https://login.microsoftonline.com/common/oauth2/v2.0/token" },
      "AADSTS700023",
      "POSTERN_MICROSOFT_AUTHORITY_HOST",
    ],
    ["another issuer", { iss: randomUUID() }, "AADSTS700021", "Application (client) ID"],
  ] as const)("%s", async (_name, claims, code, fix) => {
    const jwt = await handSigned(claims);
    const err = await refusal(msal({ clientAssertion: async () => jwt }));
    expect(err.summary).toContain(`(${code})`);
    expect(err.hint).toContain(fix);
  });

  it("an assertion that names no certificate is AADSTS50027", async () => {
    const jwt = await handSigned({}, { "x5t#S256": undefined });
    const err = await refusal(msal({ clientAssertion: async () => jwt }));
    expect(err.summary).toBe("Microsoft could not read Postern's client assertion (AADSTS50027).");
  });
});
