import { clean } from "../../../mail/https.ts";
import { classified, type ErrorClass } from "../../../mail/smtp-errors.ts";
import { DeliveryError, type SenderReaction } from "../../../mail/transport.ts";

/** An HTTP email API's answer to one request, as far as it tells what went wrong. */
export interface ApiReply {
  status: number;
  /** The vendor's error code (SendGrid: the field; Postmark: ErrorCode; Resend: `name`); empty when none. */
  code: string;
  /** The vendor's message, cut short and stripped of control characters (never our request). */
  message: string;
  /** The vendor's id of the request or message, when it gave one. */
  requestId?: string | undefined;
  /** How long the vendor asked us to wait (Retry-After, or its rate-limit reset). */
  retryAfterSeconds?: number | undefined;
}

/** A request the API answered with an error: thrown by a vendor's client wrapper, read by the transport. */
export class ApiReplyError extends Error {
  constructor(readonly reply: ApiReply) {
    super(`${reply.status} ${reply.code}`);
    this.name = "ApiReplyError";
  }
}

/** What a reply means for the email, with the fix in the developer's own values. */
export interface ApiMeaning {
  errorClass: ErrorClass;
  /** What happened, in words. */
  summary: string;
  /** What to do about it; absent when nobody needs to do anything. */
  fix?: string | undefined;
  sender?: SenderReaction | undefined;
}

/** One sentence with its fix, as the delivery log and the provider's health show it. */
export const meaningMessage = (meaning: ApiMeaning): string =>
  meaning.fix ? `${meaning.summary} ${meaning.fix}` : meaning.summary;

/**
 * The failure a reply means, as the worker acts on it: the vendor's Retry-After is the earliest next try
 * only where trying again is what the reply asks for.
 */
export function replyFailure(
  meaning: ApiMeaning,
  reply: { status: number; retryAfterSeconds?: number | undefined },
  line: string,
): DeliveryError {
  const waits = meaning.errorClass === "transient" || meaning.errorClass === "network";
  return new DeliveryError(classified(meaning.errorClass, meaningMessage(meaning), line, reply.status), {
    sender: meaning.sender,
    retryAfterSeconds: waits ? reply.retryAfterSeconds : undefined,
  });
}

/** "status code: message (id …)", or with nothing the vendor did not say. */
export const said = (reply: ApiReply): string => `${reply.status}${reply.code ? ` ${reply.code}` : ""}`;

/**
 * The reply as the delivery log keeps it ("403 from: The from address does not match… (x-message-id …)"):
 * status and code first, so a stored attempt can be explained again (`replyFromLine`).
 */
export function replyLine(reply: ApiReply, idName = "request-id"): string {
  const code = reply.code ? ` ${reply.code}` : "";
  const message = reply.message ? `: ${reply.message}` : "";
  const id = reply.requestId ? ` (${idName} ${reply.requestId})` : "";
  return `${reply.status}${code}${message}${id}`;
}

/** Reads back a stored reply line; undefined for anything else (a network failure has none). */
export function replyFromLine(line: string | undefined): ApiReply | undefined {
  const match = /^(\d{3})(?: ([A-Za-z0-9_.[\]-]+))?(?:: (.*?))?(?: \([\w-]+ [^)]*\))?$/s.exec(line ?? "");
  if (!match) return undefined;
  return { status: Number(match[1]), code: match[2] ?? "", message: match[3] ?? "" };
}

const MAX_TEXT = 300;

/** Vendor text for the log: no control characters (no header or log injection), bounded. */
export const cleanText = (text: unknown, max = MAX_TEXT): string =>
  typeof text === "string" ? clean(text, max) : "";

type HeaderBag = Record<string, unknown> | Headers | undefined | null;

/** One header of a response, whatever shape the vendor's client hands them back in. */
export function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, unknown>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  if (Array.isArray(value)) return typeof value[0] === "string" ? value[0] : undefined;
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** The longest wait a vendor may ask of us: beyond it the login has expired anyway. */
const MAX_WAIT_SECONDS = 3600;

/**
 * How long the vendor asked us to wait: Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3),
 * else the rate-limit reset — SendGrid's X-RateLimit-Reset is a Unix time
 * (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits), the
 * IETF draft's `ratelimit-reset` that Resend sends is seconds from now (https://resend.com/docs/api-reference/introduction#rate-limit).
 * Nonsense is ignored; the answer is at least a second.
 */
export function retryAfterSeconds(headers: HeaderBag, now: Date): number | undefined {
  const bound = (seconds: number) =>
    Number.isFinite(seconds) ? Math.min(Math.max(Math.ceil(seconds), 1), MAX_WAIT_SECONDS) : undefined;
  const retryAfter = header(headers, "retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return bound(Number(retryAfter));
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return bound((at - now.getTime()) / 1000);
  }
  const reset = (header(headers, "x-ratelimit-reset") ?? header(headers, "ratelimit-reset"))?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const value = Number(reset);
    // A Unix time is far beyond any wait a vendor would ask for in seconds.
    return bound(value > 1_000_000_000 ? value - now.getTime() / 1000 : value);
  }
  return undefined;
}
