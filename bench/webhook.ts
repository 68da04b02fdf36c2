// Webhook suite: login emails for one app through Postern's whole pipeline with the signed webhook, HTTP
// request → queue → worker → outbound guard → a Standard Webhooks POST to a receiver that verifies each
// one, next to a plain client that signs the same payloads with the standardwebhooks library and POSTs
// them with fetch (the floor) to the same receiver, at the same concurrency.
import { appWithProvider } from "./lib/dashboard.ts";
import { sendThroughWebhook, type WebhookDestination } from "./lib/senders.ts";
import { formatCount } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { comparePipelineWithFloor, printComparison, type VersusFloor } from "./lib/versus-floor.ts";
import { startWorld } from "./lib/world.ts";
import type { WebhookStats } from "./lib/world-protocol.ts";

const DEFAULT_EMAILS = 1_000;
/**
 * The webhook kind has no sender limits: a worker's jobs in flight (POSTERN_WORKER_CONCURRENCY's default,
 * src/config/config.ts) bound its POSTs, as do its agent's 10 sockets per endpoint
 * (src/email-provider/kinds/webhook/transport.ts). The floor keeps the same.
 */
const CONCURRENCY = 10;
const SENDER = { email: "login@bench.example", name: "Bench app" };

const between = (before: WebhookStats, after: WebhookStats) => ({
  requests: after.requests - before.requests,
  accepted: after.accepted - before.accepted,
  badSignatures: after.badSignatures - before.badSignatures,
});

export const webhookSuite: Suite = {
  name: "webhook",
  summary: "the signed webhook: the pipeline vs standardwebhooks-signed fetch POSTs to the same receiver",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const world = await startWorld();
    try {
      const receiver = await world.call("startWebhook", {});
      /** Set once Postern has created the signing secret, which the floor signs with too. */
      let floorTo: WebhookDestination | undefined;
      const spec: VersusFloor<WebhookStats, ReturnType<typeof between>> = {
        world,
        backend,
        count,
        labelPrefix: "webhook-",
        fake: "the webhook receiver",
        stats: () => world.call("webhookStats", { port: receiver.port }),
        between,
        pipeline: {
          label: "Postern: HTTP → queue → worker → signed POST",
          // The receiver is on loopback, which the shared bench settings allowlist (any port, then).
          env: { POSTERN_WORKER_CONCURRENCY: String(CONCURRENCY) },
          async app(postern) {
            const { app, saved, logins } = await appWithProvider(postern, {
              type: "webhook",
              senderEmail: SENDER.email,
              senderName: SENDER.name,
              url: receiver.url,
            });
            const secret = saved.provider.revealedOnce?.signingSecret;
            if (!secret) throw new Error("saving the webhook provider revealed no signing secret");
            await world.call("webhookSecrets", { port: receiver.port, secrets: [secret] });
            floorTo = {
              url: receiver.url,
              secret,
              appId: app.id,
              senderEmail: SENDER.email,
              senderName: SENDER.name,
            };
            return logins;
          },
        },
        floor: {
          label: `(a) floor: standardwebhooks sign + fetch, ${CONCURRENCY} at a time`,
          send(recipients) {
            if (!floorTo) throw new Error("the floor runs after Postern has created the signing secret");
            return sendThroughWebhook(floorTo, recipients, CONCURRENCY);
          },
        },
      };
      const result = await comparePipelineWithFloor(spec);
      printComparison(backend, result, {
        title: "Throughput: one app's signed webhook, every request verified by the receiver",
        columns: [
          ["requests", (c) => formatCount(c.requests)],
          ["2xx", (c) => formatCount(c.accepted)],
          ["bad signatures", (c) => formatCount(c.badSignatures)],
        ],
        acceptedBy: "the receiver",
      });
    } finally {
      await world.close();
    }
  },
};
