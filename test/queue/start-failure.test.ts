import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createDatabase, startTestPostern, waitFor } from "../support/harness.ts";

/**
 * A start that fails after the database opened (here: pg-boss starts, then its queue table cannot be
 * read) closes what it had opened: the database pool and pg-boss's own. A process that retries its
 * start, or a supervisor's restarts, must not pile up connections until PostgreSQL refuses them all.
 */
describe("a failed start (postgres)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("rejects and leaves no connection open", async () => {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const first = await startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false });
    await first.close();

    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    cleanups.push(() => observer.end());
    await observer.query("drop table pgboss.queue cascade");
    const connections = async () =>
      (
        await observer.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
        )
      ).rows[0]!.n;
    expect(await connections()).toBe(0);

    await expect(
      startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false }),
    ).rejects.toThrow(/queue/);
    // A closed connection's server process exits a moment after the client hangs up; an open pool's
    // idle ones stay for its idle timeout (10 s).
    await waitFor(async () => ((await connections()) === 0 ? true : undefined), 3_000, "no connection");
  });
});
