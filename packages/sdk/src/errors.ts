import type { Problem } from "./api-types.ts";

/**
 * What went wrong, with Postern's stable code: a problem's `code` from the login API (`invalid_code`,
 * `rate_limited`, …) or an OAuth error from the hosted-page flow (`invalid_grant`, `access_denied`, …).
 */
export class PosternError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = "PosternError";
  }
}

/** A failed response as a PosternError: problem+json from the API, an OAuth error body from the provider. */
export async function errorFrom(response: Response): Promise<PosternError> {
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (typeof body.code === "string") {
    return new PosternError(body.code, String(body.detail ?? body.code), response.status, body as Problem);
  }
  if (typeof body.error === "string") {
    return new PosternError(body.error, String(body.error_description ?? body.error), response.status);
  }
  return new PosternError("http_error", `Postern answered HTTP ${response.status}.`, response.status);
}
