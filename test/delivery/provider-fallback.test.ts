import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { ALLOWLIST, basicBody, deliveryWhen, sendLogin } from "../email-provider/support.ts";
import { MAIL_SEND_SCOPE, type SendgridFake, sendgridErrors, startSendgridFake } from "../fakes/sendgrid.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

const PASSWORD = "s3cret-Passw0rd!";
const BATCH = 8;

type Attempt = {
  outcome: string;
  route: string;
  provider?: { id: string; label: string };
  errorClass?: string;
  message?: string;
};
type Delivery = { status: string; route: string; sender: string; attempts: Attempt[] };
type ProviderView = { id: string; position: number; health: { status: string; cause: string | null } };

/**
 * An app with two providers in order: its primary's server first refuses the credentials, then is
 * fixed, then goes down, then comes back. Every login email must arrive exactly once — through the
 * fallback while the primary cannot send, through the primary again once it recovers — and an email
 * whose recipient the primary refuses fails there, without going on to the fallback.
 */
describe.each(backends)("ordered fallback across providers (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  // The primary's user table: the test breaks and fixes the server by editing it, as its owner would.
  const primaryUsers: Record<string, string> = { acme: PASSWORD };
  let primary: SmtpServerFake;
  let fallback: SmtpServerFake;
  let primaryId: string;
  let fallbackId: string;
  let sent = 0;

  const providers = async () =>
    (await t.request("GET", `/api/apps/${app.id}/email-providers`, { session })).body
      .providers as ProviderView[];
  const batch = async (label: string) => {
    const ids: string[] = [];
    for (let i = 0; i < BATCH; i++)
      ids.push(await sendLogin(t, app.publishableKey, `${label}${i}@example.com`));
    sent += ids.length;
    return Promise.all(
      ids.map((id) => deliveryWhen(t, session, app.id, id, (d) => d.status === "sent")),
    ) as Promise<unknown[]> as Promise<Delivery[]>;
  };
  const recipients = (server: SmtpServerFake) => server.messages.flatMap((m) => m.envelope.rcptTo);

  beforeAll(async () => {
    primary = await startSmtpServer({
      users: primaryUsers,
      rejectRecipients: (address) =>
        address.startsWith("gone") ? { code: 550, message: "5.1.1 User unknown" } : undefined,
    });
    fallback = await startSmtpServer({ users: { backup: PASSWORD } });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_PROVIDER_PROBE_SECONDS: "1",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
    const first = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: basicBody(primary.port, { password: PASSWORD }),
    });
    expect(first.status, first.text).toBe(200);
    const second = await t.request("POST", `/api/apps/${app.id}/email-providers`, {
      session,
      body: basicBody(fallback.port, {
        senderEmail: "backup@acme.example",
        username: "backup",
        password: PASSWORD,
      }),
    });
    expect(second.status, second.text).toBe(200);
    [primaryId, fallbackId] = (await providers()).map((p) => p.id) as [string, string];
  });
  afterAll(async () => {
    await t?.close();
    await primary?.close();
    await fallback?.close();
  });

  it("lists the providers in order, and the single-provider routes address the primary", async () => {
    const list = await providers();
    expect(list.map((p) => [p.id, p.position])).toEqual([
      [primaryId, 0],
      [fallbackId, 1],
    ]);
    const single = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session });
    expect((single.body.provider as ProviderView).id).toBe(primaryId);
  });

  it("sends through the primary while it works", async () => {
    const done = await batch("calm");
    expect(done.every((d) => d.sender.includes("login@acme.example"))).toBe(true);
    expect(recipients(primary).filter((r) => r.startsWith("calm"))).toHaveLength(BATCH);
    expect(recipients(fallback)).toHaveLength(0);
  });

  it("fails a recipient the primary refuses, without going on to the fallback", async () => {
    const id = await sendLogin(t, app.publishableKey, "gone@example.com");
    const failed = (await deliveryWhen(
      t,
      session,
      app.id,
      id,
      (d) => d.status === "failed",
    )) as unknown as Delivery;
    expect(failed.attempts).toHaveLength(1);
    expect(failed.attempts[0]).toMatchObject({
      outcome: "failed",
      errorClass: "recipient",
      provider: { id: primaryId },
    });
    expect(recipients(fallback)).not.toContain("gone@example.com");
    // A recipient's refusal says nothing about the provider.
    expect((await providers())[0]!.health.status).toBe("working");
  });

  it("moves on to the fallback when the primary refuses the credentials, each email once", async () => {
    primaryUsers.acme = "the-server-lost-this-password";
    // Connections already open stay signed in, as on a real server: drop them, so the next one signs in again.
    await primary.stop();
    await primary.restart();
    const done = await batch("auth");
    for (const d of done) {
      expect(d.sender).toContain("backup@acme.example");
      const last = d.attempts.at(-1)!;
      expect(last).toMatchObject({ outcome: "sent", provider: { id: fallbackId } });
    }
    // The first email tried the primary and moved on; the primary, marked failing, is skipped after.
    const movedOn = done.flatMap((d) => d.attempts.filter((a) => a.outcome === "moved-on"));
    expect(movedOn.length).toBeGreaterThanOrEqual(1);
    expect(movedOn[0]).toMatchObject({ provider: { id: primaryId }, errorClass: "auth" });
    const [health] = await providers();
    expect(health!.health).toMatchObject({ status: "failing", cause: "auth" });
    expect(recipients(fallback).filter((r) => r.startsWith("auth"))).toHaveLength(BATCH);
    expect(recipients(primary).filter((r) => r.startsWith("auth"))).toHaveLength(0);
  });

  it("picks up the primary's recovery, then moves on again through an outage, and back after it", async () => {
    primaryUsers.acme = PASSWORD;
    // The scheduled probe finds the fixed server, without anyone pressing Test connection.
    await waitFor(
      async () => ((await providers())[0]!.health.status === "working" ? true : undefined),
      30_000,
      "the primary recovered",
    );
    const recovered = await batch("recovered");
    expect(recovered.every((d) => d.sender.includes("login@acme.example"))).toBe(true);

    await primary.stop();
    const outage = await batch("outage");
    expect(outage.every((d) => d.sender.includes("backup@acme.example"))).toBe(true);
    const movedOn = outage.flatMap((d) => d.attempts.filter((a) => a.outcome === "moved-on"));
    expect(movedOn.length).toBeGreaterThanOrEqual(1);
    expect(["network", "timeout"]).toContain(movedOn[0]!.errorClass);

    await primary.restart();
    await waitFor(
      async () => ((await providers())[0]!.health.status === "working" ? true : undefined),
      30_000,
      "the primary back after its outage",
    );
    const back = await batch("back");
    expect(back.some((d) => d.sender.includes("login@acme.example"))).toBe(true);
  });

  it("delivered every email exactly once across both servers", () => {
    const all = [...recipients(primary), ...recipients(fallback)];
    expect(all).toHaveLength(sent);
    expect(new Set(all).size).toBe(sent);
  });
});

