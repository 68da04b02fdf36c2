// Exchange's per-mailbox limits are shared by the providers that send as one mailbox, but every tenant
// is an attacker to every other: an app that merely names a mailbox (another Entra tenant, or
// a service principal without permission on it) must never slow or pause the mailbox's real senders.
// Only what Exchange says about the mailbox itself (432 4.3.2, the submission quota) slows the lane.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { type MicrosoftFakes, startMicrosoftFakes, TENANT_ID } from "../support/microsoft.ts";
import { type DeliveryView, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

const OTHER_TENANT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/** Well inside the 60 s a paused lane waits: the victim's email must not wait for any pause. */
const PROMPTLY_MS = 10_000;
const MESSAGES_PER_MINUTE = 2;

describe.each(backends)("providers of other tenants cannot slow a mailbox's lane (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;
  let victim: Session;
  let attacker: Session;

  beforeAll(async () => {
    ms = await startMicrosoftFakes();
    ms.identity.addTenant({ id: OTHER_TENANT_ID, domains: ["fabrikam.onmicrosoft.com"] });
    t = await startTestPostern(backend, ms.env);
    victim = await workspace(t, "victim@example.com");
    attacker = await workspace(t, "attacker@example.net");
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  it.each([
    [
      "an app in another tenant whose token Exchange refuses (535 5.7.3)",
      () => {
        const app = ms.identity.addApp(OTHER_TENANT_ID, { secret: "attacker-secret" });
        return { tenantId: OTHER_TENANT_ID, clientId: app.clientId, clientSecret: "attacker-secret" };
      },
      { errorClass: "auth", smtpReply: expect.stringMatching(/^535 5\.7\.3 /) },
    ],
    [
      "an app in another tenant with a wrong client secret (AADSTS7000215)",
      () => {
        const app = ms.identity.addApp(OTHER_TENANT_ID, { secret: "attacker-secret" });
        return { tenantId: OTHER_TENANT_ID, clientId: app.clientId, clientSecret: "wrong-secret" };
      },
      { errorClass: "token" },
    ],
    [
      "an app in the mailbox's own tenant whose service principal has no permission on it (535 5.7.3)",
      () => {
        const app = ms.identity.addApp(TENANT_ID, { secret: "insider-secret" });
        ms.exchange.registerServicePrincipal(TENANT_ID, app.clientId, app.servicePrincipalId);
        return { tenantId: TENANT_ID, clientId: app.clientId, clientSecret: "insider-secret" };
      },
      { errorClass: "auth", smtpReply: expect.stringMatching(/^535 5\.7\.3 /) },
    ],
  ])("%s fails alone: the mailbox's own sender is not paused", async (_case, attackerApp, failure) => {
    const mailbox = `login-${randomUUID().slice(0, 8)}@contoso.onmicrosoft.com`;
    const victimApp = await t.createApp(victim, { name: "Contoso" });
    ms.exchange.allowApp(ms.app, mailbox);
    await saveProvider(t, victim, victimApp.id, ms.providerBody({ senderEmail: mailbox }));
    const hostileApp = await t.createApp(attacker, { name: "Look-alike" });
    const hostile = attackerApp();
    await saveProvider(t, attacker, hostileApp.id, ms.providerBody({ senderEmail: mailbox, ...hostile }));

    // The attacker's login emails fail on its own credentials, and its provider is marked failing.
    const refused = await deliveryWhen(
      t,
      attacker,
      hostileApp.id,
      await sendLogin(t, hostileApp.publishableKey, "someone@example.net"),
      (d) => d.status === "failed" || d.status === "retrying",
    );
    expect(refused.attempts[0]).toMatchObject(failure);
    expect((await providerState(t, attacker, hostileApp.id)).health.status).toBe("failing");
    // It keeps trying (a new login a little later is one more probe, or fails fast).
    await sendLogin(t, hostileApp.publishableKey, "someone-else@example.net");

    const started = Date.now();
    const delivered = await deliveredWithin(t, victim, victimApp.id, victimApp.publishableKey);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(delivered.attempts.map((a) => a.outcome)).toEqual(["sent"]);
    expect(ms.exchange.messages.some((m) => m.authUser === mailbox)).toBe(true);
    expect((await providerState(t, victim, victimApp.id)).health.status).toBe("working");
    expect(await pausedLanes(t, mailbox)).toEqual([]);
  });

  it("432 4.3.2 slows the lane shared by two providers of the same tenant and mailbox", async () => {
    const mailbox = `shared-${randomUUID().slice(0, 8)}@contoso.onmicrosoft.com`;
    ms.exchange.allowApp(ms.app, mailbox);
    const first = await t.createApp(victim, { name: "Contoso web" });
    const second = await t.createApp(victim, { name: "Contoso mobile" });
    for (const app of [first, second]) {
      await saveProvider(t, victim, app.id, ms.providerBody({ senderEmail: mailbox }));
    }
    ms.exchange.injectOnce(
      "data",
      "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=FAKE01MB0001.eurprd01.prod.outlook.com]",
    );
    const slowed = await deliveryWhen(
      t,
      victim,
      first.id,
      await sendLogin(t, first.publishableKey, "one@example.com"),
      (d) => d.status === "sent",
    );
    expect(slowed.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
    expect(slowed.attempts[0]!.message).toMatch(/fewer connections/);

    // Both providers now share one connection to the mailbox (the setting allows 2).
    ms.exchange.maxConcurrentByMailbox.delete(mailbox);
    const ids = await Promise.all(
      [first, first, second, second].map((app, i) =>
        sendLogin(t, app.publishableKey, `burst-${i}@example.com`).then((id) => ({ app, id })),
      ),
    );
    for (const { app, id } of ids) {
      await deliveryWhen(t, victim, app.id, id, (d) => d.status === "sent");
    }
    expect(ms.exchange.maxConcurrentByMailbox.get(mailbox)).toBe(1);
    expect(ms.exchange.limitViolations).toEqual([]);
  });
});

describe.each(backends)("a provider that only claims a mailbox's tenant (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;

  beforeAll(async () => {
    ms = await startMicrosoftFakes({
      env: { POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(MESSAGES_PER_MINUTE) },
    });
    t = await startTestPostern(backend, ms.env);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  it("cannot use up the mailbox's messages a minute with sends Entra refuses", async () => {
    const mailbox = `login-${randomUUID().slice(0, 8)}@contoso.onmicrosoft.com`;
    ms.exchange.allowApp(ms.app, mailbox);
    const victim = await workspace(t, "victim@example.com");
    const victimApp = await t.createApp(victim, { name: "Contoso" });
    await saveProvider(t, victim, victimApp.id, ms.providerBody({ senderEmail: mailbox }));

    // A tenant id is no secret: as many apps as the mailbox's per-minute limit name the victim's, each with
    // a client id Entra does not know there, so none of them ever reaches the mailbox.
    const attacker = await workspace(t, "attacker@example.net");
    for (let i = 0; i < MESSAGES_PER_MINUTE; i++) {
      const app = await t.createApp(attacker, { name: `Claim ${i}` });
      await saveProvider(
        t,
        attacker,
        app.id,
        ms.providerBody({ senderEmail: mailbox, clientId: randomUUID(), clientSecret: "guess" }),
      );
      await deliveryWhen(
        t,
        attacker,
        app.id,
        await sendLogin(t, app.publishableKey, `claim-${i}@example.net`),
        // Refused by Entra: the email waits for its provider (which is failing), holding no slot.
        (d) => d.status === "retrying",
      );
    }

    const started = Date.now();
    const delivered = await deliveredWithin(t, victim, victimApp.id, victimApp.publishableKey);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(delivered.attempts.map((a) => a.outcome)).toEqual(["sent"]);
    expect(await pausedLanes(t, mailbox)).toEqual([]);
  });
});

/** A dashboard account with its own workspace, the premium feature unlocked by the operator. */
async function workspace(t: TestPostern, email: string): Promise<Session> {
  const session = await t.signIn(email);
  await t.unlock(session.workspaceId);
  return session;
}

async function saveProvider(t: TestPostern, session: Session, appId: string, body: Record<string, unknown>) {
  const res = await t.request("PUT", `/api/apps/${appId}/email-provider`, { session, body });
  expect(res.status, res.text).toBe(200);
}

async function providerState(t: TestPostern, session: Session, appId: string) {
  const res = await t.request("GET", `/api/apps/${appId}/email-provider`, { session });
  return (res.body as unknown as ProviderState).provider!;
}

/** One login email for the app, waited for only as long as a prompt delivery takes. */
async function deliveredWithin(
  t: TestPostern,
  session: Session,
  appId: string,
  publishableKey: string,
): Promise<DeliveryView> {
  const id = await sendLogin(t, publishableKey, `user-${randomUUID().slice(0, 8)}@example.com`);
  let last = "";
  const sent = async () => {
    const res = await t.request("GET", `/api/apps/${appId}/deliveries/${id}`, { session });
    last = res.text;
    const view = res.body as unknown as DeliveryView;
    return view.status === "sent" ? view : undefined;
  };
  return waitFor(sent, PROMPTLY_MS).catch(() => {
    throw new Error(`the login email was not delivered within ${PROMPTLY_MS} ms: ${last}`);
  });
}

/** The lanes of this mailbox (whatever their key) that every process must currently leave alone. */
async function pausedLanes(t: TestPostern, mailbox: string): Promise<string[]> {
  const rows = await queryRows<{ sender: string }>(
    t.postern.ctx.db,
    sql`select sender from sender_limits where paused_until > now() and sender like ${`%${mailbox}%`}`,
  );
  return rows.map((row) => row.sender);
}
