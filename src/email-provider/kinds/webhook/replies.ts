import type { AttemptCause } from "../../../db/schema.ts";
import {
  type ClassifiedError,
  classified as classifiedAs,
  type ErrorClass,
  TLS_ERROR_CODES,
} from "../../../mail/smtp-errors.ts";
import type { StepName } from "../../../mail/test-steps.ts";
import { OutboundBlockedError } from "../../../security/outbound-guard.ts";
import { EndpointError, type EndpointResponse, type WebhookEndpoint } from "./endpoint.ts";

// What the developer's endpoint's answers mean (RFC 9110 §15 for the status codes):
// - 2xx: accepted — what happens next is the endpoint's business;
// - 401/403: the endpoint refused Postern's signature (or its own auth in front): configuration;
// - 3xx, 404, 405, 410: the URL names no receiver (moved, wrong path, POST not allowed): configuration.
//   Both mean every email would fail alike, so the emails wait, the provider is marked failing and
//   probed, and a saved fix or a working probe releases them;
// - 408, 429 and 5xx: the endpoint cannot take it just now: retried, after Retry-After when given;
// - any other 4xx: the endpoint looked at this email and refused it: it fails at once, and the
//   delivery log says so (Postern does not retry what the endpoint decided against).
// The delivery log keeps the status line only, never the response body: an endpoint that echoes its
// request would otherwise copy the login code into the log.

/** The longest Retry-After Postern honours; the login expires long before a longer one anyway. */
const MAX_RETRY_AFTER_SECONDS = 3600;

/** The shared classification, with the cause of a failure on the way to the endpoint. */
function classified(
  errorClass: ErrorClass,
  message: string,
  extra: { smtpReply?: string; responseCode?: number; cause?: AttemptCause } = {},
): ClassifiedError {
  const result = classifiedAs(errorClass, message, extra.smtpReply, extra.responseCode);
  return extra.cause ? { ...result, cause: extra.cause } : result;
}

/** "503 Service Unavailable": the reply as the delivery log and the test steps show it. */
export const statusLine = (response: Pick<EndpointResponse, "status" | "statusText">) =>
  `${response.status} ${response.statusText.replace(/[^\x20-\x7e]/g, "").slice(0, 80)}`.trim();

/** Retry-After in seconds (RFC 9110 §10.2.3: seconds or an HTTP date), bounded. */
export function retryAfterSeconds(response: EndpointResponse, now: Date): number | undefined {
  const raw = response.headers["retry-after"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value.trim())
    : Math.ceil((Date.parse(value) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS);
}

/** The class of an endpoint's non-2xx answer, by status. */
export function classOfStatus(status: number): ErrorClass {
  if (status === 401 || status === 403) return "auth";
  if ((status >= 300 && status < 400) || status === 404 || status === 405 || status === 410) return "blocked";
  if (status === 408 || status === 429) return "transient";
  if (status >= 400 && status < 500) return "permanent";
  if (status >= 500) return "network";
  return "internal";
}

/** The failure an endpoint's non-2xx answer is. */
export function classifyResponse(response: EndpointResponse, endpoint: WebhookEndpoint): ClassifiedError {
  const reply = statusLine(response);
  const extra = { smtpReply: reply, responseCode: response.status };
  const errorClass = classOfStatus(response.status);
  const answered = `Your endpoint answered ${reply}`;
  switch (errorClass) {
    case "auth":
      return classified("auth", `${answered}: it refused Postern's request, usually its signature.`, extra);
    case "blocked": {
      if (response.status < 400) {
        const location = response.headers.location;
        const to = typeof location === "string" ? ` to ${JSON.stringify(location.slice(0, 200))}` : "";
        return classified(
          "blocked",
          `${answered}, a redirect${to}: Postern does not follow redirects.`,
          extra,
        );
      }
      return classified(
        "blocked",
        `${answered}: nothing at ${endpoint.url.pathname} takes Postern's POST.`,
        extra,
      );
    }
    case "transient":
      return classified("transient", `${answered}: it asked Postern to try again later.`, extra);
    case "permanent":
      return classified(
        "permanent",
        `${answered}: it refused this email, so Postern does not retry it.`,
        extra,
      );
    case "network":
      return classified("network", `${answered}: it failed; Postern tries again.`, extra);
    default:
      return classified("internal", `${answered}, which Postern does not understand as an answer.`, extra);
  }
}

// The HTTPS client also reports a handshake the server broke off (EPROTO) or refused TLS on (ETLS).
const TLS_CODES = new Set([...TLS_ERROR_CODES, "EPROTO", "ETLS"]);

const REASONS: Record<string, AttemptCause["reason"]> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "reset",
  EPIPE: "reset",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ETIMEDOUT: "timeout",
};

