// What the suites that set Postern's pipeline beside one floor share (graph, email-api, webhook): one
// Postern through its warm-up, burst and paced runs against a fake, then the floor straight to the same
// fake at the same concurrency, and one report: both rows, the ratio, duplicate deliveries, what Postern
// logged, and its latency.
import type { Backend } from "./database.ts";
import {
  type PipelineRun,
  printPipelineLatency,
  recipients,
  runBurstAndPaced,
  timeDirectSend,
} from "./pipeline.ts";
import { type InProcessPostern, startInProcessPostern } from "./postern.ts";
import { formatCount, formatNumber, formatRatio, perSecond } from "./stats.ts";
import { printTable } from "./table.ts";
import { type CpuShare, cpuHeaders, formatCpu } from "./usage.ts";
import type { World } from "./world.ts";
import type { Login } from "./world-protocol.ts";

export type Side = "pipeline" | "floor";

/** Emails each side sends before its measured run. */
const WARM_UP = 100;
/** HTTP clients of Postern's burst: enough to keep its API busy. */
const CLIENTS = 32;

/** One sender's measured run: the burst for Postern, the timed send for the floor. */
export interface SenderRow<Counts> {
  label: string;
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  /** What the fake counted during the run. */
  counts: Counts;
  cpu: CpuShare;
}

export interface VersusFloor<Stats extends { duplicates: number }, Counts> {
  world: World;
  backend: Backend;
  count: number;
  /** Names the recipients: "graph-" → graph-burst-0@bench.example, graph-floor-0@bench.example. */
  labelPrefix: string;
  /** The fake, in the progress lines: "the Graph fake". */
  fake: string;
  stats(): Promise<Stats>;
  /** What the fake counted during one side's run. */
  between(before: Stats, after: Stats, side: Side): Counts;
  pipeline: {
    label: string;
    /** Postern's settings pointing it at the fake, and any limit lifted. */
    env: Record<string, string>;
    /** The developer's app and provider, saved through the dashboard API: logins at it. */
    app(postern: InProcessPostern): Promise<(label: string, count: number) => Login[]>;
  };
  floor: {
    label: string;
    /** One login email to each recipient, straight to the fake; any refusal fails the run. */
    send(emails: readonly string[]): Promise<void>;
  };
}

export interface PipelineResult<Stats, Counts> {
  row: SenderRow<Counts>;
  burst: PipelineRun;
  paced: PipelineRun & { rate: number };
  /** Every email of the warm-up, burst and paced runs. */
  emailsSent: number;
  /** The fake's stats before the warm-up, around the burst, and after the paced run. */
  stats: { start: Stats; before: Stats; after: Stats; end: Stats };
  /** Postern's /metrics after its runs. */
  metrics: string;
  /** Warnings and errors Postern logged. */
  problems: string[];
}

export interface Comparison<Stats, Counts> {
  pipeline: PipelineResult<Stats, Counts>;
  floor: SenderRow<Counts>;
  /** Over both rows and their warm-ups. */
  duplicates: number;
}

