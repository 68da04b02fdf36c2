import type PgBoss from "pg-boss";
import { describe, expect, it } from "vitest";
import { JobDispatcher } from "../../src/queue/dispatcher.ts";
import { waitFor } from "../support/harness.ts";

type Data = { deliveryId: string };
type Job = PgBoss.JobWithMetadata<Data>;

/**
 * pg-boss's side of the dispatcher, in memory: fetch hands out queued jobs, complete and fail record what
 * the dispatcher decided. The real queue is driven in dispatcher.test.ts; here each rule gets its own row.
 */
class BossDouble {
  readonly queued: Job[] = [];
  readonly completed: string[] = [];
  readonly failed: { id: string; output: object | undefined }[] = [];
  readonly batchSizes: number[] = [];
  /** Errors the next fetches throw, one each, before answering again. */
  readonly fetchErrors: Error[] = [];

  add(...ids: string[]): void {
    for (const id of ids) this.queued.push({ id, data: { deliveryId: id }, retryCount: 0 } as Job);
  }

  async fetch(_queue: string, options: { batchSize: number }): Promise<Job[]> {
    const error = this.fetchErrors.shift();
    if (error) throw error;
    this.batchSizes.push(options.batchSize);
    return this.queued.splice(0, options.batchSize);
  }

  /** pg-boss's complete takes one id or several; the dispatcher sends its finished jobs in batches. */
  async complete(_queue: string, ids: string | string[]): Promise<void> {
    this.completed.push(...(Array.isArray(ids) ? ids : [ids]));
  }

  async fail(_queue: string, id: string, output?: object): Promise<void> {
    this.failed.push({ id, output });
  }
}

/** A handler whose jobs each run until the test lets them finish. */
function gatedHandler(outcome: (job: Job) => "done" | "retry" = () => "done") {
  const running = new Map<string, () => void>();
  let peak = 0;
  return {
    running,
    peak: () => peak,
    handler: (job: Job) =>
      new Promise<"done" | "retry">((resolve) => {
        running.set(job.id, () => {
          running.delete(job.id);
          resolve(outcome(job));
        });
        peak = Math.max(peak, running.size);
      }),
    finishAll() {
      for (const finish of [...running.values()]) finish();
    },
  };
}

/** The dispatcher's clock (Context.now in Postern): a test moves it instead of waiting. */
const clock = { at: Date.parse("2030-01-01T00:00:00Z"), now: () => new Date(clock.at) };

function dispatcherFor(
  boss: BossDouble,
  concurrency: number,
  handler: (job: Job) => Promise<"done" | "retry">,
) {
  const errors: Error[] = [];
  const dispatcher = new JobDispatcher<Data>(
    boss as unknown as PgBoss,
    "login-email",
    concurrency,
    handler,
    (err) => errors.push(err),
    { now: clock.now, pollMs: 10 },
  );
  return { dispatcher, errors };
}

const ids = (n: number, prefix = "job") => Array.from({ length: n }, (_, i) => `${prefix}_${i}`);

