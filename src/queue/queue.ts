import PgBoss from "pg-boss";
import type { SqlExecutor, Storage } from "../db/connection.ts";
import { JobDispatcher } from "./dispatcher.ts";

/** The one queue Postern uses: each job sends one login email, identified by its delivery row. */
export const LOGIN_EMAIL_QUEUE = "login-email";

export interface LoginEmailJob {
  deliveryId: string;
  /**
   * The delivery's `nextAttemptAt` this job was scheduled for (absent on the first job): a job whose
   * schedule was replaced since (the email was released early) does nothing.
   */
  scheduledFor?: string;
  /** Tries and waits so far, for the backoff. */
  tries?: number;
}

export type Job = PgBoss.JobWithMetadata<LoginEmailJob>;

/**
 * pg-boss 10's fetch takes the first jobs in (priority desc, created_on, id) order among those queued
 * and due, but its own index for it (job_i5) is on (name, start_after): every fetch read and sorted
 * the whole backlog to return a batch, so draining a burst of n emails cost O(n²) row reads. This
 * index is in the fetch's order, so a fetch reads about as many rows as it takes. pg-boss creates its
 * schema at start, after our migrations, hence here; on the partitioned job table it reaches every
 * queue's partition. It is looked up first because CREATE INDEX locks the table and its partitions
 * against writes before it checks IF NOT EXISTS, and other processes are enqueueing and fetching
 * while this one starts; the advisory lock keeps processes starting together from racing to create it.
 */
const FETCH_ORDER_INDEX = `DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_index WHERE indrelid = 'pgboss.job'::regclass
      AND indexrelid = to_regclass('pgboss.postern_job_fetch_order')) THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('postern_job_fetch_order'));
  CREATE INDEX IF NOT EXISTS postern_job_fetch_order ON pgboss.job (name, priority DESC, created_on, id)
    WHERE state < 'active';
END $$`;

export interface RetryPolicy {
  /** pg-boss retries of a job whose worker died or threw; an email's own retries are scheduled by the worker. */
  retryLimit: number;
  /** Base delay; pg-boss doubles it per retry and adds jitter (`retry_backoff`). */
  retryDelaySeconds: number;
  /** A job still active after this is failed and retried: how a dead worker's jobs come back. */
  jobTimeoutSeconds: number;
  maintenanceSeconds: number;
}

/**
 * What a fetch also claims, in the same statement: `statement` wraps pg-boss's fetch (its SQL and
 * values) into one that returns each fetched job with a `claimed` column; `read` turns that column
 * into what the handler gets (undefined: nothing was claimed for this job).
 */
export interface FetchClaim<C> {
  statement(fetchJobs: string, values: unknown[]): { text: string; values: unknown[] };
  read(claimed: unknown): C | undefined;
}

export interface Queue {
  enqueue(job: LoginEmailJob, options?: { within?: SqlExecutor; startAfterSeconds?: number }): Promise<void>;
  /** Wakes this process's workers without waiting for their polling interval. */
  wakeLocalWorkers(): void;
  /**
   * Runs `handler` for each job, up to `concurrency` at once (see JobDispatcher). "retry" hands the
   * job back to pg-boss, which schedules it again with backoff and jitter; a thrown error does the same.
   */
  work<C>(
    concurrency: number,
    claim: FetchClaim<C>,
    handler: (job: Job, claimed: C | undefined) => Promise<"done" | "retry">,
  ): Promise<void>;
  /** Stops fetching, waits for the jobs in hand, then closes. */
  stop(): Promise<void>;
  depth(): Promise<{ queued: number; active: number; oldestAgeSeconds: number }>;
}

export async function startQueue(
  storage: Storage,
  policy: RetryPolicy,
  onError: (err: Error) => void,
  /** The process clock (Context.now). */
  now: () => Date,
): Promise<Queue> {
  const boss = new PgBoss(
    storage.queueExecutor
      ? {
          db: storage.queueExecutor as PgBoss.Db,
          schedule: false,
          maintenanceIntervalSeconds: policy.maintenanceSeconds,
        }
      : {
          connectionString: storage.connectionString,
          max: 5,
          schedule: false,
          maintenanceIntervalSeconds: policy.maintenanceSeconds,
        },
  );
  boss.on("error", onError);
  await boss.start();
  try {
    return await openQueue(boss, storage, policy, onError, now);
  } catch (err) {
    // A start that failed past pg-boss's own (a queue it cannot read or create) leaves no pool or timer.
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    throw err;
  }
}

