import type { PGlite } from "@electric-sql/pglite";
import { afterEach, describe, expect, it } from "vitest";
import { openStorage } from "../../src/db/connection.ts";
import { vacuumDueTables } from "../../src/db/embedded-vacuum.ts";
import { newPglite } from "../support/database-templates.ts";
import { waitFor } from "../support/harness.ts";

interface TableStats {
  n_dead_tup: number;
  last_vacuum: Date | null;
  last_analyze: Date | null;
  reltuples: number;
}

const stats = async (pglite: PGlite, table: string) =>
  (
    await pglite.query<TableStats>(
      `select s.n_dead_tup::int, s.last_vacuum, s.last_analyze, c.reltuples::float8 as reltuples
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = $1`,
      [table],
    )
  ).rows[0]!;

/** A backend publishes its statistics at most once a second, at the end of a transaction. */
const publishStatistics = async (pglite: PGlite) => {
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await pglite.query("select 1");
};

describe("vacuuming the embedded database (PGlite has no autovacuum)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const pgliteFor = async () => {
    const pglite = await newPglite();
    cleanups.push(() => pglite.close());
    return pglite;
  };

  it("vacuums and analyzes a table on autovacuum's thresholds, and leaves alone one below them", async () => {
    const pglite = await pgliteFor();
    await pglite.exec(`create table churned (id int primary key, n int);
      insert into churned select g, 0 from generate_series(1, 5000) g;
      create table quiet (id int primary key, n int);
      insert into quiet select g, 0 from generate_series(1, 5000) g`);
    // Both are due after their inserts (no statistics yet): the first pass takes them.
    await publishStatistics(pglite);
    await vacuumDueTables(pglite);
    // About 3 × 5,000 dead rows in one (less what page pruning took), well past 50 + 0.2 × 5,000; 20 in the other, under both thresholds.
    for (let round = 0; round < 3; round++) await pglite.exec("update churned set n = n + 1");
    await pglite.exec("update quiet set n = n + 1 where id <= 20");
    await publishStatistics(pglite);
    const quietBefore = await stats(pglite, "quiet");
    expect((await stats(pglite, "churned")).n_dead_tup).toBeGreaterThan(10_000);

    const done = await vacuumDueTables(pglite);
    expect(done).toContainEqual({ table: "public.churned", vacuum: true, analyze: true });
    expect(done.map((t) => t.table)).not.toContain("public.quiet");
    await publishStatistics(pglite);
    const churned = await stats(pglite, "churned");
    expect(churned.n_dead_tup).toBe(0);
    expect(churned.reltuples).toBe(5000);
    const quiet = await stats(pglite, "quiet");
    expect(quiet.last_vacuum).toEqual(quietBefore.last_vacuum);
    expect(quiet.n_dead_tup).toBe(20);
    // Nothing is due any more.
    expect((await vacuumDueTables(pglite)).map((t) => t.table)).not.toContain("public.churned");
  });

  it("gives a never-analyzed table statistics once enough rows changed", async () => {
    const pglite = await pgliteFor();
    await pglite.exec(
      "create table fresh (id int primary key); insert into fresh select generate_series(1, 200)",
    );
    await publishStatistics(pglite);
    expect((await stats(pglite, "fresh")).last_analyze).toBeNull();
    expect(await vacuumDueTables(pglite)).toContainEqual({
      table: "public.fresh",
      vacuum: false,
      analyze: true,
    });
    expect((await stats(pglite, "fresh")).reltuples).toBe(200);
  });

  it("goes on past a table dropped between being listed and being vacuumed", async () => {
    const pglite = await pgliteFor();
    await pglite.exec(`create table gone (id int primary key); insert into gone select generate_series(1, 2000);
      create table kept (id int primary key); insert into kept select generate_series(1, 2000)`);
    await publishStatistics(pglite);
    // PGlite runs statements in the order they are asked for: the listing, this drop, then the vacuums.
    const pass = vacuumDueTables(pglite);
    await pglite.exec("drop table gone");
    const done = (await pass).map((t) => t.table);
    expect(done).toContain("public.kept");
    expect(done).not.toContain("public.gone");
  });

  it("vacuums the system catalogs too, which its own ANALYZE churns", async () => {
    const pglite = await pgliteFor();
    await pglite.exec("create table wide (a int, b int, c int, d int, e int)");
    for (let round = 0; round < 100; round++) {
      await pglite.exec(`insert into wide select g, g, g, g, g from generate_series(1, 10) g; analyze wide`);
    }
    await publishStatistics(pglite);
    expect((await vacuumDueTables(pglite)).map((t) => t.table)).toContain("pg_catalog.pg_statistic");
  });

  it("runs on its own in an embedded storage, and closing waits for it", async () => {
    const pglite = await pgliteFor();
    const errors: unknown[] = [];
    const storage = await openStorage({
      pglite,
      vacuum: { intervalMs: 200, onError: (err) => errors.push(err) },
    });
    cleanups.push(() => storage.close());
    await pglite.exec(`create table busy (id int primary key, n int);
      insert into busy select g, 0 from generate_series(1, 2000) g; update busy set n = 1`);
    await publishStatistics(pglite);
    await waitFor(
      async () => ((await stats(pglite, "busy")).last_vacuum ? true : undefined),
      10_000,
      "a vacuum",
    );
    await storage.close();
    expect(errors).toEqual([]);
  });
});
