// Scale suite: one API process and 1, 2 or 4 worker processes on one PostgreSQL database,
// with 10,000 apps configured and 1,000 of them sending through Basic Auth providers of their own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { basicAuthProvider, defaultSmtpUrl, POSTERN_POOL, startBasicAuthServer } from "./lib/basic-auth.ts";
import { signInToDashboard } from "./lib/dashboard.ts";
import { createFreshDatabase } from "./lib/database.ts";
import { mapLimit, seededRandom } from "./lib/parallel.ts";
import { driveLogins, type PipelineRun, recipients } from "./lib/pipeline.ts";
import { benchEnvironment, startInProcessPostern } from "./lib/postern.ts";
import { rssBytes, startPosterns } from "./lib/processes.ts";
import { type SmtpDestination, sendPooled } from "./lib/senders.ts";
import { formatCount, formatNumber, formatRatio, perSecond } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";
import { startWorld, type World } from "./lib/world.ts";
import type { Login } from "./lib/world-protocol.ts";

const WORKER_COUNTS = [1, 2, 4];
const APPS = 10_000;
const SENDING_APPS = 1_000;
const DEFAULT_EMAILS = 2_000;
/** End users' addresses the load comes from: 127.0.1.1–127.0.1.250, all loopback. */
const CLIENT_ADDRESSES = Array.from({ length: 250 }, (_, i) => `127.0.1.${i + 1}`);
const CLIENTS = 64;
const AUTOCANNON_SECONDS = 10;
const MIB = 2 ** 20;

/** 10,000 apps through the dashboard API, the first 1,000 with a Basic Auth provider on the local server. */
async function seedApps(env: Record<string, string>, smtp: SmtpDestination): Promise<string[]> {
  const postern = await startInProcessPostern("postgres", env);
  try {
    const dashboard = await signInToDashboard(postern.url, "owner@bench.example", postern.readCode);
    await dashboard.unlockCustomProvider();
    const apps = await mapLimit(Array.from({ length: APPS }), 8, (_, i) => dashboard.createApp(`App ${i}`));
    const sending = apps.slice(0, SENDING_APPS);
    await mapLimit(sending, 8, (app, i) =>
      dashboard.putEmailProvider(
        app.id,
        basicAuthProvider(smtp, { email: `login-${i}@bench.example`, name: `App ${i}` }),
      ),
    );
    return sending.map((app) => app.publishableKey);
  } finally {
    await postern.close();
  }
}

interface ApiRun {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  /** Emails autocannon's accepted requests asked for: they must be delivered before the next step. */
  accepted: string[];
}

