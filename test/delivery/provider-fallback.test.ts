import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody, deliveryWhen, sendLogin } from "../email-provider/support.ts";
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
    expect(back.every((d) => d.sender.includes("login@acme.example"))).toBe(true);
  });

  it("delivered every email exactly once across both servers", () => {
    const all = [...recipients(primary), ...recipients(fallback)];
    expect(all).toHaveLength(sent);
    expect(new Set(all).size).toBe(sent);
  });
});
