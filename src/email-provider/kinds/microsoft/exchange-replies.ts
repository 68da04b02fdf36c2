import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import type { ReplyMeaning } from "../../../mail/transport.ts";
import { psQuote } from "./powershell.ts";

/** Long enough for the per-minute submission window to pass (Exchange: 30 messages a minute per mailbox). */
const QUOTA_PAUSE_SECONDS = 60;
/** Exchange does not say how long continuous-error throttling lasts; back off well past a minute (https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions). */
const THROTTLED_PAUSE_SECONDS = 15 * 60;
/**
 * What Exchange Online's replies mean and what to do about them
 * (https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements,
 * https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions).
 * Exchange gives one `535 5.7.3` for every OAuth failure, so
 * its message lists the causes in the order people hit them.
 *
 * Only replies about the mailbox itself (432 4.3.2, the submission quota, continuous-error throttling)
 * ask something of the sender's lane: they are true for every provider sending as the mailbox, and no
 * tenant can make Exchange give them to another. Failures of a provider's own credentials or rights
 * (5.7.3, 5.7.139, SendAs, mailbox logon) mark only that provider failing, and routing probes it once
 * a minute: pausing the lane for them would let any tenant naming a mailbox stop its real senders.
 */
export function interpretExchangeReply(
  error: ClassifiedError,
  senderEmail: string,
): ReplyMeaning | undefined {
  const reply = error.smtpReply ?? "";
  const code = error.responseCode;
  const sender = psQuote(senderEmail);

  if (code === 432 && /4\.3\.2/.test(reply)) {
    return {
      errorClass: "transient",
      message: `Exchange refused another connection for ${senderEmail} (432 4.3.2: its limit of concurrent connections per mailbox); Postern uses fewer connections for this mailbox and retries.`,
      sender: { slowDown: true },
    };
  }
  if (/SubmissionQuotaExceeded/i.test(reply)) {
    return {
      errorClass: "transient",
      message: `Exchange's submission quota for ${senderEmail} is used up (554 5.2.0 SubmissionQuotaExceeded); Postern pauses this sender until the window passes and retries.`,
      sender: { pauseSeconds: QUOTA_PAUSE_SECONDS },
    };
  }
  if (code === 550 && /5\.2\.25[1-5]/.test(reply)) {
    return {
      errorClass: "permanent",
      message: `Exchange is throttling ${senderEmail} after continuous errors (550 5.2.25x); Postern pauses this sender for 15 minutes. Fix the cause of the earlier failures in the delivery log, then run Test connection.`,
      sender: { pauseSeconds: THROTTLED_PAUSE_SECONDS },
    };
  }
  if (/5\.2\.252|SendAsDenied|5\.7\.60/.test(reply)) {
    return {
      errorClass: "auth",
      message: `Exchange refused to send as ${senderEmail} (SendAs denied). The sender email must be the mailbox the service principal has FullAccess to, or grant it SendAs: Add-RecipientPermission -Identity ${sender} -Trustee <service principal> -AccessRights SendAs`,
    };
  }
  if (/5\.7\.139/.test(reply)) {
    const tenantWide = /for the Tenant/i.test(reply);
    return {
      errorClass: "auth",
      message: tenantWide
        ? "SMTP AUTH is disabled for the whole tenant (535 5.7.139). In Exchange Online PowerShell: Set-TransportConfig -SmtpClientAuthenticationDisabled $false"
        : `SMTP AUTH is disabled for ${senderEmail} (535 5.7.139). In Exchange Online PowerShell: Set-CASMailbox -Identity ${sender} -SmtpClientAuthenticationDisabled $false`,
    };
  }
  if (code === 535 && /5\.7\.3/.test(reply)) {
    return {
      errorClass: "auth",
      message: `Exchange refused the app's token for ${senderEmail} (535 5.7.3). Usually the app's service principal is not registered in Exchange Online (New-ServicePrincipal with the Enterprise application's Object ID, not the App registration's) or has no FullAccess to the mailbox (Add-MailboxPermission -Identity ${sender} -User <service principal> -AccessRights FullAccess); also check that SMTP.SendAsApp has admin consent. The setup guide has the commands.`,
    };
  }
  if (code === 430 && /mailbox logon failure/i.test(reply)) {
    return {
      errorClass: "auth",
      message: `Exchange accepted the token but the app may not open ${senderEmail} (430 4.2.0 mailbox logon failure): give its service principal FullAccess with Add-MailboxPermission -Identity ${sender} -User <service principal> -AccessRights FullAccess`,
    };
  }
  return undefined;
}
