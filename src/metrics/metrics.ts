import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics for one Postern process (its own registry, so tests can run several). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: "postern_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: "postern_deliveries_total",
    help: "Login email delivery outcomes",
    labelNames: ["status", "route"],
    registers: [this.registry],
  });
  readonly senderLimitWaits = new Counter({
    name: "postern_sender_limit_waits_total",
    help: "Login emails a provider's sending limit sent back to the queue to wait, by the limit that held them",
    labelNames: ["limit"],
    registers: [this.registry],
  });
  readonly sendDuration = new Histogram({
    name: "postern_smtp_send_duration_seconds",
    help: "Time to hand one email to the SMTP server",
    labelNames: ["route", "outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly tokenRequests = new Counter({
    name: "postern_oauth_token_requests_total",
    help: "Requests to OAuth token endpoints",
    labelNames: ["provider", "outcome"],
    registers: [this.registry],
  });
  readonly smtpConnections = new Gauge({
    name: "postern_smtp_connections_open",
    help: "Open SMTP connections of custom providers, by provider kind",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly smtpPools = new Gauge({
    name: "postern_smtp_pools_open",
    help: "Open SMTP transport pools (one per provider version)",
    registers: [this.registry],
  });
  readonly queueOldestAge = new Gauge({
    name: "postern_queue_oldest_age_seconds",
    help: "Age of the oldest waiting login email job",
    registers: [this.registry],
  });
  readonly queueDepth: Gauge;
  readonly providers: Gauge;
  readonly credentials: Gauge;
  readonly credentialDaysLeft: Gauge;

  /** `queueDepth` and `providers` are read from the database when Prometheus scrapes, not on a timer. */
  constructor(
    queueDepth: () => Promise<{ queued: number; active: number; oldestAgeSeconds: number }>,
    providerStates: () => Promise<{ unknown: number; working: number; failing: number }> = async () => ({
      unknown: 0,
      working: 0,
      failing: 0,
    }),
    credentialStates: () => Promise<{
      counts: Record<"ok" | "expiring" | "expired" | "unknown", number>;
      minDaysLeft: number | undefined;
    }> = async () => ({ counts: { ok: 0, expiring: 0, expired: 0, unknown: 0 }, minDaysLeft: undefined }),
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: "postern_" });
    const oldestAge = this.queueOldestAge;
    this.queueDepth = new Gauge({
      name: "postern_queue_depth",
      help: "Login email jobs waiting or running",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const depth = await queueDepth().catch(() => undefined);
        if (!depth) return;
        this.set({ state: "queued" }, depth.queued);
        this.set({ state: "active" }, depth.active);
        oldestAge.set(depth.oldestAgeSeconds);
      },
    });
    // Counts per state, never per tenant: the label set stays three values however many apps there are.
    this.providers = new Gauge({
      name: "postern_providers",
      help: "Custom email providers by health (unchecked: saved, not yet sent through or tested)",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const counts = await providerStates().catch(() => undefined);
        if (!counts) return;
        this.set({ state: "working" }, counts.working);
        this.set({ state: "failing" }, counts.failing);
        this.set({ state: "unchecked" }, counts.unknown);
      },
    });
    // One database read serves both gauges of a scrape (prom-client collects them one after the other).
    let read: { at: number; states: ReturnType<typeof credentialStates> } | undefined;
    const credentialsNow = () => {
      if (!read || Date.now() - read.at > 1_000) read = { at: Date.now(), states: credentialStates() };
      return read.states.catch(() => undefined);
    };
    this.credentials = new Gauge({
      name: "postern_provider_credentials",
      help: "Provider credentials by expiry (expiring: within 30 days; unknown: a secret without an expiry date)",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const states = await credentialsNow();
        if (states) for (const [state, count] of Object.entries(states.counts)) this.set({ state }, count);
      },
    });
    this.credentialDaysLeft = new Gauge({
      name: "postern_provider_credential_days_left_min",
      help: "The fewest days any provider credential (Entra secret or certificate) has left; absent when none expires",
      registers: [this.registry],
      async collect() {
        const states = await credentialsNow();
        if (states?.minDaysLeft === undefined) this.reset();
        else this.set(states.minDaysLeft);
      },
    });
  }

  instrumentHttp(app: FastifyInstance): void {
    app.addHook("onResponse", async (request, reply) => {
      this.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? "unmatched",
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  }
}
