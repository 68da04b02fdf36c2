import type { ApiMeaning } from "../email-api/replies.ts";

/** SES's answer to one request, as far as it tells what went wrong (https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html). */
export interface SesReply {
  status: number;
  /** The error code (x-amzn-ErrorType, as the SDK names the exception): "MessageRejected". */
  code: string;
  /** SES's message, cut short and stripped of control characters. */
  message: string;
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

/** What the provider is, for the words of a fix. */
export interface SesFixValues {
  senderEmail: string;
  region: string;
  credentials: "keys" | "environment";
  configurationSet?: string | null | undefined;
}

/** SES names no Retry-After for its rate: it counts per second, so a short pause clears it. */
const RATE_PAUSE_SECONDS = 2;
/** The daily quota is a rolling 24 hours (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html): try again later, not soon. */
const DAILY_QUOTA_PAUSE_SECONDS = 15 * 60;

const KEY_CODES = new Set(["InvalidClientTokenId", "UnrecognizedClientException"]);
const SIGNATURE_CODES = new Set(["SignatureDoesNotMatch", "IncompleteSignature"]);
const THROTTLE_CODES = new Set(["TooManyRequestsException", "ThrottlingException", "Throttling"]);

const IDENTITIES = "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html";
const SANDBOX = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html";

/** The reply as the delivery log keeps it: "400 MessageRejected: Email address is not verified… (request-id …)". */
export function replyLine(reply: SesReply): string {
  const what = [reply.code, reply.message].filter(Boolean).join(": ");
  return `${reply.status}${what ? ` ${what}` : ""}${reply.requestId ? ` (request-id ${reply.requestId})` : ""}`;
}

/** Reads back a stored reply line; undefined for anything else (a connection failure, a credential lookup). */
export function replyFromLine(line: string | undefined): SesReply | undefined {
  const match = /^(\d{3})(?: ([A-Za-z][\w.]*))?(?:: (.*?))?(?: \(request-id [^)]*\))?$/s.exec(line ?? "");
  if (!match) return undefined;
  return { status: Number(match[1]), code: match[2] ?? "", message: match[3] ?? "" };
}

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1);