const WORDS: Record<AttemptCause["reason"], string> = {
  refused: "the connection was refused",
  reset: "the connection was reset",
  unreachable: "the host is unreachable",
  timeout: "it did not answer in time",
  dns: "the host name did not resolve",
  tls: "the TLS handshake failed",
  blocked: "the destination is not allowed",
  other: "the connection failed",
};

/** A request that got no answer: refused by the guard, a network failure, TLS, or the timeout. */
export function classifyFailure(error: unknown, endpoint: WebhookEndpoint): ClassifiedError {
  const at = { host: endpoint.host, port: endpoint.port };
  const where = `${endpoint.host}${endpoint.port === 443 ? "" : `:${endpoint.port}`}`;
  if (error instanceof OutboundBlockedError) {
    const reason = error.code === "unresolvable" ? "dns" : "blocked";
    return reason === "dns"
      ? classified("network", error.message, { cause: { ...at, reason } })
      : classified("blocked", error.message, { cause: { ...at, reason } });
  }
  const code = error instanceof EndpointError ? error.code : "EOTHER";
  if (TLS_CODES.has(code)) {
    const plain = code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "EPROTO";
    return classified(
      "tls",
      plain
        ? `${where} did not answer in TLS: Postern sends webhooks over HTTPS only.`
        : `The TLS certificate of ${where} is not trusted or does not name ${endpoint.host}.`,
      { cause: { ...at, reason: "tls" } },
    );
  }
  const reason = REASONS[code] ?? "other";
  if (reason === "timeout") {
    return classified("timeout", `Your endpoint at ${where} did not answer in time.`, {
      cause: { ...at, reason },
    });
  }
  return classified("network", `Could not reach your endpoint at ${where}: ${WORDS[reason]}.`, {
    cause: { ...at, reason },
  });
}

/** The fix for a failure, by what failed (also for stored attempts of the delivery log). */
export function webhookHint(error: ClassifiedError, step: StepName): string | undefined {
  const code = error.responseCode;
  switch (error.errorClass) {
    case "auth":
      return "Make your endpoint verify the webhook-signature header with the signing secret Postern showed when you saved the provider (or the new one after a rotation). Lost it? Save the provider with Rotate the signing secret ticked: both secrets sign for 24 hours. (Testing a new provider before its first save signs with a throwaway secret: save first.)";
    case "blocked":
      if (code !== undefined && code < 400)
        return "Enter the final https:// URL your endpoint redirects to: Postern does not follow redirects.";
      if (code !== undefined)
        return "Check the URL's path, and that your endpoint accepts POST requests there.";
      return undefined; // the guard's message says what to do
    case "permanent":
      return "Your endpoint decided against this email. Look at its logs for the delivery's webhook-id; answer 2xx to accept an email, 5xx or 429 to have Postern retry it.";
    case "transient":
      return "Postern retries after the Retry-After your endpoint gave, within the login's expiry.";
    case "network":
      if (code !== undefined)
        return "Your endpoint failed: Postern retries with backoff until the login expires. Look at its logs and its availability.";
      return step === "resolve"
        ? "Check the host name in the URL."
        : "Check that your endpoint is up and reachable from the internet on port 443.";
    case "timeout":
      return "Answer quickly (Postern waits 10 s unless the operator set POSTERN_WEBHOOK_TIMEOUT_SECONDS): accept the email with 2xx, then send it from a queue of your own.";
    case "tls":
      return "Serve a certificate from a public CA that names the URL's host, over HTTPS (TLS 1.2 or later).";
    default:
      return undefined;
  }
}
