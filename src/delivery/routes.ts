import type { MailSender } from "../mail/sender.ts";
import type { ClassifiedError } from "../mail/smtp-errors.ts";

/** Which way one login email goes out, decided by the worker at send time. */
export interface DeliveryRoute {
  route: "default" | "custom";
  sender: MailSender;
  from: { name: string; address: string };
  /** Set when a failing custom provider was bypassed through the default sender. */
  note?: string;
  /** Lets a custom provider record its health from the outcome of a real send. */
  reportOutcome?(outcome: { ok: true } | { ok: false; error: ClassifiedError }): Promise<void>;
}

/** Picks the route for an app's email (null: dashboard sign-in, always the default sender). */
export type RouteResolver = (appId: string | null) => Promise<DeliveryRoute>;