/** "…failed the check in region US-EAST-1: a@x.com, u@y.com" → the addresses, lower-cased. */
function unverifiedIdentities(message: string): string[] {
  const list = /failed the check in region [\w-]+:\s*(.*)$/i.exec(message)?.[1] ?? "";
  return list
    .split(/[\s,]+/)
    .map((identity) => identity.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Every SES failure of SendEmail classified once, by whom it blames: the provider's configuration (keys,
 * identities, the account's state: the email waits for a fix or goes to the default sender), this email
 * (refused content: it fails), or SES's load (throttling, 5xx: the email waits). Only throttling asks
 * something of the lane: it is the account's rate, and only a request signed with the account's key gets
 * that far, so no other tenant can pause a real sender with it.
 */
export function interpretSesReply(reply: SesReply, values: SesFixValues): ApiMeaning {
  const { status, code, message } = reply;
  const said = `${status}${code ? ` ${code}` : ""}`;
  const region = values.region;
  const keys =
    values.credentials === "environment"
      ? "the AWS credentials of the Postern process (its role or environment)"
      : "the access key";

  if (KEY_CODES.has(code)) {
    return {
      errorClass: "auth",
      summary: `AWS does not recognise ${keys} (${said}).`,
      fix:
        values.credentials === "environment"
          ? "The operator must give the Postern process valid AWS credentials (an instance role, a task role or AWS_* variables)."
          : "Check the access key ID in the IAM console → Users → your user → Security credentials: it must be active and belong to the account that owns the sender's identity. Create a new access key if it was deleted.",
    };
  }
  if (SIGNATURE_CODES.has(code) || (code === "InvalidSignatureException" && !/expired/i.test(message))) {
    return {
      errorClass: "auth",
      summary: `AWS refused the request's signature (${said}): the secret access key does not match the access key ID.`,
      fix: "Enter the secret access key again, exactly as IAM showed it when the key was created (it is shown only once: if it is lost, create a new access key and delete the old one).",
    };
  }
  if (code === "InvalidSignatureException" || code === "RequestExpired" || code === "ExpiredTokenException") {
    return {
      errorClass: "auth",
      summary: `AWS refused the request as expired (${said}${message ? `: ${message}` : ""}).`,
      fix: "The clock of the machine running Postern must be right (within 5 minutes), and temporary credentials must be renewed: the operator should check NTP and the process's role.",
    };
  }
  if (code === "AccessDeniedException" || (status === 403 && !code)) {
    return {
      errorClass: "auth",
      summary: `${keys[0]!.toUpperCase()}${keys.slice(1)} may not send through SES (${said}).`,
      fix: `Give the IAM user or role a policy allowing ses:SendEmail and ses:SendRawEmail on the identity of ${values.senderEmail} in ${region} (https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html).`,
    };
  }
  if (code === "AccountSuspendedException") {
    return {
      errorClass: "auth",
      summary: `SES has suspended sending for this AWS account in ${region} (${said}).`,
      fix: "Open the SES console → Account dashboard and Reputation metrics in this region: AWS explains why (usually bounces or complaints) and how to ask for a review in the AWS Support Center.",
    };
  }
  if (code === "SendingPausedException") {
    return {
      errorClass: "auth",
      summary: `Sending is paused for this account${values.configurationSet ? ` or for the configuration set ${values.configurationSet}` : ""} in ${region} (${said}).`,
      fix: `Resume it in the SES console (Account dashboard → Sending status${values.configurationSet ? `, or Configuration sets → ${values.configurationSet} → Sending` : ""}), or with aws sesv2 put-account-sending-attributes --sending-enabled.`,
    };
  }
  if (code === "MailFromDomainNotVerifiedException") {
    return {
      errorClass: "auth",
      summary: `The custom MAIL FROM domain of ${domainOf(values.senderEmail)} is not verified in ${region} (${said}).`,
      fix: "Publish the MX and SPF records SES shows under Configuration → Identities → your domain → Custom MAIL FROM domain, or turn the custom MAIL FROM domain off.",
    };
  }
  if (code === "NotFoundException" && values.configurationSet) {
    return {
      errorClass: "auth",
      summary: `SES knows no configuration set ${values.configurationSet} in ${region} (${said}).`,
      fix: "Create it in the SES console → Configuration sets of this region, or clear the configuration set field.",
    };
  }
  if (code === "MessageRejected" && /not verified/i.test(message)) {
    const failed = unverifiedIdentities(message);
    const sender = values.senderEmail.toLowerCase();
    const senderFailed = failed.length === 0 || failed.includes(sender) || failed.includes(domainOf(sender));
    if (!senderFailed) {
      // Only a sandboxed account checks recipients (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html).
      return {
        errorClass: "auth",
        summary: `Your account is in the SES sandbox in ${region}: it sends only to verified addresses, and the recipient is not one (${said}).`,
        fix: `Request production access in the SES console → Account dashboard → Request production access (${SANDBOX}). Until then, only addresses verified in ${region} receive login emails.`,
      };
    }
    return {
      errorClass: "auth",
      summary: `SES has not verified ${values.senderEmail} in ${region} (${said}).`,
      fix: `Verify the address, or better its domain ${domainOf(values.senderEmail)} (DKIM records), in the SES console → Configuration → Identities of ${region}: identities are per region (${IDENTITIES}). If the account is still in the SES sandbox, recipients must be verified too.`,
    };
  }
  if (THROTTLE_CODES.has(code) || status === 429) {
    const daily = /daily/i.test(message);
    const pause = reply.retryAfterSeconds ?? (daily ? DAILY_QUOTA_PAUSE_SECONDS : RATE_PAUSE_SECONDS);
    return {
      errorClass: "transient",
      summary: daily
        ? `The account has sent its daily SES quota in ${region} (${said}); every Postern process pauses it for ${pause} s and retries.`
        : `SES is throttling the account in ${region} (${said}${message ? `: ${message}` : ""}); every Postern process pauses it for ${pause} s${reply.retryAfterSeconds === undefined ? "" : ", as Retry-After asks"}, and retries.`,
      fix: daily
        ? "Ask for a higher daily quota in the Service Quotas console (Amazon SES → Sending quota) of this region."
        : "Postern sends at most POSTERN_SES_MESSAGES_PER_SECOND per account and region: if this recurs, other senders share the account's rate; the SES console → Account dashboard shows the account's maximum send rate, and the operator can match it.",
      sender: { pauseSeconds: pause },
    };
  }
  if (status >= 500) {
    return {
      errorClass: "network",
      summary: `SES is unavailable just now in ${region} (${said}); Postern retries${reply.retryAfterSeconds === undefined ? "" : ` in ${reply.retryAfterSeconds} s, as Retry-After asks`}.`,
    };
  }
  return {
    errorClass: "permanent",
    summary: `SES refused the email (${said}${message ? `: ${message}` : ""}).`,
    fix: "This email fails, and so will every email like it: check the app's email template and the sender name (SES refuses messages over 40 MB and malformed addresses).",
  };
}
