import type { ClassifiedError, ErrorClass } from "../../../mail/smtp-errors.ts";
import type { SenderReaction } from "../../../mail/transport.ts";
import { psQuote } from "./powershell.ts";

/** Graph's answer to one sendMail request, as far as it tells what went wrong (https://learn.microsoft.com/graph/errors). */
export interface GraphReply {
  status: number;
  /** `error.code` of the OData error body; empty when there was none. */
  code: string;
  /** `error.message`, cut short and stripped of control characters. */
  message: string;
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

/** What a Graph reply means for the email, with the fix in the developer's own values. */
export interface GraphMeaning {
  errorClass: ErrorClass;
  /** What happened, in words. */
  summary: string;
  /** What to do about it; absent when nobody needs to do anything. */
  fix?: string;
  sender?: SenderReaction;
  /** The earliest next try, when Graph asked for one (or is throttling without saying how long). */
  retryAfterSeconds?: number;
}

export interface GraphFixValues {
  senderEmail: string;
  clientId: string;
}

/** How long a mailbox pauses after a 429 without Retry-After: Graph's guidance is to back off (https://learn.microsoft.com/graph/throttling). */
export const DEFAULT_RETRY_AFTER_SECONDS = 30;

const RBAC = "https://learn.microsoft.com/exchange/permissions-exo/application-rbac";
const ACCESS_POLICY = "https://learn.microsoft.com/graph/auth-limit-mailbox-access";

/**
 * The reply as the delivery log keeps it ("403 ErrorAccessDenied: Access is denied… (request-id …)"):
 * status first, so a stored attempt can be explained again (see `replyFromLine`).
 */
export function replyLine(reply: GraphReply): string {
  const what = [reply.code, reply.message].filter(Boolean).join(": ");
  return `${reply.status}${what ? ` ${what}` : ""}${reply.requestId ? ` (request-id ${reply.requestId})` : ""}`;
}

/** Reads back a stored reply line; undefined for anything else (an SMTP reply, a token failure). */
export function replyFromLine(line: string | undefined): GraphReply | undefined {
  const match = /^(\d{3})(?: ([A-Za-z][\w.]*))?(?:: (.*?))?(?: \(request-id [^)]*\))?$/s.exec(line ?? "");
  if (!match) return undefined;
  return { status: Number(match[1]), code: match[2] ?? "", message: match[3] ?? "" };
}

/**
 * Every Graph failure of sendMail classified once, by whom it blames (https://learn.microsoft.com/graph/api/user-sendmail,
 * https://learn.microsoft.com/graph/errors): the provider's configuration (token, permission, mailbox: the email
 * waits for a fix), this email (too large, a refused recipient: it fails), or Graph's load (429, 5xx: the
 * email waits as long as Retry-After says). Only a 429 asks something of the mailbox's lane: it is
 * Graph's limit per app and mailbox, and only a token of the mailbox's tenant with the right to send as
 * it gets that far, so no other tenant can pause a real sender with it.
 */
