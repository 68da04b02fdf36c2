// OAuth suite: login emails for one Microsoft 365 sender through Postern's whole pipeline,
// HTTP request → queue → worker → MSAL token → XOAUTH2 at the Exchange fake, next to a raw pooled
// nodemailer XOAUTH2 sender with one token fetched beforehand (the floor) on the same fake. Then the
// same pipeline at Exchange's real per-mailbox limits, to show that Postern holds them.
import { appWithProvider } from "./lib/dashboard.ts";
import type { Backend } from "./lib/database.ts";
import {
  between,
  fetchAccessToken,
  issuedTokensMetric,
  microsoftLimitsEnv,
  type RunStats,
  statsOf,
  XOAUTH2_MESSAGES_PER_CONNECTION,
} from "./lib/microsoft.ts";
import {
  type PipelineRun,
  printPipelineLatency,
  recipients,
  runBurstAndPaced,
  timeDirectSend,
} from "./lib/pipeline.ts";
import { startInProcessPostern } from "./lib/postern.ts";
import { sendPooledXoauth2 } from "./lib/senders.ts";
import { formatCount, formatNumber, formatRatio, perSecond } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";
import { type CpuShare, cpuHeaders, formatCpu } from "./lib/usage.ts";
import { startWorld, type World } from "./lib/world.ts";
import type { MicrosoftWorld } from "./lib/world-protocol.ts";
import { AT_LIMITS_SUMMARY, measureAtExchangeLimits, printAtExchangeLimits } from "./oauth-limits.ts";

const DEFAULT_EMAILS = 1_000;
const WARM_UP = 100;
/** Concurrent HTTP clients for the burst: enough to keep Postern's API busy. */
const CLIENTS = 32;
/**
 * The throughput run keeps Exchange's real cap of 3 connections per mailbox but lifts its quota of 30
 * messages a minute, at the fake and in Postern alike: at 30 a minute it would only measure the quota.
 */
const THROUGHPUT_LIMITS = { concurrentConnectionsPerMailbox: 3, messagesPerMinute: 1_000_000 };

interface SenderRow {
  label: string;
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  /** During the measured run, at the Exchange fake. */
  exchange: RunStats;
  cpu: CpuShare;
}

interface ThroughputResult {
  row: SenderRow;
  burst: PipelineRun;
  paced: PipelineRun & { rate: number };
  /** Every email this Postern sent: warm-up, burst and paced. */
  emailsSent: number;
  tokensAtFake: number;
  tokensInMetric: number;
  problems: string[];
}

