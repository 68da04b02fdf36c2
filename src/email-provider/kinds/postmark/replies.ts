import { type ApiMeaning, type ApiReply, said } from "../email-api/replies.ts";

export interface PostmarkFixValues {
  senderEmail: string;
  messageStream: string;
}

/** Used when a 429 comes without Retry-After (Postmark documents none). */
const DEFAULT_RETRY_AFTER_SECONDS = 30;
/** How long an account out of credits is left alone before the next try. */
const CREDITS_PAUSE_SECONDS = 900;
const TOKENS = "Postmark → Servers → your server → API Tokens";
const SIGNATURES = "Postmark → Sender Signatures";

/**
 * Every Postmark failure of POST /email classified once, by its ErrorCode
 * (https://postmarkapp.com/developer/api/overview#error-codes): the server token, sender signature, stream or
 * account (the email waits for a fix), this email or its recipient (it fails), or Postmark's load (429,
 * 5xx: it waits).
 */
export function interpretPostmarkReply(reply: ApiReply, values: PostmarkFixValues): ApiMeaning {
  const { status, message } = reply;
  // The reply line keeps the ErrorCode as its code: "422 406: Found inactive addresses…".
  const errorCode = Number(reply.code) || 0;
  const what = `${said(reply)}${message ? `: ${message}` : ""}`;
  const domain = values.senderEmail.slice(values.senderEmail.lastIndexOf("@") + 1);
  const retryAfter = reply.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;

  if (status === 401 || errorCode === 10) {
    return {
      errorClass: "auth",
      summary: `Postmark refused the server token (${what}).`,
      fix: `Copy the Server API token from ${TOKENS} (not the Account API token) and enter it here.`,
    };
  }
  if (errorCode === 400 || errorCode === 401) {
    return {
      errorClass: "auth",
      summary: `Postmark will not send From ${values.senderEmail}: ${errorCode === 401 ? "its sender signature is not confirmed" : "it is not a sender signature of the account"} (${what}).`,
      fix: `In ${SIGNATURES}, verify the domain ${domain} (DKIM and Return-Path DNS records) or add ${values.senderEmail} as a sender signature and confirm it from the email Postmark sends there.`,
    };
  }
  if (errorCode === 412) {
    return {
      errorClass: "auth",
      summary: `The Postmark account is pending approval (${what}): until then it only sends to addresses on the sender's own domain ${domain}.`,
      fix: "Request approval in Postmark (the banner on the account's pages, or Account → Request approval); login emails to other domains wait until then, or go out through the default sender if the app allows it.",
    };
  }
  if (errorCode === 1235 || errorCode === 1226) {
    return {
      errorClass: "auth",
      summary: `The server has no message stream "${values.messageStream}" (${what}).`,
      fix: `Enter the ID of one of the server's streams (Postmark → Servers → your server → Message Streams): "outbound" is the default transactional stream.`,
    };
  }
  if (errorCode === 405) {
    return {
      errorClass: "network",
      summary: `The Postmark account may not send just now: it has run out of credits (${what}); Postern tries again in ${CREDITS_PAUSE_SECONDS / 60} minutes.`,
      fix: "Buy credits or change the plan in Postmark → Account → Billing.",
      sender: { pauseSeconds: CREDITS_PAUSE_SECONDS },
    };
  }
  if (errorCode === 406) {
    return {
      errorClass: "recipient",
      summary: `Postmark did not send: the recipient is inactive on this stream, after a hard bounce, a spam complaint or a manual suppression (${what}).`,
      fix: `If the person asks, reactivate the address in Postmark → Servers → your server → ${values.messageStream} → Suppressions.`,
    };
  }
  if (errorCode === 300 && /'To'|recipient/i.test(message)) {
    return { errorClass: "recipient", summary: `Postmark refused the recipient address (${what}).` };
  }
  if (status === 413) {
    return {
      errorClass: "permanent",
      summary: `This login email is too large for Postmark (${what}); it fails, and so will every email like it.`,
      fix: "Postmark takes up to 10 MB per message, 5 MB per text or HTML body. Make the app's email template smaller.",
    };
  }
  if (status === 429) {
    return {
      errorClass: "transient",
      summary: `Postmark is rate limiting this server token (${what}); every Postern process pauses it for ${retryAfter} s and retries.`,
      fix: "If this recurs, other systems share the server: give login emails a server of their own, or ask the operator to lower POSTERN_POSTMARK_MESSAGES_PER_MINUTE.",
      sender: { pauseSeconds: retryAfter },
    };
  }
  if (status >= 500) {
    return {
      errorClass: "network",
      summary: `Postmark is unavailable just now (${what}); Postern retries.`,
      fix: "Nothing to change here: status.postmarkapp.com shows outages.",
    };
  }
  return {
    errorClass: "permanent",
    summary: `Postmark refused the email (${what}).`,
    fix: "The ErrorCode and message above say what Postmark objected to (https://postmarkapp.com/developer/api/overview#error-codes).",
  };
}
