import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { writeDataTemplate } from "../../src/cli/data-template.ts";
import {
  dataTemplateDirFor,
  migrationsApplied,
  openStorage,
  queryRows,
  type Storage,
} from "../../src/db/connection.ts";

const journal = JSON.parse(readFileSync("src/db/migrations/meta/_journal.json", "utf8")) as {
  entries: unknown[];
};

/** What a new embedded data dir holds after it was opened: every migration applied, the queue's schema. */
async function contents(storage: Storage) {
  const [migrations] = await queryRows<{ n: number }>(
    storage.db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  const [queue] = await queryRows<{ n: number }>(
    storage.db,
    sql`select count(*)::int as n from pgboss.version`,
  );
  return { migrations: migrations?.n, queueSchema: queue?.n, applied: await migrationsApplied(storage.db) };
}

describe("a new embedded data dir", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "postern-data-template-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("starts as a copy of the build's migrated database, and later opens keep their own data", async () => {
    const template = path.join(tempDir(), "template.tar");
    await writeDataTemplate(template);
    const dataDir = tempDir();
    const first = await openStorage({ dataDir, dataTemplate: template });
    // Migrated and with the queue's schema before any start-up work ran on it: the copy held them.
    expect(await contents(first)).toEqual({
      migrations: journal.entries.length,
      queueSchema: 1,
      applied: true,
    });
    await first.db.execute(sql`create table marker (note text)`);
    await first.db.execute(sql`insert into marker values ('mine')`);
    await first.close();

    // A second open must not load the copy over what the data dir holds now.
    const again = await openStorage({ dataDir, dataTemplate: template });
    expect(await queryRows(again.db, sql`select note from marker`)).toEqual([{ note: "mine" }]);
    await again.close();
  });

  it("is unpacked from the dump when the unpacked copy is missing, and a copy never changes its template", async () => {
    const template = path.join(tempDir(), "template.tar");
    await writeDataTemplate(template);
    // From the unpacked directory: the data dir gets its own files.
    const copied = tempDir();
    const fromDir = await openStorage({ dataDir: copied, dataTemplate: template });
    await fromDir.db.execute(sql`create table marker (note text)`);
    await fromDir.close();
    const untouched = await openStorage({ dataDir: tempDir(), dataTemplate: template });
    expect(await queryRows(untouched.db, sql`select to_regclass('marker') as found`)).toEqual([
      { found: null },
    ]);
    await untouched.close();
    // From the dump alone.
    rmSync(dataTemplateDirFor(template), { recursive: true });
    const fromDump = await openStorage({ dataDir: tempDir(), dataTemplate: template });
    expect(await contents(fromDump)).toEqual({
      migrations: journal.entries.length,
      queueSchema: 1,
      applied: true,
    });
    await fromDump.close();
  });

  it("runs initdb and migrates when there is no template", async () => {
    const storage = await openStorage({
      dataDir: tempDir(),
      dataTemplate: path.join(tempDir(), "absent.tar"),
    });
    const [migrations] = await queryRows<{ n: number }>(
      storage.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(migrations?.n).toBe(journal.entries.length);
    expect(await migrationsApplied(storage.db)).toBe(true);
    await storage.close();
  });
});
