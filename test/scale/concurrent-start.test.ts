import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { createDatabase } from "../support/harness.ts";
import { spawnPostern } from "../support/process.ts";

describe("several processes starting at once on an empty PostgreSQL database", () => {
  it("migrates exactly once and every process becomes ready", async () => {
    const database = await createDatabase({ empty: true });
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-start-"));
    const env = {
      DATABASE_URL: database.url,
      POSTERN_DATA_DIR: dataDir,
      POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]).trim(),
      POSTERN_DEFAULT_SMTP_URL: "smtp://localhost:2525",
    };
    try {
      const processes = await Promise.all([
        spawnPostern(env, ["--role", "api"]),
        spawnPostern(env, ["--role", "api"]),
        spawnPostern(env, ["--role", "worker"]),
        spawnPostern(env, ["--role", "worker"]),
      ]);
      for (const p of processes) expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const migrations = await client.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      const { readdirSync } = await import("node:fs");
      const files = readdirSync(new URL("../../src/db/migrations", import.meta.url)).filter((f) =>
        f.endsWith(".sql"),
      );
      expect(migrations.rows[0].n).toBe(files.length);
      await client.end();
      for (const p of processes) expect(await p.kill("SIGTERM")).toBe(0);
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
