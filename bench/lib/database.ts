import { randomBytes } from "node:crypto";
import pg from "pg";

export type Backend = "pglite" | "postgres";

/** The PostgreSQL server the bench may create databases on (override with BENCH_POSTGRES_URL). */
export const POSTGRES_SERVER_URL =
  process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database for one run, so runs never see each other's queue or rate-limit rows. */
export async function createFreshDatabase(): Promise<FreshDatabase> {
  const name = `postern_bench_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(POSTGRES_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

export async function postgresVersion(): Promise<string> {
  const { rows } = await admin((c) => c.query<{ server_version: string }>("show server_version"));
  return `PostgreSQL ${rows[0]?.server_version ?? "?"}`;
}
