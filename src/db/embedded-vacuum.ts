import type { PGlite } from "@electric-sql/pglite";

/**
 * PGlite runs PostgreSQL in single-user mode, which has no autovacuum launcher: left alone, an embedded
 * database is never vacuumed or analyzed. Its tables keep every dead row version an update leaves
 * (each login email updates its delivery and its job twice, and a rate-limit counter once), and its
 * planner never gets statistics, so a plan that needs them (pg-boss's fetch taking the first jobs of a
 * backlog by index) reads the whole table instead. This does what autovacuum would, on autovacuum's own
 * rule and settings (PostgreSQL documentation, "Routine Vacuuming", The Autovacuum Daemon): a table is
 * vacuumed once its dead rows exceed autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor ×
 * its rows (at most autovacuum_vacuum_max_threshold, PostgreSQL 18, unless -1), or its inserts the insert
 * threshold (unless it is -1), or its oldest transaction id autovacuum_freeze_max_age,
 * and analyzed once the rows changed since the last ANALYZE exceed the analyze threshold. The system
 * catalogs too (ANALYZE itself rewrites pg_statistic), so the database's oldest transaction id moves
 * on; a TOAST table is vacuumed with its table.
 */
const DUE_TABLES = `
select format('%I.%I', s.schemaname, s.relname) as "table",
  s.n_dead_tup > least(
      current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0),
      coalesce(nullif(current_setting('autovacuum_vacuum_max_threshold', true)::float8, -1), 'infinity'))
    or (current_setting('autovacuum_vacuum_insert_threshold')::float8 >= 0
      and s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
        + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * greatest(c.reltuples, 0))
    or age(c.relfrozenxid) > current_setting('autovacuum_freeze_max_age')::float8 as vacuum,
  s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0) as analyze
from pg_stat_all_tables s join pg_class c on c.oid = s.relid
where c.relkind in ('r', 'm') and s.schemaname <> 'pg_toast'`;

const UNDEFINED_TABLE = "42P01";

export interface VacuumedTable {
  table: string;
  vacuum: boolean;
  analyze: boolean;
}

/** Vacuums and analyzes the tables autovacuum would now; returns what it did. */
export async function vacuumDueTables(client: PGlite): Promise<VacuumedTable[]> {
  const { rows } = await client.query<VacuumedTable>(DUE_TABLES);
  const due = rows.filter((row) => row.vacuum || row.analyze);
  const done: VacuumedTable[] = [];
  for (const row of due) {
    // One table per statement, as autovacuum works: other statements wait for one table, not all.
    const statement = row.vacuum
      ? `vacuum${row.analyze ? " (analyze)" : ""} ${row.table}`
      : `analyze ${row.table}`;
    try {
      await client.exec(statement);
      done.push(row);
    } catch (err) {
      // Dropped since it was listed (other statements run between these): nothing left to vacuum.
      if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    }
  }
  return done;
}

/** Every `intervalMs` (autovacuum_naptime's default minute), vacuums what is due; `stop` waits for a run in progress. */
export function startEmbeddedVacuum(
  client: PGlite,
  options: { intervalMs: number; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= vacuumDueTables(client)
      .then(() => undefined, options.onError)
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
