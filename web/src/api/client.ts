import type { Method, Operation, ParamsArgument, PathWith, ResponseOf } from "./operations.ts";
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

/** `/api/apps/{appId}` with `{ appId: "app 1" }` is `/api/apps/app%201`. */
function fillPath(template: string, params: Record<string, string> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`${template} needs the path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

function withQuery(url: string, query: Record<string, string | number | boolean | undefined> | undefined) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}

interface RequestOptions {
  path?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  quietUnauthorized?: boolean;
}

async function request(method: Method, template: string, options: RequestOptions = {}): Promise<unknown> {
  const verb = method.toUpperCase();
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (unsafe.has(verb) && csrfToken) headers["x-csrf-token"] = csrfToken;
  const url = withQuery(fillPath(template, options.path), options.query);
  let response: Response;
  try {
    response = await fetch(url, {
      method: verb,
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
  if (response.status === 204) return undefined;
  return response.json();
}

function caller<M extends Method>(method: M) {
  return <P extends PathWith<M>>(
    path: P,
    ...[options]: ParamsArgument<Operation<P, M>>
  ): Promise<ResponseOf<Operation<P, M>>> =>
    request(method, path, options as RequestOptions) as Promise<ResponseOf<Operation<P, M>>>;
}

/**
 * The management API, typed by path and method from the generated `paths` of /openapi.json:
 * `api.get("/api/apps/{appId}", { path: { appId } })` answers the app. Path parameters are encoded here,
 * so no page builds an API URL by hand.
 */
export const api = {
  get: caller("get"),
  post: caller("post"),
  put: caller("put"),
  patch: caller("patch"),
  delete: caller("delete"),
};

export const enc = encodeURIComponent;
