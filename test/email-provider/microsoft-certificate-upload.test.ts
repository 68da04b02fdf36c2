// What Postern accepts as an Entra certificate credential and what it shows of one: every upload problem has
// its own code on its own field, a generated certificate is what openssl and Entra expect, the view never
// carries the private key, and expiry is counted in days.
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateDescription,
  certificateView,
  DEFAULT_VALID_DAYS,
  generateCertificate,
  MAX_PEM_CHARS,
  MAX_VALID_DAYS,
  parseUploadedCertificate,
} from "../../src/email-provider/kinds/microsoft/certificate.ts";
import { credentialExpiry, msalCredential } from "../../src/email-provider/kinds/microsoft/credentials.ts";

const day = 24 * 3600 * 1000;
const now = () => new Date();
let dir: string;
const file = (name: string): string => readFileSync(join(dir, name), "utf8");

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
/** A self-signed certificate and PKCS#8 key made by openssl, as a developer would. */
function opensslPair(name: string, newkey: string[]): void {
  openssl(
    "req",
    "-x509",
    ...newkey,
    "-nodes",
    "-days",
    "30",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}-cert.pem`,
  );
}

let generated: CertificateDescription;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "postern-cert-upload-"));
  opensslPair("good", ["-newkey", "rsa:2048"]);
  opensslPair("other", ["-newkey", "rsa:2048"]);
  opensslPair("small", ["-newkey", "rsa:1024"]);
  opensslPair("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
  openssl("pkey", "-in", "good-key.pem", "-aes256", "-passout", "pass:hunter2", "-out", "enc-p8.pem");
  openssl(
    "pkey",
    "-in",
    "good-key.pem",
    "-traditional",
    "-aes256",
    "-passout",
    "pass:hunter2",
    "-out",
    "enc-p1.pem",
  );
  openssl("pkey", "-in", "good-key.pem", "-pubout", "-out", "good-pub.pem");
  openssl("req", "-new", "-key", "good-key.pem", "-subj", "/CN=csr", "-out", "good.csr");
  generated = await generateCertificate({ subject: "Postern acme", now: now() });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(certificatePem: string, privateKeyPem: string, at = now()) {
  const parsed = parseUploadedCertificate(certificatePem, privateKeyPem, at);
  return parsed.ok ? [] : parsed.problems.map(({ field, code }) => `${field}:${code}`);
}

describe("uploading a certificate and private key", () => {
  it("accepts openssl's certificate and key and describes them as the Entra portal would", () => {
    const parsed = parseUploadedCertificate(file("good-cert.pem"), file("good-key.pem"), now());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const fingerprint = (algorithm: string) =>
      openssl("x509", "-in", "good-cert.pem", "-noout", "-fingerprint", `-${algorithm}`)
        .split("=")[1]
        ?.trim()
        .replaceAll(":", "");
    expect(parsed.certificate.thumbprintSha1).toBe(fingerprint("sha1"));
    expect(Buffer.from(parsed.certificate.thumbprintSha256, "base64url").toString("hex").toUpperCase()).toBe(
      fingerprint("sha256"),
    );
    expect(parsed.certificate.notAfter.getTime() - parsed.certificate.notBefore.getTime()).toBe(30 * day);
  });

  it("accepts CRLF line breaks and text around the PEM blocks (openssl pkcs12's Bag Attributes)", () => {
    const crlf = (pem: string) => pem.replaceAll("\n", "\r\n");
    const withBag = `Bag Attributes\n    localKeyID: 01 00 00 00\n${file("good-key.pem")}`;
    expect(problemsOf(crlf(file("good-cert.pem")), crlf(withBag))).toEqual([]);
  });

  const cases: [string, () => [string, string], string[]][] = [
    [
      "a certificate that is not PEM (binary DER)",
      () => [derOf("good-cert.pem"), file("good-key.pem")],
      ["certificatePem:not_pem"],
    ],
    [
      "a key that is not PEM",
      () => [file("good-cert.pem"), "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"],
      ["privateKeyPem:not_pem"],
    ],
    [
      "the private key pasted as the certificate",
      () => [file("good-key.pem"), file("good-key.pem")],
      ["certificatePem:not_a_certificate"],
    ],
    [
      "a certificate request instead of a certificate",
      () => [file("good.csr"), file("good-key.pem")],
      ["certificatePem:not_a_certificate"],
    ],
    [
      "a damaged certificate",
      () => [
        file("good-cert.pem").replace(/\n[A-Za-z0-9+/]{20}/, "\nAAAAAAAAAAAAAAAAAAAA"),
        file("good-key.pem"),
      ],
      ["certificatePem:not_a_certificate"],
    ],
    [
      "a certificate chain",
      () => [file("good-cert.pem") + file("other-cert.pem"), file("good-key.pem")],
      ["certificatePem:several_certificates"],
    ],
    [
      "a public key instead of the private key",
      () => [file("good-cert.pem"), file("good-pub.pem")],
      ["privateKeyPem:not_a_private_key"],
    ],
    [
      "the certificate pasted as the key",
      () => [file("good-cert.pem"), file("good-cert.pem")],
      ["privateKeyPem:not_a_private_key"],
    ],
    [
      "an encrypted PKCS#8 key",
      () => [file("good-cert.pem"), file("enc-p8.pem")],
      ["privateKeyPem:encrypted_private_key"],
    ],
    [
      "an encrypted PKCS#1 key (Proc-Type: 4,ENCRYPTED)",
      () => [file("good-cert.pem"), file("enc-p1.pem")],
      ["privateKeyPem:encrypted_private_key"],
    ],
    [
      "a key of another certificate",
      () => [file("good-cert.pem"), file("other-key.pem")],
      ["privateKeyPem:key_mismatch"],
    ],
    ["an EC key", () => [file("ec-cert.pem"), file("ec-key.pem")], ["privateKeyPem:unsupported_key_type"]],
    [
      "an RSA key under 2048 bits",
      () => [file("small-cert.pem"), file("small-key.pem")],
      ["privateKeyPem:key_too_small"],
    ],
    [
      "an oversized certificate field",
      () => [`${file("good-cert.pem")}${" ".repeat(MAX_PEM_CHARS)}`, file("good-key.pem")],
      ["certificatePem:too_large"],
    ],
    [
      "an oversized key field",
      () => [file("good-cert.pem"), "k".repeat(MAX_PEM_CHARS + 1)],
      ["privateKeyPem:too_large"],
    ],
    [
      "both fields wrong at once",
      () => ["", file("enc-p8.pem")],
      ["certificatePem:not_pem", "privateKeyPem:encrypted_private_key"],
    ],
  ];
  it.each(cases)("refuses %s", (_name, input, expected) => {
    expect(problemsOf(...input())).toEqual(expected);
  });

  it("refuses an expired certificate and one not valid yet, by the clock it is given", () => {
    const { certificatePem, privateKeyPem, notBefore, notAfter } = generated;
    expect(problemsOf(certificatePem, privateKeyPem, new Date(notAfter.getTime() + 1000))).toEqual([
      "certificatePem:expired",
    ]);
    expect(problemsOf(certificatePem, privateKeyPem, new Date(notBefore.getTime() - 1000))).toEqual([
      "certificatePem:not_yet_valid",
    ]);
  });

  it("says how to remove a passphrase, with the openssl command", () => {
    const parsed = parseUploadedCertificate(file("good-cert.pem"), file("enc-p8.pem"), now());
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems[0]?.message).toContain("`openssl pkey -in key.pem -out key-nopass.pem`");
    expect(parsed.problems[0]?.message).toContain("-nodes");
  });

  it("takes a combined PEM (certificate and key in one file) in both fields, storing the certificate alone", () => {
    const combined = file("good-cert.pem") + file("good-key.pem");
    const parsed = parseUploadedCertificate(combined, combined, now());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.certificate.certificatePem).not.toContain("PRIVATE KEY");
    expect(certificateView(parsed.certificate, now()).certificatePem).toBe(
      new X509Certificate(file("good-cert.pem")).toString(),
    );
  });

  it("never echoes key material in a problem's message", () => {
    const key = file("good-key.pem");
    const body = key.split("\n")[1] ?? "";
    const parsed = parseUploadedCertificate(key, `${key}${key}`, now());
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain(body);
  });
});

function derOf(name: string): string {
  return new X509Certificate(file(name)).raw.toString("latin1");
}

describe("a certificate Postern generates", () => {
  it("is RSA 2048, SHA-256, self-signed, for signatures only, valid a year from now by default", () => {
    writeFileSync(join(dir, "generated.pem"), generated.certificatePem);
    const text = openssl("x509", "-in", "generated.pem", "-noout", "-text");
    expect(text).toContain("Public-Key: (2048 bit)");
    expect(text).toContain("Signature Algorithm: sha256WithRSAEncryption");
    expect(text).toContain("Subject: CN = Postern acme");
    expect(text).toContain("Issuer: CN = Postern acme");
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toContain("TLS Web Client Authentication");
    expect(text).toContain("CA:FALSE");
    const days = (generated.notAfter.getTime() - Date.now()) / day;
    expect(days).toBeGreaterThan(DEFAULT_VALID_DAYS - 1);
    expect(days).toBeLessThanOrEqual(DEFAULT_VALID_DAYS);
    // Usable at once even by a clock a few minutes behind.
    expect(generated.notBefore.getTime()).toBeLessThan(Date.now() - 5 * 60_000);
  });

  it("has thumbprints computed over its DER, upper-case hex SHA-1 and base64url SHA-256", () => {
    const der = new X509Certificate(generated.certificatePem).raw;
    expect(generated.thumbprintSha1).toBe(createHash("sha1").update(der).digest("hex").toUpperCase());
    expect(generated.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    expect(generated.thumbprintSha256).toBe(createHash("sha256").update(der).digest("base64url"));
  });

  it("passes the upload checks itself, and a new key pair every time", async () => {
    expect(problemsOf(generated.certificatePem, generated.privateKeyPem)).toEqual([]);
    const again = await generateCertificate({ subject: "Postern acme", now: now(), validDays: 30 });
    expect(again.privateKeyPem).not.toBe(generated.privateKeyPem);
    expect(again.thumbprintSha1).not.toBe(generated.thumbprintSha1);
  });

  it("keeps a subject of any text to a readable common name of at most 64 characters", async () => {
    const odd = await generateCertificate({
      subject: `Acme "login", + <ops>\\\n${"x".repeat(100)}`,
      now: now(),
      validDays: 1,
    });
    const subject = new X509Certificate(odd.certificatePem).subject;
    expect(subject).toMatch(/^CN=Acme login ops x+$/);
    expect(subject.length).toBe("CN=".length + 64);
  });

  it.each([0, MAX_VALID_DAYS + 1, 1.5])("refuses validDays %s", async (validDays) => {
    await expect(generateCertificate({ subject: "x", now: now(), validDays })).rejects.toThrow(RangeError);
  });
});

describe("what the API may show of a certificate credential", () => {
  it("is the public certificate, both thumbprints, notAfter and days left, never the private key", () => {
    const view = certificateView(generated, new Date(generated.notAfter.getTime() - 10.5 * day));
    expect(Object.keys(view).sort()).toEqual(
      ["certificatePem", "daysLeft", "notAfter", "thumbprintSha1", "thumbprintSha256"].sort(),
    );
    expect(view.daysLeft).toBe(10);
    const shown = JSON.stringify(view);
    expect(shown).not.toContain("PRIVATE KEY");
    for (const line of generated.privateKeyPem.split("\n").filter((l) => l.length > 20)) {
      expect(shown).not.toContain(line);
    }
  });
});

describe("credential expiry", () => {
  const certificate = () => ({
    kind: "certificate" as const,
    privateKeyPem: generated.privateKeyPem,
    certificatePem: generated.certificatePem,
    thumbprintSha256: generated.thumbprintSha256,
  });

  it("counts a certificate's days to its notAfter: ok, expiring from 30 days before, then expired", () => {
    const at = (daysBefore: number) =>
      credentialExpiry(certificate(), new Date(generated.notAfter.getTime() - daysBefore * day));
    expect(at(31)).toEqual({ expiresAt: generated.notAfter, daysLeft: 31, state: "ok" });
    expect(at(30)).toMatchObject({ daysLeft: 30, state: "expiring" });
    expect(at(0.5)).toMatchObject({ daysLeft: 0, state: "expiring" });
    expect(at(0)).toMatchObject({ daysLeft: 0, state: "expired" });
    expect(at(-3)).toMatchObject({ daysLeft: 0, state: "expired" });
  });

  it("counts a secret's days to the expiry date the developer entered, and knows nothing without one", () => {
    const expiresOn = new Date("2027-03-01T00:00:00Z");
    const secret = { kind: "secret" as const, clientSecret: "s", expiresOn };
    expect(credentialExpiry(secret, new Date("2027-02-01T00:00:00Z"))).toEqual({
      expiresAt: expiresOn,
      daysLeft: 28,
      state: "expiring",
    });
    expect(credentialExpiry(secret, new Date("2027-03-02T00:00:00Z"))?.state).toBe("expired");
    expect(credentialExpiry({ kind: "secret", clientSecret: "s" }, now())).toBeUndefined();
  });
});

describe("msal-node's credential for a stored one", () => {
  it("is the client secret alone for a secret", () => {
    expect(msalCredential({ kind: "secret", clientSecret: "s3cret", expiresOn: new Date() })).toEqual({
      clientSecret: "s3cret",
    });
  });

  it("is the hex SHA-256 thumbprint, the PKCS#8 key and the certificate for x5c", () => {
    const { thumbprintSha256, privateKeyPem, certificatePem } = generated;
    expect(msalCredential({ kind: "certificate", thumbprintSha256, privateKeyPem, certificatePem })).toEqual({
      clientCertificate: {
        thumbprintSha256: Buffer.from(thumbprintSha256, "base64url").toString("hex"),
        privateKey: privateKeyPem,
        x5c: certificatePem,
      },
    });
  });

  it("refuses a stored thumbprint that is not the stored certificate's", async () => {
    const other = await generateCertificate({ subject: "other", now: now(), validDays: 1 });
    expect(() =>
      msalCredential({
        kind: "certificate",
        thumbprintSha256: other.thumbprintSha256,
        privateKeyPem: generated.privateKeyPem,
        certificatePem: generated.certificatePem,
      }),
    ).toThrow(/thumbprint/);
  });
});
