import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/** Opaque identifiers with a prefix that says what they are (`app_…`, `dlv_…`). */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}

/** A bearer secret of `bytes` random bytes (256 bits by default), URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** A uniformly random 6-digit code (leading zeros kept). */
export function randomCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
