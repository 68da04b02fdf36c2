// The Mailgun provider through the HTTP API: what is accepted and shown, Test connection without sending
// (GET /v4/domains/{domain}), and the API key found nowhere afterwards.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import type { TestStep } from "../../src/mail/test-steps.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { MAILGUN_API_KEY, type MailgunFakes, startMailgunFakes } from "../support/mailgun.ts";
import { deliveryWhen, sendLogin } from "./support.ts";

type TestResult = { ok: boolean; steps: TestStep[] };

describe.each(backends)("Mailgun provider API (%s)", (backend) => {
  let fakes: MailgunFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  const responses: string[] = [];
  const call = async (method: string, url: string, opts: Parameters<TestPostern["request"]>[2] = {}) => {
    const res = await t.request(method, url, { session: owner, ...opts });
    responses.push(res.text);
    return res;
  };
  const put = (body: Record<string, unknown>) => call("PUT", `/api/apps/${app.id}/email-provider`, { body });
  const test = async (body: Record<string, unknown> = {}) => {
    const res = await call("POST", `/api/apps/${app.id}/email-provider/test`, { body });
    expect(res.status, res.text).toBe(200);
    return res.body as unknown as TestResult;
  };
  const outcomes = (result: TestResult) => result.steps.map((s) => [s.name, s.outcome]);

  beforeAll(async () => {
    fakes = await startMailgunFakes();
    t = await startTestPostern(backend, { ...fakes.env, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await fakes?.close();
  });

  it("saves a Mailgun provider and shows it without the key", async () => {
    const res = await put(fakes.providerBody({ domain: "MG.Acme.Example" }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({
      type: "mailgun",
      domain: "mg.acme.example",
      region: "us",
      apiKeySet: true,
    });
    expect(res.body.provider).not.toHaveProperty("apiKey");
    expect(res.body.provider).not.toHaveProperty("apiKeyFingerprint");
    expect(res.text).not.toContain(MAILGUN_API_KEY);
  });

  it.each([
    ["domain", { domain: "https://mg.acme.example" }],
    ["domain", { domain: "../v3/other" }],
    ["region", { region: "asia" }],
    ["apiKey", { apiKey: "with space" }],
  ])("refuses a bad %s", async (field, overrides) => {
    const res = await put(fakes.providerBody(overrides));
    expect(res.status, res.text).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
  });

  it("keeps the key (and its lane) when only the domain changes, and asks again for another region", async () => {
    await put(fakes.providerBody());
    const [before] = await queryRows<{ settings: { apiKeyFingerprint: string } }>(
      t.postern.ctx.db,
      sql`select settings from email_providers where app_id = ${app.id}`,
    );
    const kept = await put(fakes.providerBody({ apiKey: undefined, domain: "new.acme.example" }));
    expect(kept.status, kept.text).toBe(200);
    const [after] = await queryRows<{ settings: { apiKeyFingerprint: string } }>(
      t.postern.ctx.db,
      sql`select settings from email_providers where app_id = ${app.id}`,
    );
    expect(after!.settings.apiKeyFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(after!.settings.apiKeyFingerprint).toBe(before!.settings.apiKeyFingerprint);
    const moved = await put(fakes.providerBody({ apiKey: undefined, region: "eu" }));
    expect(moved.status, moved.text).toBe(400);
    expect(JSON.stringify(moved.body)).toContain("apiKey");
  });

  it("tests the key and the domain without sending", async () => {
    await put(fakes.providerBody());
    const sends = fakes.mailgun.messages.length;
    const result = await test();
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(outcomes(result)).toEqual([
      ["authenticate", "ok"],
      ["permission", "ok"],
      ["send", "skipped"],
    ]);
    expect(result.steps[1]!.detail).toBe("mg.acme.example is active.");
    expect(fakes.mailgun.messages.length).toBe(sends);
    expect(fakes.mailgun.requestLog.at(-1)).toMatchObject({
      method: "GET",
      path: "/v4/domains/mg.acme.example",
    });
  });

  it("explains a wrong key, an unknown domain, an unverified domain and a sandbox domain", async () => {
    const wrong = await test({ config: fakes.providerBody({ apiKey: "key-wrong-0123456789" }) });
    expect(outcomes(wrong)).toEqual([
      ["authenticate", "failed"],
      ["permission", "skipped"],
      ["send", "skipped"],
    ]);
    expect(wrong.steps[0]).toMatchObject({ smtpReply: "401 Forbidden", errorClass: "auth" });
    expect(wrong.steps[0]!.hint).toMatch(/API Security/);

    const unknown = await test({ config: fakes.providerBody({ domain: "mg.other.example" }) });
    expect(outcomes(unknown).slice(0, 2)).toEqual([
      ["authenticate", "ok"],
      ["permission", "failed"],
    ]);
    expect(unknown.steps[1]!.hint).toMatch(/exactly as Mailgun/);

    const unverified = await test({ config: fakes.providerBody({ domain: "new.acme.example" }) });
    expect(unverified.steps[1]).toMatchObject({ name: "permission", outcome: "failed" });
    expect(unverified.steps[1]!.detail).toBe(
      "new.acme.example is unverified in Mailgun, so it cannot send yet.",
    );

    const sandbox = await test({
      config: fakes.providerBody({ domain: "sandbox0a1b2c.mailgun.org" }),
      sendTo: owner.email,
    });
    expect(sandbox.ok).toBe(true);
    expect(sandbox.steps[1]!.hint).toMatch(/sends only to its Authorized Recipients/);
    expect(sandbox.steps[2]).toMatchObject({ name: "send", outcome: "ok" });
    expect(fakes.mailgun.messages.at(-1)!.to).toEqual([owner.email]);
  });

  it("leaves the API key nowhere: not in the database, the logs, the API, the audit or the delivery log", async () => {
    await put(fakes.providerBody());
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    await put(fakes.providerBody({ domain: "mg.other.example" }));
    const failing = await sendLogin(t, app.publishableKey, "leak-check-2@example.com");
    await deliveryWhen(t, owner, app.id, failing, (d) => d.attempts.length > 0);
    await call("GET", `/api/apps/${app.id}/deliveries/${id}`);
    await call("GET", `/api/apps/${app.id}/deliveries/${failing}`);
    await call("GET", `/api/apps/${app.id}/deliveries`);
    await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: {} });
    await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      body: { config: fakes.providerBody(), sendTo: owner.email },
    });
    await call("GET", `/api/apps/${app.id}/email-provider`);
    const basic = Buffer.from(`api:${MAILGUN_API_KEY}`).toString("base64");
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = JSON.stringify(
        await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`)),
      );
      expect(rows, `${schemaname}.${tablename}`).not.toContain(MAILGUN_API_KEY);
      expect(rows, `${schemaname}.${tablename}`).not.toContain(basic);
    }
    expect(responses.length).toBeGreaterThan(15);
    for (const text of responses) {
      expect(text).not.toContain(MAILGUN_API_KEY);
      expect(text).not.toContain(basic);
    }
    const logs = t.logs.join("\n");
    expect(t.logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(MAILGUN_API_KEY);
    expect(logs).not.toContain(basic);
  });
});
