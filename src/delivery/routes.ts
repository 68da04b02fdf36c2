import type { MailSender } from "../mail/sender.ts";
import type { ClassifiedError } from "../mail/smtp-errors.ts";

/** Which way one login email goes out, decided by the worker at send time. */
export interface DeliveryRoute {
  route: "default" | "custom";
  sender: MailSender;
  from: { name: string; address: string };
  /** Set when a failing custom provider was bypassed through the default sender. */
  note?: string;
  /** Where to send right away when this route fails for the provider's sake (fallbackToDefault). */
  fallback?: DeliveryRoute;
  /**
   * Takes a sending slot where the provider limits senders across all workers (e.g. Exchange's
   * per-mailbox connections and messages a minute). Without a slot the email waits in the queue.
   */
  acquireSlot?(): Promise<{ release(): Promise<void> } | { waitSeconds: number }>;
  /** Lets a custom provider record its health from the outcome of a real send. */
  reportOutcome?(outcome: { ok: true } | { ok: false; error: ClassifiedError }): Promise<void>;
}

/**
 * A custom provider known to be failing, without a fallback: nothing is sent through it; the email
 * waits until its scheduled probe (or a send, a test, a saved change) finds it working again.
 */
export interface HeldRoute {
  route: "custom";
  held: { reason: string; since: Date | null };
}

/** Picks the route for an app's email (null: dashboard sign-in, always the default sender). */
export type RouteResolver = (appId: string | null) => Promise<DeliveryRoute | HeldRoute>;