describe("the job dispatcher's rules", () => {
  it.each([
    { concurrency: 1, jobs: 3 },
    { concurrency: 2, jobs: 1 },
    { concurrency: 3, jobs: 7 },
    { concurrency: 5, jobs: 5 },
  ])(
    "runs at most $concurrency of $jobs jobs at once and every one to its end",
    async ({ concurrency, jobs }) => {
      const boss = new BossDouble();
      boss.add(...ids(jobs));
      const gate = gatedHandler();
      const { dispatcher, errors } = dispatcherFor(boss, concurrency, gate.handler);
      dispatcher.start();
      while (boss.completed.length < jobs) {
        await waitFor(
          () => gate.running.size === Math.min(concurrency, jobs - boss.completed.length) || undefined,
          2_000,
          "the slots filled",
        );
        const before = boss.completed.length;
        // One finishing job frees one slot, and the dispatcher fetches for that slot alone.
        gate.running.values().next().value!();
        await waitFor(() => boss.completed.length > before || undefined, 2_000, "a job completed");
      }
      await dispatcher.stop(100);
      expect(gate.peak()).toBe(Math.min(concurrency, jobs));
      expect(boss.completed.sort()).toEqual(ids(jobs).sort());
      expect(Math.max(...boss.batchSizes)).toBeLessThanOrEqual(concurrency);
      expect(errors).toEqual([]);
    },
  );

  it.each([
    { handler: "returns done", run: async () => "done" as const, completed: 1, failed: [] },
    { handler: "returns retry", run: async () => "retry" as const, completed: 0, failed: [undefined] },
    {
      handler: "throws",
      run: async (): Promise<"done"> => {
        throw new Error("socket hang up");
      },
      completed: 0,
      // Kept as the job's output, as pg-boss's own work() keeps a handler's error.
      failed: [{ message: "socket hang up" }],
    },
  ])("a handler that $handler: the job is completed, or failed so pg-boss retries it", async (row) => {
    const boss = new BossDouble();
    boss.add("job_1");
    const { dispatcher, errors } = dispatcherFor(boss, 2, row.run);
    dispatcher.start();
    await waitFor(() => boss.completed.length + boss.failed.length === 1 || undefined, 2_000, "the outcome");
    await dispatcher.stop(100);
    expect(boss.completed).toHaveLength(row.completed);
    expect(boss.failed).toEqual(row.failed.map((output) => ({ id: "job_1", output })));
    expect(errors.map((e) => e.message)).toEqual(row.handler === "throws" ? ["socket hang up"] : []);
  });

  it("a fetch that fails is reported through onError and the loop fetches again", async () => {
    const boss = new BossDouble();
    boss.fetchErrors.push(
      new Error("connection terminated"),
      new Error("the database system is starting up"),
    );
    boss.add("job_1", "job_2");
    const { dispatcher, errors } = dispatcherFor(boss, 2, async () => "done");
    dispatcher.start();
    await waitFor(
      () => boss.completed.length === 2 || undefined,
      2_000,
      "both jobs after the failed fetches",
    );
    await dispatcher.stop(100);
    expect(errors.map((e) => e.message)).toEqual([
      "connection terminated",
      "the database system is starting up",
    ]);
  });

  it("a failing complete() is reported and frees the slot: the job stays active until pg-boss times it out", async () => {
    const boss = new BossDouble();
    boss.complete = async () => {
      throw new Error("the database is away");
    };
    boss.add("job_1", "job_2", "job_3");
    let runs = 0;
    const { dispatcher, errors } = dispatcherFor(boss, 1, async () => {
      runs++;
      return "done";
    });
    dispatcher.start();
    await waitFor(() => runs === 3 || undefined, 2_000, "every job run through the one slot");
    await dispatcher.stop(100);
    // Completions go out in batches: one error per batch, each reported.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(new Set(errors.map((e) => e.message))).toEqual(new Set(["the database is away"]));
  });

  it("completes finished jobs together: under load one complete() serves many jobs", async () => {
    const boss = new BossDouble();
    const calls: number[] = [];
    boss.complete = async (_queue: string, ids: string | string[]) => {
      calls.push(Array.isArray(ids) ? ids.length : 1);
      boss.completed.push(...(Array.isArray(ids) ? ids : [ids]));
    };
    boss.add(...Array.from({ length: 40 }, (_, i) => `job_${i}`));
    const { dispatcher } = dispatcherFor(boss, 10, async () => "done");
    dispatcher.start();
    await waitFor(() => boss.completed.length === 40 || undefined, 2_000, "every job completed");
    await dispatcher.stop(100);
    expect(boss.completed.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `job_${i}`).sort());
    expect(calls.length).toBeLessThan(10);
  });

  it("under load, one fetch refills several freed slots, not one fetch per finished job", async () => {
    const boss = new BossDouble();
    boss.add(...ids(200));
    const { dispatcher } = dispatcherFor(
      boss,
      10,
      () => new Promise((resolve) => setTimeout(resolve, 2, "done")),
    );
    dispatcher.start();
    await waitFor(() => boss.completed.length === 200 || undefined, 5_000, "every job completed");
    await dispatcher.stop(100);
    expect(boss.completed.sort()).toEqual(ids(200).sort());
    // Without waiting for more slots to free: a fetch for nearly every job (measured 201 and 205; 45 with it).
    expect(boss.batchSizes.length).toBeLessThanOrEqual(200 / 4);
  });

  it("a free slot is refilled while the other slots hang", async () => {
    const boss = new BossDouble();
    boss.add(...ids(3, "hangs"), ...ids(20, "quick"));
    const gate = gatedHandler();
    const { dispatcher } = dispatcherFor(boss, 4, (job) =>
      job.id.startsWith("hangs") ? gate.handler(job) : Promise.resolve("done"),
    );
    dispatcher.start();
    await waitFor(() => boss.completed.length === 20 || undefined, 5_000, "every quick job completed");
    expect(gate.running.size).toBe(3);
    gate.finishAll();
    await dispatcher.stop(1_000);
    expect(boss.completed.sort()).toEqual([...ids(3, "hangs"), ...ids(20, "quick")].sort());
  });

  it("stop() stops fetching and waits for the jobs in hand to finish", async () => {
    const boss = new BossDouble();
    boss.add("job_1", "job_2");
    const gate = gatedHandler();
    const { dispatcher } = dispatcherFor(boss, 2, gate.handler);
    dispatcher.start();
    await waitFor(() => gate.running.size === 2 || undefined, 2_000, "both jobs running");
    boss.add("job_3");
    const stopped = dispatcher.stop(5_000);
    setTimeout(() => gate.finishAll(), 20);
    await stopped;
    expect(boss.completed.sort()).toEqual(["job_1", "job_2"]);
    // The job enqueued after stop() stays in the queue for the next process.
    expect(boss.queued.map((j) => j.id)).toEqual(["job_3"]);
  });

  it("stop() gives up on a job that hangs once its timeout has passed on the process clock", async () => {
    const boss = new BossDouble();
    boss.add("job_hangs");
    const gate = gatedHandler();
    const { dispatcher } = dispatcherFor(boss, 1, gate.handler);
    dispatcher.start();
    await waitFor(() => gate.running.size === 1 || undefined, 2_000, "the job running");
    let stopped = false;
    const stopping = dispatcher.stop(30_000).then(() => {
      stopped = true;
    });
    // Real time passing is not the timeout passing: the clock has not moved.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    clock.at += 30_000;
    await stopping;
    expect(boss.completed).toEqual([]);
    // The hanging job finishing later still reaches pg-boss.
    gate.finishAll();
    await waitFor(() => boss.completed.length === 1 || undefined, 2_000, "the late completion");
  });
});
