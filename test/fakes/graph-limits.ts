// The limits Graph and Exchange Online document for sending from a mailbox: per app and mailbox, 4 concurrent
// requests and 10,000 requests per 10 minutes (https://learn.microsoft.com/graph/throttling-limits, Outlook
// service limits); per mailbox, 30 messages per minute and 10,000 recipients per rolling 24 hours
// (https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits).
// Every window runs on the fake's clock, so tests move time instead of waiting for it.
import { type GraphError, graphErrors } from "./graph-errors.ts";

export interface GraphLimits {
  concurrentRequestsPerAppMailbox: number;
  requestsPerTenMinutesPerAppMailbox: number;
  messagesPerMinutePerMailbox: number;
  recipientsPerDayPerMailbox: number;
  /** Graph's request size limit (4 MB); larger bodies get 413. */
  maxRequestBytes: number;
  /** Exchange's message size limit (default 35 MB); only reachable when maxRequestBytes is raised. */
  maxMessageBytes: number;
  /** Retry-After sent with a concurrency 429 (seconds). */
  concurrencyRetryAfter: number;
}

export const defaultGraphLimits: GraphLimits = {
  concurrentRequestsPerAppMailbox: 4,
  requestsPerTenMinutesPerAppMailbox: 10_000,
  messagesPerMinutePerMailbox: 30,
  recipientsPerDayPerMailbox: 10_000,
  maxRequestBytes: 4 * 1024 * 1024,
  maxMessageBytes: 35 * 1024 * 1024,
  concurrencyRetryAfter: 1,
};

export type ThrottleReason = "concurrency" | "requests" | "messages" | "recipients";

export interface LimitViolation {
  appId: string;
  mailbox: string;
  limit: ThrottleReason;
  at: Date;
}

const minute = 60_000;

/** Timestamps (and weights) inside a sliding window. */
class Window {
  private entries: { at: number; weight: number }[] = [];
  constructor(private readonly lengthMs: number) {}

  total(now: number): number {
    this.entries = this.entries.filter((e) => e.at > now - this.lengthMs);
    return this.entries.reduce((sum, e) => sum + e.weight, 0);
  }

  add(now: number, weight = 1): void {
    this.entries.push({ at: now, weight });
  }

  /** Seconds until enough weight leaves the window for `needed` more to fit under `limit`. */
  retryAfter(now: number, limit: number, needed: number): number {
    let excess = this.total(now) + needed - limit;
    for (const e of this.entries) {
      excess -= e.weight;
      if (excess <= 0) return Math.max(1, Math.ceil((e.at + this.lengthMs - now) / 1000));
    }
    return Math.ceil(this.lengthMs / 1000);
  }
}

export class GraphLimiter {
  readonly inFlight = new Map<string, number>();
  /** Highest number of simultaneous requests seen per "<appId>/<mailbox>", counting those refused for it. */
  readonly maxConcurrent = new Map<string, number>();
  readonly violations: LimitViolation[] = [];
  readonly throttled: Record<ThrottleReason, number> = {
    concurrency: 0,
    requests: 0,
    messages: 0,
    recipients: 0,
  };
  private readonly requestWindows = new Map<string, Window>();
  private readonly messageWindows = new Map<string, Window>();
  private readonly recipientWindows = new Map<string, Window>();

  constructor(
    readonly limits: GraphLimits,
    private readonly now: () => number,
  ) {}

  /** Admits a request for app+mailbox or says why not; an admitted request must be released. */
  enter(appId: string, mailbox: string): GraphError | undefined {
    const pair = `${appId}/${mailbox}`;
    const current = (this.inFlight.get(pair) ?? 0) + 1;
    this.inFlight.set(pair, current);
    this.maxConcurrent.set(pair, Math.max(this.maxConcurrent.get(pair) ?? 0, current));
    if (current > this.limits.concurrentRequestsPerAppMailbox) {
      this.release(appId, mailbox);
      return this.refuse(
        appId,
        mailbox,
        "concurrency",
        graphErrors.concurrencyThrottled(this.limits.concurrencyRetryAfter),
      );
    }
    const requests = windowFor(this.requestWindows, pair, 10 * minute);
    const now = this.now();
    if (requests.total(now) >= this.limits.requestsPerTenMinutesPerAppMailbox) {
      this.release(appId, mailbox);
      const retry = requests.retryAfter(now, this.limits.requestsPerTenMinutesPerAppMailbox, 1);
      return this.refuse(appId, mailbox, "requests", graphErrors.requestRateThrottled(retry));
    }
    requests.add(now);
    return undefined;
  }

  release(appId: string, mailbox: string): void {
    const pair = `${appId}/${mailbox}`;
    this.inFlight.set(pair, Math.max(0, (this.inFlight.get(pair) ?? 1) - 1));
  }

  /** Checks the mailbox's sending limits for one message to `recipients` addresses, and counts it if it fits. */
  submit(appId: string, mailbox: string, recipients: number): GraphError | undefined {
    const now = this.now();
    const messages = windowFor(this.messageWindows, mailbox, minute);
    if (messages.total(now) >= this.limits.messagesPerMinutePerMailbox) {
      const retry = messages.retryAfter(now, this.limits.messagesPerMinutePerMailbox, 1);
      return this.refuse(appId, mailbox, "messages", graphErrors.messageRateThrottled(retry));
    }
    const daily = windowFor(this.recipientWindows, mailbox, 24 * 60 * minute);
    if (daily.total(now) + recipients > this.limits.recipientsPerDayPerMailbox) {
      const retry = daily.retryAfter(now, this.limits.recipientsPerDayPerMailbox, recipients);
      return this.refuse(appId, mailbox, "recipients", graphErrors.recipientRateThrottled(retry));
    }
    messages.add(now);
    daily.add(now, recipients);
    return undefined;
  }

  private refuse(appId: string, mailbox: string, limit: ThrottleReason, error: GraphError): GraphError {
    this.throttled[limit]++;
    this.violations.push({ appId, mailbox, limit, at: new Date(this.now()) });
    return error;
  }
}

function windowFor(map: Map<string, Window>, keyName: string, lengthMs: number): Window {
  let window = map.get(keyName);
  if (!window) {
    window = new Window(lengthMs);
    map.set(keyName, window);
  }
  return window;
}
