// Email API suite: login emails for one SendGrid account through Postern's whole pipeline, HTTP request →
// queue → worker → the SendGrid kind (@sendgrid/mail) → /v3/mail/send at the SendGrid fake, next to the
// same SDK sending the same messages straight to the same fake (the floor), at the same concurrency.
import { appWithProvider } from "./lib/dashboard.ts";
import { type SendgridDestination, sendThroughSendgrid } from "./lib/senders.ts";
import { formatCount } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import {
  comparePipelineWithFloor,
  printComparison,
  type Side,
  type VersusFloor,
} from "./lib/versus-floor.ts";
import { startWorld } from "./lib/world.ts";
import type { SendgridStats } from "./lib/world-protocol.ts";

const DEFAULT_EMAILS = 1_000;
/**
 * Postern's bound on requests in flight per SendGrid API key (POSTERN_SENDGRID_MAX_CONCURRENT's default,
 * src/email-provider/kinds/sendgrid/operator-settings.ts); the floor keeps it too.
 */
const CONCURRENCY = 10;
/**
 * Postern's own 3,000 messages a minute per key (SendGrid publishes no number:
 * https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits) would
 * make the run measure the quota: lifted, as the fake's window is. The fake answers after this long, a
 * stand-in for SendGrid's own time per request.
 */
const MESSAGES_PER_MINUTE = 1_000_000;
const LATENCY_MS = 20;
const SENDER = { email: "login@bench.example", name: "Bench app" };
/** A key each: the fake keeps each key's peak in flight over its whole life, so each row's is its own. */
const POSTERN_KEY = "SG.bench-postern.0123456789abcdefghijklmnopqrstuvwxyz";
const FLOOR_KEY = "SG.bench-floor.0123456789abcdefghijklmnopqrstuvwxyz";

const between = (before: SendgridStats, after: SendgridStats, side: Side) => ({
  requests: after.requests - before.requests,
  accepted: after.accepted - before.accepted,
  throttled: after.throttled - before.throttled,
  peak: after.peakInFlight[side === "pipeline" ? POSTERN_KEY : FLOOR_KEY] ?? 0,
});
type Counts = ReturnType<typeof between>;

export const emailApiSuite: Suite = {
  name: "email-api",
  summary: "SendGrid's Mail Send API: the pipeline vs SendGrid's own SDK sending to the same fake",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const world = await startWorld();
    try {
      const fake = await world.call("startSendgrid", {
        apiKeys: [POSTERN_KEY, FLOOR_KEY],
        senderDomain: SENDER.email.split("@")[1]!,
        latencyMs: LATENCY_MS,
      });
      const floorTo: SendgridDestination = {
        baseUrl: fake.url,
        apiKey: FLOOR_KEY,
        senderEmail: SENDER.email,
        senderName: SENDER.name,
      };
      const spec: VersusFloor<SendgridStats, Counts> = {
        world,
        backend,
        count,
        labelPrefix: "sendgrid-",
        fake: "the SendGrid fake",
        stats: () => world.call("sendgridStats", { port: fake.port }),
        between,
        pipeline: {
          label: "Postern: HTTP → queue → worker → @sendgrid/mail",
          env: {
            POSTERN_SENDGRID_API_URL: fake.url,
            POSTERN_SENDGRID_MAX_CONCURRENT: String(CONCURRENCY),
            POSTERN_SENDGRID_MESSAGES_PER_MINUTE: String(MESSAGES_PER_MINUTE),
          },
          app: async (postern) =>
            (
              await appWithProvider(postern, {
                type: "sendgrid",
                senderEmail: SENDER.email,
                senderName: SENDER.name,
                apiKey: POSTERN_KEY,
              })
            ).logins,
        },
        floor: {
          label: `(a) floor: @sendgrid/mail, ${CONCURRENCY} at a time`,
          send: (recipients) => sendThroughSendgrid(floorTo, recipients, CONCURRENCY),
        },
      };
      const result = await comparePipelineWithFloor(spec);
      printComparison(backend, result, {
        title: `Throughput: one SendGrid API key, fake at ${LATENCY_MS} ms per request, ${CONCURRENCY} requests at a time, quota lifted`,
        columns: [
          ["requests", (c) => formatCount(c.requests)],
          ["202s", (c) => formatCount(c.accepted)],
          ["peak concurrent", (c) => formatCount(c.peak)],
          ["429s", (c) => formatCount(c.throttled)],
        ],
        ceiling: { concurrency: CONCURRENCY, latencyMs: LATENCY_MS },
        acceptedBy: "SendGrid",
      });
    } finally {
      await world.close();
    }
  },
};
