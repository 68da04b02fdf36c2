import type PgBoss from "pg-boss";

type Outcome = "done" | "retry";

/** Completions wait this long to go out together: one statement for many jobs under load. */
const COMPLETE_BATCH_MS = 50;
const COMPLETE_BATCH_SIZE = 100;
/** How long a free slot may wait, while the queue is busy, for others to free so they are fetched together. */
const REFILL_WAIT_MS = 20;

/**
 * Runs up to `concurrency` jobs at once and fetches more as soon as any one finishes (while the queue
 * is busy, once half have, or REFILL_WAIT_MS after the first did). pg-boss's own `work()` hands out
 * batches and fetches again only when a whole batch is done, so one tenant's hanging SMTP server
 * would hold every slot of the batch; here a slow send holds only its own.
 * Finished jobs are completed in batches: a job whose completion is lost (a crash in those
 * milliseconds) times out and runs again, and the delivery's conditional claim makes that rerun a no-op.
 */
export class JobDispatcher<T extends object> {
  private inFlight = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private notified = false;
  private loop: Promise<void> | undefined;
  private completions: string[] = [];
  private completing: NodeJS.Timeout | undefined;
  private flushes = new Set<Promise<void>>();

  constructor(
    private readonly boss: PgBoss,
    private readonly queue: string,
    private readonly concurrency: number,
    private readonly handler: (job: PgBoss.JobWithMetadata<T>) => Promise<Outcome>,
    private readonly onError: (err: Error) => void,
    private readonly options: {
      /** The process clock (Context.now): stop()'s timeout is read from it. */
      now: () => Date;
      /** How often an idle dispatcher looks for work enqueued by other processes. */
      pollMs?: number;
      /** Where fetches run (pg-boss's `db` option): the queue's claiming executor. */
      fetchDb?: PgBoss.Db;
    },
  ) {}

  private get pollMs(): number {
    return this.options.pollMs ?? 500;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New work was enqueued in this process: fetch now instead of at the next poll. */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  /** Stops fetching and waits (at most `timeoutMs`) for the jobs in hand to finish. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.notify();
    await this.loop;
    const deadline = this.options.now().getTime() + timeoutMs;
    while (this.inFlight > 0 && this.options.now().getTime() < deadline) await this.sleep(50);
    this.flushCompletions();
    await Promise.all(this.flushes);
  }

  private async run(): Promise<void> {
    // The last fetch filled every free slot, so more jobs are likely waiting: the queue is busy.
    let busy = false;
    let freeSince: number | undefined;
    while (!this.stopping) {
      const free = this.concurrency - this.inFlight;
      if (free === 0) {
        await this.sleep(); // a finishing job wakes the loop
        continue;
      }
      // Under load, slots free one at a time: a fetch for each would be one statement per email. Wait a
      // moment for half of them, so one fetch serves several; a slot waits no longer than REFILL_WAIT_MS,
      // so jobs that hang never keep the rest from being fetched.
      if (busy && free < Math.ceil(this.concurrency / 2)) {
        freeSince ??= performance.now();
        const waited = performance.now() - freeSince;
        if (waited < REFILL_WAIT_MS) {
          await this.sleep(REFILL_WAIT_MS - waited);
          continue;
        }
      }
      freeSince = undefined;
      let jobs: PgBoss.JobWithMetadata<T>[] = [];
      try {
        jobs =
          (await this.boss.fetch<T>(this.queue, {
            batchSize: free,
            includeMetadata: true,
            ...(this.options.fetchDb ? { db: this.options.fetchDb } : {}),
          })) ?? [];
      } catch (err) {
        this.onError(err as Error);
      }
      for (const job of jobs) this.dispatch(job);
      busy = jobs.length === free;
      // Fewer than asked for: the queue is drained for now.
      if (jobs.length < free) await this.sleep(this.pollMs);
    }
  }

  private dispatch(job: PgBoss.JobWithMetadata<T>): void {
    this.inFlight++;
    this.handler(job)
      .then(
        (outcome) => ({ outcome, output: undefined }),
        (err: Error) => {
          this.onError(err);
          // Kept as the job's output, as pg-boss's own work() does with a handler's error.
          return { outcome: "retry" as const, output: { message: err.message } };
        },
      )
      .then(({ outcome, output }) =>
        // fail() with retries left puts the job back in the queue with the queue's backoff
        // (retry_limit, retry_delay, retry_backoff); its third argument is the job's output.
        outcome === "done"
          ? this.complete(job.id)
          : output
            ? this.boss.fail(this.queue, job.id, output)
            : this.boss.fail(this.queue, job.id),
      )
      // If the database is away, the job stays active, times out, and pg-boss retries it.
      .catch((err: Error) => this.onError(err))
      .finally(() => {
        this.inFlight--;
        this.notify();
      });
  }

  private complete(id: string): void {
    this.completions.push(id);
    if (this.completions.length >= COMPLETE_BATCH_SIZE) this.flushCompletions();
    else this.completing ??= setTimeout(() => this.flushCompletions(), COMPLETE_BATCH_MS);
  }

  private flushCompletions(): void {
    clearTimeout(this.completing);
    this.completing = undefined;
    const ids = this.completions.splice(0);
    if (ids.length === 0) return;
    // If the database is away, the jobs stay active, time out, and pg-boss retries them (a no-op).
    const flush = this.boss
      .complete(this.queue, ids)
      .then(() => undefined)
      .catch((err: Error) => this.onError(err));
    this.flushes.add(flush);
    void flush.finally(() => this.flushes.delete(flush));
  }

  /** Waits for `ms` or until notified; a notification that came while awake is not lost. */
  private sleep(ms?: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        this.notified = false;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
