// Graph's limit of 4 concurrent requests per app and mailbox holds across workers: two Postern processes on
// one PostgreSQL database send a burst for one mailbox through a Graph fake that answers slowly, counts
// every simultaneous request and refuses the fifth with 429. The burst must queue in Postern instead.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { MAILBOX } from "../support/microsoft.ts";
import { type GraphFakes, startGraphFakes } from "../support/microsoft-graph.ts";

const BURST = 300;
/** Long enough that both processes have requests in flight at once. */
const LATENCY_MS = 40;

describe.runIf(backends.includes("postgres"))("a Graph burst for one mailbox across two workers", () => {
  let ms: GraphFakes;
  let first: TestPostern;
  let second: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startGraphFakes({
      limits: { messagesPerMinutePerMailbox: 1_000_000 },
      env: {
        POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: "1000000",
        POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
        POSTERN_LIMIT_APP_PER_HOUR: "100000",
        POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
        POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
      },
    });
    ms.graph.setLatency(LATENCY_MS);
    first = await startTestPostern("postgres", ms.env);
    second = await startTestPostern("postgres", ms.env, { databaseUrl: first.databaseUrl! });
    owner = await first.signIn("owner@example.com");
    app = await first.createApp(owner, { name: "Contoso" });
    await first.unlock(owner.workspaceId);
    const put = await first.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody(),
    });
    expect(put.status, put.text).toBe(200);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await ms?.close();
  });

  it(`delivers ${BURST} emails, never more than 4 requests at a time at Graph`, {
    timeout: 240_000,
  }, async () => {
    const started = Date.now();
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const res = await first.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${app.publishableKey}` },
            body: { email: `graph-burst-${batch * 25 + i}@example.com` },
          });
          expect(res.status).toBe(202);
        }),
      );
    }
    await ms.graph.waitForMessages(BURST, 200_000);
    const seconds = (Date.now() - started) / 1000;

    const peak = ms.graph.peakConcurrency(MAILBOX);
    expect(peak).toBeLessThanOrEqual(4);
    expect(ms.graph.throttled.concurrency).toBe(0);
    expect(ms.graph.limitViolations).toEqual([]);
    const rows = await waitFor(
      async () => {
        const found = await queryRows<{ status: string; attempts: number }>(
          first.postern.ctx.db,
          sql`select status, jsonb_array_length(attempts)::int as attempts from deliveries where app_id = ${app.id}`,
        );
        return found.length === BURST && found.every((d) => d.status === "sent") ? found : undefined;
      },
      30_000,
      "every delivery row marked sent",
    );
    expect(rows.every((d) => d.attempts === 1)).toBe(true);
    const sentBy = async (t: TestPostern) =>
      (await t.postern.metrics.deliveries.get()).values
        .filter((v) => v.labels.status === "sent" && v.labels.route === "custom")
        .reduce((sum, v) => sum + v.value, 0);
    const [byFirst, bySecond] = [await sentBy(first), await sentBy(second)];
    expect(byFirst + bySecond).toBe(BURST);
    expect(byFirst).toBeGreaterThan(0);
    expect(bySecond).toBeGreaterThan(0);
    console.info(
      `graph two processes: ${BURST} emails in ${seconds.toFixed(1)} s, peak ${peak} concurrent at Graph, ${byFirst}/${bySecond} sent by each worker, ${ms.identity.tokenRequests} token requests`,
    );
  });
});
