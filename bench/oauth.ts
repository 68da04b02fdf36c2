// OAuth suite (issue 4): login emails for one Microsoft 365 sender through Postern's whole pipeline,
// HTTP request → queue → worker → MSAL token → XOAUTH2 at the Exchange fake, next to a raw pooled
// nodemailer XOAUTH2 sender with one token fetched beforehand (the floor) on the same fake. Then the
// same pipeline at Exchange's real per-mailbox limits, to show that Postern holds them.
import { signInToDashboard } from "./lib/dashboard.ts";
import type { Backend } from "./lib/database.ts";
import {
  EXCHANGE_LIMITS,
  fetchAccessToken,
  issuedTokensMetric,
  microsoftLimitsEnv,
  XOAUTH2_MESSAGES_PER_CONNECTION,
} from "./lib/microsoft.ts";
import { driveLogins, loginsAt, type PipelineRun, recipients } from "./lib/pipeline.ts";
import { type InProcessPostern, startInProcessPostern } from "./lib/postern.ts";
import { sendPooledXoauth2 } from "./lib/senders.ts";
import {
  formatCount,
  formatNumber,
  formatRatio,
  type LatencySummary,
  perSecond,
  summarise,
} from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";
import { type CpuShare, cpuHeaders, formatCpu, measured } from "./lib/usage.ts";
import { startWorld, type World } from "./lib/world.ts";
import type { MicrosoftStats, MicrosoftWorld } from "./lib/world-protocol.ts";

const DEFAULT_EMAILS = 1_000;
const WARM_UP = 100;
/** Concurrent HTTP clients for the burst: enough to keep Postern's API busy. */
const CLIENTS = 32;
/**
 * The throughput run keeps Exchange's real cap of 3 connections per mailbox but lifts its quota of 30
 * messages a minute, at the fake and in Postern alike: at 30 a minute it would only measure the quota.
 */
const THROUGHPUT_LIMITS = { concurrentConnectionsPerMailbox: 3, messagesPerMinute: 1_000_000 };
/** At Exchange's limits: 30 a minute offered for a minute, then a burst that needs two more minutes' quota. */
const PACED_SECONDS = 60;
const LIMITED_BURST = 60;
/** The burst drains at 30 a minute, about 2 minutes; the cap keeps the suite under ~4 minutes. */
const DRAIN_CAP_MS = 150_000;

interface SenderRow {
  label: string;
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  /** During the measured run, at the Exchange fake. */
  exchange: RunStats;
  cpu: CpuShare;
}

/** What the fakes counted between two microsoftStats calls. */
interface RunStats {
  connections: number;
  peakConnectionsPerMailbox: number;
  concurrencyViolations: number;
  rateViolations: number;
  tokenRequests: number;
}

function between(before: MicrosoftStats, after: MicrosoftStats): RunStats {
  return {
    connections: after.connections - before.connections,
    peakConnectionsPerMailbox: after.peakConnectionsPerMailbox,
    concurrencyViolations: after.violations.concurrency - before.violations.concurrency,
    rateViolations: after.violations.rate - before.violations.rate,
    tokenRequests: after.tokenRequests - before.tokenRequests,
  };
}

const statsOf = (world: World, fakes: MicrosoftWorld) =>
  world.call("microsoftStats", { exchangePort: fakes.exchangePort });

