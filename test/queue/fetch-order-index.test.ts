import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { LOGIN_EMAIL_QUEUE } from "../../src/queue/queue.ts";
import { createDatabase, startTestPostern } from "../support/harness.ts";

/**
 * The fetch-order index (src/queue/queue.ts) is made by the first start. A later start must not lock
 * the job table to find that out: CREATE INDEX takes its lock before it checks IF NOT EXISTS, and other
 * processes are enqueueing and fetching while this one starts, so each start would stall them all.
 */
describe("the queue's fetch-order index (postgres)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("is made once, and a later start does not wait for a transaction writing jobs", async () => {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const first = await startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false });
    await first.close();

    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    cleanups.push(() => writer.end());
    const indexes = async () =>
      (
        await writer.query<{ n: number }>(
          "select count(*)::int as n from pg_indexes where schemaname = 'pgboss' and indexname = 'postern_job_fetch_order'",
        )
      ).rows[0]!.n;
    expect(await indexes()).toBe(1);

    // An enqueue in flight in another process: it holds the job table's ROW EXCLUSIVE lock until it commits.
    await writer.query("begin");
    await writer.query("insert into pgboss.job (name, data) values ($1, '{}')", [LOGIN_EMAIL_QUEUE]);
    const started = startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false });
    const outcome = await Promise.race([
      started.then((t) => ({ started: true as const, t })),
      new Promise<{ started: false }>((resolve) => setTimeout(() => resolve({ started: false }), 10_000)),
    ]);
    await writer.query("rollback");
    const second = outcome.started ? outcome.t : await started;
    await second.close();
    expect(outcome.started, "a start waited for the open enqueue").toBe(true);
    expect(await indexes()).toBe(1);
  }, 60_000);
});
