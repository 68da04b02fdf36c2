// Basic Auth suite: login emails per second through Postern's whole pipeline to a custom
// SMTP provider, next to (a) a raw pooled nodemailer sender, the floor, and (b) a new connection per
// email, the way Keycloak, GoTrue, Kratos, Zitadel and Logto send.
import { basicAuthProvider, POSTERN_POOL, startBasicAuthServer } from "./lib/basic-auth.ts";
import { signInToDashboard } from "./lib/dashboard.ts";
import type { Backend } from "./lib/database.ts";
import {
  loginsAt,
  type PipelineRun,
  printPipelineLatency,
  recipients,
  runBurstAndPaced,
  timeDirectSend,
} from "./lib/pipeline.ts";
import { startInProcessPostern } from "./lib/postern.ts";
import { type SmtpDestination, sendConnectionPerEmail, sendPooled } from "./lib/senders.ts";
import { formatCount, formatNumber, formatRatio, perSecond } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";
import { type CpuShare, cpuHeaders, formatCpu } from "./lib/usage.ts";
import { startWorld, type World } from "./lib/world.ts";

const DEFAULT_EMAILS = 2_000;
/** A connection per email runs at ~10 emails/s on this server; more would only make the run long. */
const PER_CONNECTION_CAP = 200;
const WARM_UP = 100;
/** Concurrent HTTP clients for the burst: enough to keep Postern's API busy. */
const CLIENTS = 32;

interface SenderRow {
  label: string;
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  connections: number;
  duplicates: number;
  cpu: CpuShare;
}

/** Times `send` from its start to the last of `emails` accepted, with the SMTP connections it opened. */
async function timeSender(
  world: World,
  label: string,
  to: SmtpDestination,
  emails: string[],
  send: () => Promise<void>,
): Promise<SenderRow> {
  const { run, before, after } = await timeDirectSend(world, emails, send, () =>
    world.call("smtpStats", { port: to.port }),
  );
  return {
    label,
    emails: emails.length,
    seconds: run.wallMs / 1000,
    emailsPerSecond: perSecond(emails.length, run.wallMs),
    connections: after.connections - before.connections,
    duplicates: after.duplicates - before.duplicates,
    cpu: run.cpu,
  };
}

interface PipelineResult {
  row: SenderRow;
  burst: PipelineRun;
  paced: PipelineRun & { rate: number };
  problems: string[];
}

async function measurePipeline(world: World, backend: Backend, count: number): Promise<PipelineResult> {
  const to = await startBasicAuthServer(world);
  const postern = await startInProcessPostern(backend);
  try {
    const dashboard = await signInToDashboard(postern.url, "owner@bench.example", postern.readCode);
    await dashboard.unlockCustomProvider();
    const app = await dashboard.createApp("Bench app");
    await dashboard.putEmailProvider(app.id, basicAuthProvider(to));
    const logins = (label: string, n: number) => loginsAt(app.publishableKey, recipients(label, n));
    const { burst, paced, stats } = await runBurstAndPaced(world, postern.url, {
      logins,
      labelPrefix: "",
      count,
      warmUp: WARM_UP,
      clients: CLIENTS,
      timeoutMs: Math.max(60_000, count * 60),
      stats: () => world.call("smtpStats", { port: to.port }),
    });
    // Every email of the run once: the warm-up, burst and paced emails all count.
    const { duplicates } = stats.end;
    return {
      row: {
        label: "Postern: HTTP → queue → worker → SMTP",
        emails: count,
        seconds: burst.value.seconds,
        emailsPerSecond: burst.value.emailsPerSecond,
        connections: stats.after.connections - stats.before.connections,
        duplicates,
        cpu: burst.cpu,
      },
      burst: burst.value,
      paced,
      problems: postern.problems,
    };
  } finally {
    await postern.close();
  }
}

interface Rows {
  postern: SenderRow;
  floor: SenderRow;
  unbounded: SenderRow;
  sequential: SenderRow;
  five: SenderRow;
}

