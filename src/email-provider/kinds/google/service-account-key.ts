import { createPrivateKey } from "node:crypto";
import type { FieldProblem } from "../kind.ts";

/** A key file is about 2.3 KB; anything far larger is not one. */
export const MAX_KEY_FILE_CHARS = 16 * 1024;
/** A service account's `client_email`, lower-cased: name@project.iam.gserviceaccount.com. */
export const CLIENT_EMAIL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9.-]+\.gserviceaccount\.com$/;
/** A service account's numeric `client_id`, what domain-wide delegation is granted to. */
export const CLIENT_ID_PATTERN = /^\d{10,30}$/;

/** What Postern keeps in the clear about a service account (the key file itself is sealed). */
export interface ServiceAccountIdentity {
  /** `client_email`: the account's address, e.g. postern@project.iam.gserviceaccount.com. */
  clientEmail: string;
  /** `client_id`: the numeric Unique ID that domain-wide delegation is granted to. */
  clientId: string;
  /** `private_key_id`: the key's ID as the Cloud console lists it under the account's Keys. */
  keyId: string;
}

/** The fields of a JSON key file Postern uses (https://cloud.google.com/iam/docs/keys-create-delete). */
export interface ServiceAccountKey extends ServiceAccountIdentity {
  privateKeyPem: string;
}

const FIELD = "serviceAccountKey";
const problem = (message: string): FieldProblem => ({
  field: FIELD,
  code: "invalid_service_account_key",
  message,
});
const KEY_FILE =
  "must be the service account's JSON key file (Google Cloud console → IAM & Admin → Service accounts → the account → Keys → Add key → Create new key → JSON)";

/**
 * Reads a pasted or uploaded JSON key file and checks what the JWT-bearer grant needs from it: a
 * service account's key with its address, numeric client ID, key ID and an RSA private key that opens.
 * Messages never quote the file: it holds the private key.
 */
export function parseServiceAccountKey(text: string): ServiceAccountKey | FieldProblem {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem(`${KEY_FILE}; this is not JSON`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return problem(KEY_FILE);
  const file = json as Record<string, unknown>;
  if (file.type !== "service_account") {
    return problem(
      file.type === "authorized_user" || file.installed !== undefined || file.web !== undefined
        ? `${KEY_FILE}; this is a user's or an OAuth client's credentials, not a service account key`
        : `${KEY_FILE}; its "type" is not "service_account"`,
    );
  }
  const clientEmail = typeof file.client_email === "string" ? file.client_email.trim().toLowerCase() : "";
  if (!CLIENT_EMAIL_PATTERN.test(clientEmail)) {
    return problem(`${KEY_FILE}; its "client_email" is not a service account address`);
  }
  const clientId = typeof file.client_id === "string" ? file.client_id.trim() : "";
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    return problem(`${KEY_FILE}; its "client_id" is not the account's numeric client ID`);
  }
  const keyId = typeof file.private_key_id === "string" ? file.private_key_id.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{16,64}$/.test(keyId)) return problem(`${KEY_FILE}; its "private_key_id" is missing`);
  const privateKeyPem = typeof file.private_key === "string" ? file.private_key : "";
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKeyPem)) {
    return problem(`${KEY_FILE}; its "private_key" is not a PEM private key`);
  }
  try {
    const key = createPrivateKey(privateKeyPem);
    // The grant is signed with RS256 (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
    if (key.asymmetricKeyType !== "rsa") return problem(`${KEY_FILE}; its "private_key" is not an RSA key`);
  } catch {
    return problem(`${KEY_FILE}; its "private_key" cannot be read`);
  }
  return { clientEmail, clientId, keyId, privateKeyPem };
}

export const isKeyProblem = (parsed: ServiceAccountKey | FieldProblem): parsed is FieldProblem =>
  "code" in parsed;
