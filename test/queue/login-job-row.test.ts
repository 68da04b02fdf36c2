import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { backends, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

/**
 * A login writes its pg-boss job itself, in its one durable statement (postern_start_login, migration 0016).
 * The row must be the one pg-boss's own send() would have written, or pg-boss would work it
 * differently (retries, expiry, retention): compared here column by column, then worked by pg-boss.
 */
describe.each(backends)("the login's job row (%s)", (backend) => {
  let t: TestPostern;

  beforeAll(async () => {
    t = await startTestPostern(backend, { POSTERN_SEED_DEMO: "true" }, { workers: false });
  });
  afterAll(() => t?.close());

  const jobOf = async (deliveryId: string) => {
    const [row] = await queryRows<Record<string, unknown>>(
      t.postern.ctx.db,
      sql`select name, data, priority, state, retry_count, retry_limit, retry_delay, retry_backoff,
            expire_in::text as expire_in, dead_letter, policy, singleton_key, singleton_on,
            (keep_until - start_after)::text as kept_for, start_after <= now() as due
          from pgboss.job where data->>'deliveryId' = ${deliveryId}`,
    );
    return row;
  };

  it("is the row pg-boss's send() writes, and pg-boss works it", async () => {
    const start = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${t.postern.demo!.publishableKey}` },
      body: { email: "job-row@example.com" },
    });
    expect(start.status).toBe(202);
    const [delivery] = await queryRows<{ id: string }>(
      t.postern.ctx.db,
      sql`select id from deliveries where challenge_id = ${String(start.body.loginId)}`,
    );
    await t.postern.ctx.queue.enqueue({ deliveryId: "dlv_sent_by_pg_boss" });

    const ours = await jobOf(delivery!.id);
    const theirs = await jobOf("dlv_sent_by_pg_boss");
    expect(ours).toEqual({ ...theirs, data: { deliveryId: delivery!.id } });
    expect(ours).toMatchObject({ state: "created", retry_limit: 8, due: true });

    await t.postern.startWorkers();
    await t.latestLoginEmail("job-row@example.com");
    await waitFor(async () => ((await jobOf(delivery!.id))?.state === "completed" ? true : undefined));
  });
});
