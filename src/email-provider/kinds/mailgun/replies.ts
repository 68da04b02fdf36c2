import type { ApiMeaning } from "../email-api/replies.ts";

/** Mailgun's answer to one request: its status and the `message` of its body (or the plain-text body). */
export interface MailgunReply {
  status: number;
  message: string;
  retryAfterSeconds?: number | undefined;
}

export interface MailgunFixValues {
  senderEmail: string;
  domain: string;
  region: "us" | "eu";
}

/** Used when a 429 comes without Retry-After. */
const DEFAULT_PAUSE_SECONDS = 10;

const DOMAINS_PAGE = "Mailgun → Send → Sending → Domains";

/** The reply as the delivery log keeps it: "401 Forbidden", "403 Domain sandbox… is not allowed to send: …". */
export const replyLine = (reply: MailgunReply): string =>
  `${reply.status}${reply.message ? ` ${reply.message}` : ""}`;

/** Reads back a stored reply line; undefined for anything else (a connection failure). */
export function replyFromLine(line: string | undefined): MailgunReply | undefined {
  const match = /^(\d{3})(?: (.*))?$/s.exec(line ?? "");
  if (!match) return undefined;
  return { status: Number(match[1]), message: match[2] ?? "" };
}

const otherRegion = (region: "us" | "eu") => (region === "us" ? "EU" : "US");

/**
 * Every Mailgun failure of a send classified once (https://documentation.mailgun.com/docs/mailgun/api-reference/#api-responses):
 * the provider's configuration (key, domain, sandbox: the email waits for a fix or goes to the default
 * sender), this email (400, 413: it fails), or Mailgun's load (429, 5xx: it waits). Only a 429 asks
 * something of the lane, which only this API key and domain share.
 */
export function interpretMailgunReply(reply: MailgunReply, values: MailgunFixValues): ApiMeaning {
  const { status, message } = reply;
  const region = values.region.toUpperCase();
  const said = `${status}${message ? ` ${message}` : ""}`;

  if (status === 401) {
    // Mailgun answers a wrong key and a domain of the other region alike: plain-text "Forbidden".
    return {
      errorClass: "auth",
      summary: `Mailgun refused the API key (${said}).`,
      fix: `Check the key in Mailgun → API Security (a private API key, or a sending key of ${values.domain}), and that ${values.domain} is a domain of the ${region} region: a domain of the ${otherRegion(values.region)} region is refused the same way — then choose that region.`,
    };
  }
  if (/sandbox/i.test(message) || /authorized recipients/i.test(message)) {
    return {
      errorClass: "auth",
      summary: `${values.domain} is a Mailgun sandbox domain, which sends only to authorized recipients, and this recipient is not one (${said}).`,
      fix: `Add a domain of your own in ${DOMAINS_PAGE} and verify its DNS records, then use it here; until then, add each test recipient under the sandbox domain's Authorized Recipients (at most 5).`,
    };
  }
  if (status === 404 || /domain not found/i.test(message)) {
    return {
      errorClass: "auth",
      summary: `Mailgun knows no domain ${values.domain} for this API key in the ${region} region (${said}).`,
      fix: `Enter the domain exactly as ${DOMAINS_PAGE} lists it (often a subdomain such as mg.${values.senderEmail.slice(values.senderEmail.lastIndexOf("@") + 1)}), and the region it was created in.`,
    };
  }
  if (status === 403) {
    return {
      errorClass: "auth",
      summary: `Mailgun does not let this key send for ${values.domain} (${said}).`,
      fix: `The domain must be verified (${DOMAINS_PAGE} → ${values.domain} → DNS records: SPF, DKIM, MX) and not disabled, and a domain sending key works only for its own domain. Mailgun support explains a disabled domain or account.`,
    };
  }
  if (status === 429) {
    const pause = reply.retryAfterSeconds ?? DEFAULT_PAUSE_SECONDS;
    return {
      errorClass: "transient",
      summary: `Mailgun is rate-limiting this key and domain (${said}); every Postern process pauses it for ${pause} s${reply.retryAfterSeconds === undefined ? "" : ", as Retry-After asks"}, and retries.`,
      fix: "Postern sends at most POSTERN_MAILGUN_MESSAGES_PER_MINUTE per key and domain. If this recurs, the plan's sending limit is reached (Mailgun → Account → Plan) or other senders share the key.",
      sender: { pauseSeconds: pause },
    };
  }
  if (status >= 500) {
    return {
      errorClass: "network",
      summary: `Mailgun is unavailable just now (${said}); Postern retries${reply.retryAfterSeconds === undefined ? "" : ` in ${reply.retryAfterSeconds} s, as Retry-After asks`}.`,
    };
  }
  return {
    errorClass: "permanent",
    summary: `Mailgun refused the email (${said}).`,
    fix: "This email fails, and so will every email like it: check the app's email template and the sender (Mailgun takes messages of up to 25 MB with valid From and To addresses).",
  };
}
