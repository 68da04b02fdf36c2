import { and, eq, isNull } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginChallenges, rateLimitCounters } from "../../src/db/schema.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

/**
 * Each limit is one upsert whose row lock orders concurrent requests (no advisory locks): a limit of N
 * admits exactly N of many requests sent at once, the app's budget counts exactly the emails queued,
 * and the logins admitted for one address leave one code usable.
 */
const AT_ONCE = 12;
const ADDRESS_PER_MINUTE = 3;
const IP_PER_HOUR = 5;
const APP_PER_HOUR = 8;

describe.each(backends)("limits under concurrent login requests (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: String(ADDRESS_PER_MINUTE),
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100",
      POSTERN_LIMIT_IP_PER_HOUR: String(IP_PER_HOUR),
      POSTERN_LIMIT_APP_PER_HOUR: String(APP_PER_HOUR),
    });
    session = await t.signIn("dev@example.com");
  });
  afterAll(() => t?.close());

  /** AT_ONCE login requests sent together to a new app; `who(i)` names the address and IP of each. */
  async function burst(who: (i: number) => { email: string; ip: string }) {
    const app = await t.createApp(session);
    const responses = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) =>
        t.request("POST", "/v1/login/email", {
          headers: { authorization: `Bearer ${app.secretKey}`, "x-postern-client-ip": who(i).ip },
          body: { email: who(i).email },
        }),
      ),
    );
    const [budget] = await t.postern.ctx.db
      .select({ count: rateLimitCounters.count })
      .from(rateLimitCounters)
      .where(eq(rateLimitCounters.key, `app:${app.id}`));
    return {
      app,
      admitted: responses.filter((r) => r.status === 202).length,
      refused: responses.filter((r) => r.status === 429).length,
      budgetUsed: budget?.count ?? 0,
    };
  }

  it(`a per-address limit of ${ADDRESS_PER_MINUTE} a minute admits exactly ${ADDRESS_PER_MINUTE}, charges the app for those alone, and leaves one code usable`, async () => {
    const run = await burst((i) => ({ email: "same@example.com", ip: `198.51.100.${i + 1}` }));
    expect(run).toMatchObject({ admitted: ADDRESS_PER_MINUTE, refused: AT_ONCE - ADDRESS_PER_MINUTE });
    expect(run.budgetUsed).toBe(ADDRESS_PER_MINUTE);
    const usable = await t.postern.ctx.db
      .select({ id: loginChallenges.id })
      .from(loginChallenges)
      .where(
        and(
          eq(loginChallenges.appId, run.app.id),
          eq(loginChallenges.email, "same@example.com"),
          isNull(loginChallenges.supersededAt),
        ),
      );
    expect(usable).toHaveLength(1);
  });

  it(`a per-IP limit of ${IP_PER_HOUR} an hour admits exactly ${IP_PER_HOUR}`, async () => {
    const run = await burst((i) => ({ email: `ip-${i}@example.com`, ip: "203.0.113.7" }));
    expect(run).toMatchObject({
      admitted: IP_PER_HOUR,
      refused: AT_ONCE - IP_PER_HOUR,
      budgetUsed: IP_PER_HOUR,
    });
  });

  it(`an app's budget of ${APP_PER_HOUR} an hour admits exactly ${APP_PER_HOUR}`, async () => {
    const run = await burst((i) => ({ email: `app-${i}@example.com`, ip: `192.0.2.${i + 1}` }));
    expect(run).toMatchObject({
      admitted: APP_PER_HOUR,
      refused: AT_ONCE - APP_PER_HOUR,
      budgetUsed: APP_PER_HOUR,
    });
  });
  it.runIf(backend === "postgres")(
    "the budgets commit asynchronously, and only they: the same connection's next transaction, a login's, is durable again",
    async () => {
      const client = new pg.Client({ connectionString: t.databaseUrl });
      await client.connect();
      try {
        const during = await client.query(`select postern_take_login_budgets(
            'ip:test-durable', now(), 100, 'app:test-durable', now(), 100) as outcome,
          current_setting('synchronous_commit') as setting`);
        expect(during.rows[0]).toEqual({ outcome: "taken", setting: "off" });
        expect((await client.query("show synchronous_commit")).rows[0].synchronous_commit).toBe("on");
        await client.query("select postern_give_back_login_budget('app:test-durable', now())");
        expect((await client.query("show synchronous_commit")).rows[0].synchronous_commit).toBe("on");
      } finally {
        await client.end();
      }
    },
  );
});
