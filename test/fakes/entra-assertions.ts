// Client assertions (certificate credentials) checked the way Entra documents them
// (https://learn.microsoft.com/entra/identity-platform/certificate-credentials): a JWT signed PS256 (or RS256, what
// msal-node's deprecated SHA-1 `thumbprint` option sends) with the registered certificate's key, naming it in
// `x5t#S256` (or `x5t`), with aud = the token endpoint, iss = sub = client id, nbf/exp around now and a jti.
// Entra does not say in which order it checks; this one trusts no claim before the signature.
import { constants, verify, X509Certificate } from "node:crypto";
import type { FakeApp, FakeCertificate } from "./entra-directory.ts";
import { type EntraError, entraErrors } from "./entra-errors.ts";

export const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface AcceptedAssertion {
  certificate: FakeCertificate;
  alg: "PS256" | "RS256";
  /** Which header named the certificate. */
  thumbprintHeader: "x5t#S256" | "x5t";
  /** Whether the header carried the certificate chain (msal-node's x5c option, for subject-name/issuer registrations). */
  x5c: boolean;
  jti: string;
  exp: number;
}

export interface AssertionContext {
  app: FakeApp;
  /** client_id as sent. */
  clientId: string;
  /** Token endpoint URLs this request may name as aud (tenant id or domain, this host or the public cloud's). */
  audiences: string[];
  now: Date;
  /** Entra tolerates some clock skew on nbf; 5 minutes here (an assumption, not documented). */
  skewSeconds?: number;
}

type Jwt = {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signed: Buffer;
  signature: Buffer;
};

function parseJwt(compact: string): Jwt | undefined {
  const parts = compact.split(".");
  if (parts.length !== 3) return undefined;
  const [h = "", p = "", s = ""] = parts;
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as unknown;
    if (typeof header !== "object" || header === null || typeof payload !== "object" || payload === null) {
      return undefined;
    }
    return {
      header: header as Record<string, unknown>,
      payload: payload as Record<string, unknown>,
      signed: Buffer.from(`${h}.${p}`),
      signature: Buffer.from(s, "base64url"),
    };
  } catch {
    return undefined;
  }
}

function signatureValid(jwt: Jwt, alg: "PS256" | "RS256", certificate: FakeCertificate): boolean {
  const key = certificate.certificate.publicKey;
  // PS256 is RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 7518 §3.5).
  const options =
    alg === "PS256"
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : { key, padding: constants.RSA_PKCS1_PADDING };
  try {
    return verify("sha256", jwt.signed, options, jwt.signature);
  } catch {
    return false;
  }
}

export function checkClientAssertion(
  assertion: string,
  context: AssertionContext,
): AcceptedAssertion | EntraError {
  const jwt = parseJwt(assertion);
  if (!jwt) return entraErrors.assertionMalformed("The client assertion is not a JWS compact serialization.");
  const { header, payload } = jwt;
  const alg = header.alg;
  if (alg !== "PS256" && alg !== "RS256") {
    return entraErrors.assertionMalformed(`Unsupported signing algorithm '${String(alg)}'.`);
  }
  const x5tS256 = typeof header["x5t#S256"] === "string" ? header["x5t#S256"] : undefined;
  const x5t = typeof header.x5t === "string" ? header.x5t : undefined;
  const named = x5tS256 ?? x5t;
  if (named === undefined) return entraErrors.assertionMalformed("No x5t#S256 or x5t header.");
  const thumbprint = Buffer.from(named, "base64url").toString("hex").toUpperCase();
  const clientId = context.clientId.toLowerCase();
  if (String(payload.iss).toLowerCase() !== clientId || String(payload.sub).toLowerCase() !== clientId) {
    return entraErrors.assertionIssuerMismatch();
  }
  if (typeof payload.aud !== "string" || !context.audiences.includes(payload.aud)) {
    return entraErrors.assertionAudienceMismatch();
  }
  const certificate = context.app.certificates.find((c) =>
    x5tS256 === undefined ? c.thumbprintSha1 === thumbprint : c.thumbprintSha256 === thumbprint,
  );
  if (!certificate) return entraErrors.certificateNotRegistered(thumbprint, context.app.clientId);
  if (certificate.endsAt.getTime() <= context.now.getTime()) {
    return entraErrors.certificateExpired(thumbprint, certificate);
  }
  const x5c = Array.isArray(header.x5c) ? header.x5c : undefined;
  const chainMatches =
    x5c === undefined ||
    (typeof x5c[0] === "string" &&
      new X509Certificate(Buffer.from(x5c[0], "base64")).fingerprint256 ===
        certificate.certificate.fingerprint256);
  if (!chainMatches || !signatureValid(jwt, alg, certificate)) {
    return entraErrors.assertionSignatureMismatch(thumbprint, certificate);
  }
  const seconds = context.now.getTime() / 1000;
  const nbf = typeof payload.nbf === "number" ? payload.nbf : undefined;
  const exp = typeof payload.exp === "number" ? payload.exp : undefined;
  if (exp === undefined || typeof payload.jti !== "string") {
    return entraErrors.assertionMalformed("The client assertion lacks exp or jti.");
  }
  if (exp <= seconds || (nbf !== undefined && nbf > seconds + (context.skewSeconds ?? 300))) {
    return entraErrors.assertionOutsideTimeRange(
      context.now,
      new Date((nbf ?? exp) * 1000),
      new Date(exp * 1000),
    );
  }
  return {
    certificate,
    alg,
    thumbprintHeader: x5tS256 === undefined ? "x5t" : "x5t#S256",
    x5c: x5c !== undefined,
    jti: payload.jti,
    exp,
  };
}
