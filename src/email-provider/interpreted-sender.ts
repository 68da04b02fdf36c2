import type { MailSender } from "../mail/sender.ts";
import { type ClassifiedError, classifySmtpError } from "../mail/smtp-errors.ts";
import type { ReplyMeaning } from "./kinds/kind.ts";
import type { SenderLane } from "./sender-limits/lane.ts";

/**
 * Lets a kind read its provider's own replies: the error the worker sees carries the kind's class and
 * message (with the fix, for the delivery log and the provider's health), and the sender's lane hears
 * what the reply asks of it (fewer connections, a pause) for every process.
 */
export function interpretedSender(
  sender: MailSender,
  interpret: (error: ClassifiedError) => ReplyMeaning | undefined,
  lane: SenderLane | undefined,
): MailSender {
  return {
    async send(email) {
      try {
        return await sender.send(email);
      } catch (err) {
        const classified = classifySmtpError(err);
        const meaning = interpret(classified);
        if (!meaning) throw err;
        if (lane && meaning.sender) await lane.react(meaning.sender, meaning.message);
        throw Object.assign(new Error(meaning.message), {
          errorClass: meaning.errorClass,
          response: classified.smtpReply,
          responseCode: classified.responseCode,
        });
      }
    },
    close: () => sender.close(),
  };
}