/** autocannon against the API: distinct addresses (per-address limits), apps at random, one client address. */
async function loadApi(url: string, keys: string[], label: string): Promise<ApiRun> {
  const random = seededRandom(7);
  const accepted: string[] = [];
  let sent = 0;
  const result = await autocannon({
    url,
    connections: 32,
    duration: AUTOCANNON_SECONDS,
    requests: [
      {
        method: "POST",
        path: "/v1/login/email",
        setupRequest: (request, context) => {
          const email = `${label}-${sent++}@bench.example`;
          context.email = email;
          return {
            ...request,
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${keys[Math.floor(random() * keys.length)]}`,
            },
            body: JSON.stringify({ email }),
          };
        },
        onResponse: (status, _body, context) => {
          if (status === 202) accepted.push(String(context.email));
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
    accepted,
  };
}

interface ScaleRow {
  workers: number;
  endToEnd: PipelineRun;
  connectionsPerEmail: number;
  /** Emails delivered more than once during this step (should be 0). */
  duplicates: number;
  api: ApiRun;
  rss: { role: string; bytes: number }[];
}

async function measureWorkers(
  world: World,
  env: Record<string, string>,
  smtp: SmtpDestination,
  keys: string[],
  workers: number,
  emails: number,
): Promise<ScaleRow> {
  const group = await startPosterns(env, [
    "api",
    ...Array.from({ length: workers }, () => "worker" as const),
  ]);
  try {
    const api = group.members[0]!.process.url;
    const row = await Promise.race([group.crashed, measureGroup(world, api, smtp, keys, workers, emails)]);
    const rss = await Promise.all(
      group.members.map(async (m) => ({ role: m.role, bytes: await rssBytes(m.process.child.pid) })),
    );
    return { ...row, rss };
  } finally {
    await group.stop();
  }
}

async function measureGroup(
  world: World,
  api: string,
  smtp: SmtpDestination,
  keys: string[],
  workers: number,
  emails: number,
): Promise<Omit<ScaleRow, "rss">> {
  const random = seededRandom(workers);
  const logins: Login[] = recipients(`scale-${workers}`, emails).map((email) => ({
    email,
    publishableKey: keys[Math.floor(random() * keys.length)]!,
  }));
  const before = await world.call("smtpStats", smtp);
  const endToEnd = await driveLogins(
    world,
    api,
    logins,
    { concurrency: CLIENTS, sourceAddresses: CLIENT_ADDRESSES },
    Math.max(120_000, emails * 100),
  );
  const after = await world.call("smtpStats", smtp);
  const apiRun = await loadApi(api, keys, `api-${workers}`);
  // Drained before the processes stop, so no email of this step is left for the next.
  await world.call("awaitAccepted", { recipients: apiRun.accepted, timeoutMs: 300_000 });
  const drained = await world.call("smtpStats", smtp);
  return {
    workers,
    endToEnd,
    connectionsPerEmail: (after.connections - before.connections) / emails,
    duplicates: drained.duplicates - before.duplicates,
    api: apiRun,
  };
}

function print(rows: ScaleRow[], floorPerSecond: number) {
  const mib = (bytes: number) => formatNumber(bytes / MIB, " MiB");
  printTable(
    `End to end: HTTP request → SMTP accept (${CLIENTS} clients from ${CLIENT_ADDRESSES.length} addresses, apps at random among ${SENDING_APPS})`,
    [
      "workers",
      "emails",
      "emails/s",
      "× 1 worker",
      "× floor",
      "p50",
      "p99",
      "SMTP conns/email",
      "duplicates",
    ],
    rows.map((r) => [
      String(r.workers),
      formatCount(r.endToEnd.emails),
      formatNumber(r.endToEnd.emailsPerSecond),
      formatRatio(r.endToEnd.emailsPerSecond / rows[0]!.endToEnd.emailsPerSecond),
      formatRatio(r.endToEnd.emailsPerSecond / floorPerSecond),
      formatNumber(r.endToEnd.endToEnd.p50, " ms"),
      formatNumber(r.endToEnd.endToEnd.p99, " ms"),
      formatNumber(r.connectionsPerEmail),
      formatCount(r.duplicates),
    ]),
  );
  printTable(
    `API: POST /v1/login/email with autocannon (${AUTOCANNON_SECONDS} s, 32 connections, one client address), and memory`,
    ["workers", "req/s", "p99", "not 202", "RSS api", "RSS each worker"],
    rows.map((r) => [
      String(r.workers),
      formatNumber(r.api.requestsPerSecond),
      formatNumber(r.api.p99Ms, " ms"),
      formatCount(r.api.non2xx),
      mib(r.rss.find((p) => p.role === "api")?.bytes ?? Number.NaN),
      r.rss
        .filter((p) => p.role === "worker")
        .map((p) => mib(p.bytes))
        .join(", "),
    ]),
  );
  console.log(
    [
      "",
      `Floor: pooled nodemailer (${POSTERN_POOL.maxConnections} connections, ${formatCount(POSTERN_POOL.maxMessages)} messages each) in this run: ${formatNumber(floorPerSecond)} emails/s.`,
      `RSS after both loads, with ${formatCount(APPS)} apps configured and ${formatCount(SENDING_APPS)} sending.`,
      "End-to-end requests spread over many client addresses (many end users); autocannon's come from one.",
    ].join("\n"),
  );
}

export const scaleSuite: Suite = {
  name: "scale",
  summary: "1, 2 and 4 worker processes on PostgreSQL, 10,000 apps, 1,000 sending",
  defaultBackend: "postgres",
  async run({ backend, emails }) {
    if (backend !== "postgres")
      throw new Error("the scale suite runs on PostgreSQL only (--backend postgres)");
    const count = emails ?? DEFAULT_EMAILS;
    const database = await createFreshDatabase();
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-"));
    const world = await startWorld();
    try {
      const smtp = await startBasicAuthServer(world);
      // One environment for every process: the same database and the same key for sealed secrets.
      const shared = { ...benchEnvironment(dataDir), DATABASE_URL: database.url };
      console.log(`\nSeeding ${formatCount(APPS)} apps, ${formatCount(SENDING_APPS)} with a provider…`);
      const started = Date.now();
      // Seeding signs in through the dev mailbox, so it runs without a default SMTP server.
      const keys = await seedApps(shared, smtp);
      const env = { ...shared, POSTERN_DEFAULT_SMTP_URL: defaultSmtpUrl(smtp) };
      console.log(`  done in ${Math.round((Date.now() - started) / 1000)} s`);

      const rows: ScaleRow[] = [];
      for (const workers of WORKER_COUNTS) {
        console.log(`1 API process + ${workers} worker process${workers > 1 ? "es" : ""}: ${count} emails…`);
        rows.push(await measureWorkers(world, env, smtp, keys, workers, count));
      }

      const floorTo = await startBasicAuthServer(world);
      // Warmed up as in smtp-basic: a cold transport measured its first TLS handshakes and JIT.
      await sendPooled(floorTo, recipients("scale-floor-warm-up", 100), POSTERN_POOL);
      const floorEmails = recipients("scale-floor", count);
      const floorStarted = performance.now();
      await sendPooled(floorTo, floorEmails, POSTERN_POOL);
      await world.call("awaitAccepted", { recipients: floorEmails, timeoutMs: 120_000 });
      print(rows, perSecond(count, performance.now() - floorStarted));
    } finally {
      await world.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
