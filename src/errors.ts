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