async function measurePipeline<Stats extends { duplicates: number }, Counts>(
  spec: VersusFloor<Stats, Counts>,
): Promise<PipelineResult<Stats, Counts>> {
  const { world, backend, count, pipeline } = spec;
  const postern = await startInProcessPostern(backend, pipeline.env);
  try {
    const logins = await pipeline.app(postern);
    const { burst, paced, emailsSent, stats } = await runBurstAndPaced(world, postern.url, {
      logins,
      labelPrefix: spec.labelPrefix,
      count,
      warmUp: WARM_UP,
      clients: CLIENTS,
      // Long enough for a busy machine; a run that loses emails fails then instead of hanging.
      timeoutMs: Math.max(60_000, count * 200),
      stats: spec.stats,
    });
    return {
      row: {
        label: pipeline.label,
        emails: count,
        seconds: burst.value.seconds,
        emailsPerSecond: burst.value.emailsPerSecond,
        counts: spec.between(stats.before, stats.after, "pipeline"),
        cpu: burst.cpu,
      },
      burst: burst.value,
      paced,
      emailsSent,
      stats,
      metrics: await (await fetch(`${postern.url}/metrics`)).text(),
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

async function measureFloor<Stats extends { duplicates: number }, Counts>(
  spec: VersusFloor<Stats, Counts>,
): Promise<SenderRow<Counts>> {
  const { world, count, labelPrefix, floor } = spec;
  await floor.send(recipients(`${labelPrefix}floor-warm-up`, WARM_UP));
  const emails = recipients(`${labelPrefix}floor`, count);
  const { run, before, after } = await timeDirectSend(world, emails, () => floor.send(emails), spec.stats);
  return {
    label: floor.label,
    emails: count,
    seconds: run.wallMs / 1000,
    emailsPerSecond: perSecond(count, run.wallMs),
    counts: spec.between(before, after, "floor"),
    cpu: run.cpu,
  };
}

/** Postern's pipeline, then the floor, on the same fake. */
export async function comparePipelineWithFloor<Stats extends { duplicates: number }, Counts>(
  spec: VersusFloor<Stats, Counts>,
): Promise<Comparison<Stats, Counts>> {
  console.log(`\nPostern pipeline: ${spec.count} emails on ${spec.backend} through ${spec.fake}…`);
  const pipeline = await measurePipeline(spec);
  console.log(`${spec.floor.label}: ${spec.count} emails on ${spec.fake}…`);
  const floor = await measureFloor(spec);
  const { duplicates } = await spec.stats();
  return { pipeline, floor, duplicates };
}

/** One column the fake's counts fill, after emails/s. */
export type CountColumn<Counts> = [header: string, cell: (counts: Counts) => string];

/**
 * The table of both rows, the ratio (with the most `ceiling` lets through, where the fake answers after a
 * fixed time), any `notes`, duplicates, Postern's problems and its latency.
 */
export function printComparison<Stats, Counts>(
  backend: Backend,
  result: Comparison<Stats, Counts>,
  report: {
    title: string;
    columns: CountColumn<Counts>[];
    ceiling?: { concurrency: number; latencyMs: number };
    notes?: string[];
    /** Names the accepting side in the latency table: "Graph". */
    acceptedBy: string;
  },
): void {
  const { pipeline, floor, duplicates } = result;
  printTable(
    `${report.title} (CPU sender: the sending process, of one core; world: fakes and HTTP clients, of one core; all: every core)`,
    ["sender", "emails", "seconds", "emails/s", ...report.columns.map(([header]) => header), ...cpuHeaders],
    [pipeline.row, floor].map((r) => [
      r.label,
      formatCount(r.emails),
      formatNumber(r.seconds),
      formatNumber(r.emailsPerSecond),
      ...report.columns.map(([, cell]) => cell(r.counts)),
      ...formatCpu(r.cpu),
    ]),
  );
  const { ceiling } = report;
  console.log(
    [
      "",
      `Ratio (Postern on ${backend})`,
      `  Postern / floor   ${formatRatio(pipeline.row.emailsPerSecond / floor.emailsPerSecond)}`,
      ...(ceiling
        ? [
            `  (${ceiling.concurrency} requests of ${ceiling.latencyMs} ms at a time allow at most ${formatNumber((ceiling.concurrency * 1000) / ceiling.latencyMs)} emails/s.)`,
          ]
        : []),
      ...(report.notes ?? []),
      "",
      `Duplicate deliveries: ${formatCount(duplicates)}.`,
      pipeline.problems.length
        ? `Postern logged ${pipeline.problems.length} warnings/errors; first: ${pipeline.problems[0]}`
        : "Postern logged no warnings or errors.",
    ].join("\n"),
  );
  printPipelineLatency(
    `Postern latency through ${report.acceptedBy}`,
    report.acceptedBy,
    CLIENTS,
    pipeline.burst,
    pipeline.paced,
  );
}
