import type { OutgoingEmail, SendResult } from "./sender.ts";
import { type ClassifiedError, classifySmtpError, type ErrorClass } from "./smtp-errors.ts";
import type { TestStep } from "./test-steps.ts";

/**
 * What a failure asks of everyone sharing the sender's limits — slowDown: use fewer connections;
 * pauseSeconds: send nothing through this sender for that long. Never set for a failure of one
 * provider's own credentials or permissions: that marks only the provider failing.
 */
export type SenderReaction = { slowDown: true } | { pauseSeconds: number };

/** What a provider-specific reply means: a truer class, a message with the fix, and what it asks of the sender. */
export interface ReplyMeaning {
  errorClass: ErrorClass;
  message: string;
  sender?: SenderReaction;
}

/**
 * A failed send, classified once by the transport that spoke the protocol: the worker acts on it as it
 * is (fail, wait, move on), the sender's lane on `sender`, and `retryAfterSeconds` (a provider's
 * Retry-After) is the earliest next try.
 */
export class DeliveryError extends Error {
  readonly sender: SenderReaction | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly classified: ClassifiedError,
    options: { sender?: SenderReaction | undefined; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(classified.message);
    this.name = "DeliveryError";
    this.sender = options.sender;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The classified failure of any send: a transport's own, or an SMTP-shaped error read as one. */
export const deliveryErrorOf = (err: unknown): DeliveryError =>
  err instanceof DeliveryError ? err : new DeliveryError(classifySmtpError(err));

/** One open way to a provider: what the worker sends through and what a connection test runs. */
export interface Transport {
  /** Sends one email; a failure is thrown as a DeliveryError. */
  send(email: OutgoingEmail): Promise<SendResult>;
  /** Every step of a connection test, timed and explained; sends `email` when given. */
  probe(options: { email?: OutgoingEmail | undefined }): Promise<TestStep[]>;
  close(): Promise<void>;
}
