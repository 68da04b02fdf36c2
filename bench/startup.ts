// Start-up suite: how long `npm start` takes to be ready and how much memory the embedded process
// holds, against the floor of its own stack (bench/lib/startup-floor.mjs: Node, Fastify and PGlite on
// the same data dir) started the same way in the same run.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/process.ts";
import { rssBytes } from "./lib/processes.ts";
import { formatNumber, formatRatio } from "./lib/stats.ts";
import type { Suite } from "./lib/suite.ts";
import { printTable } from "./lib/table.ts";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const RESTARTS = 5;
/** Idle time before memory is read: what the process holds once start-up's garbage is collected or not. */
const SETTLE_MS = 2_000;
const MIB = 2 ** 20;
const TARGET_READY_MS = 2_000;
const TARGET_RSS_MIB = 350;

interface Started {
  readyMs: number;
  rss: number;
}

/** Spawns `command` in its own process group, times it to a 200 from /readyz, reads the RSS, stops it. */
async function startOnce(
  command: string[],
  dataDir: string,
  rssOf: (child: ChildProcess) => number | undefined,
): Promise<Started> {
  const port = await freePort();
  const began = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      POSTERN_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      POSTERN_LOG_LEVEL: "warn",
    },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  for (;;) {
    if (ended) throw new Error(`${command.join(" ")} exited before it was ready:\n${stderr.slice(-3000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(20);
  }
  const readyMs = performance.now() - began;
  await sleep(SETTLE_MS);
  const rss = await rssBytes(rssOf(child));
  process.kill(-child.pid!, "SIGTERM");
  await exited;
  return { readyMs, rss };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A first start on an empty data dir, then RESTARTS starts on the data it left (medians). */
async function measure(command: string[], rssOf: (child: ChildProcess) => number | undefined) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-start-"));
  try {
    const first = await startOnce(command, dataDir, rssOf);
    const again: Started[] = [];
    for (let i = 0; i < RESTARTS; i++) again.push(await startOnce(command, dataDir, rssOf));
    return {
      first,
      restart: { readyMs: median(again.map((s) => s.readyMs)), rss: median(again.map((s) => s.rss)) },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The pid of the Node process `npm start` ends in: in npm's process group, running the server (not the shell). */
function serverPid(npm: ChildProcess): number | undefined {
  const out = execFileSync("pgrep", ["-g", String(npm.pid), "-f", "^[^ ]*node [^&]*scripts/start.mjs"], {
    encoding: "utf8",
  });
  return Number(out.trim().split("\n")[0]) || undefined;
}

export const startupSuite: Suite = {
  name: "startup",
  summary: "npm start → ready and the embedded process's memory, against Node + Fastify + PGlite alone",
  defaultBackend: "pglite",
  async run({ backend }) {
    if (backend !== "pglite")
      throw new Error("the startup suite measures the embedded default (--backend pglite)");
    const floor = await measure([process.execPath, "bench/lib/startup-floor.mjs"], (child) => child.pid);
    const postern = await measure(["npm", "start", "--silent"], serverPid);
    const row = (label: string, p: number, f: number, unit: string, target: string) => [
      label,
      unit === "ms" ? formatNumber(p, " ms") : `${formatNumber(p / MIB)} MiB`,
      unit === "ms" ? formatNumber(f, " ms") : `${formatNumber(f / MIB)} MiB`,
      formatRatio(p / f),
      target,
    ];
    printTable(
      `Start-up: npm start (build check, then the compiled server) against the floor, ${RESTARTS} restarts (medians)`,
      ["measure", "Postern", "floor", "ratio", "target"],
      [
        row("first start → ready (empty data dir)", postern.first.readyMs, floor.first.readyMs, "ms", ""),
        row(
          "restart → ready (existing data)",
          postern.restart.readyMs,
          floor.restart.readyMs,
          "ms",
          `≤ ${formatNumber(TARGET_READY_MS, " ms")}`,
        ),
        row("RSS after a first start", postern.first.rss, floor.first.rss, "MiB", `≤ ${TARGET_RSS_MIB} MiB`),
        row(
          "RSS idle after a restart",
          postern.restart.rss,
          floor.restart.rss,
          "MiB",
          `≤ ${TARGET_RSS_MIB} MiB`,
        ),
      ],
    );
    console.log(
      `\nReady = the first 200 from /readyz after the command was spawned. Memory read ${SETTLE_MS / 1000} s after ready (VmRSS).`,
    );
  },
};
