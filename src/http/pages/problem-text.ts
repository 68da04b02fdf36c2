import { DomainError } from "../../errors.ts";
import type { Messages } from "./messages.ts";

/** What a person reads for a domain error on a page: the catalogue's sentence for its code. */
export function problemText(m: Messages, err: unknown): string {
  if (!(err instanceof DomainError)) return m.problems.unexpected;
  switch (err.code) {
    case "invalid_code": {
      const left = err.details?.attemptsRemaining;
      return m.problems.invalidCode(typeof left === "number" ? left : 0);
    }
    case "too_many_attempts":
      return m.problems.tooManyAttempts;
    case "login_expired":
      return m.problems.loginExpired;
    case "link_invalid":
      return m.problems.linkInvalid;
    case "rate_limited":
      return m.problems.rateLimited(err.retryAfterSeconds ?? 60);
    default:
      return err.message;
  }
}

/** Errors that are the person's to fix on the same form (a wrong code); the rest end the login. */
export const isRetryable = (err: unknown) =>
  err instanceof DomainError && (err.code === "invalid_code" || err.code === "rate_limited");

export function statusOfProblem(err: unknown): number {
  if (!(err instanceof DomainError)) return 500;
  if (err.kind === "rate_limited") return 429;
  if (err.kind === "forbidden") return 403;
  return 400;
}
