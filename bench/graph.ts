// Graph suite: login emails for one Microsoft 365 sender through Postern's whole pipeline with the Graph
// transport, HTTP request → queue → worker → MSAL token → sendMail at the Graph fake, next to plain fetch
// POSTs of the same MIME messages with one token fetched beforehand (the floor), at the same concurrency,
// on the same fake.
import type { Backend } from "./lib/database.ts";
import { appSendingThroughMicrosoft, fetchAccessToken, issuedTokensMetric } from "./lib/microsoft.ts";
import { printPipelineLatency, recipients, runBurstAndPaced, timeDirectSend } from "./lib/pipeline.ts";
import { startInProcessPostern } from "./lib/postern.ts";
import { sendThroughGraph } from "./lib/senders.ts";
import { formatCount, formatNumber, formatRatio, perSecond } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";
import { type CpuShare, cpuHeaders, formatCpu } from "./lib/usage.ts";
import { startWorld, type World } from "./lib/world.ts";
import type { GraphStats, GraphWorld } from "./lib/world-protocol.ts";

const DEFAULT_EMAILS = 1_000;
const WARM_UP = 100;
const CLIENTS = 32;
/** Graph's own limit per app and mailbox (https://learn.microsoft.com/graph/throttling-limits), at the fake and for the floor. */
const CONCURRENCY = 4;
/**
 * Exchange's 30 messages a minute would make the run measure the quota: lifted at the fake and in
 * Postern. The fake answers after this long, a stand-in for Graph's own time per request.
 */
const LIMITS = { concurrentRequestsPerAppMailbox: CONCURRENCY, messagesPerMinutePerMailbox: 1_000_000 };
const LATENCY_MS = 20;

interface Row {
  label: string;
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  graph: { requests: number; peak: number; throttled: number; tokenRequests: number };
  cpu: CpuShare;
}

const statsOf = (world: World, fakes: GraphWorld) => world.call("graphStats", { graphPort: fakes.graphPort });
const between = (before: GraphStats, after: GraphStats) => ({
  requests: after.requests - before.requests,
  peak: after.peakConcurrency,
  throttled: after.throttled - before.throttled,
  tokenRequests: after.tokenRequests - before.tokenRequests,
});

async function measurePostern(world: World, backend: Backend, fakes: GraphWorld, count: number) {
  const postern = await startInProcessPostern(backend, {
    ...fakes.env,
    POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(LIMITS.messagesPerMinutePerMailbox),
  });
  try {
    const logins = await appSendingThroughMicrosoft(postern, fakes);
    const { burst, paced, emailsSent, stats } = await runBurstAndPaced(world, postern.url, {
      logins,
      labelPrefix: "graph-",
      count,
      warmUp: WARM_UP,
      clients: CLIENTS,
      timeoutMs: Math.max(60_000, count * 200),
      stats: () => statsOf(world, fakes),
    });
    const row: Row = {
      label: "Postern: HTTP → queue → worker → MSAL → Graph sendMail",
      emails: count,
      seconds: burst.value.seconds,
      emailsPerSecond: burst.value.emailsPerSecond,
      graph: between(stats.before, stats.after),
      cpu: burst.cpu,
    };
    return {
      row,
      burst: burst.value,
      paced,
      emailsSent,
      tokensAtFake: stats.end.tokenRequests - stats.start.tokenRequests,
      tokensInMetric: await issuedTokensMetric(postern.url),
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

async function measureFloor(world: World, fakes: GraphWorld, count: number): Promise<Row> {
  const to = {
    graphUrl: fakes.graphUrl,
    mailbox: String(fakes.provider.senderEmail),
    senderName: String(fakes.provider.senderName),
    accessToken: await fetchAccessToken(fakes.identityPort, "https://graph.microsoft.com/.default"),
  };
  await sendThroughGraph(to, recipients("graph-floor-warm-up", WARM_UP), CONCURRENCY);
  const emails = recipients("graph-floor", count);
  const { run, before, after } = await timeDirectSend(
    world,
    emails,
    () => sendThroughGraph(to, emails, CONCURRENCY),
    () => statsOf(world, fakes),
  );
  return {
    label: `(a) floor: fetch, ${CONCURRENCY} at a time, one token fetched before`,
    emails: count,
    seconds: run.wallMs / 1000,
    emailsPerSecond: perSecond(count, run.wallMs),
    graph: { ...between(before, after), tokenRequests: 1 },
    cpu: run.cpu,
  };
}

export const graphSuite: Suite = {
  name: "graph",
  summary: "Microsoft 365 through Microsoft Graph: the pipeline vs plain fetch POSTs to the same fake",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const world = await startWorld();
    try {
      const fakes = await world.call("startGraph", { limits: LIMITS, latencyMs: LATENCY_MS });
      console.log(`\nPostern pipeline: ${count} emails on ${backend} through the Graph fake…`);
      const postern = await measurePostern(world, backend, fakes, count);
      console.log(`Plain fetch: ${count} emails on the same Graph fake…`);
      const floor = await measureFloor(world, fakes, count);
      const { duplicates } = await statsOf(world, fakes);
      printTable(
        `Throughput: one Microsoft 365 sender through Graph, fake at ${CONCURRENCY} concurrent requests per app and mailbox, ${LATENCY_MS} ms per request, quota lifted (CPU sender: the sending process, of one core; world: fakes and HTTP clients, of one core; all: every core)`,
        [
          "sender",
          "emails",
          "seconds",
          "emails/s",
          "requests",
          "peak concurrent",
          "429s",
          "token requests",
          ...cpuHeaders,
        ],
        [postern.row, floor].map((r) => [
          r.label,
          formatCount(r.emails),
          formatNumber(r.seconds),
          formatNumber(r.emailsPerSecond),
          formatCount(r.graph.requests),
          formatCount(r.graph.peak),
          formatCount(r.graph.throttled),
          formatCount(r.graph.tokenRequests),
          ...formatCpu(r.cpu),
        ]),
      );
      const perThousand = (postern.tokensAtFake * 1000) / postern.emailsSent;
      const ceiling = (CONCURRENCY * 1000) / LATENCY_MS;
      console.log(
        [
          "",
          `Ratio (Postern on ${backend})`,
          `  Postern / floor (a)   ${formatRatio(postern.row.emailsPerSecond / floor.emailsPerSecond)}`,
          `  (${CONCURRENCY} requests of ${LATENCY_MS} ms at a time allow at most ${formatNumber(ceiling)} emails/s.)`,
          "",
          "Token requests",
          `  Postern: ${formatCount(postern.tokensAtFake)} at the identity fake for ${formatCount(postern.emailsSent)} emails (warm-up, burst, paced): ${formatNumber(perThousand)} per 1,000 emails.`,
          `  /metrics postern_oauth_token_requests_total{provider="microsoft",outcome="issued"} = ${formatCount(postern.tokensInMetric)}.`,
          "",
          `Duplicate deliveries: ${formatCount(duplicates)}.`,
          postern.problems.length
            ? `Postern logged ${postern.problems.length} warnings/errors; first: ${postern.problems[0]}`
            : "Postern logged no warnings or errors.",
        ].join("\n"),
      );
      printPipelineLatency("Postern latency through Graph", "Graph", CLIENTS, postern.burst, postern.paced);
    } finally {
      await world.close();
    }
  },
};
