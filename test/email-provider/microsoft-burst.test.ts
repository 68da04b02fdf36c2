// Exchange's per-mailbox limits hold across workers: two Postern processes on one PostgreSQL database
// send a burst of 200 login emails for one mailbox. The Exchange fake enforces the same small limits
// and records every violation; the burst must wait in the queue instead of bouncing.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { MAILBOX, type MicrosoftFakes, startMicrosoftFakes } from "../support/microsoft.ts";

const BURST = 200;
const MAX_CONNECTIONS = 2;
const PER_MINUTE = 100;

describe.runIf(backends.includes("postgres"))("a burst for one Microsoft sender across two workers", () => {
  let ms: MicrosoftFakes;
  let first: TestPostern;
  let second: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startMicrosoftFakes({
      limits: { concurrentConnectionsPerMailbox: MAX_CONNECTIONS, messagesPerMinute: PER_MINUTE },
      env: {
        POSTERN_MICROSOFT_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(PER_MINUTE),
      },
    });
    const env = {
      ...ms.env,
      // Both processes open the same sealed secrets.
      POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
    };
    first = await startTestPostern("postgres", env);
    second = await startTestPostern("postgres", env, { databaseUrl: first.databaseUrl! });
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

  it(`delivers ${BURST} emails without ever exceeding ${MAX_CONNECTIONS} connections or ${PER_MINUTE} a minute at Exchange`, {
    timeout: 240_000,
  }, async () => {
    const started = Date.now();
    // The logins arrive within a second or two (25 requests at a time: the API's pool has 10 connections).
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const res = await first.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${app.publishableKey}` },
            body: { email: `burst-${batch * 25 + i}@example.com` },
          });
          expect(res.status).toBe(202);
        }),
      );
    }
    await ms.exchange.waitForMessages(BURST, 200_000);
    const seconds = (Date.now() - started) / 1000;

    expect(ms.exchange.limitViolations).toEqual([]);
    const maxConcurrent = ms.exchange.maxConcurrentByMailbox.get(MAILBOX)!;
    expect(maxConcurrent).toBeLessThanOrEqual(MAX_CONNECTIONS);
    // More than a minute's worth: the second minute's emails waited for the window.
    expect(seconds).toBeGreaterThan(60);
    // Exchange records the last message before the worker has written "sent": wait for the rows.
    const attempts = await waitFor(
      async () => {
        const rows = await queryRows<{ status: string; attempts: number }>(
          first.postern.ctx.db,
          sql`select status, jsonb_array_length(attempts)::int as attempts from deliveries where app_id = ${app.id}`,
        );
        return rows.every((d) => d.status === "sent") ? rows : undefined;
      },
      30_000,
      "every delivery row marked sent",
    );
    expect(attempts).toHaveLength(BURST);
    expect(attempts.every((d) => d.status === "sent" && d.attempts === 1)).toBe(true);
    const sentBy = async (t: TestPostern) =>
      (await t.postern.metrics.deliveries.get()).values
        .filter((v) => v.labels.status === "sent" && v.labels.route === "custom")
        .reduce((sum, v) => sum + v.value, 0);
    const heldBy = async (t: TestPostern) =>
      Object.fromEntries(
        (await t.postern.metrics.senderLimitWaits.get()).values.map((v) => [v.labels.limit, v.value]),
      ) as Record<string, number>;
    const [byFirst, bySecond] = [await sentBy(first), await sentBy(second)];
    const [heldFirst, heldSecond] = [await heldBy(first), await heldBy(second)];
    expect(byFirst + bySecond).toBe(BURST);
    // Both processes took part: each sent, or was held back by what the other held (its connections or
    // the shared minute). Which process sends how many is not a promise: one that keeps sending keeps
    // its connections, and the other's emails wait in the queue, where either may take them.
    for (const [sent, held] of [
      [byFirst, heldFirst],
      [bySecond, heldSecond],
    ] as const) {
      expect(sent + (held.connections ?? 0) + (held.rate ?? 0)).toBeGreaterThan(0);
    }
    // The second minute's emails waited for the window in the queue.
    expect((heldFirst.rate ?? 0) + (heldSecond.rate ?? 0)).toBeGreaterThan(0);
    console.info(
      `burst: ${BURST} emails in ${seconds.toFixed(1)} s, max ${maxConcurrent} concurrent at Exchange, ${byFirst}/${bySecond} sent by each worker, held back ${JSON.stringify(heldFirst)}/${JSON.stringify(heldSecond)}, ${ms.identity.tokenRequests} token requests`,
    );
  });
});
