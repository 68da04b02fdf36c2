import { execFileSync } from "node:child_process";
import os from "node:os";
import { type Backend, postgresVersion } from "./database.ts";
import { backgroundLoad } from "./usage.ts";

/** Above this share of all cores busy before a run, its figures are not worth much. */
const BUSY_MACHINE = 0.15;

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/** What the figures depend on; printed above every run so a number is never read without its machine. */
export async function describeEnvironment(backend: Backend): Promise<string> {
  const cpus = os.cpus();
  const storage =
    backend === "postgres"
      ? `${await postgresVersion()} on 127.0.0.1 (a fresh database per run)`
      : "PGlite (embedded, data directory on disk, in the Postern process)";
  // Others work in src/ at the same time: say whether the measured code is exactly the commit.
  const dirty = git(["status", "--porcelain", "--", "src"]) ? " + uncommitted changes in src/" : "";
  const load = await backgroundLoad();
  const busy = load > BUSY_MACHINE ? " (BUSY: other processes compete for the CPU; rerun when idle)" : "";
  return [
    `machine   ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    `runtime   Node ${process.version}`,
    `storage   ${storage}`,
    `code      ${git(["rev-parse", "--short", "HEAD"]) || "unknown commit"}${dirty}`,
    `load      ${Math.round(load * 100)}% of all cores busy before the run${busy}`,
  ].join("\n");
}
