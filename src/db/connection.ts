import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzleNodePostgres } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePostgres } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { startEmbeddedVacuum } from "./embedded-vacuum.ts";
import * as schema from "./schema.ts";

/** A database handle or an open transaction: both speak the same query builder. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * A query built once per database handle instead of on every call, for the worker's per-email
 * statements: Drizzle's query building and its checks were a tenth of the worker's CPU. Prepared
 * without a name, so PostgreSQL still parses each execution (an unnamed statement, as every other
 * query here; safe behind a transaction-pooling PgBouncer, which named statements are not).
 */
export function builtOncePer<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}

/** The shape pg-boss accepts as its `db` option (and per call, to join a transaction). */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface Storage {
  kind: "pglite" | "postgres";
  db: Db;
  /** Connection string for pg-boss on PostgreSQL; on PGlite pg-boss goes through `queueExecutor`. */
  connectionString: string | undefined;
  queueExecutor: SqlExecutor | undefined;
  /**
   * Runs `setup` while holding the database-wide startup lock, so processes starting together
   * migrate and create the queue one after another (concurrent setup deadlocks in PostgreSQL).
   */
  exclusively<T>(setup: () => Promise<T>): Promise<T>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL("../../src/db/migrations", import.meta.url));
// Any constant works; it only has to be the same in every Postern process.
const STARTUP_LOCK_ID = 7_046_873_511;

/** How many migrations this version of Postern ships (drizzle-kit's journal). */
const shippedMigrations = (
  JSON.parse(readFileSync(path.join(migrationsFolder, "meta/_journal.json"), "utf8")) as {
    entries: unknown[];
  }
).entries.length;

/**
 * For readiness: every migration this version ships is recorded as applied (Drizzle's migrator keeps
 * them in drizzle.__drizzle_migrations). A newer process may have applied more; that is fine.
 */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const [row] = await queryRows<{ applied: number }>(
    db,
    sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
  );
  return (row?.applied ?? 0) >= shippedMigrations;
}

/** Builds a parameterised drizzle SQL object from `$1`-style text, for raw statements from pg-boss. */
export function rawSql(text: string, values: readonly unknown[] = []): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = parts.map((part, i) =>
    i % 2 === 0 ? sql.raw(part) : sql`${asParameter(values[Number(part) - 1])}`,
  );
  return sql.join(chunks, sql.raw(""));
}

/** Parameters as node-postgres would send them: undefined is NULL, plain objects are JSON. */
function asParameter(value: unknown): unknown {
  if (value === undefined) return null;
  if (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Date) &&
    !Array.isArray(value) &&
    !Buffer.isBuffer(value)
  ) {
    return JSON.stringify(value);
  }
  return value;
}

export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * Rows of a constant `$n` statement, handed to the driver as it is: for the login's two statements,
 * sent on every request, Drizzle's query building was 6 % of the API process's time (README,
 * Benchmarks). Unnamed, as every other query here (see `builtOncePer`). Parameters go as the driver
 * serialises them: a JavaScript array is one PostgreSQL array, a Date a timestamp.
 */
export async function queryText<T>(db: Db, text: string, values: readonly unknown[]): Promise<T[]> {
  const client = (db as unknown as { $client: DriverClient }).$client;
  return (await client.query(text, values as unknown[])).rows as T[];
}