function print(rows: Rows, pipeline: PipelineResult, backend: Backend) {
  printTable(
    "Throughput (CPU sender: the sending process, of one core; world: SMTP server and HTTP clients, of one core; all: every core)",
    ["sender", "emails", "seconds", "emails/s", "SMTP conns", ...cpuHeaders],
    Object.values(rows).map((r) => [
      r.label,
      formatCount(r.emails),
      formatNumber(r.seconds),
      formatNumber(r.emailsPerSecond),
      formatCount(r.connections),
      ...formatCpu(r.cpu),
    ]),
  );
  const { postern, floor, sequential, five } = rows;
  const ratio = (other: SenderRow) => formatRatio(postern.emailsPerSecond / other.emailsPerSecond);
  console.log(
    [
      "",
      `Ratios (Postern on ${backend})`,
      `  Postern / floor (a)                          ${ratio(floor)}`,
      `  Postern / connection per email, sequential   ${ratio(sequential)}`,
      `  Postern / connection per email, 5 at a time  ${ratio(five)}`,
    ].join("\n"),
  );
  printPipelineLatency("Postern latency", "SMTP", CLIENTS, pipeline.burst, pipeline.paced);
  console.log(
    [
      "",
      "Notes",
      `  (a) uses Postern's Basic Auth pool settings: ${POSTERN_POOL.maxConnections} connections, ${formatCount(POSTERN_POOL.maxMessages)} messages each.`,
      `  (b) is capped at ${PER_CONNECTION_CAP} emails because it is slow: every connection pays the server's`,
      "      ~100 ms greeting delay, STARTTLS and AUTH PLAIN.",
      `  Duplicate deliveries: ${formatCount(Object.values(rows).reduce((n, r) => n + r.duplicates, 0))}.`,
      pipeline.problems.length
        ? `  Postern logged ${pipeline.problems.length} warnings/errors; first: ${pipeline.problems[0]}`
        : "  Postern logged no warnings or errors.",
    ].join("\n"),
  );
}

export const smtpBasicSuite: Suite = {
  name: "smtp-basic",
  summary: "Basic Auth provider: pipeline vs pooled nodemailer vs a connection per email",
  defaultBackend: "pglite",
  async run({ backend, emails }) {
    const count = emails ?? DEFAULT_EMAILS;
    const capped = Math.min(count, PER_CONNECTION_CAP);
    const world = await startWorld();
    try {
      console.log(`\nPostern pipeline: ${count} emails on ${backend}…`);
      const pipeline = await measurePipeline(world, backend, count);

      console.log(`Pooled nodemailer: ${count} emails, ${POSTERN_POOL.maxConnections} connections…`);
      // Every sender gets an SMTP server of its own (alike in every setting), so its connection counts are its own.
      const floorTo = await startBasicAuthServer(world);
      await sendPooled(floorTo, recipients("floor-warm-up", WARM_UP), POSTERN_POOL);
      const floorEmails = recipients("floor", count);
      const floor = await timeSender(world, `(a) floor: pooled nodemailer`, floorTo, floorEmails, () =>
        sendPooled(floorTo, floorEmails, POSTERN_POOL),
      );
      const unboundedEmails = recipients("unbounded", count);
      const unbounded = await timeSender(
        world,
        "    same, unlimited messages per connection",
        floorTo,
        unboundedEmails,
        () =>
          sendPooled(floorTo, unboundedEmails, { ...POSTERN_POOL, maxMessages: Number.POSITIVE_INFINITY }),
      );

      console.log(`Connection per email: ${capped} emails, sequential and 5 at a time…`);
      const perConnectionTo = await startBasicAuthServer(world);
      const sequentialEmails = recipients("sequential", capped);
      const sequential = await timeSender(
        world,
        "(b) connection per email, sequential",
        perConnectionTo,
        sequentialEmails,
        () => sendConnectionPerEmail(perConnectionTo, sequentialEmails, 1),
      );
      const fiveEmails = recipients("five", capped);
      const five = await timeSender(
        world,
        "(b) connection per email, 5 at a time",
        perConnectionTo,
        fiveEmails,
        () => sendConnectionPerEmail(perConnectionTo, fiveEmails, 5),
      );
      print({ postern: pipeline.row, floor, unbounded, sequential, five }, pipeline, backend);
    } finally {
      await world.close();
    }
  },
};
