import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.ts";
import type { TestPostern } from "./harness.ts";

/** Every table's rows (but rate-limit counters and the migration log), to prove a refused request changed nothing. */
export async function snapshot(t: TestPostern): Promise<string> {
  const tables = await queryRows<{ tablename: string }>(
    t.postern.ctx.db,
    sql`select tablename from pg_tables where schemaname = 'public' and tablename not in ('rate_limit_events', 'rate_limit_windows', '__drizzle_migrations') order by tablename`,
  );
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const rows = await queryRows(t.postern.ctx.db, sql.raw(`select * from "${tablename}" order by 1`));
    parts.push(`${tablename}:${JSON.stringify(rows)}`);
  }
  return parts.join("\n");
}
