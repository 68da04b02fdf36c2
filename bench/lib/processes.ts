import { readFile } from "node:fs/promises";
import { type PosternProcess, spawnPostern } from "../../test/support/process.ts";

export type Role = "api" | "worker";

export interface RunningPostern {
  role: Role;
  process: PosternProcess;
}

export interface PosternGroup {
  members: RunningPostern[];
  /** Rejects as soon as a member exits before stop(), so a crash ends the measurement instead of a timeout. */
  crashed: Promise<never>;
  /** SIGTERM to each, as an orchestrator stops a process: Postern drains in-flight sends first. */
  stop(): Promise<void>;
}

/** Starts Postern processes as an operator would (`postern start --role …`), all at once. */
export async function startPosterns(env: Record<string, string>, roles: Role[]): Promise<PosternGroup> {
  const members = await Promise.all(
    roles.map(async (role) => ({ role, process: await spawnPostern(env, ["--role", role]) })),
  );
  let stopping = false;
  const crashed = new Promise<never>((_, reject) => {
    for (const { role, process } of members) {
      void process.exited.then((code) => {
        if (!stopping)
          reject(new Error(`the ${role} process exited (${code}):\n${process.output().slice(-3000)}`));
      });
    }
  });
  crashed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  return {
    members,
    crashed,
    async stop() {
      stopping = true;
      await Promise.all(members.map((m) => m.process.kill("SIGTERM")));
    },
  };
}

/** Resident memory of a live process, from /proc (Linux). */
export async function rssBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kib ? Number(kib) * 1024 : Number.NaN;
}
