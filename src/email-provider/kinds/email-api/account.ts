import { createHash } from "node:crypto";
import { z } from "zod";
import type { OutgoingEmail } from "../../../mail/sender.ts";

/**
 * The lane of an API account: every provider holding the same key (and account fields) shares the
 * vendor's limits, and only they do — a keyed fingerprint, never the key itself, so it can be stored
 * beside the settings and in the sender_limits table. A provider that only names a sender cannot join
 * another account's lane, nor pause it. Two keys of one account get two lanes: together they may exceed
 * the account's limit until the vendor's 429 pauses each, which is safe where a guessed shared key would not be.
 */
export function accountFingerprint(vendor: string, apiKey: string, ...accountFields: string[]): string {
  return createHash("sha256")
    .update(["postern sender lane v1", vendor, ...accountFields, apiKey].join("\0"))
    .digest("base64url")
    .slice(0, 32);
}

/** An operator's https:// base URL, without a trailing slash. */
export const httpsBaseUrl = (example: string) =>
  z
    .url({ protocol: /^https$/, error: `must be an https:// URL such as ${example}` })
    .transform((url) => url.replace(/\/+$/, ""));

export const positiveInt = z.coerce.number().int().positive();

/**
 * `"Name" <address>` for APIs that take the From line as one string (Postmark, Resend). The name is a
 * quoted-string (RFC 5322 §3.2.4: `"` and `\` escaped); it has no line breaks (the sender-name schema
 * refuses them), and the vendor encodes non-ASCII names when it builds the message.
 */
export function fromLine(from: OutgoingEmail["from"]): string {
  const name = from.name && from.name !== from.address ? from.name : "";
  return name ? `"${name.replace(/["\\]/g, (c) => `\\${c}`)}" <${from.address}>` : from.address;
}

/**
 * The headers every login email carries, as the SMTP kinds' nodemailerMessage sets them: RFC 3834's
 * Auto-Submitted so auto-responders stay silent, Exchange's own X-Auto-Response-Suppress, the language
 * (RFC 3282) and our Message-ID, so a duplicate send after a crash is recognisable.
 */
export function loginHeaders(email: OutgoingEmail): Record<string, string> {
  return {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "All",
    ...(email.language ? { "Content-Language": email.language } : {}),
    "Message-ID": email.messageId,
  };
}

/** The sender's domain, lower-cased. */
export const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();
