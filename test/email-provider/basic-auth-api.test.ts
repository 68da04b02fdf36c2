import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ALLOWLIST, basicBody, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

const PASSWORD = "Kn0wn-Pa55word-For-Leak-Search";

describe.each(backends)("Custom Email Provider API, Basic Auth (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let member: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  const responses: string[] = [];
  const call = async (method: string, url: string, opts: Parameters<TestPostern["request"]>[2] = {}) => {
    const res = await t.request(method, url, { session: owner, ...opts });
    responses.push(res.text);
    return res;
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { acme: PASSWORD } });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_LOG_LEVEL: "trace",
      POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "100",
    });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "member@example.com", role: "member" },
    });
    member = { ...(await t.signIn("member@example.com")), workspaceId: owner.workspaceId };
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("is locked until the operator unlocks the workspace: 403 feature_locked on save and test, default sender meanwhile", async () => {
    const state = await call("GET", `/api/apps/${app.id}/email-provider`);
    expect(state.body).toMatchObject({ locked: true, provider: null, defaultSender: expect.any(String) });
    const put = await call("PUT", `/api/apps/${app.id}/email-provider`, {
      body: basicBody(smtp.port, { password: PASSWORD }),
    });
    expect(put.status).toBe(403);
    expect(put.body.code).toBe("feature_locked");
    const test = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { config: basicBody(smtp.port, { password: PASSWORD }) },
    });
    expect(test.status).toBe(403);
    expect(test.body.code).toBe("feature_locked");
    const d = await deliveryWhen(
      t,
      owner,
      app.id,
      await sendLogin(t, app.publishableKey, "still-default@example.com"),
      (x) => x.status === "sent",
    );
    expect(d.route).toBe("default");
    await t.unlock(owner.workspaceId);
  });

  it("saves a provider and never returns the password", async () => {
    const res = await call("PUT", `/api/apps/${app.id}/email-provider`, {
      body: basicBody(smtp.port, { password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect((res.body as unknown as ProviderState).provider).toMatchObject({
      type: "smtp_basic",
      senderEmail: "login@acme.example",
      senderName: "Acme Login",
      effectiveSenderName: "Acme Login",
      host: "localhost",
      port: smtp.port,
      security: "starttls",
      username: "acme",
      passwordSet: true,
      fallbackToDefault: false,
      health: { status: "unknown" },
      updatedBy: { email: "owner@example.com" },
    });
    expect(res.text).not.toContain(PASSWORD);
  });

  it("lets members read and refuses their writes", async () => {
    expect((await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: member })).status).toBe(
      200,
    );
    for (const [method, url, body] of [
      ["PUT", `/api/apps/${app.id}/email-provider`, basicBody(smtp.port)],
      ["DELETE", `/api/apps/${app.id}/email-provider`, undefined],
      ["POST", `/api/apps/${app.id}/email-provider/test`, {}],
    ] as const) {
      const res = await t.request(method, url, { session: member, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.code).toBe("role_required");
    }
  });

  it("keeps the stored password when only other fields change", async () => {
    const { password: _omit, ...withoutPassword } = basicBody(smtp.port, {
      senderName: "Acme Team",
      fallbackToDefault: true,
    });
    const res = await call("PUT", `/api/apps/${app.id}/email-provider`, { body: withoutPassword });
    expect(res.status).toBe(200);
    const test = await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: {} });
    expect(test.body.ok).toBe(true);
  });

  it("refuses to reuse the stored password for a changed destination (secret_required)", async () => {
    const { password: _omit, ...base } = basicBody(smtp.port);
    for (const change of [
      { host: "127.0.0.1" },
      { port: 2525 },
      { security: "tls" },
      { username: "someone-else" },
    ]) {
      const before = await call("GET", `/api/apps/${app.id}/email-provider`);
      const res = await call("PUT", `/api/apps/${app.id}/email-provider`, { body: { ...base, ...change } });
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.body).toMatchObject({ code: "secret_required", field: "password" });
      const test = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
        body: { config: { ...base, ...change } },
      });
      expect(test.status).toBe(400);
      expect(test.body.code).toBe("secret_required");
      expect((await call("GET", `/api/apps/${app.id}/email-provider`)).body).toEqual(before.body);
    }
  });

  it("validates every field and names it", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ senderEmail: "not an email" }, "senderEmail"],
      [{ senderName: "Evil\r\nBcc: victim@example.com" }, "senderName"],
      [{ senderName: "x".repeat(101) }, "senderName"],
      [{ senderName: "nul\u0000byte" }, "senderName"],
      [{ host: "smtp://mail.example.com" }, "host"],
      [{ host: "mail.example.com/path" }, "host"],
      [{ host: "mail.example.com:587" }, "host"],
      [{ port: 0 }, "port"],
      [{ port: 70000 }, "port"],
      [{ port: "587" }, "port"],
      [{ security: "opportunistic" }, "security"],
      [{ username: "" }, "username"],
      [{ password: "x".repeat(1025) }, "password"],
    ];
    for (const [override, field] of cases) {
      const res = await call("PUT", `/api/apps/${app.id}/email-provider`, {
        body: basicBody(smtp.port, override),
      });
      expect(res.status, JSON.stringify(override)).toBe(400);
      expect(res.body.field, JSON.stringify(override)).toBe(field);
    }
  });

  it("refuses hostile destinations on save, naming the field", async () => {
    const guarded = await startTestPostern(backend);
    try {
      const s = await guarded.signIn("guard@example.com");
      const a = await guarded.createApp(s);
      await guarded.unlock(s.workspaceId);
      for (const [host, port, code, field] of [
        ["127.0.0.1", 587, "blocked_address", "host"],
        ["169.254.169.254", 587, "blocked_address", "host"],
        ["localhost", 587, "blocked_address", "host"],
        ["[::1]", 465, "blocked_address", "host"],
        ["10.0.0.8", 25, "blocked_address", "host"],
        ["93.184.216.34", 8080, "blocked_port", "port"],
      ] as const) {
        const res = await guarded.request("PUT", `/api/apps/${a.id}/email-provider`, {
          session: s,
          body: basicBody(port, { host }),
        });
        expect(res.status, host).toBe(400);
        expect(res.body).toMatchObject({ code, field });
      }
      const plaintext = await guarded.request("PUT", `/api/apps/${a.id}/email-provider`, {
        session: s,
        body: basicBody(25, { host: "93.184.216.34", security: "none" }),
      });
      expect(plaintext.body).toMatchObject({ code: "plaintext_not_allowed", field: "security" });
    } finally {
      await guarded.close();
    }
  });

  it("names every invalid field in one answer: schema errors, the sender rule, the secret and a private host together", async () => {
    const guarded = await startTestPostern(backend);
    try {
      const s = await guarded.signIn("guard@example.com");
      const a = await guarded.createApp(s);
      await guarded.unlock(s.workspaceId);
      const { password: _omitted, ...withoutPassword } = basicBody(587, {
        host: "10.0.0.8",
        username: "",
        senderName: "x".repeat(101),
        senderEmail: "guard@example.com",
      });
      const res = await guarded.request("PUT", `/api/apps/${a.id}/email-provider`, {
        session: s,
        body: withoutPassword,
      });
      expect(res.status).toBe(400);
      const errors = res.body.errors as { field: string; code: string }[];
      expect(errors.map((e) => [e.field, e.code]).toSorted()).toEqual(
        [
          ["host", "blocked_address"],
          ["password", "secret_required"],
          ["senderEmail", "sender_is_dashboard_account"],
          ["senderName", "validation_failed"],
          ["username", "validation_failed"],
        ].toSorted(),
      );
      expect(res.body.detail).toMatch(/^5 fields need fixing: /);
      expect(res.body).toMatchObject({ field: errors[0]!.field, code: errors[0]!.code });
      // A private port and a plaintext choice are found in the same pass as a bad sender email.
      const second = await guarded.request("PUT", `/api/apps/${a.id}/email-provider`, {
        session: s,
        body: basicBody(8080, { host: "93.184.216.34", senderEmail: "not an email" }),
      });
      expect((second.body.errors as { field: string }[]).map((e) => e.field).toSorted()).toEqual([
        "port",
        "senderEmail",
      ]);
      const notObject = await guarded.request("PUT", `/api/apps/${a.id}/email-provider`, {
        session: s,
        body: ["smtp_basic"],
      });
      expect(notObject.status).toBe(400);
    } finally {
      await guarded.close();
    }
  });

  it("refuses a member's account as sender, and refuses logging in to the app with its sender email", async () => {
    const res = await call("PUT", `/api/apps/${app.id}/email-provider`, {
      body: basicBody(smtp.port, { senderEmail: "member@example.com", password: PASSWORD }),
    });
    expect(res.body).toMatchObject({ code: "sender_is_dashboard_account", field: "senderEmail" });
    const tested = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: {
        config: basicBody(smtp.port, { senderEmail: "member@example.com", password: PASSWORD }),
        sendTo: "owner@example.com",
      },
    });
    expect(tested.body).toMatchObject({ code: "sender_is_dashboard_account", field: "senderEmail" });
    // Signing in to the dashboard is not logging in to the app: it makes a workspace of its own.
    const dashboard = await t.request("POST", "/api/auth/email", { body: { email: "LOGIN@acme.example" } });
    expect(dashboard.status).toBe(202);
    const endUser = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email: "login@acme.example" },
    });
    expect(endUser.status).toBe(403);
    expect(endUser.body.code).toBe("sender_email_login_refused");
    const invite = await call("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      body: { email: "login@acme.example" },
    });
    expect(invite.status).toBe(400);
  });

  it("reports each step of a connection test, with a hint when one fails", async () => {
    const ok = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { sendTo: "owner@example.com" },
    });
    expect(ok.status).toBe(200);
    const steps = ok.body.steps as { name: string; outcome: string; durationMs: number }[];
    expect(steps.map((s) => [s.name, s.outcome])).toEqual([
      ["resolve", "ok"],
      ["connect", "ok"],
      ["tls", "ok"],
      ["ehlo", "ok"],
      ["authenticate", "ok"],
      ["send", "ok"],
    ]);
    await smtp.waitForMessages(1);
    expect(
      smtp.messages.some((m) => m.to.includes("owner@example.com") && /test email/i.test(m.subject ?? "")),
    ).toBe(true);
    const state = (await call("GET", `/api/apps/${app.id}/email-provider`)).body as unknown as ProviderState;
    expect(state.provider!.lastTest).toMatchObject({ ok: true });

    const wrong = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { config: basicBody(smtp.port, { password: "nope-nope" }) },
    });
    const failed = (
      wrong.body.steps as { name: string; outcome: string; hint?: string; smtpReply?: string }[]
    ).find((s) => s.outcome === "failed")!;
    expect(failed).toMatchObject({
      name: "authenticate",
      hint: expect.stringMatching(/username or password \(535\)/),
    });
    expect(wrong.text).not.toContain("nope-nope");

    const closedPort = smtp.port === 1 ? 2 : 1;
    const refused = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { config: basicBody(closedPort, { password: PASSWORD }) },
    });
    expect(
      (refused.body.steps as { name: string; outcome: string; hint?: string }[]).find(
        (s) => s.outcome === "failed",
      ),
    ).toMatchObject({
      name: "connect",
      hint: expect.stringMatching(/Nothing accepted the connection/),
    });
    expect(refused.text).not.toMatch(/ECONNREFUSED/);

    const notMine = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { sendTo: "someone@example.com" },
    });
    expect(notMine.status).toBe(400);
    expect(notMine.body).toMatchObject({ code: "send_to_not_member", field: "sendTo" });

    // Any member's address is a test recipient, not only the signed-in one's.
    const before = smtp.messages.length;
    const toMember = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { sendTo: "member@example.com" },
    });
    expect(toMember.body.ok, toMember.text).toBe(true);
    expect(smtp.messages.slice(before).map((m) => m.to)).toContainEqual(
      expect.arrayContaining(["member@example.com"]),
    );
  });

  it("explains a server without STARTTLS and an untrusted certificate", async () => {
    const noTls = await startSmtpServer({ security: "none", users: { acme: PASSWORD } });
    const untrusted = await startSmtpServer({
      security: "tls",
      cert: "untrusted",
      users: { acme: PASSWORD },
    });
    try {
      const hintFor = async (body: Record<string, unknown>) => {
        const res = await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: { config: body } });
        return (res.body.steps as { outcome: string; hint?: string; name: string }[]).find(
          (s) => s.outcome === "failed",
        )!;
      };
      expect(await hintFor(basicBody(noTls.port, { password: PASSWORD }))).toMatchObject({
        name: "tls",
        hint: expect.stringMatching(/STARTTLS/),
      });
      expect(await hintFor(basicBody(untrusted.port, { security: "tls", password: PASSWORD }))).toMatchObject(
        {
          name: "tls",
          hint: expect.stringMatching(/certificate is not trusted/),
        },
      );
      expect(noTls.authAttempts).toHaveLength(0);
    } finally {
      await noTls.close();
      await untrusted.close();
    }
  });

  it("limits connection tests per app", async () => {
    const limited = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "2",
    });
    try {
      const s = await limited.signIn("limit@example.com");
      const a = await limited.createApp(s);
      await limited.unlock(s.workspaceId);
      const body = { config: basicBody(1, { password: PASSWORD }) };
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await limited.request("POST", `/api/apps/${a.id}/email-provider/test`, { session: s, body }))
            .status,
        );
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await limited.close();
    }
  });

  it("writes an audit event for every create, change, delete and test, without secret values", async () => {
    expect((await call("DELETE", `/api/apps/${app.id}/email-provider`)).status).toBe(204);
    const audit = await call("GET", `/api/workspaces/${owner.workspaceId}/audit?limit=200`);
    const events = audit.body.events as { action: string; changes: Record<string, unknown> }[];
    const actions = events.map((e) => e.action);
    for (const action of [
      "email_provider.created",
      "email_provider.updated",
      "email_provider.deleted",
      "email_provider.tested",
    ]) {
      expect(actions).toContain(action);
    }
    const update = events.find((e) => e.action === "email_provider.updated" && "senderName" in e.changes)!;
    expect(update.changes.senderName).toEqual({ from: "Acme Login", to: "Acme Team" });
    expect(audit.text).not.toContain(PASSWORD);
  });

  it("leaves the known password nowhere: not in the database, the logs, the API or the delivery log", async () => {
    await call("PUT", `/api/apps/${app.id}/email-provider`, {
      body: basicBody(smtp.port, { password: PASSWORD }),
    });
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (x) => x.status === "sent");
    responses.push((await call("GET", `/api/apps/${app.id}/deliveries/${id}`)).text);
    responses.push((await call("GET", `/api/apps/${app.id}/deliveries`)).text);

    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`));
      expect(JSON.stringify(rows), `${schemaname}.${tablename}`).not.toContain(PASSWORD);
      expect(JSON.stringify(rows)).not.toContain(Buffer.from(PASSWORD).toString("base64"));
    }
    for (const text of responses) expect(text).not.toContain(PASSWORD);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(t.logs.join("\n")).not.toContain(PASSWORD);
  });
});
