// Part of the oauth suite: Postern at Exchange Online's real per-mailbox limits (3 connections, 30
// messages a minute) with its own defaults (2 connections, 30 a minute). A minute of logins at the quota,
// then a burst over it, which must wait in the queue: no 432 or 554 at the Exchange fake.
import { appWithProvider } from "./lib/dashboard.ts";
import type { Backend } from "./lib/database.ts";
import { between, EXCHANGE_LIMITS, type RunStats, statsOf } from "./lib/microsoft.ts";
import { driveLogins } from "./lib/pipeline.ts";
import { startInProcessPostern } from "./lib/postern.ts";
import { formatCount, formatNumber, type LatencySummary, perSecond, summarise } from "./lib/stats.ts";
import { printTable } from "./lib/table.ts";
import type { World } from "./lib/world.ts";

const PACED_SECONDS = 60;
/** Two minutes' quota, arriving when the last minute's is spent. */
const BURST = 60;
/** The burst drains at 30 a minute, about 2 minutes; the cap keeps the suite under ~4 minutes. */
const DRAIN_CAP_MS = 150_000;

export const AT_LIMITS_SUMMARY = `${PACED_SECONDS} s at the quota, then a burst of ${BURST} (about 3 minutes)`;

interface Phase {
  label: string;
  emails: number;
  accepted: number;
  /** First request → last accept (of those accepted). */
  seconds: number;
  endToEnd: LatencySummary;
  exchange: RunStats;
}

export interface AtLimitsResult {
  phases: Phase[];
  tokenRequests: number;
  duplicates: number;
  problems: string[];
}

export async function measureAtExchangeLimits(world: World, backend: Backend): Promise<AtLimitsResult> {
  const fakes = await world.call("startMicrosoft", { limits: EXCHANGE_LIMITS });
  const postern = await startInProcessPostern(backend, fakes.env);
  try {
    const { logins } = await appWithProvider(postern, fakes.provider);
    const start = await statsOf(world, fakes);

    const rate = EXCHANGE_LIMITS.messagesPerMinute / 60;
    const pacedCount = Math.round(rate * PACED_SECONDS);
    const paced = await driveLogins(
      world,
      postern.url,
      logins("limits-paced", pacedCount),
      { concurrency: 8, ratePerSecond: rate },
      PACED_SECONDS * 2_000,
    );
    const afterPaced = await statsOf(world, fakes);

    const burst = logins("limits-burst", BURST);
    const sent = await world.call("postLogins", { url: postern.url, logins: burst, concurrency: 10 });
    const refused = BURST - (sent.statuses["202"] ?? 0);
    if (refused > 0) throw new Error(`${refused} burst requests were refused; first: ${sent.firstFailure}`);
    const { acceptedAt } = await world.call("acceptedWithin", {
      recipients: burst.map((l) => l.email),
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
          label: `burst of ${BURST} right after`,
          emails: BURST,
          accepted: delivered.length,
          seconds: burstSeconds,
          endToEnd: summarise(delivered.map((d) => d.latency)),
          exchange: between(afterPaced, afterBurst),
        },
      ],
      tokenRequests: afterBurst.tokenRequests,
      duplicates: afterBurst.duplicates,
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

export function printAtExchangeLimits(result: AtLimitsResult): void {
  const ms = (v: number) => formatNumber(v, " ms");
  printTable(
    `At Exchange's real limits: the fake at ${EXCHANGE_LIMITS.concurrentConnectionsPerMailbox} connections and ${EXCHANGE_LIMITS.messagesPerMinute} messages a minute per mailbox, Postern at its defaults (2, 30)`,
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
    result.phases.map((p) => [
      p.label,
      formatCount(p.emails),
      formatCount(p.accepted),
      formatNumber(p.seconds),
      formatNumber(perSecond(p.accepted, p.seconds * 1000) * 60),
      ms(p.endToEnd.p50),
      ms(p.endToEnd.p99),
      ms(p.endToEnd.max),
      formatCount(p.exchange.peakConnectionsPerMailbox),
      `${formatCount(p.exchange.concurrencyViolations)} / ${formatCount(p.exchange.rateViolations)}`,
    ]),
  );
  const burst = result.phases.at(-1)!;
  const waiting = burst.emails - burst.accepted;
  console.log(
    [
      "",
      `  The burst arrives with the minute's quota spent, so it drains at the quota: ${BURST} emails in about 2 minutes.`,
      `  Waiting is capped at ${DRAIN_CAP_MS / 1000} s: ${waiting ? `${waiting} emails were still queued when it came` : "every email was accepted within it"}.`,
      `  Token requests: ${formatCount(result.tokenRequests)}. Duplicate deliveries: ${formatCount(result.duplicates)}.`,
      result.problems.length
        ? `  Postern logged ${result.problems.length} warnings/errors; first: ${result.problems[0]}`
        : "  Postern logged no warnings or errors.",
    ].join("\n"),
  );
}
