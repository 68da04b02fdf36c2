import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WorldCall, WorldCalls, WorldReply, WorldRequest } from "./world-protocol.ts";

/**
 * A handle on the world process (world-process.ts): the HTTP clients and the servers the code under
 * test talks to, on the other core.
 */
export interface World {
  call<K extends WorldCall>(call: K, params: WorldCalls[K]["params"]): Promise<WorldCalls[K]["result"]>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const entry = fileURLToPath(new URL("./world-process.ts", import.meta.url));
  const child: ChildProcess = fork(entry, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 1;
  let exited = false;
  child.on("message", (reply: WorldReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply.result);
    else waiter?.reject(new Error(`world: ${reply.error}`));
  });
  const ended = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      for (const waiter of pending.values()) waiter.reject(new Error(`world exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });

  return {
    call(call, params) {
      if (exited) return Promise.reject(new Error("world has exited"));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, call, params } as WorldRequest);
      });
    },
    async close() {
      if (!exited) child.disconnect();
      await ended;
    },
  };
}
