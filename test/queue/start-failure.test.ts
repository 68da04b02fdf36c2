import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createDatabase, startTestPostern, waitFor } from "../support/harness.ts";

/**
 * A start that fails closes what it had opened: the database pool and pg-boss's own. A process that
 * retries its start, or a supervisor's restarts, must not pile up connections until PostgreSQL
 * refuses them all.
 */
describe("a failed start (postgres)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A connection to `url` that watches the others. */
  const observe = async (url: string) => {
    const observer = new pg.Client({ connectionString: url });
    await observer.connect();
    cleanups.push(() => observer.end());
    const connections = async () =>
      (
        await observer.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
        )
      ).rows[0]!.n;
    return {
      observer,
      // A closed connection's server process exits a moment after the client hangs up; an open pool's
      // idle ones stay for its idle timeout (10 s).
      noneLeft: () =>
        waitFor(async () => ((await connections()) === 0 ? true : undefined), 3_000, "no connection left"),
    };
  };

  it("after pg-boss started (its queue table cannot be read): rejects and leaves no connection open", async () => {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const first = await startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false });
    await first.close();
    const { observer, noneLeft } = await observe(database.url);
    await observer.query("drop table pgboss.queue cascade");
    // The first start's connections end a moment after its close resolves.
    await noneLeft();

    await expect(
      startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false }),
    ).rejects.toThrow(/queue/);
    await noneLeft();
  });

  it("in a migration (a table of the same name is in the way): rejects and leaves no connection open", async () => {
    const database = await createDatabase({ empty: true });
    cleanups.push(() => database.drop());
    const { observer, noneLeft } = await observe(database.url);
    await observer.query("create table apps (id int)");
    await noneLeft();

    await expect(
      startTestPostern("postgres", {}, { databaseUrl: database.url, workers: false }),
    ).rejects.toThrow(/apps/);
    await noneLeft();
  });
});
