import { type ApiMeaning, type ApiReply, said } from "../email-api/replies.ts";

export interface ResendFixValues {
  senderEmail: string;
}

const KEYS = "Resend → API Keys → Create API Key";
const DOMAINS = "Resend → Domains";
/** Resend's window is a second; without a Retry-After, one. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** How long a team over its daily or monthly quota is left alone before the next try. */
const QUOTA_PAUSE_SECONDS = 900;

/**
 * Every Resend failure of POST /emails classified once, by the error's `name`
 * (https://resend.com/docs/api-reference/errors): the key, the sender's domain or the team's quota (the email
 * waits for a fix or for the quota), this email or its recipient (it fails), or Resend's rate and load
 * (429, 5xx: it waits as long as Resend asks).
 */
export function interpretResendReply(reply: ApiReply, values: ResendFixValues): ApiMeaning {
  const { status, code, message } = reply;
  const what = `${said(reply)}${message ? `: ${message}` : ""}`;
  const domain = values.senderEmail.slice(values.senderEmail.lastIndexOf("@") + 1);
  const retryAfter = reply.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const verify = `In ${DOMAINS} → Add Domain, add ${domain}, create the DNS records Resend shows (SPF and DKIM) and press Verify; the sender email must be on that domain.`;

  // Resend has answered a bad key as 403 invalid_api_key and, in later docs, as validation_error "API key is invalid".
  if (code === "missing_api_key" || code === "invalid_api_key" || /api key is invalid/i.test(message)) {
    return {
      errorClass: "auth",
      summary: `Resend refused the API key (${what}).`,
      fix: `Create a key in ${KEYS}: "Sending access" is all Postern needs, for the domain ${domain} or all domains. Resend shows a key once.`,
    };
  }
  if (code === "restricted_api_key") {
    return {
      errorClass: "auth",
      summary: `The Resend API key may not do this (${what}).`,
      fix: `In ${KEYS}, create a key with Sending access for the domain ${domain} (or all domains) and enter it here.`,
    };
  }
  if (code === "invalid_from_address" || /domain is not verified/i.test(message)) {
    return {
      errorClass: "auth",
      summary: `Resend will not send From ${values.senderEmail}: ${code === "invalid_from_address" ? "it refused the From address" : `the domain ${domain} is not verified`} (${what}).`,
      fix: verify,
    };
  }
  if (/testing emails to your own email address/i.test(message)) {
    return {
      errorClass: "auth",
      summary: `The Resend team has no verified domain, so it may only send test emails to its own address (${what}).`,
      fix: verify,
    };
  }
  if (code === "daily_quota_exceeded" || code === "monthly_quota_exceeded") {
    return {
      errorClass: "network",
      summary: `The Resend team has used its ${code.startsWith("daily") ? "daily" : "monthly"} sending quota (${what}); Postern tries again in ${QUOTA_PAUSE_SECONDS / 60} minutes.`,
      fix: "Upgrade the plan in Resend → Settings → Billing, or wait for the quota to reset.",
      sender: { pauseSeconds: reply.retryAfterSeconds ?? QUOTA_PAUSE_SECONDS },
    };
  }
  if (status === 429 || code === "rate_limit_exceeded") {
    return {
      errorClass: "transient",
      summary: `Resend is rate limiting the team (${what}); every Postern process pauses it for ${retryAfter} s, as Retry-After asks, and retries.`,
      fix: "Resend allows 2 requests a second per team, all keys together. If this recurs, other systems share the team: ask Resend for a higher limit and the operator to raise POSTERN_RESEND_REQUESTS_PER_SECOND.",
      sender: { pauseSeconds: retryAfter },
    };
  }
  if (code === "concurrent_idempotent_requests") {
    return {
      errorClass: "transient",
      summary: `Resend is still handling this email's earlier request (${what}).`,
    };
  }
  if (status >= 500 || code === "application_error" || code === "internal_server_error") {
    return {
      errorClass: "network",
      summary: `Resend is unavailable just now (${what}); Postern retries.`,
      fix: "Nothing to change here: resend-status.com shows outages.",
    };
  }
  if (code === "validation_error" && /\bto\b|recipient/i.test(message)) {
    return { errorClass: "recipient", summary: `Resend refused the recipient address (${what}).` };
  }
  return {
    errorClass: "permanent",
    summary: `Resend refused the email (${what}).`,
    fix: "The error name and message above say what Resend objected to (https://resend.com/docs/api-reference/errors).",
  };
}