export function interpretGraphReply(reply: GraphReply, values: GraphFixValues): GraphMeaning {
  const { status, code } = reply;
  const mailbox = values.senderEmail;
  const said = `${status}${code ? ` ${code}` : ""}`;

  if (status === 401) {
    return {
      errorClass: "auth",
      summary: `Microsoft Graph refused the app's token even after a fresh one (${said}: ${reply.message || "no reason given"}).`,
      fix: "The token must be a Microsoft Graph token of the same cloud as POSTERN_MICROSOFT_GRAPH_URL (a national cloud's Graph refuses tokens of another), and Postern's clock must be right. Run Test connection: its token step shows what Entra issued.",
    };
  }
  if (status === 403 && code === "ErrorSendAsDenied") {
    return {
      errorClass: "auth",
      summary: `Microsoft Graph refused to send From ${mailbox} (${said}).`,
      fix: `Graph sends From the mailbox named in the request, or from one it has Send As rights on (https://learn.microsoft.com/graph/outlook-send-mail-from-other-user). Use the mailbox's primary SMTP address as the sender email, or grant Send As: Add-RecipientPermission -Identity ${psQuote(mailbox)} -Trustee ${psQuote(mailbox)} -AccessRights SendAs`,
    };
  }
  if (status === 403 && /AccessPolicy|OData is disabled/i.test(reply.message)) {
    return {
      errorClass: "auth",
      summary: `An application access policy of the tenant keeps the app from ${mailbox} (${said}: ${reply.message}).`,
      fix: `Check it in Exchange Online PowerShell with Test-ApplicationAccessPolicy -Identity ${psQuote(mailbox)} -AppId ${psQuote(values.clientId)}. Add the mailbox to the policy's mail-enabled security group, or replace the policy with RBAC for Applications as the setup guide shows (${ACCESS_POLICY}). Changes can take 30 minutes to apply.`,
    };
  }
  if (status === 403) {
    return {
      errorClass: "auth",
      summary: `Microsoft Graph denied the app Mail.Send as ${mailbox} (${said}).`,
      fix: `Either the app has no Mail.Send at all, or ${mailbox} is outside the management scope of its RBAC for Applications assignment. In Exchange Online PowerShell, Test-ServicePrincipalAuthorization -Identity ${psQuote(values.clientId)} -Resource ${psQuote(mailbox)} shows whether "Application Mail.Send" covers the mailbox (InScope). Grant it with New-ManagementScope (a recipient filter matching the mailbox) and New-ManagementRoleAssignment -App ${psQuote(values.clientId)} -Role "Application Mail.Send" -CustomResourceScope <the scope>: the setup guide has both, filled in (${RBAC}). Grants take 30 minutes to 2 hours to reach Graph.`,
    };
  }
  if (status === 404 && code === "MailboxNotEnabledForRESTAPI") {
    return {
      errorClass: "auth",
      summary: `${mailbox} cannot be used through Microsoft Graph (${said}): it is unlicensed, inactive, soft-deleted or on an on-premises Exchange server.`,
      fix: "Give the user an Exchange Online license, or send from a shared mailbox in Exchange Online. A mailbox on an on-premises server can only send through the SMTP transport of its own server.",
    };
  }
  if (status === 404) {
    return {
      errorClass: "auth",
      summary: `Microsoft Graph knows no mailbox ${mailbox} in the app's tenant (${said}).`,
      fix: "The sender email must be the primary SMTP address or user principal name of a user or shared mailbox in the tenant the app is registered in: not a distribution list, a group, or a mailbox of another tenant. Check it in the Exchange admin center → Recipients → Mailboxes.",
    };
  }
  if (status === 413 || code === "ErrorMessageSizeExceeded") {
    return {
      errorClass: "permanent",
      summary: `This login email is too large for Microsoft Graph (${said}); it fails, and so will every email like it.`,
      fix: "Graph takes requests of up to 4 MB (https://learn.microsoft.com/graph/api/user-sendmail). Make the app's email template smaller: large inline images are the usual cause.",
    };
  }
  if (code === "ErrorInvalidRecipients") {
    return { errorClass: "recipient", summary: `Microsoft Graph refused the recipient address (${said}).` };
  }
  if (status === 429) {
    const retryAfter = reply.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    return {
      errorClass: "transient",
      summary: `Microsoft Graph is throttling ${mailbox} (${said}${reply.message ? `: ${reply.message}` : ""}); every Postern process pauses this mailbox for ${retryAfter} s, as Retry-After asks, and retries.`,
      fix: "Graph allows 4 concurrent requests and 10,000 per 10 minutes per app and mailbox, and Exchange 30 messages a minute per mailbox (https://learn.microsoft.com/graph/throttling-limits). If this recurs, other apps or clients share the mailbox: give login emails a mailbox of their own.",
      sender: { pauseSeconds: retryAfter },
      retryAfterSeconds: retryAfter,
    };
  }
  if (status >= 500) {
    // An outage: blamed on the provider like an unreachable server, retried on Graph's schedule.
    const when =
      reply.retryAfterSeconds === undefined
        ? "with backoff"
        : `in ${reply.retryAfterSeconds} s, as its Retry-After asks`;
    return {
      errorClass: "network",
      summary: `Microsoft Graph is unavailable just now (${said}); Postern retries ${when}.`,
      ...(reply.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: reply.retryAfterSeconds }),
    };
  }
  return {
    errorClass: "permanent",
    summary: `Microsoft Graph refused the email (${said}${reply.message ? `: ${reply.message}` : ""}).`,
  };
}

/** One sentence with its fix, as the delivery log and the provider's health show it. */
export const meaningMessage = (meaning: GraphMeaning): string =>
  meaning.fix ? `${meaning.summary} ${meaning.fix}` : meaning.summary;

/**
 * The fix for a failed Graph attempt, from what the delivery log stored (its reply line and class): the
 * same words the send gave, so a stored attempt reads as it did when it happened.
 */
export function graphHint(error: ClassifiedError, values: GraphFixValues): string | undefined {
  if (error.errorClass === "token") return undefined; // the token step's message carries its fix
  const reply = replyFromLine(error.smtpReply);
  if (reply) return interpretGraphReply(reply, values).fix;
  if (error.errorClass === "tls") {
    return "Postern does not trust the certificate Microsoft Graph presented. If a TLS-inspecting proxy sits in between, the operator must add its CA (NODE_EXTRA_CA_CERTS) or let Graph through untouched.";
  }
  if (["network", "timeout", "blocked"].includes(error.errorClass)) {
    return "Postern could not reach Microsoft Graph: outbound HTTPS (port 443) to the Graph endpoint (POSTERN_MICROSOFT_GRAPH_URL) must be allowed.";
  }
  return undefined;
}
