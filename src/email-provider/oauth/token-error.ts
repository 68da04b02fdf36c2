import type { ErrorClass } from "../../mail/smtp-errors.ts";

/**
 * A token endpoint failure, already classified: `errorClass` "token" for configuration the developer
 * must fix (then `hint` says how), "transient" for outages Postern retries. The message carries both, so
 * the delivery log and the provider's health show the fix; it never carries the secret.
 */
export class TokenError extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    readonly summary: string,
    readonly hint: string | undefined,
  ) {
    super(hint ? `${summary} ${hint}` : summary);
    this.name = "TokenError";
  }
}
