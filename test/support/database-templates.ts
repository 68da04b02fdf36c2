import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { installQueue, migratedPgliteDump } from "../../src/cli/data-template.ts";
import { openStorage, PGLITE_SETTINGS } from "../../src/db/connection.ts";

/*
 * A fresh database for every test, without paying for a fresh database every time. Creating a PGlite
 * runs initdb in WebAssembly (about 3 s on this machine, 4–14 s when both test workers are busy) and
 * a new database is then migrated and given pg-boss's schema. The global set-up does that once per
 * run: a migrated PGlite data directory dumped to a tarball that each test loads (about 0.5 s), and
 * a migrated PostgreSQL database that each test's database is copied from (CREATE DATABASE …
 * TEMPLATE, https://www.postgresql.org/docs/15/manage-ag-templatedbs.html).
 *
 * Without the global set-up (a file run under another config) both fall back to the slow way.
 */

const PGLITE_TEMPLATE_ENV = "POSTERN_TEST_PGLITE_TEMPLATE";
const POSTGRES_TEMPLATE_ENV = "POSTERN_TEST_POSTGRES_TEMPLATE";

export async function buildPgliteTemplate(): Promise<string> {
  const dump = await migratedPgliteDump();
  const file = path.join(tmpdir(), `postern-test-pglite-${process.pid}.tar`);
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}

export async function buildPostgresTemplate(adminUrl: string): Promise<string> {
  const name = `postern_template_${process.pid}`;
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await installQueue(await openStorage({ databaseUrl: url.toString(), poolSize: 2 }));
  return name;
}

export async function dropPostgresTemplate(adminUrl: string, name: string): Promise<void> {
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}

export function removePgliteTemplate(file: string): void {
  rmSync(file, { force: true });
}

export const templateEnv = { pglite: PGLITE_TEMPLATE_ENV, postgres: POSTGRES_TEMPLATE_ENV };

let pgliteTemplate: Blob | undefined;

/** A new in-memory PGlite: migrated and with the queue's schema when the global set-up made a template. */
export async function newPglite(): Promise<PGlite> {
  const file = process.env[PGLITE_TEMPLATE_ENV];
  // With the settings the embedded default runs with (src/db/connection.ts).
  const postgresqlconf = PGLITE_SETTINGS;
  if (!file) return PGlite.create({ postgresqlconf });
  pgliteTemplate ??= new Blob([readFileSync(file)]);
  return PGlite.create({ loadDataDir: pgliteTemplate, postgresqlconf });
}

/** The clause that makes a new PostgreSQL database a migrated copy, or "" for an empty one. */
export function postgresTemplateClause(empty: boolean): string {
  const name = process.env[POSTGRES_TEMPLATE_ENV];
  return name && !empty ? ` template ${name}` : "";
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
