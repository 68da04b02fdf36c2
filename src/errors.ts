/**
 * Domain errors are values with a stable machine code and a human sentence.
 * The HTTP layer maps `kind` to a status in one place (src/http/problem.ts).
 */
export type ErrorKind =
  | "invalid" // 400/422: the request is wrong; `field` names the offending field
  | "unauthorized" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "misdirected" // 421: the request is addressed to a host this server does not answer for
  | "rate_limited" // 429, with retryAfterSeconds
  | "unavailable"; // 503, with retryAfterSeconds

export class DomainError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    options: { field?: string; retryAfterSeconds?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "DomainError";
    this.kind = kind;
    this.code = code;
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }
}

export const invalid = (code: string, message: string, field?: string) =>
  new DomainError("invalid", code, message, field === undefined ? {} : { field });

export const notFound = (what: string) =>
  new DomainError("not_found", `${what}_not_found`, `No such ${what}.`);

export const forbidden = (code: string, message: string) => new DomainError("forbidden", code, message);

interface FieldError {
  field: string;
  message: string;
}

/**
 * Runs every check and throws once with each invalid field (problem+json `errors[]`, the first also as
 * `field`), so a form shows all its errors after one save instead of one per round trip.
 */
export function checkAll<T>(checks: (() => T)[]): T[] {
  const results: T[] = [];
  let first: DomainError | undefined;
  const errors: FieldError[] = [];
  for (const check of checks) {
    try {
      results.push(check());
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === "invalid" && error.field)) throw error;
      first ??= error;
      // A check may itself be a checkAll: keep each of its fields.
      const nested = error.details?.errors as FieldError[] | undefined;
      errors.push(...(nested ?? [{ field: error.field, message: error.message }]));
    }
  }
  if (first)
    throw new DomainError("invalid", first.code, first.message, {
      field: first.field!,
      details: { errors },
    });
  return results;
}
