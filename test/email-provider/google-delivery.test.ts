// Login emails through Google Workspace, end to end over real sockets: Postern's worker, the Google token
// fake (JWT-bearer grant with domain-wide delegation) and the Gmail SMTP fake (XOAUTH2, limits, replies).
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { GMAIL_SCOPE } from "../fakes/gmail-smtp.ts";
import { DOMAIN, type GoogleFakes, MAILBOX, startGoogleFakes } from "../support/google.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { type DeliveryView, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

const BURST = 200;
const LANE = `google:${MAILBOX}`;

describe.each(backends)("Google Workspace delivery through the fakes (%s)", (backend) => {
  let g: GoogleFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let version = 0;

  beforeAll(async () => {
    g = await startGoogleFakes();
    t = await startTestPostern(backend, {
      ...g.env,
      POSTERN_GOOGLE_MESSAGES_PER_MINUTE: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
    });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await g?.close();
  });
  afterEach(async () => {
    g.google.setFailure(null);
    g.google.clockOffsetSeconds = 0;
    g.google.delegate(DOMAIN, g.account.clientId, [GMAIL_SCOPE]);
    g.google.addUser(MAILBOX);
    g.google.serviceAccounts.set(g.account.clientEmail, g.account);
    g.gmail.setSentToday(MAILBOX, 0);
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  /** Saves the provider as a new version (so a new pool and token source), with a fresh health. */
  async function saveProvider(overrides: Record<string, unknown> = {}) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: g.providerBody({ senderName: `Acme Login ${++version}`, ...overrides }),
    });
    expect(res.status, res.text).toBe(200);
  }
  /** Emails left waiting by earlier tests go out once a working version is saved: let them, first. */
  const settle = () =>
    waitFor(
      async () => {
        const [row] = await queryRows<{ pending: number }>(
          t.postern.ctx.db,
          sql`select count(*)::int as pending from deliveries
            where app_id = ${app.id} and status in ('queued', 'retrying', 'sending')`,
        );
        return row!.pending === 0;
      },
      45_000,
      "earlier deliveries to settle",
    );
  /** A new version (so a new pool, whose first send logs in) once earlier emails went out. */
  const saveSettled = async () => {
    await saveProvider();
    await settle();
    await saveProvider();
  };
  const login = (email: string) => sendLogin(t, app.publishableKey, email);
  const delivered = (id: string) => deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
  const retrying = (id: string) =>
    deliveryWhen(
      t,
      owner,
      app.id,
      id,
      (d) => (d.status === "retrying" || d.status === "queued") && d.attempts.length > 0,
    );
  const health = async () =>
    (
      (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
        .body as unknown as ProviderState
    ).provider?.health;
  type Attempt = DeliveryView["attempts"][number] & { hint?: string | null };
  const firstAttempt = (d: DeliveryView) => d.attempts[0] as Attempt;

  it(`delivers ${BURST} login emails through Gmail with XOAUTH2, each once, From the sender`, {
    timeout: 180_000,
  }, async () => {
    await saveProvider();
    const tokensBefore = g.google.tokenRequests;
    const before = g.gmail.messages.length;
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const res = await t.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${app.publishableKey}` },
            body: { email: `burst-${batch * 25 + i}@example.com` },
          });
          expect(res.status).toBe(202);
        }),
      );
    }
    await g.gmail.waitForMessages(before + BURST, 150_000);
    const rows = await waitFor(
      async () => {
        const r = await queryRows<{ status: string; attempts: { outcome: string; message?: string }[] }>(
          t.postern.ctx.db,
          sql`select status, attempts from deliveries where app_id = ${app.id} and recipient like 'burst-%'`,
        );
        return r.length === BURST && r.every((d) => d.status === "sent") ? r : undefined;
      },
      30_000,
      "every burst delivery marked sent",
    );
    // A retry is allowed (e.g. a connection slot not free in time on a loaded machine), a second copy is not.
    const retries = rows.flatMap((d) => d.attempts.filter((a) => a.outcome !== "sent"));
    console.info(
      `google burst: ${BURST} emails, ${retries.length} retried attempts${retries.length ? `: ${[...new Set(retries.map((a) => a.message))].join(" | ")}` : ""}`,
    );
    expect(rows.every((d) => d.attempts.filter((a) => a.outcome === "sent").length === 1)).toBe(true);
    const received = g.gmail.messages.slice(before);
    expect(received).toHaveLength(BURST);
    expect(new Set(received.map((m) => m.to[0])).size).toBe(BURST);
    expect(received.every((m) => m.authUser === MAILBOX && m.from?.address === MAILBOX)).toBe(true);
    expect(received[0]!.text).toMatch(/login code is \d{6}/);
    // One grant for the whole burst: cached and single-flight across the pool's connections.
    expect(g.google.tokenRequests - tokensBefore).toBe(1);
    expect(g.gmail.maxConcurrentByUser.get(MAILBOX)).toBeLessThanOrEqual(2);
    expect(g.google.grants.at(-1)!.claims).toMatchObject({ sub: MAILBOX, scope: GMAIL_SCOPE });
    expect((await health())?.status).toBe("working");
  });

  it("without domain-wide delegation (unauthorized_client) the email waits and the log names the client ID and scope", async () => {
    await saveSettled();
    g.google.revokeDelegation(DOMAIN, g.account.clientId);
    await saveProvider();
    const d = await retrying(await login("no-delegation@example.com"));
    expect(firstAttempt(d)).toMatchObject({ outcome: "retry", errorClass: "token" });
    expect(d.lastError).toContain("(unauthorized_client)");
    expect(d.lastError).toContain(`client ID ${g.account.clientId}`);
    expect(d.lastError).toContain("Manage Domain Wide Delegation");
    expect(d.lastError).toContain(GMAIL_SCOPE);
    expect(await health()).toMatchObject({
      status: "failing",
      reason: expect.stringContaining("unauthorized_client"),
    });
  });

  it("with the client ID delegated other scopes (unauthorized_client) the fix is to add the Gmail scope", async () => {
    await saveSettled();
    g.google.delegate(DOMAIN, g.account.clientId, ["https://www.googleapis.com/auth/gmail.send"]);
    await saveProvider();
    const d = await retrying(await login("wrong-scope@example.com"));
    expect(d.lastError).toMatch(/is not delegated that scope.*edit it to add the scope/);
  });

  it.each([
    [
      "an unknown sender mailbox",
      () => ({ senderEmail: `nobody@${DOMAIN}` }),
      /no active user nobody@.*primary address of an active, licensed user/,
    ],
    [
      "a suspended sender mailbox",
      () => {
        g.google.addUser(MAILBOX, { suspended: true });
        return {};
      },
      /no active user .*suspended user/,
    ],
    [
      "a clock off by two hours",
      () => {
        g.google.clockOffsetSeconds = -7200;
        return {};
      },
      /outside its valid time.*\(NTP\)/,
    ],
    [
      "a deleted service account",
      () => {
        g.google.deleteServiceAccount(g.account.clientEmail);
        return {};
      },
      /Google does not know the service account .* it was deleted.*create a service account/,
    ],
  ])("tells invalid_grant for %s by Google's description", async (_what, arrange, fix) => {
    // An email an earlier case left waiting could try the new version first and mark it failing: this
    // case's email would then wait without an attempt of its own.
    await saveSettled();
    const overrides = arrange();
    await saveProvider(overrides);
    const d = await retrying(await login(`invalid-grant-${version}@example.com`));
    expect(firstAttempt(d)).toMatchObject({ outcome: "retry", errorClass: "token" });
    expect(d.lastError).toContain("invalid_grant");
    expect(d.lastError).toMatch(fix);
  });

  it("tells a deleted key (invalid_grant: Invalid JWT Signature) by its key ID, and works again with a new key", async () => {
    await saveSettled();
    const spare = g.google.createKey(g.account.clientEmail);
    const spareText = JSON.stringify(spare);
    await saveProvider({ serviceAccountKey: spareText });
    g.google.deleteKey(g.account.clientEmail, spare.private_key_id);
    const id = await login("deleted-key@example.com");
    const d = await retrying(id);
    expect(d.lastError).toContain("Invalid JWT Signature");
    expect(d.lastError).toContain(`key ${spare.private_key_id}`);
    expect(d.lastError).toContain("Keys");
    // The original key is still active: saving it releases the waiting email.
    await saveProvider();
    expect((await delivered(id)).attempts.at(-1)!.outcome).toBe("sent");
  });

  it("on 535-5.7.8 after an issued token the email waits, only the provider is marked failing, and the fix names the mailbox", async () => {
    await saveSettled();
    g.google.addUser(MAILBOX, { gmail: false });
    await saveProvider();
    const d = await retrying(await login("gmail-off@example.com"));
    const attempt = firstAttempt(d);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "auth" });
    expect(attempt.smtpReply).toMatch(/^535-5\.7\.8 Username and Password not accepted/);
    expect(d.lastError).toContain(`XOAUTH2 login as ${MAILBOX}`);
    expect(d.lastError).toContain("Gmail turned on");
    expect(attempt.hint).toContain("primary address");
    expect((await health())?.status).toBe("failing");
    const paused = await queryRows(
      t.postern.ctx.db,
      sql`select sender from sender_limits where paused_until > now()`,
    );
    expect(paused).toEqual([]);
    // Gmail saw the 334 error continuation answered, then sent 535.
    const continuation = g.gmail.transcript.findIndex((line) => /^334 eyJ/.test(line));
    expect(continuation).toBeGreaterThanOrEqual(0);
    expect(g.gmail.transcript[continuation + 1]).toMatch(/^535-5\.7\.8/);
  });

  it("on 454 4.7.0 (too many logins) uses one connection fewer for the mailbox and retries", async () => {
    await saveSettled();
    g.gmail.injectOnce(
      "auth",
      "454-4.7.0 Too many login attempts, please try again later. For more information, go to\r\n454 4.7.0  https://support.google.com/mail/answer/7126229 a1b2c3 - gsmtp",
    );
    const d = await delivered(await login("too-many-logins@example.com"));
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
    expect(d.attempts[0]).toMatchObject({ errorClass: "transient" });
    expect(d.attempts[0]!.message).toMatch(/454 4\.7\.0 Too many login attempts.*fewer connections/);
    const [limits] = await queryRows<{ connection_cap: number }>(
      t.postern.ctx.db,
      sql`select connection_cap from sender_limits where sender = ${LANE}`,
    );
    expect(limits?.connection_cap).toBe(1);
  });

  it("on 550 5.4.5 (daily limit) pauses the mailbox's lane for an hour: the email waits in the queue, then goes out", async () => {
    await saveSettled();
    g.gmail.setSentToday(MAILBOX, g.gmail.limits.messagesPerDay);
    const id = await login("daily-limit@example.com");
    const waiting = await deliveryWhen(
      t,
      owner,
      app.id,
      id,
      (d) => d.status === "queued" && d.attempts.length === 1,
    );
    const attempt = firstAttempt(waiting);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(attempt.smtpReply).toMatch(/^550-5\.4\.5 Daily user sending limit exceeded/);
    expect(attempt.message).toMatch(/daily sending limit.*2,000 messages a day.*every hour/);
    const [lane] = await queryRows<{ paused_for: number; pause_reason: string }>(
      t.postern.ctx.db,
      sql`select extract(epoch from paused_until - now())::float8 as paused_for, pause_reason from sender_limits where sender = ${LANE}`,
    );
    expect(lane!.paused_for).toBeGreaterThan(3500);
    expect(lane!.pause_reason).toMatch(/550 5\.4\.5/);
    // The provider is not failing: the mailbox is over its limit, nothing is misconfigured.
    expect((await health())?.status).not.toBe("failing");
    // The day moves on.
    g.gmail.setSentToday(MAILBOX, 0);
    await t.postern.ctx.db.execute(sql`update sender_limits set paused_until = now()`);
    await t.postern.ctx.db.execute(
      sql`update pgboss.job set start_after = now() where data->>'deliveryId' = ${id}`,
    );
    expect((await delivered(id)).attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
  });

  it("on 421 4.7.0 (try again later) pauses the mailbox's lane for 5 minutes", async () => {
    await saveSettled();
    g.gmail.injectOnce("greeting", "421 4.7.0 Try again later, closing connection. (EHLO) a1b2c3 - gsmtp");
    const id = await login("try-later@example.com");
    const waiting = await deliveryWhen(
      t,
      owner,
      app.id,
      id,
      (d) => d.attempts.length === 1 && d.status !== "sending",
    );
    expect(firstAttempt(waiting).message).toMatch(/421 4\.7\.0 Try again later.*5 minutes/);
    const [lane] = await queryRows<{ paused_for: number }>(
      t.postern.ctx.db,
      sql`select extract(epoch from paused_until - now())::float8 as paused_for from sender_limits where sender = ${LANE}`,
    );
    expect(lane!.paused_for).toBeGreaterThan(250);
    expect(lane!.paused_for).toBeLessThanOrEqual(300);
  });

  it("rides out a token endpoint outage: the email is retried and delivered once Google is back", async () => {
    await saveProvider();
    g.google.setFailure({ status: 503 });
    const id = await login("outage@example.com");
    const d = await retrying(id);
    expect(firstAttempt(d)).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(firstAttempt(d).message).toMatch(/token endpoint/);
    g.google.setFailure(null);
    expect((await delivered(id)).attempts.at(-1)!.outcome).toBe("sent");
  });

  it("tests the connection step by step: the token, then Gmail's SMTP dialogue, then a test email", async () => {
    await saveProvider();
    const res = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: { sendTo: "owner@example.com" },
    });
    const steps = res.body.steps as { name: string; outcome: string; detail?: string; smtpReply?: string }[];
    expect(res.body.ok, res.text).toBe(true);
    expect(steps.map((s) => [s.name, s.outcome])).toEqual([
      ["token", "ok"],
      ["resolve", "ok"],
      ["connect", "ok"],
      ["tls", "ok"],
      ["ehlo", "ok"],
      ["authenticate", "ok"],
      ["send", "ok"],
    ]);
    expect(steps[0]!.detail).toMatch(/^Token issued, valid until/);
    expect(steps.at(-1)!.smtpReply).toMatch(/^250 2\.0\.0 OK/);
    expect(g.gmail.messages.at(-1)!.to).toEqual(["owner@example.com"]);

    g.google.revokeDelegation(DOMAIN, g.account.clientId);
    const failed = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: { config: g.providerBody({ senderName: "Form values" }) },
    });
    const [token] = failed.body.steps as {
      name: string;
      outcome: string;
      hint?: string;
      errorClass?: string;
    }[];
    expect(failed.body.ok).toBe(false);
    expect(token).toMatchObject({ name: "token", outcome: "failed", errorClass: "token" });
    expect(token!.hint).toContain(`client ID ${g.account.clientId}`);

    g.google.delegate(DOMAIN, g.account.clientId, [GMAIL_SCOPE]);
    g.google.addUser(MAILBOX, { gmail: false });
    const refused = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: {},
    });
    const auth = (
      refused.body.steps as { name: string; outcome: string; hint?: string; smtpReply?: string }[]
    ).find((s) => s.name === "authenticate");
    expect(auth).toMatchObject({ outcome: "failed" });
    expect(auth!.smtpReply).toMatch(/^535-5\.7\.8/);
    expect(auth!.hint).toContain("Gmail turned on");
  });
});
