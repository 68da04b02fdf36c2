import { domainToASCII } from "node:url";
import { z } from "zod";

/**
 * An email address in Postern's one canonical form: a plain addr-spec (`local@domain`), the local part
 * a dot-atom of ASCII characters (RFC 5322 §3.2.3), the domain a host name of LDH labels in lower
 * case with IDNs as punycode (RFC 5890), the whole lower-cased. It is what Postern treats as the
 * person: the identity, the rate-limit key, the token's `email` claim and the SMTP envelope.
 *
 * What it is not, on purpose: display names, groups, lists, comments, quoted local parts, IP
 * literals and control characters are refused, not parsed, because a mail library handed such a
 * string re-parses it and may find other recipients in it (`a:root,mallory@attacker.test`).
 */
export type EmailAddress = string & { readonly __canonical: "EmailAddress" };

export type ParsedEmailAddress = { ok: true; address: EmailAddress } | { ok: false; problem: string };

/** RFC 5321 §4.5.3.1: 64 for the local part, 254 for a whole path that fits a 256-octet reverse-path. */
const MAX_LOCAL = 64;
const MAX_ADDRESS = 254;
const MAX_DOMAIN = 253;
/** atext of RFC 5322 §3.2.3, in dot-atom form: no leading, trailing or doubled dot. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const refused = (problem: string): ParsedEmailAddress => ({ ok: false, problem });

/** Parses what a person typed; surrounding spaces are forgiven, anything else odd is refused. */
export function parseEmailAddress(input: string): ParsedEmailAddress {
  // Checked before trimming, so a leading CR/LF or NUL is refused rather than cut off.
  if (/\p{Cc}/u.test(input)) return refused("must not contain control characters");
  const value = input.trim();
  if (value.length === 0) return refused("must not be empty");
  if (value.length > MAX_ADDRESS) return refused(`must be at most ${MAX_ADDRESS} characters`);
  if (/\s/u.test(value)) return refused("must be one address, without spaces");
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1)
    return refused("must be a valid email address, such as name@example.com");
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.includes("@") || local.startsWith('"'))
    return refused("must be a plain address: no quoted part, name, list or group");
  if (local.length > MAX_LOCAL) return refused(`must have at most ${MAX_LOCAL} characters before the @`);
  if (!DOT_ATOM.test(local)) {
    return refused(
      /[<>,;:()[\]\\"]/.test(local)
        ? "must be a plain address: no display name, list, group or comment"
        : "must have only letters, digits, dots and ! # $ % & ' * + / = ? ^ _ ` { | } ~ - before the @ (ASCII)",
    );
  }
  if (domain.startsWith("[")) return refused("must have a domain name after the @, not an IP address");
  const asciiDomain = toAsciiDomain(domain);
  if (asciiDomain === undefined) return refused("must have a valid domain name after the @");
  const address = `${local.toLowerCase()}@${asciiDomain}`;
  if (address.length > MAX_ADDRESS) return refused(`must be at most ${MAX_ADDRESS} characters`);
  return { ok: true, address: address as EmailAddress };
}

/** The domain as punycode LDH labels in lower case, or undefined if it is no valid host name. */
function toAsciiDomain(domain: string): string | undefined {
  if (/[^\p{L}\p{M}\p{N}.-]/u.test(domain)) return undefined; // no "<", ",", ":" … nor a port
  const ascii = domainToASCII(domain.normalize("NFC"));
  if (!ascii || ascii.length > MAX_DOMAIN) return undefined;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((label) => LDH_LABEL.test(label))) return undefined;
  // A dotted quad is an IP address, not a domain; top-level domains are never all digits.
  if (/^\d+$/.test(labels.at(-1)!)) return undefined;
  return ascii;
}

/** The canonical form of an address Postern itself stored or configured; throws if it is not one. */
export function canonicalEmail(input: string): EmailAddress {
  const parsed = parseEmailAddress(input);
  if (!parsed.ok) throw new Error(`not a canonical email address: ${parsed.problem}`);
  return parsed.address;
}

/** The stable problem code for a refused address (mapped by the HTTP layer; see problem.ts). */
export const INVALID_EMAIL = "invalid_email";

/**
 * The schema for every field where an address enters Postern: its output is the canonical form, and a
 * refusal carries the problem code `invalid_email` with the field's path.
 */
export const emailAddressSchema = z.string().transform((value, ctx): EmailAddress => {
  const parsed = parseEmailAddress(value);
  if (parsed.ok) return parsed.address;
  ctx.addIssue({ code: "custom", message: parsed.problem, params: { problemCode: INVALID_EMAIL } });
  return z.NEVER;
});
