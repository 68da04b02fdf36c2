import type { Problem } from "./types.ts";

const dotted = (field: string) => field.replace(/\[(\d+)\]/g, ".$1");

/** "email: must be a valid email address" next to the email input reads "Must be a valid email address". */
function sentence(field: string, message: string): string {
  let text = message;
  for (const prefix of [`${field}: `, `${field} `, `${dotted(field)}: `, `${dotted(field)} `]) {
    if (text.startsWith(prefix)) {
      text = text.slice(prefix.length);
      break;
    }
  }
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The server's sentence, and for a rate limit when to try again and what sets the limit:
 * "Too many login emails for this address in the last hour. Try again in 12 minutes. …"
 */
function describeProblem({ code, detail, retryAfter, setting }: Problem): string {
  if (code !== "rate_limited" || retryAfter === undefined) return detail;
  const minutes = Math.ceil(retryAfter / 60);
  const wait =
    retryAfter < 60
      ? `${retryAfter} second${retryAfter === 1 ? "" : "s"}`
      : `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const limit = setting ? ` The operator setting ${setting} sets this limit.` : "";
  return `${detail} Try again in ${wait}.${limit}`;
}

/** A failed API call, carrying the server's RFC 9457 problem. */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(describeProblem(problem));
    this.name = "ApiError";
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }

  /**
   * Field errors keyed by dotted path (`redirectUrls.0`, `senderEmail`). Some domain errors name
   * array items as `redirectUrls[0]`; both spellings land on the same key.
   */
  fieldErrors(): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) errors[dotted(e.field)] ??= sentence(e.field, e.message);
    const field = this.problem.field;
    if (field && !errors[dotted(field)]) errors[dotted(field)] = sentence(field, this.problem.detail);
    return errors;
  }
}

type SessionExpiredListener = () => void;

let csrfToken: string | undefined;
let onSessionExpired: SessionExpiredListener | undefined;

/** The CSRF token that goes with the session cookie; sent on every mutation. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when any request answers 401 `not_signed_in`: the session is over. */
export function setSessionExpiredListener(listener: SessionExpiredListener | undefined): void {
  onSessionExpired = listener;
}

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function networkProblem(): Problem {
  return {
    type: "about:blank",
    title: "Network error",
    status: 0,
    code: "network_error",
    detail: "Could not reach Postern. Check your connection and try again.",
  };
}

/**
 * Any failure as an ApiError, so a catch block shows every error and not only the server's: a bug
 * in the dashboard itself reads "Something went wrong in the dashboard: …" instead of nothing.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError && /fetch/i.test(error.message)) return new ApiError(networkProblem());
  return new ApiError({
    type: "about:blank",
    title: "Dashboard error",
    status: 0,
    code: "client_error",
    detail: `Something went wrong in the dashboard: ${error instanceof Error ? error.message : String(error)}`,
  });
}

async function readProblem(response: Response): Promise<Problem> {
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "detail" in body && "code" in body) return body as Problem;
  } catch {
    // Not JSON (a proxy's error page, say): describe it from the status below.
  }
  return {
    type: "about:blank",
    title: response.statusText || "Error",
    status: response.status,
    code: `http_${response.status}`,
    detail: `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`,
  };
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Leave a 401 to the caller instead of ending the session (the sign-in check on load). */
  quietUnauthorized?: boolean;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (unsafe.has(method) && csrfToken) headers["x-csrf-token"] = csrfToken;
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) {
      if (value !== undefined && value !== "") params.set(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(networkProblem());
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    if (problem.status === 401 && problem.code === "not_signed_in" && !options.quietUnauthorized) {
      onSessionExpired?.();
    }
    throw new ApiError(problem);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>("GET", path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>("POST", path, { ...options, body: body ?? {} }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  delete: (path: string) => request<undefined>("DELETE", path),
  /** Whether a route answers at all: for optional features such as the dev mailbox. */
};

export const enc = encodeURIComponent;
