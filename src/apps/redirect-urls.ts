import { invalid } from "../errors.ts";

/**
 * Allowed redirect URLs are exact absolute URLs (https, or http on localhost for development).
 * A login's redirectUrl must match one exactly: prefix or pattern matching is how open redirects happen.
 */
export function validateAllowedRedirectUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("invalid_redirect_url", `${field} must be an absolute URL.`, field);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    throw invalid(
      "invalid_redirect_url",
      `${field} must use https (http is allowed only for localhost).`,
      field,
    );
  }
  if (url.username || url.password)
    throw invalid("invalid_redirect_url", `${field} must not contain credentials.`, field);
  if (url.hash) throw invalid("invalid_redirect_url", `${field} must not contain a fragment.`, field);
  return url.toString();
}

export function matchRedirectUrl(allowed: string[], requested: string): string | undefined {
  let normalised: string;
  try {
    normalised = new URL(requested).toString();
  } catch {
    return undefined;
  }
  return allowed.find((candidate) => candidate === normalised);
}