async function openQueue(
  boss: PgBoss,
  storage: Storage,
  policy: RetryPolicy,
  onError: (err: Error) => void,
  now: () => Date,
): Promise<Queue> {
  const queueOptions = {
    name: LOGIN_EMAIL_QUEUE,
    retryLimit: policy.retryLimit,
    retryDelay: policy.retryDelaySeconds,
    retryBackoff: true,
    // A send that hangs past this is treated as failed and retried by pg-boss (crash recovery).
    expireInSeconds: policy.jobTimeoutSeconds,
  };
  // An existing queue (every start but the first) only takes this process's settings: create_queue
  // costs a tenth of a second on PGlite even when it has nothing to create.
  if (await boss.getQueue(LOGIN_EMAIL_QUEUE)) await boss.updateQueue(LOGIN_EMAIL_QUEUE, queueOptions);
  else await boss.createQueue(LOGIN_EMAIL_QUEUE, queueOptions);
  const dispatchers: JobDispatcher<LoginEmailJob>[] = [];
  // Where pg-boss runs its statements: our PGlite adapter, or its own PostgreSQL pool.
  const queueDb: SqlExecutor = storage.queueExecutor ?? (boss.getDb() as SqlExecutor);
  await queueDb.executeSql(FETCH_ORDER_INDEX);

  return {
    async enqueue(job, options = {}) {
      await boss.send(LOGIN_EMAIL_QUEUE, job, {
        ...(options.within ? { db: options.within as PgBoss.Db } : {}),
        // As a time, not a number of seconds: pg-boss binds the value to three placeholders, one cast to a
        // timestamp, and a job sent within our transaction (src/db/connection.ts rawSql) binds each one
        // apart, where "5" is no timestamp. An ISO time is valid in all three.
        ...(options.startAfterSeconds
          ? { startAfter: new Date(now().getTime() + options.startAfterSeconds * 1000) }
          : {}),
      });
    },
    wakeLocalWorkers() {
      for (const dispatcher of dispatchers) dispatcher.notify();
    },
    async work(concurrency, claim, handler) {
      const claimingExecutor: SqlExecutor = {
        async executeSql(text, values = []) {
          const statement = claim.statement(text, values);
          // pg-boss's fetch swallows its statement's errors (it expects only unique violations): a
          // broken claim must not look like an empty queue.
          return queueDb.executeSql(statement.text, statement.values).catch((err: Error) => {
            onError(err);
            throw err;
          });
        },
      };
      const dispatcher = new JobDispatcher<LoginEmailJob>(
        boss,
        LOGIN_EMAIL_QUEUE,
        concurrency,
        (job) => {
          const { claimed, ...fetched } = job as Job & { claimed?: unknown };
          return handler(fetched as Job, claim.read(claimed));
        },
        onError,
        { now, fetchDb: claimingExecutor as PgBoss.Db },
      );
      dispatchers.push(dispatcher);
      dispatcher.start();
    },
    async stop() {
      await Promise.all(dispatchers.map((d) => d.stop(30_000)));
      await boss.stop({ graceful: true, wait: true, timeout: 30_000, close: true });
    },
    async depth() {
      const sql = `select count(*) filter (where state in ('created','retry'))::int as queued,
        count(*) filter (where state = 'active')::int as active,
        coalesce(extract(epoch from now() - min(created_on) filter (where state in ('created','retry'))), 0)::float as oldest
        from pgboss.job where name = $1`;
      const { rows } = await queueDb.executeSql(sql, [LOGIN_EMAIL_QUEUE]);
      const row = rows[0] ?? {};
      return {
        queued: Number(row.queued ?? 0),
        active: Number(row.active ?? 0),
        oldestAgeSeconds: Number(row.oldest ?? 0),
      };
    },
  };
}
