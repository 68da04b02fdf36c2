// Self-signed X.509 certificates for tests, made with node:crypto alone: a minimal DER writer for the
// TBSCertificate of RFC 5280 §4.1, signed sha256WithRSAEncryption. Unlike `openssl req -x509 -days`, it
// can put notBefore/notAfter anywhere, so a test can hold a certificate that expired yesterday.
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";

export interface TestCertificate {
  /** PEM "CERTIFICATE" block. */
  certPem: string;
  /** PKCS#8 PEM, unencrypted (what msal-node's clientCertificate.privateKey wants). */
  keyPem: string;
  privateKey: KeyObject;
  /** Upper-case hex SHA-1 of the DER, what the Entra portal shows as "Thumbprint". */
  thumbprintSha1: string;
  /** Hex SHA-256 of the DER, what msal-node's clientCertificate.thumbprintSha256 wants. */
  thumbprintSha256: string;
  notBefore: Date;
  notAfter: Date;
}

export interface TestCertificateSpec {
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse a key pair (e.g. two certificates for one key); default a new RSA-2048 pair. */
  privateKey?: KeyObject;
}

const day = 24 * 3600 * 1000;

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, item: Buffer): Buffer => tlv(0xa0 + n, item);
const nullValue = Buffer.from([0x05, 0x00]);
const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, "utf8"));

function integer(bytes: Buffer): Buffer {
  const positive = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return tlv(0x02, positive);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const sha256WithRsa = sequence(oid("1.2.840.113549.1.1.11"), nullValue);

export function createTestCertificate(spec: TestCertificateSpec = {}): TestCertificate {
  const privateKey = spec.privateKey ?? generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const notBefore = spec.notBefore ?? new Date(Date.now() - day);
  const notAfter = spec.notAfter ?? new Date(Date.now() + 365 * day);
  const name = sequence(set(sequence(oid("2.5.4.3"), utf8(spec.commonName ?? "Postern test sender"))));
  // SubjectPublicKeyInfo DER, exactly what the certificate embeds.
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const serial = randomBytes(16);
  // DER wants a positive INTEGER in its fewest bytes (X.690 §8.3.2): top bit clear, first byte not zero.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    sha256WithRsa,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, sha256WithRsa, bitString(signature));
  const base64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  const certPem = `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
  // Parsing it back proves the DER is well-formed.
  new X509Certificate(certPem);
  return {
    certPem,
    keyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    privateKey,
    thumbprintSha1: createHash("sha1").update(der).digest("hex").toUpperCase(),
    thumbprintSha256: createHash("sha256").update(der).digest("hex"),
    notBefore: new Date(Math.floor(notBefore.getTime() / 1000) * 1000),
    notAfter: new Date(Math.floor(notAfter.getTime() / 1000) * 1000),
  };
}
