import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { type PostfixDovecot, startPostfixDovecot } from "../support/postfix-dovecot.ts";
import {
  ALLOWLIST,
  basicBody,
  type DeliveryView,
  deliveryWhen,
  type ProviderState,
  sendLogin,
} from "./support.ts";

type Step = { name: string; outcome: string; hint?: string; smtpReply?: string };

/**
 * The Basic Auth SMTP provider against real servers instead of our smtp-server fake: Postfix as the
 * developer's submission server, checking passwords with Dovecot (SASL), relaying what it accepts to
 * the fake, where the test reads it.
 *
 * One backend (PGlite): what this file proves is Postern's SMTP dialogue with Postfix and Dovecot, which
 * does not depend on storage; basic-auth-delivery.test.ts runs the same code paths on both backends.
 */
describe("login emails through a real Postfix submission server with Dovecot SASL", () => {
  let servers: PostfixDovecot;
  let t: TestPostern;
  let session: Session;
  const save = async (appId: string, body: Record<string, unknown>) => {
    const res = await t.request("PUT", `/api/apps/${appId}/email-provider`, { session, body });
    expect(res.status, res.text).toBe(200);
    return res.body as unknown as ProviderState;
  };
  const connectionTest = async (appId: string, body: Record<string, unknown>) => {
    const res = await t.request("POST", `/api/apps/${appId}/email-provider/test`, { session, body });
    expect(res.status, res.text).toBe(200);
    return res.body as { ok: boolean; steps: Step[] };
  };
  const submission = (overrides: Record<string, unknown> = {}) =>
    basicBody(servers.submissionPort, {
      username: servers.username,
      password: servers.password,
      ...overrides,
    });
  /** Postfix's queue id, from its reply to the message ("250 2.0.0 Ok: queued as 3F2A120C157"). */
  const queueId = (d: DeliveryView) => {
    const reply = d.attempts.at(-1)?.smtpReply ?? "";
    const id = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/.exec(reply)?.[1];
    expect(id, `Postfix's reply: ${reply}`).toBeDefined();
    return id!;
  };
  /** The message Postfix handed on to the relay for `to`. */
  const relayed = (to: string) =>
    waitFor(
      () => servers.relay.messages.find((m) => m.to.includes(to)),
      30_000,
      `a message to ${to} beyond Postfix`,
    );
  /** Postfix logs a delivery just after the relay's reply, so a line may come a moment after the message. */
  const logged = (line: RegExp) => waitFor(() => line.test(servers.maillog()), 10_000, `maillog ${line}`);

  beforeAll(async () => {
    // Side by side: Postern's start (its migrations) takes longest; each is kept for afterAll even if the other fails.
    const [started, posternStarted] = await Promise.allSettled([
      startPostfixDovecot().then((s) => (servers = s)),
      startTestPostern("pglite", {
        ...ALLOWLIST,
        POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
        POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
        POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "100",
      }).then((p) => (t = p)),
    ]);
    for (const r of [started, posternStarted]) if (r.status === "rejected") throw r.reason;
    session = await t.signIn("owner@example.com");
    await t.unlock(session.workspaceId);
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      console.error(`--- Postfix maillog\n${servers?.maillog()}\n--- Dovecot log\n${servers?.dovecotLog()}`);
    });
  });
  afterAll(async () => {
    await t?.close();
    await servers?.close();
  });

  it("delivers a login email over STARTTLS with AUTH PLAIN, and Postfix relays it on", async () => {
    const app = await t.createApp(session, { name: "Acme" });
    await save(app.id, submission());
    const id = await sendLogin(t, app.publishableKey, "user1@example.com");
    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    expect(d).toMatchObject({ route: "custom", sender: "Acme Login <login@acme.example>" });
    const queued = queueId(d);

    const mail = await relayed("user1@example.com");
    expect(mail.from).toEqual({ name: "Acme Login", address: "login@acme.example" });
    expect(mail.to).toEqual(["user1@example.com"]);
    expect(mail.envelope).toEqual({ mailFrom: "login@acme.example", rcptTo: ["user1@example.com"] });
    expect(mail.subject).toBeTruthy();
    // ESMTPSA: Postfix received it over TLS from an authenticated client (RFC 3848).
    expect(String(mail.headers.get("received"))).toMatch(
      new RegExp(`by postfix\\.test\\.local \\(Postfix\\) with ESMTPSA id ${queued}\\b`),
    );
    expect(servers.maillog()).toContain(
      `${queued}: client=unknown[127.0.0.1], sasl_method=PLAIN, sasl_username=acme`,
    );
    await logged(new RegExp(`${queued}: to=<user1@example\\.com>, relay=127\\.0\\.0\\.1\\[.*status=sent`));

    // The code that went through Postfix is the one that logs the user in.
    const code = /login code is (\d{6})/.exec(mail.text ?? "")?.[1];
    expect(code, mail.text).toBeDefined();
    const [row] = await t.postern.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    const verified = await t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${app.secretKey}` },
      body: { loginId: row!.challengeId, code },
    });
    expect(verified.status, verified.text).toBe(200);
  });

  it("passes Test connection step by step, and its test email goes through Postfix", async () => {
    const app = await t.createApp(session, { name: "Tested" });
    await save(app.id, submission());
    const test = await connectionTest(app.id, { sendTo: "owner@example.com" });
    expect(test.steps.map((s) => [s.name, s.outcome])).toEqual([
      ["resolve", "ok"],
      ["connect", "ok"],
      ["tls", "ok"],
      ["ehlo", "ok"],
      ["authenticate", "ok"],
      ["send", "ok"],
    ]);
    expect(test.ok).toBe(true);
    const mail = await relayed("owner@example.com");
    expect(mail.subject).toMatch(/test email/i);
  });

  it("reports Postfix's 535 for a wrong password with the fix, holds the email, and sends it once fixed", async () => {
    const app = await t.createApp(session, { name: "Wrong password" });
    await save(app.id, submission({ password: "wrong-password" }));
    const id = await sendLogin(t, app.publishableKey, "auth1@example.com");
    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "retrying");
    expect(d.attempts[0]).toMatchObject({
      errorClass: "auth",
      // Dovecot gives Postfix no reason, so Postfix says so.
      smtpReply: "535 5.7.8 Error: authentication failed: (reason unavailable)",
      hint: expect.stringMatching(/rejected the username or password \(535\)/),
    });
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(state.provider!.health).toMatchObject({
      status: "failing",
      reason: expect.stringContaining("rejected the credentials"),
    });
    expect(servers.maillog()).toMatch(
      /SASL PLAIN authentication failed: \(reason unavailable\), sasl_username=acme/,
    );
    expect(servers.dovecotLog()).toMatch(/passwd-file\(acme,127\.0\.0\.1\): Password mismatch/);

    const test = await connectionTest(app.id, {});
    expect(test.ok).toBe(false);
    expect(test.steps.find((s) => s.outcome === "failed")).toMatchObject({
      name: "authenticate",
      smtpReply: expect.stringMatching(/^535 5\.7\.8 /),
      hint: expect.stringMatching(/username or password \(535\)/),
    });

    await save(app.id, submission());
    const sent = await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    await relayed("auth1@example.com");
    await logged(new RegExp(`${queueId(sent)}: to=<auth1@example\\.com>, .*status=sent`));
  });

  it("holds the email when Postfix refuses the sender for this login (reject_sender_login_mismatch), not failing it as the recipient's", async () => {
    const app = await t.createApp(session, { name: "Wrong sender" });
    await save(app.id, submission({ senderEmail: "someone-else@acme.example" }));
    const id = await sendLogin(t, app.publishableKey, "sender1@example.com");
    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "retrying");
    // smtpd_delay_reject (on by default) makes Postfix answer the sender at RCPT TO.
    expect(d.attempts[0]).toMatchObject({
      errorClass: "auth",
      smtpReply: expect.stringMatching(
        /^553 5\.7\.1 <someone-else@acme\.example>: Sender address rejected: not owned by user acme/,
      ),
      hint: expect.stringMatching(/does not let this username send from the sender email/),
    });
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(state.provider!.health.status).toBe("failing");

    await save(app.id, submission());
    await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    await relayed("sender1@example.com");
  });

  it("delivers over implicit TLS (smtpd_tls_wrappermode) with AUTH LOGIN", async () => {
    const app = await t.createApp(session, { name: "Implicit TLS" });
    await save(app.id, submission({ port: servers.submissionsPort, security: "tls" }));
    const id = await sendLogin(t, app.publishableKey, "user2@example.com");
    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    const queued = queueId(d);
    await relayed("user2@example.com");
    expect(servers.maillog()).toContain(
      `${queued}: client=unknown[127.0.0.1], sasl_method=LOGIN, sasl_username=acme`,
    );
  });
});
