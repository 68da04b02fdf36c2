import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { ALLOWLIST, basicBody, sendLogin } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

const LOGINS = 30;
const OUTAGE_MS = 90_000;
const PROBE_SECONDS = 5;

/**
 * Issue 10's second fault: the developer's SMTP server is down for 90 s while logins come in. Nothing
 * may fail or be lost, and once the server is back every email goes out exactly once, found by the
 * scheduled probe. On PostgreSQL two Postern processes share the database: the provider is still probed
 * about once per interval, not once per process. (This suite never touches the PostgreSQL server itself.)
 */
describe.each(backends)("the provider's SMTP server down for 90 s (%s)", (backend) => {
  let t: TestPostern;
  let second: TestPostern | undefined;
  let session: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  const env = {
    ...ALLOWLIST,
    // Both processes open the same sealed secrets.
    POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
    POSTERN_LOG_LEVEL: "info",
    POSTERN_PROVIDER_PROBE_SECONDS: String(PROBE_SECONDS),
    POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
    POSTERN_LIMIT_IP_PER_HOUR: "100000",
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
    t = await startTestPostern(backend, env);
    if (backend === "postgres")
      second = await startTestPostern(backend, env, { databaseUrl: t.databaseUrl! });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: basicBody(smtp.port),
    });
    expect(res.status, res.text).toBe(200);
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
    await smtp?.close();
  });

  it(`delivers all ${LOGINS} login emails exactly once after the server comes back, probed once per interval`, async () => {
    await smtp.stop();
    const down = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < LOGINS; i++) ids.push(await sendLogin(t, app.publishableKey, `user${i}@example.com`));
    const rows = async () =>
      Promise.all(
        ids.map(
          async (id) => (await t.postern.ctx.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!,
        ),
      );

    const health = async () => {
      const res = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session });
      return (res.body.provider as { health: Record<string, string | null> }).health;
    };
    const failing = await waitFor(
      async () => {
        const h = await health();
        return h.status === "failing" ? h : undefined;
      },
      30_000,
      "the provider failing",
    );
    expect(failing.cause).toBe("network");
    expect(failing.reason).toMatch(/the connection was refused/);

    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - down)));
    const during = await rows();
    expect(during.filter((d) => d.status === "failed" || d.status === "expired")).toHaveLength(0);
    const probeLines = (x: TestPostern | undefined) =>
      (x?.logs ?? []).filter((l) => l.includes("provider health checked")).length;
    const probes = probeLines(t) + probeLines(second);

    await smtp.restart();
    const back = Date.now();
    try {
      await waitFor(
        async () => ((await rows()).every((d) => d.status === "sent") ? true : undefined),
        60_000,
        "every email sent",
      );
    } catch (err) {
      const statuses = (await rows()).map((d) => `${d.status}@${d.nextAttemptAt?.toISOString()}`);
      console.info("[fault] not all sent:", statuses.join(" "), JSON.stringify(await health()));
      console.info(
        t.logs
          .filter((l) => /probed|health|released|"level":[45]0/.test(l))
          .slice(-30)
          .join("\n"),
      );
      throw err;
    }
    const allSent = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const recipients = smtp.messages.flatMap((m) => m.to);
    expect(new Set(recipients).size).toBe(LOGINS);
    expect(recipients).toHaveLength(LOGINS);
    expect((await health()).status).toBe("working");
    // One probe per interval (jittered ±20 %) across every process, not one per process.
    expect(probes).toBeLessThanOrEqual(Math.ceil(OUTAGE_MS / (PROBE_SECONDS * 800)) + 2);
    expect(probes).toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / (PROBE_SECONDS * 1200)) - 3);
    // Released by the probe: within a probe interval and a bit, not at the end of a two-minute backoff.
    expect(allSent - back).toBeLessThan(PROBE_SECONDS * 1000 * 1.2 + 10_000);
    console.info(
      `[fault] ${backend}: ${LOGINS} logins during a ${OUTAGE_MS / 1000} s outage, ${recipients.length} delivered, ` +
        `${recipients.length - new Set(recipients).size} duplicates, ${probes} probes by ${second ? 2 : 1} process(es); ` +
        `server back → all sent ${allSent - back} ms`,
    );
  });
});
