// Certificate credentials for an Entra app registration: a key pair and self-signed certificate Postern makes,
// or a certificate and private key the developer uploads. Entra signs nothing here: it only checks client
// assertions against the registered certificate's public key, so a self-signed certificate is what Microsoft
// documents (https://learn.microsoft.com/entra/identity-platform/howto-create-self-signed-certificate: RSA only,
// 2048 bits recommended, SHA-256, one year).
import { createHash, createPrivateKey, KeyObject, webcrypto, X509Certificate } from "node:crypto";

/**
 * @peculiar/x509, which only generating a certificate needs, with the reflect-metadata polyfill it
 * requires: loaded then, not at start (with its dependencies, about a tenth of a second).
 */
async function x509Library() {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(webcrypto as Crypto);
  return x509;
}

/** A certificate credential as Postern stores it (the private key sealed with the rest of the secrets). */
export interface CertificateDescription {
  /** The public certificate, PEM. */
  certificatePem: string;
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted, whatever form was uploaded. */
  privateKeyPem: string;
  /** Upper-case hex SHA-1 of the DER: the "Thumbprint" the Entra portal lists under Certificates & secrets. */
  thumbprintSha1: string;
  /** Base64url SHA-256 of the DER: the `x5t#S256` header of Postern's client assertions. */
  thumbprintSha256: string;
  notBefore: Date;
  notAfter: Date;
}

/** What the API and the dashboard may show of a certificate credential: never its private key. */
export interface CertificateView {
  certificatePem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  notAfter: Date;
  daysLeft: number;
}

export type CertificateField = "certificatePem" | "privateKeyPem";

export type CertificateProblemCode =
  | "too_large"
  | "not_pem"
  | "not_a_certificate"
  | "several_certificates"
  | "not_a_private_key"
  | "encrypted_private_key"
  | "unsupported_key_type"
  | "key_too_small"
  | "key_mismatch"
  | "expired"
  | "not_yet_valid";

export interface CertificateProblem {
  field: CertificateField;
  code: CertificateProblemCode;
  message: string;
}

export type ParsedCertificate =
  | { ok: true; certificate: CertificateDescription }
  | { ok: false; problems: CertificateProblem[] };

const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_VALID_DAYS = 365;
/**
 * Entra documents no upper bound for certificates (a tenant may set one with an app management policy's
 * asymmetricKeyLifetime, https://learn.microsoft.com/graph/api/resources/keycredentialconfiguration); Postern
 * stops at three years so a leaked key does not stay usable for decades.
 */
export const MAX_VALID_DAYS = 3 * 365;
const MIN_RSA_BITS = 2048;
/** Far above a 16384-bit RSA key in PEM (about 13 KB) or a certificate with many extensions. */
export const MAX_PEM_CHARS = 20_000;
/** ub-common-name (RFC 5280, Appendix A.1). */
const MAX_COMMON_NAME = 64;
/** Entra checks notBefore against its own clock; a few minutes' start keeps a fresh certificate usable at once. */
const BACKDATE_MS = 10 * 60 * 1000;

// RSASSA-PKCS1-v1_5 only names the certificate's self-signature; the same RSA key signs PS256 assertions.
const RSA_SHA256: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: MIN_RSA_BITS,
};

/**
 * The certificate's common name, in characters @peculiar/x509 keeps as given (its name parser drops text
 * around quotes and backslashes); the name is only a label in the Entra portal.
 */
