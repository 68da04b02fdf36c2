// The credential Postern presents to Entra for a Microsoft provider: a client secret, or a certificate whose
// private key signs a client assertion (RFC 7523 §2.2; Entra's format:
// https://learn.microsoft.com/entra/identity-platform/certificate-credentials). msal-node builds and signs
// the assertion; this module only hands it the right fields, and says how long the credential has left.
import { createHash, X509Certificate } from "node:crypto";
import type { NodeAuthOptions } from "@azure/msal-node";
import { daysLeft } from "./certificate.ts";

export type MicrosoftCredential =
  | {
      kind: "secret";
      clientSecret: string;
      /** The "Expires" date Entra shows beside the secret, when the developer entered it; Entra has no API Postern could ask. */
      expiresOn?: Date;
    }
  | {
      kind: "certificate";
      /** PKCS#8 PEM, as parseUploadedCertificate and generateCertificate store it. */
      privateKeyPem: string;
      certificatePem: string;
      /** Base64url SHA-256 of the certificate's DER (the x5t#S256 header). */
      thumbprintSha256: string;
    };

export type MsalCredential = Pick<NodeAuthOptions, "clientSecret" | "clientCertificate">;

/**
 * The `auth` fields of msal-node's ConfidentialClientApplication for a stored credential. With
 * `thumbprintSha256`, msal-node 7 signs PS256 and names the certificate in `x5t#S256`, as Entra asks; its
 * deprecated `thumbprint` (SHA-1) would sign RS256 with `x5t`. `x5c` adds the certificate itself to the
 * header (RFC 7515 §4.1.6), which Entra needs only for subject-name-and-issuer registrations and otherwise ignores.
 */
export function msalCredential(credential: MicrosoftCredential): MsalCredential {
  if (credential.kind === "secret") return { clientSecret: credential.clientSecret };
  const thumbprint = Buffer.from(credential.thumbprintSha256, "base64url");
  const der = new X509Certificate(credential.certificatePem).raw;
  // A stored thumbprint that names another certificate would only ever come back as AADSTS700027.
  if (!thumbprint.equals(createHash("sha256").update(der).digest())) {
    throw new Error("the stored SHA-256 thumbprint is not the stored certificate's");
  }
  return {
    clientCertificate: {
      // msal-node wants hex and encodes it to base64url itself.
      thumbprintSha256: thumbprint.toString("hex"),
      privateKey: credential.privateKeyPem,
      x5c: credential.certificatePem,
    },
  };
}

/** From this many days before it, a credential is reported as expiring (dashboard warning, weekly email). */
export const EXPIRING_WITHIN_DAYS = 30;

export interface CredentialExpiry {
  expiresAt: Date;
  /** Whole days until expiresAt, 0 once it has passed. */
  daysLeft: number;
  state: "ok" | "expiring" | "expired";
}

/**
 * When a credential stops working: a certificate at its notAfter (Entra takes the key's end date from it),
 * a secret on the date the developer entered. Undefined for a secret without one: Postern cannot know.
 */
export function credentialExpiry(credential: MicrosoftCredential, now: Date): CredentialExpiry | undefined {
  const expiresAt =
    credential.kind === "certificate"
      ? new Date(new X509Certificate(credential.certificatePem).validTo)
      : credential.expiresOn;
  if (expiresAt === undefined) return undefined;
  const left = daysLeft(expiresAt, now);
  const state =
    expiresAt.getTime() <= now.getTime() ? "expired" : left <= EXPIRING_WITHIN_DAYS ? "expiring" : "ok";
  return { expiresAt, daysLeft: left, state };
}
