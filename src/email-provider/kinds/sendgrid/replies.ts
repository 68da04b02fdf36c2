import { type ApiMeaning, type ApiReply, said } from "../email-api/replies.ts";

export interface SendgridFixValues {
  senderEmail: string;
  euDataResidency: boolean;
}

const KEYS = "Settings → API Keys";
const SENDER_AUTH = "https://www.twilio.com/docs/sendgrid/for-developers/sending-email/sender-identity";
/** Used when a 429 comes without a reset time. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** How long an account out of credits is left alone before the next try. */
const CREDITS_PAUSE_SECONDS = 900;

/**
 * Every SendGrid failure of /v3/mail/send classified once (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send#responses):
 * the account's key, permission or sender identity (the email waits for a fix), this email (payload,
 * size, recipient: it fails), or SendGrid's load (429, 5xx: it waits as long as SendGrid asks).
 */
export function interpretSendgridReply(reply: ApiReply, values: SendgridFixValues): ApiMeaning {
  const { status, code, message } = reply;
  const what = `${said(reply)}${message ? `: ${message}` : ""}`;
  const domain = values.senderEmail.slice(values.senderEmail.lastIndexOf("@") + 1);
  const retryAfter = reply.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;

  if (status === 401 && /credits/i.test(message)) {
    return {
      errorClass: "network",
      summary: `The SendGrid account has no email credits left (${what}); Postern tries again in ${CREDITS_PAUSE_SECONDS / 60} minutes.`,
      fix: "Upgrade the plan or wait for the monthly credits in the SendGrid console → Settings → Account Details → Your Products.",
      sender: { pauseSeconds: CREDITS_PAUSE_SECONDS },
    };
  }
  if (status === 401) {
    return {
      errorClass: "auth",
      summary: `SendGrid refused the API key (${what}).`,
      fix: `Create a key in the SendGrid console → ${KEYS} → Create API Key (Restricted Access, Mail Send: Full Access) and enter it here: SendGrid shows a key only once. ${
        values.euDataResidency
          ? "EU data residency is on: the key must belong to an EU subuser."
          : "A key of an EU subuser works only with EU data residency on."
      }`,
    };
  }
  if (status === 403 && (/^from/.test(code) || /sender identity/i.test(message))) {
    return {
      errorClass: "auth",
      summary: `SendGrid will not send From ${values.senderEmail}: it is not a verified Sender Identity (${what}).`,
      fix: `In the SendGrid console → Settings → Sender Authentication, authenticate the domain ${domain} (its DNS records; best for delivery) or verify ${values.senderEmail} as a Single Sender (${SENDER_AUTH}).`,
    };
  }
  if (status === 403) {
    return {
      errorClass: "auth",
      summary: `SendGrid refused the request (${what}): the API key may not send email, or the account is suspended.`,
      fix: `In the SendGrid console → ${KEYS}, edit the key: Restricted Access with Mail Send: Full Access (the mail.send scope). If the account is suspended, SendGrid's support says why.`,
    };
  }
  if (status === 413) {
    return {
      errorClass: "permanent",
      summary: `This login email is too large for SendGrid (${what}); it fails, and so will every email like it.`,
      fix: "SendGrid takes up to 30 MB per request. Make the app's email template smaller: large inline images are the usual cause.",
    };
  }
  if (status === 429) {
    return {
      errorClass: "transient",
      summary: `SendGrid is rate limiting this API key (${what}); every Postern process pauses it for ${retryAfter} s, as SendGrid's X-RateLimit-Reset asks, and retries.`,
      fix: "If this recurs, other systems share the key: give login emails a key of their own, or ask the operator to lower POSTERN_SENDGRID_MESSAGES_PER_MINUTE.",
      sender: { pauseSeconds: retryAfter },
    };
  }
  if (status >= 500) {
    return {
      errorClass: "network",
      summary: `SendGrid is unavailable just now (${what}); Postern retries${reply.retryAfterSeconds === undefined ? "" : ` in ${retryAfter} s, as it asks`}.`,
      fix: "Nothing to change here: SendGrid's status page (status.sendgrid.com) shows outages.",
    };
  }
  if (status === 400 && /^personalizations\.\d+\.to/.test(code)) {
    return { errorClass: "recipient", summary: `SendGrid refused the recipient address (${what}).` };
  }
  return {
    errorClass: "permanent",
    summary: `SendGrid refused the email (${what}).`,
    fix: "The field and message above say what SendGrid objected to; the app's email template is the usual cause.",
  };
}
