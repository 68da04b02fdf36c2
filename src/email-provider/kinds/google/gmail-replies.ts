import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import type { ReplyMeaning } from "../../../mail/transport.ts";
import { GMAIL_SCOPE } from "./token-errors.ts";

/**
 * Google blocks a user who went over the daily limit "for up to 24 hours", counting over a rolling day
 * (https://support.google.com/a/answer/166852): an hour's pause lets the window move on between tries,
 * at the cost of one refused attempt an hour.
 */
export const DAILY_LIMIT_PAUSE_SECONDS = 60 * 60;
/** Google does not say how long "try again later" lasts. */
const TRY_LATER_PAUSE_SECONDS = 5 * 60;

/**
 * What Gmail's replies mean and what to do about them. Only replies about the mailbox itself (its
 * logins, its daily limit, Google deferring it) ask something of the sender's lane: only service
 * accounts delegated in the mailbox's own Workspace get a token to log in as it, so no other tenant can
 * make Gmail give them. A refused login (535-5.7.8) marks only its own provider failing.
 */
export function interpretGmailReply(error: ClassifiedError, senderEmail: string): ReplyMeaning | undefined {
  const reply = error.smtpReply ?? "";
  const code = error.responseCode;
  if (code === 535 && /5\.7\.8/.test(reply)) {
    return {
      errorClass: "auth",
      message: `Gmail refused the XOAUTH2 login as ${senderEmail} (535-5.7.8 Username and Password not accepted) although Google issued a token for it. The sender email must be the user's primary address (not an alias or a group), the user must have Gmail turned on (Admin console → Apps → Google Workspace → Gmail → Service status), and the delegation must list the scope ${GMAIL_SCOPE} exactly.`,
    };
  }
  if (code === 454 && /4\.7\.0/.test(reply)) {
    return {
      errorClass: "transient",
      message: `Gmail refused more logins as ${senderEmail} for now (454 4.7.0 Too many login attempts); Postern uses fewer connections for this mailbox and retries.`,
      sender: { slowDown: true },
    };
  }
  if (code === 550 && /5\.4\.5/.test(reply)) {
    return {
      errorClass: "transient",
      message: `${senderEmail} reached Gmail's daily sending limit (550 5.4.5: 2,000 messages a day per user, over a rolling 24 hours, after which Google blocks sending for up to 24 hours). Postern pauses this sender and tries again every hour; login emails meanwhile wait, and expire if the block outlasts them. Send from a mailbox that sends nothing else, or spread the apps over several sender mailboxes.`,
      sender: { pauseSeconds: DAILY_LIMIT_PAUSE_SECONDS },
    };
  }
  if (code === 421 && /4\.7\.0/.test(reply)) {
    return {
      errorClass: "transient",
      message: `Gmail deferred ${senderEmail} and closed the connection (421 4.7.0 Try again later); Postern pauses this sender for 5 minutes and retries.`,
      sender: { pauseSeconds: TRY_LATER_PAUSE_SECONDS },
    };
  }
  return undefined;
}
