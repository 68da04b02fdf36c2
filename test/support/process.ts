import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { POSTERN_COMMAND } from "./built-server.ts";
import { waitFor } from "./harness.ts";

/** A process runs where `npm start` does (its default data dir is ./data), wherever the runner started. */
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PosternProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>;
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** Runs `postern start` as a real OS process, the way an operator does, and waits until it is ready. */
export async function spawnPostern(
  env: Record<string, string>,
  args: string[] = [],
): Promise<PosternProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, [...POSTERN_COMMAND, "start", ...args], {
    cwd: repoRoot,
    env: { ...process.env, HOST: "127.0.0.1", POSTERN_LOG_LEVEL: "warn", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  const url = `http://127.0.0.1:${port}`;
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  try {
    await waitFor(
      async () => {
        if (ended) throw new Error(`postern exited before it was ready:\n${output}`);
        try {
          return (await fetch(`${url}/readyz`)).ok || undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      "postern to be ready",
    );
  } catch (error) {
    if (ended) throw error;
    // Not ready in time: no process is left behind, and its output says why.
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${output}`);
  }
  return {
    url,
    child,
    output: () => output,
    exited,
    async kill(signal = "SIGTERM") {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs a `postern` command to its end, as an operator's shell would, and resolves with its exit code and
 * output. The command is killed after `timeoutMs` (the code is then the signal's name).
 */
export async function runPostern(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | string | null; output: string }> {
  const child = spawn(process.execPath, [...POSTERN_COMMAND, ...args], {
    cwd: repoRoot,
    env: { ...process.env, POSTERN_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  const code = await new Promise<number | string | null>((resolve) =>
    child.once("exit", (exitCode, signal) => resolve(exitCode ?? signal)),
  );
  clearTimeout(timer);
  return { code, output };
}
