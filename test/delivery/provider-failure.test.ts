import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, deliveries } from "../../src/db/schema.ts";
import { ALLOWLIST, basicBody, sendLogin } from "../email-provider/support.ts";
import { startSmtpServer } from "../fakes/smtp-server.ts";
import {
  backends,
  queueSettledFor,
  type Session,
  startTestPostern,
  type TestPostern,
  waitFor,
} from "../support/harness.ts";

const LOGINS = 30;
const PASSWORD = "s3cret-Passw0rd!";

/**
 * Issue 10's fault: the developer's SMTP server refused Postern's credentials (a server-side mistake),
 * logins kept coming, then the developer fixed the server — not Postern's settings, and nobody pressed
 * Test connection. Every login email must arrive, exactly once.
 */
describe.each(backends)("a provider whose server refuses the credentials, then is fixed (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  // The server's own user table: the test fixes the server by editing it, as the developer would.
  const users: Record<string, string> = { acme: "the-server-lost-this-password" };
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

  beforeAll(async () => {
    smtp = await startSmtpServer({ users });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_PROVIDER_PROBE_SECONDS: "2",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: basicBody(smtp.port, { password: PASSWORD }),
    });
    expect(res.status, res.text).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it(`delivers all ${LOGINS} login emails exactly once after the server is fixed, without Test connection`, async () => {
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < LOGINS; i++) ids.push(await sendLogin(t, app.publishableKey, `user${i}@example.com`));
    const rows = async () =>
      Promise.all(
        ids.map(
          async (id) => (await t.postern.ctx.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!,
        ),
      );

    // While the server refuses: nothing fails, every email waits.
    const waiting = await waitFor(
      async () => {
        const all = await rows();
        return all.every((d) => d.status === "retrying") ? all : undefined;
      },
      30_000,
      "every email waiting",
    );
    expect(waiting.filter((d) => d.status === "failed")).toHaveLength(0);
    const provider = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session });
    const health = (provider.body.provider as { health: { status: string; cause: string; emails: string } })
      .health;
    expect(health).toMatchObject({ status: "failing", cause: "auth" });
    expect(health.emails).toMatch(/Login emails wait/);
    expect(smtp.messages).toHaveLength(0);
    const refusedLogins = smtp.authAttempts.filter((a) => !a.success).length;

    users.acme = PASSWORD;
    const fixedAt = Date.now();
    const sent = await waitFor(
      async () => {
        const all = await rows();
        return all.every((d) => d.status === "sent") ? all : undefined;
      },
      60_000,
      "every email sent",
    );
    const allSentAt = Date.now();
    // Until no job is left that could send again, so a duplicate still on its way would have arrived.
    await queueSettledFor(t.postern, ids);

    const recipients = smtp.messages.flatMap((m) => m.to);
    expect(recipients.toSorted()).toEqual(
      Array.from({ length: LOGINS }, (_, i) => `user${i}@example.com`).toSorted(),
    );
    expect(new Set(recipients).size).toBe(LOGINS);
    expect(sent.every((d) => d.route === "custom")).toBe(true);
    // The fix was found by the scheduled probe: nobody ran Test connection.
    const tests = await t.postern.ctx.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "email_provider.tested"));
    expect(tests).toHaveLength(0);
    // Released at once, not at the end of each email's backoff (the cap is two minutes).
    expect(allSentAt - fixedAt).toBeLessThan(20_000);
    const after = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session });
    expect((after.body.provider as { health: { status: string } }).health.status).toBe("working");
    console.info(
      `[${backend}] ${LOGINS} logins, ${recipients.length} delivered, ${recipients.length - new Set(recipients).size} duplicates; ` +
        `refused AUTH attempts while broken: ${refusedLogins}; fix → all sent ${allSentAt - fixedAt} ms; first login → all sent ${allSentAt - started} ms`,
    );
  });
});
