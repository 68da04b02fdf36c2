// API suite: how many login requests Postern's API process accepts on its own (`--role api` on
// PostgreSQL, no worker), next to an "API floor" run beside it: the same Fastify on the same PostgreSQL
// doing one indexed insert per request (bench/lib/api-floor.mjs). Both under the same autocannon load.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { signInToDashboard } from "./lib/dashboard.ts";
import { createFreshDatabase } from "./lib/database.ts";
import { benchEnvironment, startInProcessPostern } from "./lib/postern.ts";
import { rssBytes, startPosterns } from "./lib/processes.ts";
import { formatCount, formatNumber, formatRatio } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";

const CONNECTIONS = 32;
const WARM_UP_SECONDS = 3;
const SECONDS = 10;
const MIB = 2 ** 20;

interface ApiRun {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  notAccepted: number;
  rssBytes: number;
}

/** autocannon's POST /v1/login/email with a new address each request (per-address limits stay on). */
async function load(url: string, publishableKey: string, prefix: string, seconds: number) {
  let sent = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path: "/v1/login/email",
        setupRequest: (request) => ({
          ...request,
          headers: { "content-type": "application/json", authorization: `Bearer ${publishableKey}` },
          body: JSON.stringify({ email: `${prefix}-${sent++}@bench.example` }),
        }),
      },
    ],
  });
}

async function measure(label: string, url: string, key: string, pid: number | undefined): Promise<ApiRun> {
  await load(url, key, `${label}-warm-up`, WARM_UP_SECONDS);
  const result = await load(url, key, label, SECONDS);
  return {
    label,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    notAccepted: result.non2xx + result.errors + result.timeouts,
    rssBytes: await rssBytes(pid),
  };
}

/** One app, created through the dashboard API by a Postern in this process, which then stops. */
async function seedApp(env: Record<string, string>): Promise<string> {
  const postern = await startInProcessPostern("postgres", env);
  try {
    const dashboard = await signInToDashboard(postern.url, "owner@bench.example", postern.readCode);
    return (await dashboard.createApp("API bench")).publishableKey;
  } finally {
    await postern.close();
  }
}

/** The floor server on its own database, until `stop`. */
async function startFloor(databaseUrl: string) {
  const child = spawn(process.execPath, ["bench/lib/api-floor.mjs"], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const match = /^listening (\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the API floor exited (${code}) before listening`)));
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export const apiSuite: Suite = {
  name: "api",
  summary: "the API process alone (--role api) on PostgreSQL vs one indexed insert per request",
  defaultBackend: "postgres",
  async run({ backend }) {
    if (backend !== "postgres")
      throw new Error("the api suite runs on PostgreSQL only: the api role needs a shared database");
    const database = await createFreshDatabase();
    const floorDatabase = await createFreshDatabase();
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-"));
    try {
      const env = { ...benchEnvironment(dataDir), DATABASE_URL: database.url };
      const key = await seedApp(env);
      const runs: ApiRun[] = [];
      // Floor, Postern, floor again: a drift in the machine's load shows as two different floors.
      const floor = await startFloor(floorDatabase.url);
      try {
        runs.push(await measure("floor", floor.url, "unused", floor.pid));
      } finally {
        await floor.stop();
      }
      const group = await startPosterns(env, ["api"]);
      try {
        const api = group.members[0]!.process;
        runs.push(await Promise.race([group.crashed, measure("postern", api.url, key, api.child.pid)]));
      } finally {
        await group.stop();
      }
      const again = await startFloor(floorDatabase.url);
      try {
        runs.push(await measure("floor-again", again.url, "unused", again.pid));
      } finally {
        await again.stop();
      }
      print(runs);
    } finally {
      await database.drop();
      await floorDatabase.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

function print(runs: ApiRun[]) {
  const [floor, postern, floorAgain] = runs as [ApiRun, ApiRun, ApiRun];
  const names: Record<string, string> = {
    floor: "API floor: Fastify + one indexed insert",
    postern: "Postern API (--role api, no worker)",
    "floor-again": "API floor, again after Postern",
  };
  printTable(
    `POST /v1/login/email, autocannon ${CONNECTIONS} connections for ${SECONDS} s (after ${WARM_UP_SECONDS} s of warm-up), PostgreSQL, pool of 10 each`,
    ["server", "req/s", "p50", "p99", "not 202", "RSS"],
    runs.map((r) => [
      names[r.label]!,
      formatNumber(r.requestsPerSecond),
      formatNumber(r.p50Ms, " ms"),
      formatNumber(r.p99Ms, " ms"),
      formatCount(r.notAccepted),
      formatNumber(r.rssBytes / MIB, " MiB"),
    ]),
  );
  const floorMean = (floor.requestsPerSecond + floorAgain.requestsPerSecond) / 2;
  console.log(
    [
      "",
      "Ratios",
      `  Postern API / API floor (mean of its two runs)  ${formatRatio(postern.requestsPerSecond / floorMean)}`,
      "",
      "Notes",
      "  Every Postern request is a whole login: key lookup, rate limits, a sealed code and link, the",
      "  delivery row and its queue job (postern_take_login_budgets, then postern_start_login); the",
      "  floor only inserts.",
      "  Each server is a process of its own; the load comes from this one.",
    ].join("\n"),
  );
}
