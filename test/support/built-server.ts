import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * How tests run `postern` as an operator does with `npm start`: the compiled server, so what they
 * spawn is what ships. Built (if src/ changed) by the set-up below before any test runs.
 */
export const POSTERN_COMMAND = ["--enable-source-maps", path.join(repoRoot, "dist/server/main.mjs")];

/** Vitest global set-up: `npm start`'s build step, so a spawned server never runs stale code. */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build-if-changed.mjs"], { cwd: repoRoot, stdio: "inherit" });
}
