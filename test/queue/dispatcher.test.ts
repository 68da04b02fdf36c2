import { afterEach, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "../../src/db/connection.ts";
import { type FetchClaim, type Job, type Queue, startQueue } from "../../src/queue/queue.ts";
import { newPglite } from "../support/database-templates.ts";
import { backends, createDatabase, waitFor } from "../support/harness.ts";

type Seen = { id: string; retryCount: number; at: number };

describe.each(backends)("the job dispatcher on a real queue (%s)", (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A claim that claims nothing: these tests are about the queue, not deliveries (see claim.ts). */
  const noClaim: FetchClaim<never> = {
    statement: (text, values) => ({ text, values }),
    read: () => undefined,
  };
  const errors: Error[] = [];

  async function queue(
    concurrency: number,
    handler: (job: Job) => Promise<"done" | "retry">,
    claim: FetchClaim<unknown> = noClaim,
  ) {
    errors.length = 0;
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
      (err) => errors.push(err),
      () => new Date(),
    );
    cleanup.push(() => q.stop());
    await q.work(concurrency, claim, handler);
    return q;
  }

  it("hands each job what its fetch claimed, and reports a claim that fails instead of taking it for an empty queue", async () => {
    const claimed: unknown[] = [];
    let broken = false;
    const q = await queue(2, async () => "done", {
      statement: (text, values) => ({
        text: broken
          ? `WITH fetched AS (${text}) SELECT f.*, no_such_column AS claimed FROM fetched f`
          : `WITH fetched AS (${text}) SELECT f.*, f.data->>'deliveryId' || $${values.length + 1} AS claimed FROM fetched f`,
        values: [...values, "+claimed"],
      }),
      read: (value) => {
        claimed.push(value);
        return value;
      },
    });
    await q.enqueue({ deliveryId: "dlv_a" });
    q.wakeLocalWorkers();
    await waitFor(() => claimed.length >= 1 || undefined);
    expect(claimed).toEqual(["dlv_a+claimed"]);
    broken = true;
    await q.enqueue({ deliveryId: "dlv_b" });
    q.wakeLocalWorkers();
    await waitFor(() => errors.length >= 1 || undefined, 10_000, "the failed claim reported");
    expect(errors[0]!.message).toMatch(/no_such_column/);
    // The failed statement took nothing: the job is still queued, and a working claim gets it.
    expect((await q.depth()).queued).toBe(1);
    broken = false;
    q.wakeLocalWorkers();
    await waitFor(() => claimed.length >= 2 || undefined);
    expect(claimed[1]).toBe("dlv_b+claimed");
  });

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