/** A developer's app with the Microsoft provider on the fakes, saved through the dashboard API. */
async function appSendingThroughMicrosoft(postern: InProcessPostern, fakes: MicrosoftWorld) {
  const dashboard = await signInToDashboard(postern.url, "owner@bench.example", postern.readCode);
  await dashboard.unlockCustomProvider();
  const app = await dashboard.createApp("Bench app");
  await dashboard.putEmailProvider(app.id, fakes.provider);
  return (label: string, n: number) => loginsAt(app.publishableKey, recipients(label, n));
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
    const logins = await appSendingThroughMicrosoft(postern, fakes);
    const timeoutMs = Math.max(60_000, count * 60);
    await driveLogins(world, postern.url, logins("oauth-warm-up", WARM_UP), { concurrency: 10 }, timeoutMs);

    const before = await statsOf(world, fakes);
    const burst = await measured(world, () =>
      driveLogins(world, postern.url, logins("oauth-burst", count), { concurrency: CLIENTS }, timeoutMs),
    );
    const after = await statsOf(world, fakes);

    // As in smtp-basic: at half the sustained rate the latency measures the pipeline, not the backlog.
    const rate = Math.max(1, Math.round(burst.value.emailsPerSecond / 2));
    const pacedCount = Math.max(100, Math.min(Math.floor(count / 2), rate * 10));
    const paced = await driveLogins(
      world,
      postern.url,
      logins("oauth-paced", pacedCount),
      { concurrency: 256, ratePerSecond: rate },
      timeoutMs,
    );
    const end = await statsOf(world, fakes);
    return {
      row: {
        label: "Postern: HTTP → queue → worker → MSAL → XOAUTH2",
        emails: count,
        seconds: burst.value.seconds,
        emailsPerSecond: burst.value.emailsPerSecond,
        exchange: between(before, after),
        cpu: burst.cpu,
      },
      burst: burst.value,
      paced: { ...paced, rate },
      emailsSent: WARM_UP + count + pacedCount,
      tokensAtFake: end.tokenRequests,
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
  const before = await statsOf(world, fakes);
  const run = await measured(world, async () => {
    await sendPooledXoauth2(to, emails, pool);
    return world.call("awaitAccepted", { recipients: emails, timeoutMs: 120_000 });
  });
  const after = await statsOf(world, fakes);
  return {
    label: "(a) floor: pooled nodemailer, one token fetched before",
    emails: count,
    seconds: run.wallMs / 1000,
    emailsPerSecond: perSecond(count, run.wallMs),
    exchange: between(before, after),
    cpu: run.cpu,
  };
}

interface LimitedPhase {
  label: string;
  emails: number;
  accepted: number;
  /** First request → last accept (of those accepted). */
  seconds: number;
  endToEnd: LatencySummary;
  exchange: RunStats;
}

interface LimitedResult {
  phases: LimitedPhase[];
  tokens: number;
  duplicates: number;
  problems: string[];
}

/** Exchange's real limits at the fake, Postern's defaults: a minute at the quota, then a burst over it. */
async function measureAtExchangeLimits(world: World, backend: Backend): Promise<LimitedResult> {
  const fakes = await world.call("startMicrosoft", { limits: EXCHANGE_LIMITS });
  const postern = await startInProcessPostern(backend, fakes.env);
  try {
    const logins = await appSendingThroughMicrosoft(postern, fakes);
    const start = await statsOf(world, fakes);

    const rate = EXCHANGE_LIMITS.messagesPerMinute / 60;
    const pacedCount = Math.round(rate * PACED_SECONDS);
    const paced = await driveLogins(
      world,
      postern.url,
      logins("limited-paced", pacedCount),
      { concurrency: 8, ratePerSecond: rate },
      PACED_SECONDS * 2_000,
    );
    const afterPaced = await statsOf(world, fakes);

    const burstLogins = logins("limited-burst", LIMITED_BURST);
    const sent = await world.call("postLogins", { url: postern.url, logins: burstLogins, concurrency: 10 });
    const refused = LIMITED_BURST - (sent.statuses["202"] ?? 0);
    if (refused > 0) throw new Error(`${refused} burst requests were refused; first: ${sent.firstFailure}`);
    const { acceptedAt } = await world.call("acceptedWithin", {
      recipients: burstLogins.map((l) => l.email),
      timeoutMs: DRAIN_CAP_MS,
    });
    const afterBurst = await statsOf(world, fakes);
    const delivered = acceptedAt.flatMap((at, i) =>
      at === null ? [] : [{ at, latency: at - sent.startedAt[i]! }],
    );
    const burstSeconds = (Math.max(...delivered.map((d) => d.at)) - Math.min(...sent.startedAt)) / 1000;

    return {
      phases: [
        {
          label: `paced at ${EXCHANGE_LIMITS.messagesPerMinute}/min for ${PACED_SECONDS} s`,
          emails: pacedCount,
          accepted: pacedCount,
          seconds: paced.seconds,
          endToEnd: paced.endToEnd,
          exchange: between(start, afterPaced),
        },
        {
          label: `burst of ${LIMITED_BURST} right after`,
          emails: LIMITED_BURST,
          accepted: delivered.length,
          seconds: burstSeconds,
          endToEnd: summarise(delivered.map((d) => d.latency)),
          exchange: between(afterPaced, afterBurst),
        },
      ],
      tokens: afterBurst.tokenRequests,
      duplicates: afterBurst.duplicates,
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

const ms = (v: number) => formatNumber(v, " ms");
const violations = (s: RunStats) =>
  `${formatCount(s.concurrencyViolations)} / ${formatCount(s.rateViolations)}`;
const logged = (problems: string[]) =>
  problems.length ? `${problems.length} warnings/errors; first: ${problems[0]}` : "no warnings or errors";

function printThroughput(postern: ThroughputResult, floor: SenderRow, backend: Backend) {
  printTable(
    `Throughput: one Microsoft 365 sender, Exchange fake at ${THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox} connections per mailbox, quota lifted (CPU columns as in smtp-basic)`,
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
  const { burst, paced } = postern;
  const latency = (label: string, run: PipelineRun, which: "endToEnd" | "response") => [
    label,
    formatCount(run.emails),
    ms(run[which].p50),
    ms(run[which].p99),
    ms(run[which].max),
  ];
  printTable(
    "Postern latency, quota lifted",
    ["measure", "emails", "p50", "p99", "max"],
    [
      latency(`request → Exchange accept, burst (${CLIENTS} clients)`, burst, "endToEnd"),
      latency(`request → Exchange accept, paced at ${paced.rate}/s`, paced, "endToEnd"),
      latency(`request → 202, burst (${formatNumber(burst.requestsPerSecond)} req/s)`, burst, "response"),
      latency("request → 202, paced", paced, "response"),
    ],
  );
}

function printLimited(limited: LimitedResult) {
  printTable(
    `At Exchange's real limits: the fake at ${EXCHANGE_LIMITS.concurrentConnectionsPerMailbox} connections and ${EXCHANGE_LIMITS.messagesPerMinute} messages a minute per mailbox, Postern at its defaults`,
    [
      "phase",
      "emails",
      "accepted",
      "seconds",
      "emails/min",
      "p50",
      "p99",
      "max",
      "peak conns/mailbox",
      "432 / 554",
    ],
    limited.phases.map((p) => [
      p.label,
      formatCount(p.emails),
      formatCount(p.accepted),
      formatNumber(p.seconds),
      formatNumber(perSecond(p.accepted, p.seconds * 1000) * 60),
      ms(p.endToEnd.p50),
      ms(p.endToEnd.p99),
      ms(p.endToEnd.max),
      formatCount(p.exchange.peakConnectionsPerMailbox),
      violations(p.exchange),
    ]),
  );
}

function printNotes(throughput: ThroughputResult, limited: LimitedResult, duplicates: number) {
  const [, burst] = limited.phases;
  console.log(
    [
      "",
      "Notes",
      `  Throughput: the Exchange fake's limits raised to ${THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox} connections and ${formatCount(THROUGHPUT_LIMITS.messagesPerMinute)} messages a minute per mailbox, and Postern's to match`,
      `    (POSTERN_MICROSOFT_MAX_CONNECTIONS=${THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox}, POSTERN_MICROSOFT_MESSAGES_PER_MINUTE=${THROUGHPUT_LIMITS.messagesPerMinute}; defaults 2 and 30).`,
      `  (a) uses Postern's XOAUTH2 pool settings: ${THROUGHPUT_LIMITS.concurrentConnectionsPerMailbox} connections, ${XOAUTH2_MESSAGES_PER_CONNECTION} messages each, the same messages, the same Exchange fake.`,
      "  432 / 554: messages Exchange refused for too many connections / over the minute's quota.",
      `  At the real limits the burst drains at the quota: ${formatCount(LIMITED_BURST)} emails need two minutes' worth after a full minute;`,
      `    waiting is capped at ${DRAIN_CAP_MS / 1000} s (${burst && burst.accepted < burst.emails ? `${burst.emails - burst.accepted} not yet accepted when the cap came` : "all accepted within it"}). Token requests there: ${formatCount(limited.tokens)}.`,
      `  Duplicate deliveries (every run, Postern and floor): ${formatCount(duplicates)}.`,
      `  Postern logged ${logged(throughput.problems)} (throughput), ${logged(limited.problems)} (real limits).`,
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
      console.log(
        `At Exchange's real limits: ${PACED_SECONDS} s paced, then a burst of ${LIMITED_BURST} (about 3 minutes)…`,
      );
      const limited = await measureAtExchangeLimits(world, backend);
      printThroughput(throughput, floor, backend);
      printLimited(limited);
      printNotes(throughput, limited, duplicates + limited.duplicates);
    } finally {
      await world.close();
    }
  },
};