/**
 * An HTTP email API as the primary: a 429 that pauses its account's lane, and an outage of 503s, each
 * move the emails on to the SMTP fallback at once instead of making them wait; the API's recovery is
 * picked up by the next emails.
 */
describe.each(backends)("fallback from an HTTP email API (%s)", (backend) => {
  const SG_KEY = "SG.fallback-account.key0123456789abcdefghijklmnopqrstuvwxyz";
  let sendgrid: SendgridFake;
  let fallback: SmtpServerFake;
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  const deliveredBy = (ids: string[]) =>
    Promise.all(
      ids.map(
        async (id) =>
          (await deliveryWhen(t, session, app.id, id, (d) => d.status === "sent")) as unknown as Delivery,
      ),
    );
  const sendgridWorking = () =>
    waitFor(
      async () => {
        const res = await t.request("GET", `/api/apps/${app.id}/email-providers`, { session });
        return (res.body.providers as ProviderView[])[0]!.health.status !== "failing" ? true : undefined;
      },
      30_000,
      "SendGrid not failing",
    );
  const logins = async (label: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await sendLogin(t, app.publishableKey, `${label}${i}@example.com`));
    return ids;
  };

  beforeAll(async () => {
    sendgrid = await startSendgridFake();
    sendgrid.addKey(SG_KEY, {
      scopes: [MAIL_SEND_SCOPE],
      domains: [{ domain: "acme.example", valid: true }],
    });
    fallback = await startSmtpServer({ users: { backup: PASSWORD } });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_SENDGRID_API_URL: sendgrid.url,
      POSTERN_PROVIDER_PROBE_SECONDS: "1",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
    const first = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: { type: "sendgrid", senderEmail: "login@acme.example", apiKey: SG_KEY },
    });
    expect(first.status, first.text).toBe(200);
    const second = await t.request("POST", `/api/apps/${app.id}/email-providers`, {
      session,
      body: basicBody(fallback.port, {
        senderEmail: "backup@acme.example",
        username: "backup",
        password: PASSWORD,
      }),
    });
    expect(second.status, second.text).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await sendgrid?.close();
    await fallback?.close();
  });

  it("moves on while the API's lane is paused by a 429, then returns to it", async () => {
    const resetAt = Math.ceil(Date.now() / 1000) + 3;
    sendgrid.failNext(1, sendgridErrors.tooManyRequests(resetAt, 600));
    // The email that met the 429 goes on at once; the pause it set is heard before the next ones.
    const [refused] = await deliveredBy(await logins("refused", 1));
    expect(refused!.sender).toContain("backup@acme.example");
    expect(refused!.attempts[0]).toMatchObject({ outcome: "moved-on", provider: { type: "sendgrid" } });
    // While the key's lane is paused, every email goes on without waiting for the reset.
    const paused = await deliveredBy(await logins("paused", 3));
    for (const d of paused) {
      expect(d.sender).toContain("backup@acme.example");
      expect(d.attempts[0]).toMatchObject({ outcome: "moved-on", provider: { type: "sendgrid" } });
      expect(d.attempts[0]!.message).toMatch(/sending limit/);
    }
    expect(sendgrid.messages).toHaveLength(0);

    // The lane is paused until X-RateLimit-Reset, on the database's clock (every process shares it).
    const pause = await queryRows<{ until: string }>(
      t.postern.ctx.db,
      sql`select paused_until::text as until from sender_limits where sender like 'sendgrid:%'`,
    );
    expect(pause).toHaveLength(1);
    expect(Math.abs(Date.parse(pause[0]!.until) - resetAt * 1000)).toBeLessThan(1_500);
    // The reset passes: on that clock, the pause is now in the past.
    await t.postern.ctx.db.execute(
      sql`update sender_limits set paused_until = now() - interval '1 second' where sender like 'sendgrid:%'`,
    );
    // After X-RateLimit-Reset the lane is open again: the API takes the next emails.
    const after = await deliveredBy(await logins("resumed", 3));
    // On a loaded machine a request may still time out and move on; none is lost, and most go to SendGrid.
    const viaApi = after.filter((d) => d.sender.includes("login@acme.example"));
    expect(viaApi.length).toBeGreaterThanOrEqual(1);
    for (const d of after.filter((x) => !viaApi.includes(x)))
      expect(d.attempts.some((a) => a.outcome === "moved-on")).toBe(true);
    expect(sendgrid.messages).toHaveLength(viaApi.length);
  });

  it("moves on through an outage of 503s, each email once, and back when it ends", async () => {
    // Start from a working SendGrid (a timeout on a loaded machine may have marked it failing).
    await sendgridWorking();
    sendgrid.startOutage(sendgridErrors.serviceUnavailable());
    const down = await deliveredBy(await logins("down", 4));
    expect(down.every((d) => d.sender.includes("backup@acme.example"))).toBe(true);
    const movedOn = down.flatMap((d) => d.attempts.filter((a) => a.outcome === "moved-on"));
    // The first emails met the 503s and moved on; once SendGrid is marked failing the rest skip it, and say so.
    expect(movedOn.length).toBeGreaterThanOrEqual(1);
    expect(movedOn[0]).toMatchObject({ errorClass: "network", provider: { type: "sendgrid" } });
    const skipped = down.filter((d) => d.attempts.length === 1);
    for (const d of skipped) expect(d.attempts[0]!.message).toMatch(/Skipped while failing: SendGrid/);
    sendgrid.endOutage();
    await sendgridWorking();
    const back = await deliveredBy(await logins("back", 3));
    expect(back.some((d) => d.sender.includes("login@acme.example"))).toBe(true);
    const all = [
      ...sendgrid.messages.flatMap((m) => m.to),
      ...fallback.messages.flatMap((m) => m.envelope.rcptTo),
    ];
    expect(all).toHaveLength(1 + 3 + 3 + 4 + 3);
    expect(sendgrid.messages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all).size).toBe(all.length);
  });
});