function commonName(subject: string): string {
  const cleaned = subject
    .replace(/[^\p{L}\p{N} .\-_()/@:&']/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, MAX_COMMON_NAME)
    .trim();
  return cleaned || "Postern";
}

export function daysLeft(until: Date, now: Date): number {
  return Math.max(0, Math.floor((until.getTime() - now.getTime()) / DAY_MS));
}

function describeCertificate(certificate: X509Certificate, privateKey: KeyObject): CertificateDescription {
  const digest = (algorithm: "sha1" | "sha256") => createHash(algorithm).update(certificate.raw);
  return {
    // node's PEM has the "\n" line breaks msal-node's x5c parser expects.
    certificatePem: certificate.toString(),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    thumbprintSha1: digest("sha1").digest("hex").toUpperCase(),
    thumbprintSha256: digest("sha256").digest("base64url"),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

/** A new RSA-2048 key pair and a self-signed SHA-256 certificate for it, valid from `now` for `validDays`. */
export async function generateCertificate(options: {
  subject: string;
  now: Date;
  validDays?: number;
}): Promise<CertificateDescription> {
  const validDays = options.validDays ?? DEFAULT_VALID_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > MAX_VALID_DAYS) {
    throw new RangeError(`validDays must be a whole number from 1 to ${MAX_VALID_DAYS}`);
  }
  const x509 = await x509Library();
  const keys = (await webcrypto.subtle.generateKey(RSA_SHA256, true, ["sign", "verify"])) as CryptoKeyPair;
  const generated = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [commonName(options.subject)] }],
    notBefore: new Date(options.now.getTime() - BACKDATE_MS),
    notAfter: new Date(options.now.getTime() + validDays * DAY_MS),
    keys,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return describeCertificate(new X509Certificate(generated.toString("pem")), KeyObject.from(keys.privateKey));
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const pemLabels = (text: string): string[] => [...text.matchAll(PEM_LABEL)].map((m) => m[1] ?? "");

const DECRYPT_HINT =
  "Export it without a passphrase and paste that: `openssl pkey -in key.pem -out key-nopass.pem` (it asks for the passphrase once), or from a .pfx file `openssl pkcs12 -in certificate.pfx -nocerts -nodes -out key-nopass.pem`.";

function readCertificate(
  pem: string,
  now: Date,
): { certificate: X509Certificate } | { problem: CertificateProblem } {
  const problem = (code: CertificateProblemCode, message: string) => ({
    problem: { field: "certificatePem" as const, code, message },
  });
  if (pem.length > MAX_PEM_CHARS) {
    return problem("too_large", `The certificate is longer than ${MAX_PEM_CHARS} characters.`);
  }
  const labels = pemLabels(pem);
  if (labels.length === 0) {
    return problem(
      "not_pem",
      "Paste the certificate in PEM format, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----. Convert a binary .cer or .der file with `openssl x509 -inform der -in certificate.cer -out certificate.pem`.",
    );
  }
  const certificates = labels.filter((label) => label === "CERTIFICATE").length;
  if (certificates > 1) {
    return problem(
      "several_certificates",
      "Paste only the certificate registered on the app registration, not a chain: the first -----BEGIN CERTIFICATE----- block of the file.",
    );
  }
  let certificate: X509Certificate;
  try {
    if (certificates === 0) throw new Error("no CERTIFICATE block");
    certificate = new X509Certificate(pem);
  } catch {
    return problem(
      "not_a_certificate",
      `This is not an X.509 certificate${labels[0] === "CERTIFICATE" ? "" : ` but a PEM "${labels[0]}" block`}. Paste the public certificate (-----BEGIN CERTIFICATE-----).`,
    );
  }
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    return problem(
      "expired",
      `The certificate expired on ${notAfter.toISOString()}; Entra refuses assertions signed with it. Upload a renewed certificate, or let Postern generate one.`,
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    return problem(
      "not_yet_valid",
      `The certificate is valid only from ${notBefore.toISOString()}. Upload it then, or one that is valid now.`,
    );
  }
  return { certificate };
}

function readPrivateKey(pem: string): { key: KeyObject } | { problem: CertificateProblem } {
  const problem = (code: CertificateProblemCode, message: string) => ({
    problem: { field: "privateKeyPem" as const, code, message },
  });
  if (pem.length > MAX_PEM_CHARS) {
    return problem("too_large", `The private key is longer than ${MAX_PEM_CHARS} characters.`);
  }
  const labels = pemLabels(pem);
  if (labels.length === 0) {
    return problem(
      "not_pem",
      "Paste the private key in PEM format, from -----BEGIN PRIVATE KEY----- (or -----BEGIN RSA PRIVATE KEY-----) to its END line.",
    );
  }
  // PKCS#8 "ENCRYPTED PRIVATE KEY" (RFC 5958), or OpenSSL's legacy PKCS#1 with a Proc-Type header (RFC 1421).
  if (labels.includes("ENCRYPTED PRIVATE KEY") || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(pem)) {
    return problem("encrypted_private_key", `The private key is protected by a passphrase. ${DECRYPT_HINT}`);
  }
  const keyBlocks = labels.filter((label) => label.endsWith("PRIVATE KEY"));
  let key: KeyObject;
  try {
    if (keyBlocks.length !== 1) throw new Error("not one private key block");
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    return problem(
      "not_a_private_key",
      "This is not a private key in a form Postern reads. Paste one unencrypted RSA private key: PKCS#8 (-----BEGIN PRIVATE KEY-----) or PKCS#1 (-----BEGIN RSA PRIVATE KEY-----). Convert others with `openssl pkey -in key.pem -out key-pkcs8.pem`.",
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    return problem(
      "unsupported_key_type",
      `This is ${key.asymmetricKeyType === undefined ? "not an asymmetric" : `an ${key.asymmetricKeyType.toUpperCase()}`} key; Entra accepts only RSA keys for certificate credentials. Create an RSA key pair (2048 bits or more) and certificate, or let Postern generate one.`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    return problem(
      "key_too_small",
      `The RSA key has ${bits} bits; use at least ${MIN_RSA_BITS} (what Microsoft recommends), or let Postern generate one.`,
    );
  }
  return { key };
}

/**
 * Checks an uploaded certificate and its private key (PEM; the key PKCS#8 or PKCS#1, unencrypted) and
 * describes them, or lists every problem found, by field, with a stable code and a sentence saying what to do.
 */
export function parseUploadedCertificate(
  certificatePem: string,
  privateKeyPem: string,
  now: Date,
): ParsedCertificate {
  const certificate = readCertificate(certificatePem, now);
  const key = readPrivateKey(privateKeyPem);
  const problems = [certificate, key].flatMap((read) => ("problem" in read ? [read.problem] : []));
  if ("problem" in certificate || "problem" in key) return { ok: false, problems };
  if (!certificate.certificate.checkPrivateKey(key.key)) {
    return {
      ok: false,
      problems: [
        {
          field: "privateKeyPem",
          code: "key_mismatch",
          message:
            "This private key does not belong to the certificate. Paste the key the certificate was made for (`openssl x509 -in certificate.pem -noout -pubkey` and `openssl pkey -in key.pem -pubout` print the same public key when they match).",
        },
      ],
    };
  }
  return { ok: true, certificate: describeCertificate(certificate.certificate, key.key) };
}

/** The public side of a certificate credential, with the days left before Entra stops accepting it. */
export function certificateView(description: CertificateDescription, now: Date): CertificateView {
  return {
    certificatePem: description.certificatePem,
    thumbprintSha1: description.thumbprintSha1,
    thumbprintSha256: description.thumbprintSha256,
    notAfter: description.notAfter,
    daysLeft: daysLeft(description.notAfter, now),
  };
}
