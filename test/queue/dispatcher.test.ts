import { afterEach, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "../../src/db/connection.ts";
import { type Job, type Queue, startQueue } from "../../src/queue/queue.ts";
import { newPglite } from "../support/database-templates.ts";
import { backends, createDatabase, waitFor } from "../support/harness.ts";

type Seen = { id: string; retryCount: number; at: number };

describe.each(backends)("the job dispatcher on a real queue (%s)", (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function queue(concurrency: number, handler: (job: Job) => Promise<"done" | "retry">) {
    let storage: Storage;
    if (backend === "postgres") {
      const database = await createDatabase();
      cleanup.push(() => database.drop());
      storage = await openStorage({ databaseUrl: database.url });
    } else {
      const pglite = await newPglite();
      cleanup.push(() => pglite.close());
      storage = await openStorage({ pglite });
    }
    cleanup.push(() => storage.close());
    const q: Queue = await startQueue(
      storage,
      { retryLimit: 3, retryDelaySeconds: 1, jobTimeoutSeconds: 30, maintenanceSeconds: 30 },
      () => {},
      () => new Date(),
    );
    cleanup.push(() => q.stop());
    await q.work(concurrency, handler);
    return q;
  }

  it('"retry" hands the job back to pg-boss, which runs it again after its backoff', async () => {
    const seen: Seen[] = [];
    const q = await queue(2, async (job) => {
      seen.push({ id: job.id, retryCount: job.retryCount, at: Date.now() });
      return job.retryCount < 2 ? "retry" : "done";
    });
    await q.enqueue({ deliveryId: "dlv_retry" });
    q.wakeLocalWorkers();
    await waitFor(() => seen.length >= 3 || undefined, 30_000, "three runs of the job");
    expect(seen.map((s) => s.retryCount)).toEqual([0, 1, 2]);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1);
    // retry_delay 1 s with backoff: each run waits at least about the base delay.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
    await waitFor(async () => (await q.depth()).queued + (await q.depth()).active === 0 || undefined);
  });

  it("a handler that throws is retried too, and one hanging job holds only its own slot", async () => {
    const seen: Seen[] = [];
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const q = await queue(2, async (job) => {
      seen.push({ id: job.data.deliveryId, retryCount: job.retryCount, at: Date.now() });
      if (job.data.deliveryId === "dlv_hangs") {
        await hanging;
        return "done";
      }
      if (job.data.deliveryId === "dlv_throws" && job.retryCount === 0) throw new Error("boom");
      return "done";
    });
    await q.enqueue({ deliveryId: "dlv_hangs" });
    q.wakeLocalWorkers();
    await waitFor(() => seen.some((s) => s.id === "dlv_hangs") || undefined);
    for (let i = 0; i < 5; i++) await q.enqueue({ deliveryId: `dlv_${i}` });
    await q.enqueue({ deliveryId: "dlv_throws" });
    q.wakeLocalWorkers();
    await waitFor(
      () =>
        (seen.filter((s) => s.id.startsWith("dlv_") && s.id !== "dlv_hangs").length >= 7 &&
          seen.some((s) => s.id === "dlv_throws" && s.retryCount === 1)) ||
        undefined,
      30_000,
      "every other job, and the thrown one again",
    );
    release();
  });
});
