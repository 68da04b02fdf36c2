// Graph suite: login emails for one Microsoft 365 sender through Postern's whole pipeline with the Graph
// transport, HTTP request → queue → worker → MSAL token → sendMail at the Graph fake, next to plain fetch
// POSTs of the same MIME messages with one token fetched beforehand (the floor), at the same concurrency,
// on the same fake.
import { appWithProvider } from "./lib/dashboard.ts";
import { fetchAccessToken, issuedTokensIn } from "./lib/microsoft.ts";
import { sendThroughGraph } from "./lib/senders.ts";
import { formatCount, formatNumber } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import {
  comparePipelineWithFloor,
  printComparison,
  type Side,
  type VersusFloor,
} from "./lib/versus-floor.ts";
import { startWorld } from "./lib/world.ts";
import type { GraphStats } from "./lib/world-protocol.ts";

const DEFAULT_EMAILS = 1_000;
/** Graph's own limit per app and mailbox (https://learn.microsoft.com/graph/throttling-limits), at the fake and for the floor. */
const CONCURRENCY = 4;
/**
 * Exchange's 30 messages a minute would make the run measure the quota: lifted at the fake and in
 * Postern. The fake answers after this long, a stand-in for Graph's own time per request.
 */
const LIMITS = { concurrentRequestsPerAppMailbox: CONCURRENCY, messagesPerMinutePerMailbox: 1_000_000 };
const LATENCY_MS = 20;

const between = (before: GraphStats, after: GraphStats, side: Side) => ({
  requests: after.requests - before.requests,
  peak: after.peakConcurrency,
  throttled: after.throttled - before.throttled,
  // The floor's one token was fetched before its run.
  tokenRequests: side === "floor" ? 1 : after.tokenRequests - before.tokenRequests,
});

export const graphSuite: Suite = {
  name: "graph",
  summary: "Microsoft 365 through Microsoft Graph: the pipeline vs plain fetch POSTs to the same fake",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const world = await startWorld();
    try {
      const fakes = await world.call("startGraph", { limits: LIMITS, latencyMs: LATENCY_MS });
      const accessToken = await fetchAccessToken(fakes.identityPort, "https://graph.microsoft.com/.default");
      const to = {
        graphUrl: fakes.graphUrl,
        mailbox: String(fakes.provider.senderEmail),
        senderName: String(fakes.provider.senderName),
        accessToken,
      };
      const spec: VersusFloor<GraphStats, ReturnType<typeof between>> = {
        world,
        backend,
        count,
        labelPrefix: "graph-",
        fake: "the Graph fake",
        stats: () => world.call("graphStats", { graphPort: fakes.graphPort }),
        between,
        pipeline: {
          label: "Postern: HTTP → queue → worker → MSAL → Graph sendMail",
          env: {
            ...fakes.env,
            POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(LIMITS.messagesPerMinutePerMailbox),
          },
          app: async (postern) => (await appWithProvider(postern, fakes.provider)).logins,
        },
        floor: {
          label: `(a) floor: fetch, ${CONCURRENCY} at a time, one token fetched before`,
          send: (recipients) => sendThroughGraph(to, recipients, CONCURRENCY),
        },
      };
      const result = await comparePipelineWithFloor(spec);
      const { pipeline } = result;
      const tokensAtFake = pipeline.stats.end.tokenRequests - pipeline.stats.start.tokenRequests;
      printComparison(backend, result, {
        title: `Throughput: one Microsoft 365 sender through Graph, fake at ${CONCURRENCY} concurrent requests per app and mailbox, ${LATENCY_MS} ms per request, quota lifted`,
        columns: [
          ["requests", (c) => formatCount(c.requests)],
          ["peak concurrent", (c) => formatCount(c.peak)],
          ["429s", (c) => formatCount(c.throttled)],
          ["token requests", (c) => formatCount(c.tokenRequests)],
        ],
        ceiling: { concurrency: CONCURRENCY, latencyMs: LATENCY_MS },
        notes: [
          "",
          "Token requests",
          `  Postern: ${formatCount(tokensAtFake)} at the identity fake for ${formatCount(pipeline.emailsSent)} emails (warm-up, burst, paced): ${formatNumber((tokensAtFake * 1000) / pipeline.emailsSent)} per 1,000 emails.`,
          `  /metrics postern_oauth_token_requests_total{provider="microsoft",outcome="issued"} = ${formatCount(issuedTokensIn(pipeline.metrics))}.`,
        ],
        acceptedBy: "Graph",
      });
    } finally {
      await world.close();
    }
  },
};
