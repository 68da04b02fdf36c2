import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import plans from "pg-boss/src/plans.js";
import { afterEach, describe, expect, it } from "vitest";
import { vacuumDueTables } from "../../src/db/embedded-vacuum.ts";
import { LOGIN_EMAIL_QUEUE } from "../../src/queue/queue.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { newPglite } from "../support/database-templates.ts";
import { backends, createDatabase, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

/**
 * What a login reads, not only how many statements it sends: the rows the database visits per login
 * email, after an app already has a history of logins or a backlog of queued emails. A plan that
 * scans all of an app's challenges on each login, or the whole queue on each fetch, makes the login
 * path O(history) or O(backlog): it passes the statement count and every functional test, and shows
 * only here. The counts come from PostgreSQL's cumulative statistics (pg_stat_user_tables), which a
 * server backend publishes when it exits: each round closes Postern's pools before they are read.
 */
const HISTORY = 150;
const MEASURED = 150;
const CONCURRENCY = 4;
/**
 * Per login email, measured ~8–9 (the app row, the budget and window upserts, the foreign-key checks,
 * the worker's claim and outcome). Reading every earlier challenge of the app would add about
 * HISTORY + MEASURED / 2 = 225 per login.
 */
const INDEX_ROWS_PER_LOGIN = 20;
const BACKLOG = 20_000;
const FETCH_BATCH = 20;
/**
 * Rows of the job table pg-boss's fetch visits to take FETCH_BATCH jobs from a backlog of BACKLOG:
 * measured FETCH_BATCH (the index is in the fetch's order). Ordering the backlog to take its first
 * jobs, as pg-boss's own index (name, start_after) leaves it to, reads all BACKLOG rows on each fetch,
 * which makes draining a burst of n emails O(n²).
 */
const FETCH_ROWS = 3 * FETCH_BATCH;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

/** The scans of pg-boss's job table (or a queue's partition of it) in an EXPLAIN ANALYZE plan, with the rows each visited. */
function scansOfJobTable(explained: unknown[]): { node: string; rows: number }[] {
  const root = (explained[0] as { "QUERY PLAN": { Plan: PlanNode }[] })["QUERY PLAN"][0]!.Plan;
  const scans: { node: string; rows: number }[] = [];
  const visit = (node: PlanNode) => {
    const relation = node["Relation Name"];
    if (
      relation &&
      /scan/i.test(node["Node Type"]) &&
      (relation === "job" || /^j[0-9a-f]{56}$/.test(relation))
    ) {
      const visited = (node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0);
      scans.push({ node: node["Node Type"], rows: visited * (node["Actual Loops"] ?? 1) });
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  return scans;
}

interface TableReads {
  schemaname: string;
  relname: string;
  idx_tup_fetch: number;
  seq_tup_read: number;
}

const READS_SQL = `select schemaname, relname, coalesce(idx_tup_fetch, 0)::int as idx_tup_fetch,
  seq_tup_read::int as seq_tup_read from pg_stat_user_tables where schemaname in ('public', 'pgboss')`;

type Column = "idx_tup_fetch" | "seq_tup_read";
const total = (rows: TableReads[], columns: Column[]) =>
  rows.reduce((sum, r) => sum + columns.reduce((n, c) => n + r[c], 0), 0);

describe.each(backends)("rows a login reads (%s)", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A database of its own, and Posterns started on it one after another. */
  async function fixture() {
    const database = backend === "postgres" ? await createDatabase() : undefined;
    if (database) cleanups.push(() => database.drop());
    const pglite: PGlite | undefined = backend === "pglite" ? await newPglite() : undefined;
    if (pglite) cleanups.push(() => pglite.close());
    const secretKey = formatKeyring([generateSecretKey()]);
    const query = async <R>(sql: string): Promise<R[]> => {
      if (pglite) return (await pglite.query<R>(sql)).rows;
      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      try {
        return (await client.query(sql)).rows as R[];
      } finally {
        await client.end();
      }
    };
    /** Runs `round` on a Postern, then closes it, which publishes its backends' statistics. */
    const withPostern = async (workers: boolean, round: (t: TestPostern) => Promise<void>) => {
      const t = await startTestPostern(
        backend,
        {
          POSTERN_SEED_DEMO: "true",
          POSTERN_LIMIT_IP_PER_HOUR: "100000",
          POSTERN_LIMIT_APP_PER_HOUR: "100000",
          POSTERN_QUEUE_MAINTENANCE_SECONDS: "3600",
          // One key for every Postern on the database: a queued email is sealed with it.
          POSTERN_SECRET_KEY: secretKey,
        },
        { workers, ...(database ? { databaseUrl: database.url } : { pglite: pglite! }) },
      );
      try {
        await round(t);
      } finally {
        await t.close();
      }
    };
    /** The statistics once the exited backends' counts have arrived (just after they exit). */
    const reads = async (moreThan = -1): Promise<TableReads[]> => {
      let last: TableReads[] = [];
      let lastTotal = -1;
      for (let attempt = 0; attempt < 50; attempt++) {
        const rows = await query<TableReads>(READS_SQL);
        const now = total(rows, ["idx_tup_fetch", "seq_tup_read"]);
        if (now > moreThan && now === lastTotal) return rows;
        last = rows;
        lastTotal = now;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return last;
    };
    /** Runs one statement in a transaction that is then rolled back, and returns its rows. */
    const rolledBack = async (sql: string, params: unknown[]): Promise<unknown[]> => {
      if (pglite) {
        return pglite.transaction(async (tx) => {
          const { rows } = await tx.query(sql, params);
          await tx.rollback();
          return rows;
        });
      }
      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      try {
        await client.query("begin");
        return (await client.query(sql, params)).rows;
      } finally {
        await client.query("rollback");
        await client.end();
      }
    };
    /**
     * What the database's own maintenance would have done by then: on PostgreSQL autovacuum's ANALYZE,
     * on PGlite (which has no autovacuum) Postern's embedded vacuum, once the statistics are published.
     */
    const maintained = async () => {
      if (!pglite) return void (await query("analyze"));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await pglite.query("select 1");
      await vacuumDueTables(pglite);
    };
    return { query, withPostern, reads, rolledBack, maintained };
  }

  const login = async (t: TestPostern, prefix: string, count: number) => {
    const key = t.postern.demo!.publishableKey;
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
  };
  const delivered = (t: TestPostern, count: number) =>
    waitFor(
      () => (t.postern.devMailbox!.list().length >= count ? true : undefined),
      120_000,
      "every login email delivered",
    ).then(() => {});

  const difference = (before: TableReads[], after: TableReads[]) =>
    after.map((row) => {
      const was = before.find((b) => b.schemaname === row.schemaname && b.relname === row.relname);
      return {
        ...row,
        idx_tup_fetch: row.idx_tup_fetch - (was?.idx_tup_fetch ?? 0),
        seq_tup_read: row.seq_tup_read - (was?.seq_tup_read ?? 0),
      };
    });
  const most = (rows: TableReads[], per: number, columns: Column[]) =>
    rows
      .map((r) => ({ name: r.relname, n: total([r], columns) }))
      .filter((r) => r.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, 5)
      .map((r) => `${r.name} ${(r.n / per).toFixed(1)}`)
      .join(", ");

  it(`visits at most ${INDEX_ROWS_PER_LOGIN} index rows of Postern's tables per login email after ${HISTORY} earlier logins of the app`, async () => {
    const { withPostern, reads } = await fixture();
    await withPostern(true, async (t) => {
      await login(t, "history", HISTORY);
      await delivered(t, HISTORY);
    });
    const before = await reads();
    await withPostern(true, async (t) => {
      await login(t, "measured", MEASURED);
      await delivered(t, MEASURED);
    });
    // Postern's own tables, whose statements must not depend on statistics (this database has none
    // yet). pg-boss's job table is the next test's: its plans are chosen on statistics.
    const ours = difference(before, await reads(total(before, ["idx_tup_fetch", "seq_tup_read"]))).filter(
      (r) => r.schemaname === "public",
    );
    const perLogin = total(ours, ["idx_tup_fetch"]) / MEASURED;
    const worst = most(ours, MEASURED, ["idx_tup_fetch"]);
    console.log(`[${backend}] index rows per login email: ${perLogin.toFixed(1)} (most: ${worst})`);
    expect(perLogin, `index rows per login email (most: ${worst})`).toBeLessThanOrEqual(INDEX_ROWS_PER_LOGIN);
  }, 180_000);

  it(`takes a batch from a backlog of ${BACKLOG} queued emails reading at most ${FETCH_ROWS} of its rows`, async () => {
    const { query, withPostern, rolledBack, maintained } = await fixture();
    // A Postern starts once to create the queue; the backlog is inserted straight into it, as a burst of
    // logins would have queued it (pg-boss's defaults for everything the fetch reads).
    await withPostern(false, async () => {});
    await query(`insert into pgboss.job (name, data)
      select '${LOGIN_EMAIL_QUEUE}', jsonb_build_object('deliveryId', gen_random_uuid()::text, 'scheduledFor', now())
      from generate_series(1, ${BACKLOG})`);
    // What is measured is the plan on statistics, as a running database has them.
    await maintained();
    // pg-boss's own fetch statement, as a worker runs it (through claim.ts's wrapper, which only adds a
    // join on the jobs it returns), planned and run, then rolled back.
    const fetch = plans.fetchNextJob("pgboss")({ includeMetadata: true });
    const plan = await rolledBack(`explain (analyze, format json) ${fetch}`, [
      LOGIN_EMAIL_QUEUE,
      FETCH_BATCH,
    ]);
    const scans = scansOfJobTable(plan);
    const read = scans.reduce((sum, scan) => sum + scan.rows, 0);
    const how = scans.map((scan) => `${scan.node} ${scan.rows}`).join(", ");
    console.log(`[${backend}] rows the fetch read for ${FETCH_BATCH} of ${BACKLOG}: ${read} (${how})`);
    expect(read, `rows of the job table read (${how})`).toBeLessThanOrEqual(FETCH_ROWS);
  }, 180_000);
});