async function measurePostern(
  world: World,
  backend: Backend,
  fakes: MicrosoftWorld,
  count: number,
): Promise<ThroughputResult> {
  const postern = await startInProcessPostern(backend, {
    ...fakes.env,
    ...microsoftLimitsEnv({
      maxConnections: THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox,
      messagesPerMinute: THROUGHPUT_LIMITS.messagesPerMinute,
    }),
  });
  try {
    const { logins } = await appWithProvider(postern, fakes.provider);
    const { burst, paced, emailsSent, stats } = await runBurstAndPaced(world, postern.url, {
      logins,
      labelPrefix: "oauth-",
      count,
      warmUp: WARM_UP,
      clients: CLIENTS,
      timeoutMs: Math.max(60_000, count * 60),
      stats: () => statsOf(world, fakes),
    });
    return {
      row: {
        label: "Postern: HTTP → queue → worker → MSAL → XOAUTH2",
        emails: count,
        seconds: burst.value.seconds,
        emailsPerSecond: burst.value.emailsPerSecond,
        exchange: between(stats.before, stats.after),
        cpu: burst.cpu,
      },
      burst: burst.value,
      paced,
      emailsSent,
      tokensAtFake: stats.end.tokenRequests,
      tokensInMetric: await issuedTokensMetric(postern.url),
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

async function measureFloor(world: World, fakes: MicrosoftWorld, count: number): Promise<SenderRow> {
  const to = {
    host: "localhost",
    port: fakes.exchangePort,
    mailbox: String(fakes.provider.senderEmail),
    senderName: String(fakes.provider.senderName),
    accessToken: await fetchAccessToken(fakes.identityPort),
  };
  const pool = {
    maxConnections: THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox,
    maxMessages: XOAUTH2_MESSAGES_PER_CONNECTION,
  };
  await sendPooledXoauth2(to, recipients("oauth-floor-warm-up", WARM_UP), pool);
  const emails = recipients("oauth-floor", count);
  const { run, before, after } = await timeDirectSend(
    world,
    emails,
    () => sendPooledXoauth2(to, emails, pool),
    () => statsOf(world, fakes),
  );
  return {
    label: "(a) floor: pooled nodemailer, one token fetched before",
    emails: count,
    seconds: run.wallMs / 1000,
    emailsPerSecond: perSecond(count, run.wallMs),
    exchange: between(before, after),
    cpu: run.cpu,
  };
}

const _ms = (v: number) => formatNumber(v, " ms");
const violations = (s: RunStats) =>
  `${formatCount(s.concurrencyViolations)} / ${formatCount(s.rateViolations)}`;

function printThroughput(postern: ThroughputResult, floor: SenderRow, backend: Backend) {
  printTable(
    `Throughput: one Microsoft 365 sender, Exchange fake at ${THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox} connections per mailbox, quota lifted (CPU sender: the sending process, of one core; world: fakes and HTTP clients, of one core; all: every core)`,
    [
      "sender",
      "emails",
      "seconds",
      "emails/s",
      "SMTP conns",
      "peak conns/mailbox",
      "432 / 554",
      "token requests",
      ...cpuHeaders,
    ],
    [postern.row, floor].map((r) => [
      r.label,
      formatCount(r.emails),
      formatNumber(r.seconds),
      formatNumber(r.emailsPerSecond),
      formatCount(r.exchange.connections),
      formatCount(r.exchange.peakConnectionsPerMailbox),
      violations(r.exchange),
      formatCount(r.exchange.tokenRequests),
      ...formatCpu(r.cpu),
    ]),
  );
  const perThousand = (postern.tokensAtFake * 1000) / postern.emailsSent;
  const agrees = postern.tokensInMetric === postern.tokensAtFake ? "agrees" : "DISAGREES with the fake";
  console.log(
    [
      "",
      `Ratio (Postern on ${backend})`,
      `  Postern / floor (a)   ${formatRatio(postern.row.emailsPerSecond / floor.emailsPerSecond)}`,
      "",
      "Token requests",
      `  Postern: ${formatCount(postern.tokensAtFake)} at the identity fake for ${formatCount(postern.emailsSent)} emails (warm-up, burst, paced): ${formatNumber(perThousand)} per 1,000 emails.`,
      `  /metrics postern_oauth_token_requests_total{provider="microsoft",outcome="issued"} = ${formatCount(postern.tokensInMetric)} (${agrees}).`,
      "  Floor: 1, fetched before sending.",
    ].join("\n"),
  );
  printPipelineLatency("Postern latency, quota lifted", "Exchange", CLIENTS, postern.burst, postern.paced);
}

/** Above this, the floor waits on the server rather than working: a Basic Auth floor needs about 1 ms. */
const SERVER_PACED_MS = 10;

function printNotes(throughput: ThroughputResult, floor: SenderRow, duplicates: number) {
  const { concurrentConnectionsPerMailbox: connections, messagesPerMinute } = THROUGHPUT_LIMITS;
  const floorMsPerMessage = (floor.seconds * 1000 * connections) / floor.emails;
  console.log(
    [
      "",
      "Notes",
      `  Throughput: the Exchange fake's limits raised to ${connections} connections and ${formatCount(messagesPerMinute)} messages a minute per mailbox,`,
      `    and Postern's to match (POSTERN_MICROSOFT_MAX_CONNECTIONS=${connections}, POSTERN_MICROSOFT_MESSAGES_PER_MINUTE=${messagesPerMinute}; defaults 2 and 30).`,
      `  (a) uses Postern's XOAUTH2 pool settings (${connections} connections, ${XOAUTH2_MESSAGES_PER_CONNECTION} messages each), the same messages and the same Exchange fake.`,
      "  432 / 554: messages Exchange refused for too many connections / over the minute's quota.",
      ...(floorMsPerMessage > SERVER_PACED_MS
        ? [
            `  (a) spent ${formatNumber(floorMsPerMessage, " ms")} per message on each connection: the Exchange fake sets that pace (its sockets lack`,
            "    TCP_NODELAY, so Nagle holds replies back until a delayed ACK), both rows measure it, and the ratio flatters Postern.",
          ]
        : []),
      `  Duplicate deliveries: ${formatCount(duplicates)}.`,
      throughput.problems.length
        ? `  Postern logged ${throughput.problems.length} warnings/errors; first: ${throughput.problems[0]}`
        : "  Postern logged no warnings or errors.",
    ].join("\n"),
  );
}

export const oauthSuite: Suite = {
  name: "oauth",
  summary: "Microsoft 365 provider: MSAL + XOAUTH2 pipeline vs pooled nodemailer, and Exchange's limits held",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const world = await startWorld();
    try {
      const fakes = await world.call("startMicrosoft", { limits: THROUGHPUT_LIMITS });
      console.log(`\nPostern pipeline: ${count} emails on ${backend} through the Microsoft fakes…`);
      const throughput = await measurePostern(world, backend, fakes, count);
      console.log(`Pooled nodemailer XOAUTH2: ${count} emails on the same Exchange fake…`);
      const floor = await measureFloor(world, fakes, count);
      const { duplicates } = await statsOf(world, fakes);
      console.log(`At Exchange's real limits: ${AT_LIMITS_SUMMARY}…`);
      const atLimits = await measureAtExchangeLimits(world, backend);
      printThroughput(throughput, floor, backend);
      printNotes(throughput, floor, duplicates);
      printAtExchangeLimits(atLimits);
    } finally {
      await world.close();
    }
  },
};