/** What `pg.Pool` and `PGlite` have in common, which is all queryText needs. */
interface DriverClient {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Lets pg-boss write its job inside one of our transactions. */
export function transactionExecutor(tx: Db): SqlExecutor {
  return {
    executeSql: async (text, values) => ({ rows: await queryRows(tx, rawSql(text, values ?? [])) }),
  };
}

/**
 * PGlite's PostgreSQL keeps its default 128 MB of shared buffers in the process's memory from the
 * start. Its files are ordinary files the OS caches, and an embedded Postern's tables are a few
 * megabytes, so 16 MB holds what is hot: the process idles at about 190 MB less RSS than with the
 * default, for no loss the login bench could show.
 */
export const PGLITE_SETTINGS = ["shared_buffers = 16MB"];

/** The migrated database `npm run build` writes (src/cli/data-template.ts), beside the compiled server. */
export const dataTemplateFile = fileURLToPath(new URL("../../dist/pglite-template.tar", import.meta.url));

/** The same database unpacked into a data directory, written beside the dump by the build. */
export const dataTemplateDirFor = (file: string) => file.replace(/\.tar$/, "");

/**
 * A new data dir's first contents, from the build's migrated database: a copy of its unpacked
 * directory, or else the dump for PGlite to unpack; without either, initdb runs.
 */
function seedDataDir(dir: string, file: string): Blob | undefined {
  const unpacked = dataTemplateDirFor(file);
  if (existsSync(path.join(unpacked, "PG_VERSION"))) {
    cpSync(unpacked, dir, { recursive: true });
    return undefined;
  }
  return existsSync(file) ? new Blob([readFileSync(file)]) : undefined;
}

/** Opens PGlite in `dataDir` (embedded default), or the PostgreSQL server at `databaseUrl`, and migrates it. */
export async function openStorage(options: {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolSize?: number;
  pglite?: PGlite;
  /** What a new data dir starts as (the build's, by default); without the file, initdb runs. */
  dataTemplate?: string;
  /** PGlite only: how often to vacuum what is due (src/db/embedded-vacuum.ts), and where its failures go. */
  vacuum?: EmbeddedVacuumOptions;
}): Promise<Storage> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  let pglite = options.pglite;
  if (!pglite) {
    const dir = path.join(options.dataDir ?? "./data", "pglite");
    mkdirSync(dir, { recursive: true });
    const template = existsSync(path.join(dir, "PG_VERSION"))
      ? undefined
      : seedDataDir(dir, options.dataTemplate ?? dataTemplateFile);
    pglite = await PGlite.create(dir, {
      postgresqlconf: PGLITE_SETTINGS,
      ...(template ? { loadDataDir: template } : {}),
    });
  }
  return openPglite(pglite, options.pglite === undefined, options.vacuum ?? {});
}

interface EmbeddedVacuumOptions {
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/** autovacuum_naptime's default: how often autovacuum would look at a database. */
const VACUUM_INTERVAL_MS = 60_000;

async function openPglite(
  client: PGlite,
  owned: boolean,
  vacuumOptions: EmbeddedVacuumOptions,
): Promise<Storage> {
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  try {
    await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder });
  } catch (err) {
    // A data dir this version cannot migrate: its lock and memory are let go with the error.
    if (owned) await client.close().catch(() => undefined);
    throw err;
  }
  const vacuum = startEmbeddedVacuum(client, {
    intervalMs: vacuumOptions.intervalMs ?? VACUUM_INTERVAL_MS,
    onError: vacuumOptions.onError ?? (() => {}),
  });
  return {
    kind: "pglite",
    db,
    connectionString: undefined,
    queueExecutor: {
      // PGlite's `query` takes one statement with parameters; pg-boss's schema setup sends
      // several statements without parameters, which only `exec` accepts.
      executeSql: async (text, values) => {
        if (values && values.length > 0) return client.query<Record<string, unknown>>(text, values);
        const results = await client.exec(text);
        return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
      },
    },
    // One process per PGlite data dir: nothing to serialise with.
    exclusively: (setup) => setup(),
    ping: async () => {
      await client.query("select 1");
      return true;
    },
    close: async () => {
      await vacuum.stop();
      if (owned) await client.close();
    },
  };
}

async function openPostgres(connectionString: string, poolSize: number): Promise<Storage> {
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 5_000 });
  // A client whose server went away emits 'error' (idle ones on the pool, checked-out ones on
  // themselves); without listeners the process would crash. The failed query reports it instead.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzleNodePostgres(pool, { schema }) as unknown as Db;
  const exclusively = async <T>(setup: () => Promise<T>): Promise<T> => {
    const lockClient = await pool.connect();
    try {
      await lockClient.query("select pg_advisory_lock($1)", [STARTUP_LOCK_ID]);
      return await setup();
    } finally {
      await lockClient.query("select pg_advisory_unlock($1)", [STARTUP_LOCK_ID]).catch(() => {});
      lockClient.release();
    }
  };
  // Several processes may start at once: one migrates while the others wait on the lock.
  try {
    await exclusively(() => migrateNodePostgres(drizzleNodePostgres(pool, { schema }), { migrationsFolder }));
  } catch (err) {
    // A database this version cannot migrate (or cannot reach): no pool is left behind the error.
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    kind: "postgres",
    db,
    connectionString,
    queueExecutor: undefined,
    exclusively,
    ping: async () => {
      try {
        await pool.query("select 1");
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}
