import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ALLOWLIST, basicBody, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

describe.each(backends)("login emails through a Basic Auth SMTP provider (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  const servers: SmtpServerFake[] = [];
  const server = async (options: Parameters<typeof startSmtpServer>[0]) => {
    const s = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" }, ...options });
    servers.push(s);
    return s;
  };
  const save = async (body: Record<string, unknown>) => {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, { session, body });
    expect(res.status, res.text).toBe(200);
    return res.body as unknown as ProviderState;
  };

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    for (const s of servers) await s.close();
  });

  it("sends over STARTTLS with AUTH PLAIN, From the sender name and email", async () => {
    const smtp = await server({ security: "starttls", authMethods: ["PLAIN"] });
    await save(basicBody(smtp.port));
    const id = await sendLogin(t, app.publishableKey, "user1@example.com");
    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    expect(d).toMatchObject({ route: "custom", sender: "Acme Login <login@acme.example>" });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.from).toEqual({ name: "Acme Login", address: "login@acme.example" });
    expect(mail!.envelope.mailFrom).toBe("login@acme.example");
    expect(mail!.authUser).toBe("acme");
    expect(smtp.authAttempts.at(-1)).toMatchObject({ method: "PLAIN", success: true });
    const metrics = (await t.request("GET", "/metrics")).text;
    expect(metrics).toMatch(/postern_smtp_connections_open\{kind="smtp_basic"\} [1-9]/);
    expect(metrics).toMatch(/postern_smtp_pools_open [1-9]/);
  });

  it("sends over implicit TLS with AUTH LOGIN, and encodes a non-ASCII sender name (RFC 2047)", async () => {
    const smtp = await server({ security: "tls", authMethods: ["LOGIN"] });
    await save(basicBody(smtp.port, { security: "tls", senderName: "Zoë’s Café 東京" }));
    const id = await sendLogin(t, app.publishableKey, "user2@example.com");
    await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.from).toEqual({ name: "Zoë’s Café 東京", address: "login@acme.example" });
    const fromLine = mail!.headerLines.find((h) => h.key === "from")!.line;
    expect(fromLine).toMatch(/=\?UTF-8\?[BQ]\?/i);
    expect(fromLine).not.toMatch(/[^\x20-\x7e\r\n\t]/);
    expect(smtp.authAttempts.at(-1)).toMatchObject({ method: "LOGIN", success: true });
  });

  it("uses the sender email as the display name when there is no sender name", async () => {
    const smtp = await server({ security: "starttls" });
    const state = await save(basicBody(smtp.port, { senderName: null }));
    expect(state.provider).toMatchObject({ senderName: null, effectiveSenderName: "login@acme.example" });
    await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "user3@example.com"),
      (x) => x.status === "sent",
    );
    const [mail] = await smtp.waitForMessages(1);
    // mailparser drops a display name equal to the address, so read the header as sent.
    expect(mail!.headerLines.find((h) => h.key === "from")!.line).toBe(
      'From: "login@acme.example" <login@acme.example>',
    );
  });

  it("retries 421 and 451 replies, and fails 550 and 554 at once with the reply in the log", async () => {
    const smtp = await server({ security: "starttls" });
    await save(basicBody(smtp.port));
    smtp.replies.push({ code: 421, message: "4.7.0 Try later" }, { code: 451, message: "4.3.0 Busy" });
    const retried = await sendLogin(t, app.publishableKey, "retry@example.com");
    const r = await deliveryWhen(t, session, app.id, retried, (x) => x.status === "sent");
    expect(r.attempts.map((a) => a.outcome)).toEqual(["retry", "retry", "sent"]);
    for (const code of [550, 554]) {
      smtp.replies.push({ code, message: "5.7.1 Rejected by policy" });
      const id = await sendLogin(t, app.publishableKey, `fail${code}@example.com`);
      const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "failed");
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]!.smtpReply).toMatch(new RegExp(`^${code} 5\\.7\\.1 Rejected by policy`));
    }
  });

  /** A test whose emails stay waiting gets its own app, so a later save does not release them elsewhere. */
  const freshApp = async (name: string) => {
    app = await t.createApp(session, { name });
  };

  it("refuses a server without STARTTLS instead of downgrading, and never sends the password", async () => {
    await freshApp("No STARTTLS");
    const smtp = await server({ security: "none" });
    await save(basicBody(smtp.port));
    const d = await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "plain@example.com"),
      (x) => x.status === "retrying",
    );
    expect(d.attempts[0]).toMatchObject({ errorClass: "tls", outcome: "retry" });
    expect(smtp.authAttempts).toHaveLength(0);
    expect(smtp.messages).toHaveLength(0);
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(state.provider!.health.status).toBe("failing");
  });

  it("refuses an untrusted certificate and a certificate for another name", async () => {
    for (const cert of ["untrusted", "wrong-name"] as const) {
      await freshApp(`Cert ${cert}`);
      const smtp = await server({ security: "tls", cert });
      await save(basicBody(smtp.port, { security: "tls" }));
      const d = await deliveryWhen(
        t,
        session,
        app.id,
        await sendLogin(t, app.publishableKey, `cert-${cert}@example.com`),
        (x) => x.status === "retrying",
      );
      expect(d.attempts[0]!.errorClass, cert).toBe("tls");
      expect(smtp.authAttempts).toHaveLength(0);
    }
  });

  it("marks the provider failing on a wrong password; later emails wait without touching the server, and go out once a saved fix works", async () => {
    await freshApp("Wrong password");
    const smtp = await server({ security: "starttls" });
    await save(basicBody(smtp.port, { password: "wrong-password" }));
    const firstId = await sendLogin(t, app.publishableKey, "auth1@example.com");
    const first = await deliveryWhen(t, session, app.id, firstId, (x) => x.status === "retrying");
    expect(first.attempts[0]).toMatchObject({ errorClass: "auth", smtpReply: expect.stringMatching(/^535/) });
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(state.provider!.health).toMatchObject({
      status: "failing",
      reason: expect.stringContaining("rejected the credentials"),
    });
    const attemptsBefore = smtp.authAttempts.length;
    const secondId = await sendLogin(t, app.publishableKey, "auth2@example.com");
    const second = await deliveryWhen(
      t,
      session,
      app.id,
      secondId,
      (x) => x.status === "retrying" && /Waiting for the custom provider/.test(x.lastError ?? ""),
    );
    expect(second.attempts).toHaveLength(0);
    expect(smtp.authAttempts.length).toBe(attemptsBefore);

    await save(basicBody(smtp.port));
    for (const id of [firstId, secondId])
      await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    expect(smtp.messages.flatMap((m) => m.to).toSorted()).toEqual(["auth1@example.com", "auth2@example.com"]);
    const test = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, { session, body: {} });
    expect(test.body.ok).toBe(true);
    const healed = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(healed.provider!.health.status).toBe("working");
  });

  it("falls back to the default sender when the provider fails and fallbackToDefault is on, and says so", async () => {
    const smtp = await server({ security: "starttls" });
    await save(basicBody(smtp.port, { password: "wrong-password", fallbackToDefault: true }));
    const d = await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "fallback@example.com"),
      (x) => x.status === "sent",
    );
    expect(d.route).toBe("default");
    expect(d.attempts.map((a) => [a.route, a.outcome])).toEqual([
      ["custom", "moved-on"],
      ["default", "sent"],
    ]);
    expect(d.attempts[1]!.message).toMatch(/default sender/);
    expect(t.postern.devMailbox!.list().some((m) => m.to.includes("fallback@example.com"))).toBe(true);
  });

  it("switches new emails to a changed provider while emails are flowing, delivering each exactly once", async () => {
    const a = await server({ security: "starttls" });
    const b = await server({ security: "tls" });
    await save(basicBody(a.port));
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(await sendLogin(t, app.publishableKey, `flow${i}@example.com`));
    await save(basicBody(b.port, { security: "tls" }));
    for (let i = 15; i < 30; i++) ids.push(await sendLogin(t, app.publishableKey, `flow${i}@example.com`));
    for (const id of ids) await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    const received = [...a.messages, ...b.messages]
      .flatMap((m) => m.to)
      .filter((to) => to.startsWith("flow"));
    expect(received).toHaveLength(30);
    expect(new Set(received).size).toBe(30);
    const lastFifteen = Array.from({ length: 15 }, (_, i) => `flow${i + 15}@example.com`);
    expect(b.messages.flatMap((m) => m.to)).toEqual(expect.arrayContaining(lastFifteen));
  });

  it("stops using a stored provider when the feature is switched off, and uses it again when back on", async () => {
    const smtp = await server({ security: "starttls" });
    await save(basicBody(smtp.port));
    await t.unlock(session.workspaceId, false);
    const off = await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "locked@example.com"),
      (x) => x.status === "sent",
    );
    expect(off.route).toBe("default");
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session }))
      .body as unknown as ProviderState;
    expect(state.locked).toBe(true);
    expect(state.provider).not.toBeNull();
    await t.unlock(session.workspaceId, true);
    const on = await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "unlocked@example.com"),
      (x) => x.status === "sent",
    );
    expect(on.route).toBe("custom");
  });

  it("goes back to the default sender after DELETE", async () => {
    expect((await t.request("DELETE", `/api/apps/${app.id}/email-provider`, { session })).status).toBe(204);
    const d = await deliveryWhen(
      t,
      session,
      app.id,
      await sendLogin(t, app.publishableKey, "deleted@example.com"),
      (x) => x.status === "sent",
    );
    expect(d.route).toBe("default");
  });
});
