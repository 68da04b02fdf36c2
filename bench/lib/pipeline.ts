import { formatCount, formatNumber, type LatencySummary, perSecond, summarise } from "./stats.ts";
import { printTable } from "./table.ts";
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
