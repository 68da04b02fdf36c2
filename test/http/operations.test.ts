import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { backends, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

describe.each(backends)("health, readiness and metrics (%s)", (backend) => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern(backend);
  });
  afterAll(() => t?.close());

  it("answers liveness and readiness with each check", async () => {
    expect((await t.request("GET", "/healthz")).body).toEqual({ ok: true });
    const ready = await t.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ok: true, checks: { database: true, migrations: true, queue: true } });
  });

  it("is not ready while a migration this version ships is not recorded as applied", async () => {
    const db = t.postern.ctx.db;
    const [last] = await queryRows<{ id: number; hash: string; created_at: string }>(
      db,
      sql`select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`,
    );
    await db.execute(sql`delete from drizzle.__drizzle_migrations where id = ${last!.id}`);
    try {
      const ready = await t.request("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ ok: false, checks: { database: true, migrations: false, queue: true } });
    } finally {
      await db.execute(
        sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id}, ${last!.hash}, ${last!.created_at})`,
      );
    }
    expect((await t.request("GET", "/readyz")).status).toBe(200);
  });

  it("exposes delivery outcomes, send duration, queue depth and HTTP latency to Prometheus", async () => {
    const session = await t.signIn("metrics@example.com");
    await waitFor(async () => {
      const text = (await t.request("GET", "/metrics")).text;
      return /postern_deliveries_total\{status="sent",route="default"\} 1/.test(text) ? text : undefined;
    });
    const text = (await t.request("GET", "/metrics")).text;
    expect(text).toMatch(/postern_smtp_send_duration_seconds_count\{route="default",outcome="sent"\} 1/);
    expect(text).toMatch(/postern_queue_depth\{state="queued"\} \d+/);
    expect(text).toMatch(
      /postern_http_request_duration_seconds_count\{method="POST",route="\/api\/auth\/email",status="202"\} 1/,
    );
    expect(text).not.toContain(session.cookie.split("=")[1]!);
  });
});
