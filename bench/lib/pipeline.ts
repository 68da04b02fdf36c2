import { formatCount, formatNumber, type LatencySummary, perSecond, summarise } from "./stats.ts";
import { printTable } from "./table.ts";
import { type Measured, measured } from "./usage.ts";
import type { World } from "./world.ts";
import type { Login, LoginLoad } from "./world-protocol.ts";

/** One batch of end-user logins, timed from the HTTP request to the SMTP server's accept. */
export interface PipelineRun {
  emails: number;
  /** First request sent → last email accepted. */
  seconds: number;
  emailsPerSecond: number;
  /** Per email: HTTP request sent → SMTP accept. */
  endToEnd: LatencySummary;
  /** Per request: sent → 202 received. */
  response: LatencySummary;
  /** Requests answered per second, first request → last response. */
  requestsPerSecond: number;
}

/** `count` distinct addresses: per-address limits exist, and matching an accept to its request needs them. */
export function recipients(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${label}-${i}@bench.example`);
}

/** Logins for `emails` at one app. */
export function loginsAt(publishableKey: string, emails: readonly string[]): Login[] {
  return emails.map((email) => ({ email, publishableKey }));
}

/**
 * Drives `POST /v1/login/email` from the world process and waits until every email is accepted by its
 * SMTP server. Any refused request fails the run: a benchmark that drops work is not measuring it.
 */
export async function driveLogins(
  world: World,
  url: string,
  logins: Login[],
  load: Omit<LoginLoad, "url" | "logins">,
  timeoutMs: number,
): Promise<PipelineRun> {
  const emails = logins.map((l) => l.email);
  const sent = await world.call("postLogins", { url, logins, ...load });
  const refused = logins.length - (sent.statuses["202"] ?? 0);
  if (refused > 0) {
    throw new Error(
      `${refused} of ${logins.length} login requests were not accepted (${JSON.stringify(sent.statuses)}); first: ${sent.firstFailure}`,
    );
  }
  const { acceptedAt } = await world.call("awaitAccepted", { recipients: emails, timeoutMs });
  const first = Math.min(...sent.startedAt);
  const windowMs = Math.max(...acceptedAt) - first;
  return {
    emails: emails.length,
    seconds: windowMs / 1000,
    emailsPerSecond: perSecond(emails.length, windowMs),
    endToEnd: summarise(acceptedAt.map((at, i) => at - sent.startedAt[i]!)),
    response: summarise(sent.respondedAt.map((at, i) => at - sent.startedAt[i]!)),
    requestsPerSecond: perSecond(emails.length, Math.max(...sent.respondedAt) - first),
  };
}

/** The latency table both pipeline suites print: end to end and to the 202, burst and paced. */
export function printPipelineLatency(
  title: string,
  acceptedBy: string,
  clients: number,
  burst: PipelineRun,
  paced: PipelineRun & { rate: number },
): void {
  const ms = (v: number) => formatNumber(v, " ms");
  const latency = (label: string, run: PipelineRun, which: "endToEnd" | "response") => [
    label,
    formatCount(run.emails),
    ms(run[which].p50),
    ms(run[which].p99),
    ms(run[which].max),
  ];
  printTable(
    title,
    ["measure", "emails", "p50", "p99", "max"],
    [
      latency(`request → ${acceptedBy} accept, burst (${clients} clients)`, burst, "endToEnd"),
      latency(`request → ${acceptedBy} accept, paced at ${paced.rate}/s`, paced, "endToEnd"),
      latency(`request → 202, burst (${formatNumber(burst.requestsPerSecond)} req/s)`, burst, "response"),
      latency("request → 202, paced", paced, "response"),
    ],
  );
}

/** A warm-up, a burst and a paced run through one Postern, with the sender's stats between them. */
export interface BurstAndPaced<Stats> {
  burst: Measured<PipelineRun>;
  paced: PipelineRun & { rate: number };
  /** Every email of the three runs: warm-up, burst and paced. */
  emailsSent: number;
  /** The sender's stats before the warm-up, just before and after the burst, and after the paced run. */
  stats: { start: Stats; before: Stats; after: Stats; end: Stats };
}

/**
 * The pipeline suites' run: a warm-up at 10 clients, the measured burst at `clients`, then a paced run at
 * half the burst's rate (under a burst the queue builds up, so its latency mostly measures the backlog; at
 * half the sustained rate it measures the pipeline itself).
 */
export async function runBurstAndPaced<Stats>(
  world: World,
  url: string,
  run: {
    /** Logins for `count` new recipients named after `label`. */
    logins(label: string, count: number): Login[];
    /** Prefixes the recipients' labels ("graph-" → graph-burst-0@bench.example). */
    labelPrefix: string;
    count: number;
    warmUp: number;
    clients: number;
    timeoutMs: number;
    stats(): Promise<Stats>;
  },
): Promise<BurstAndPaced<Stats>> {
  const { logins, labelPrefix, count, warmUp, clients, timeoutMs } = run;
  const start = await run.stats();
  await driveLogins(world, url, logins(`${labelPrefix}warm-up`, warmUp), { concurrency: 10 }, timeoutMs);
  const before = await run.stats();
  const burst = await measured(world, () =>
    driveLogins(world, url, logins(`${labelPrefix}burst`, count), { concurrency: clients }, timeoutMs),
  );
  const after = await run.stats();
  const rate = Math.max(1, Math.round(burst.value.emailsPerSecond / 2));
  const pacedCount = Math.max(100, Math.min(Math.floor(count / 2), rate * 10));
  const paced = await driveLogins(
    world,
    url,
    logins(`${labelPrefix}paced`, pacedCount),
    { concurrency: 256, ratePerSecond: rate },
    timeoutMs,
  );
  const end = await run.stats();
  return {
    burst,
    paced: { ...paced, rate },
    emailsSent: warmUp + count + pacedCount,
    stats: { start, before, after, end },
  };
}

/**
 * Times a sender that bypasses Postern (a floor) from its start to the last of `emails` accepted, with
 * the sender's stats just before and after.
 */
export async function timeDirectSend<Stats>(
  world: World,
  emails: string[],
  send: () => Promise<void>,
  stats: () => Promise<Stats>,
): Promise<{ run: Measured<unknown>; before: Stats; after: Stats }> {
  const before = await stats();
  const run = await measured(world, async () => {
    await send();
    return world.call("awaitAccepted", { recipients: emails, timeoutMs: 120_000 });
  });
  const after = await stats();
  return { run, before, after };
}
