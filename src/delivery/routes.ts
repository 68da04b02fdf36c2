import type { MailSender } from "../mail/sender.ts";
import type { ClassifiedError } from "../mail/smtp-errors.ts";

/** Which way one login email goes out, decided by the worker at send time. */
export interface DeliveryRoute {
  route: "default" | "custom";
  /** The custom provider this route sends through (absent: the default sender). */
  provider?: { id: string; type: string; label: string };
  sender: MailSender;
  from: { name: string; address: string };
  /** Why the email took this route rather than the first (a failing provider was skipped or bypassed). */
  note?: string;
  /**
   * Where to send right away when this route cannot send for the provider's sake (a provider-level
   * failure, or its sending limit makes the email wait): the app's next provider, or the default sender.
   */
  fallback?: DeliveryRoute;
  /**
   * Takes a sending slot where the provider limits senders across all workers (e.g. Exchange's
   * per-mailbox connections and messages a minute). Without a slot the email waits in the queue.
   */
  acquireSlot?(): Promise<{ release(): Promise<void> } | { waitSeconds: number; blockedBy: string }>;
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
