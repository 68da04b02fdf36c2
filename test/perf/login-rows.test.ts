import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { newPglite } from "../support/database-templates.ts";
import { backends, createDatabase, startTestPostern, waitFor } from "../support/harness.ts";

/**
 * What a login reads, not only how many statements it sends: the rows the database's index scans
 * visit per login email, API and worker, after an app already has a history of logins. A plan that
 * scans all of an app's challenges (or deliveries, or jobs) on each login makes the login path
 * O(history): it passes the statement count and every functional test, and shows only here. The
 * counts come from PostgreSQL's cumulative statistics (pg_stat_user_tables), which a server backend
 * publishes when it exits: the PostgreSQL run closes Postern's pool before reading them.
 */
const HISTORY = 150;
const MEASURED = 150;
const CONCURRENCY = 4;
/**
 * Per login email, measured ~10 (the app row, the budget and window upserts, the foreign-key
 * checks, the worker's claim and outcome). Reading every earlier challenge of the app would add
 * about HISTORY + MEASURED / 2 = 225 per login.
 */
const INDEX_ROWS_PER_LOGIN = 20;

interface TableReads {
  relname: string;
  idx_tup_fetch: number;
  seq_tup_read: number;
}

// Postern's own tables. pg-boss's job table is left out: its statements are pg-boss's, and on a
// database not yet analyzed (every new one, and this test's) their plans read the queue's whole
// partition, which autovacuum's first ANALYZE mends; ours must not depend on statistics.
const READS_SQL = `select relname, coalesce(idx_tup_fetch, 0)::int as idx_tup_fetch, seq_tup_read::int as seq_tup_read
  from pg_stat_user_tables where schemaname = 'public'`;

const total = (rows: TableReads[], column: "idx_tup_fetch" | "seq_tup_read") =>
  rows.reduce((sum, r) => sum + r[column], 0);

describe.each(backends)("rows a login reads (%s)", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(`visits at most ${INDEX_ROWS_PER_LOGIN} index rows per login email after ${HISTORY} earlier logins of the app`, async () => {
    const database = backend === "postgres" ? await createDatabase() : undefined;
    if (database) cleanups.push(() => database.drop());
    const pglite: PGlite | undefined = backend === "pglite" ? await newPglite() : undefined;
    if (pglite) cleanups.push(() => pglite.close());
    const start = () =>
      startTestPostern(
        backend,
        {
          POSTERN_SEED_DEMO: "true",
          POSTERN_LIMIT_IP_PER_HOUR: "100000",
          POSTERN_LIMIT_APP_PER_HOUR: "100000",
          POSTERN_QUEUE_MAINTENANCE_SECONDS: "3600",
        },
        database ? { databaseUrl: database.url } : { pglite: pglite! },
      );
    const reads = async (): Promise<TableReads[]> => {
      if (pglite) return (await pglite.query<TableReads>(READS_SQL)).rows;
      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      try {
        return (await client.query<TableReads>(READS_SQL)).rows;
      } finally {
        await client.end();
      }
    };

    const logins = async (prefix: string, count: number) => {
      const t = await start();
      try {
        const key = t.postern.demo!.publishableKey;
        const before = t.postern.devMailbox!.list().length;
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < count) {
              const res = await t.request("POST", "/v1/login/email", {
                headers: { authorization: `Bearer ${key}` },
                body: { email: `${prefix}-${next++}@example.com` },
              });
              expect(res.status, res.text).toBe(202);
            }
          }),
        );
        await waitFor(
          () => (t.postern.devMailbox!.list().length >= before + count ? true : undefined),
          120_000,
          "every login email delivered",
        );
      } finally {
        // Closing the pool ends its server backends, which publishes their statistics.
        await t.close();
      }
    };

    await logins("history", HISTORY);
    const before = await waitForStatistics(reads);
    await logins("measured", MEASURED);
    const after = await waitForStatistics(reads, total(before, "idx_tup_fetch"));

    const delta = after.map((row) => {
      const was = before.find((b) => b.relname === row.relname);
      return {
        relname: row.relname,
        idx_tup_fetch: row.idx_tup_fetch - (was?.idx_tup_fetch ?? 0),
        seq_tup_read: row.seq_tup_read - (was?.seq_tup_read ?? 0),
      };
    });
    const perLogin = total(delta, "idx_tup_fetch") / MEASURED;
    const worst = delta
      .filter((d) => d.idx_tup_fetch > 0)
      .sort((a, b) => b.idx_tup_fetch - a.idx_tup_fetch)
      .slice(0, 5)
      .map((d) => `${d.relname} ${(d.idx_tup_fetch / MEASURED).toFixed(1)}`)
      .join(", ");
    console.log(`[${backend}] index rows per login email: ${perLogin.toFixed(1)} (most: ${worst})`);
    expect(perLogin, `index rows per login email (most: ${worst})`).toBeLessThanOrEqual(INDEX_ROWS_PER_LOGIN);
  }, 180_000);
});

/**
 * The statistics as soon as the exited backends' counts have arrived: they are published as each
 * backend exits, which is just after its connection closes.
 */
async function waitForStatistics(reads: () => Promise<TableReads[]>, moreThan = -1): Promise<TableReads[]> {
  let last: TableReads[] = [];
  let lastTotal = -1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const rows = await reads();
    const now = total(rows, "idx_tup_fetch");
    if (now > moreThan && now === lastTotal) return rows;
    last = rows;
    lastTotal = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}
