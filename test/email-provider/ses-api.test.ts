// The Amazon SES provider through the HTTP API: what is accepted, what is shown, Test connection without
// sending (GetAccount and GetEmailIdentity), and the secret access key found nowhere afterwards.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import type { TestStep } from "../../src/mail/test-steps.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, type SesFakes, startSesFakes } from "../support/ses.ts";
import { deliveryWhen, sendLogin } from "./support.ts";

type TestResult = { ok: boolean; steps: TestStep[] };

describe.each(backends)("Amazon SES provider API (%s)", (backend) => {
  let fakes: SesFakes;
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
    fakes = await startSesFakes();
    t = await startTestPostern(backend, {
      ...fakes.env,
      POSTERN_LOG_LEVEL: "trace",
      POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "1000",
    });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await fakes?.close();
  });
  afterEach(() => {
    Object.assign(fakes.ses.account(ACCESS_KEY_ID), { sandbox: false, sendOnly: false, state: "active" });
  });

  it("saves an SES provider and shows it without the secret", async () => {
    const res = await put(fakes.providerBody({ region: "EU-West-1", configurationSet: "logins" }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({
      type: "ses",
      senderEmail: "login@acme.example",
      region: "eu-west-1",
      credentials: "keys",
      accessKeyId: ACCESS_KEY_ID,
      configurationSet: "logins",
      secretAccessKeySet: true,
    });
    expect(res.body.provider).not.toHaveProperty("secretAccessKey");
    expect(res.text).not.toContain(SECRET_ACCESS_KEY);
    const kinds = await call("GET", "/api/email-provider-kinds");
    const form = (kinds.body.kinds as { id: string; fields: { name: string }[] }[]).find(
      (k) => k.id === "ses",
    );
    expect(form?.fields.map((f) => f.name)).toEqual([
      "region",
      "credentials",
      "accessKeyId",
      "secretAccessKey",
      "configurationSet",
    ]);
  });

  it.each([
    ["region", { region: "europe" }],
    ["region", { region: "eu-west-1.evil.example/" }],
    ["accessKeyId", { accessKeyId: "akia lower case" }],
    ["accessKeyId", { accessKeyId: undefined }],
    ["secretAccessKey", { secretAccessKey: "with space" }],
    ["configurationSet", { configurationSet: "no/slashes" }],
    ["credentials", { credentials: "environment" }],
  ])("refuses a bad %s", async (field, overrides) => {
    const res = await put(fakes.providerBody(overrides));
    expect(res.status, res.text).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
  });

  it("keeps the stored secret while the access key stays, and asks again when it changes", async () => {
    await put(fakes.providerBody());
    const kept = await put(fakes.providerBody({ secretAccessKey: undefined, region: "us-east-1" }));
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.provider).toMatchObject({ region: "us-east-1", secretAccessKeySet: true });
    const moved = await put(
      fakes.providerBody({ secretAccessKey: undefined, accessKeyId: "AKIAANOTHERKEY00001" }),
    );
    expect(moved.status, moved.text).toBe(400);
    expect(JSON.stringify(moved.body)).toContain("secretAccessKey");
  });

  it("tests the key and the sender without sending: GetAccount, then GetEmailIdentity", async () => {
    await put(fakes.providerBody());
    const sends = fakes.ses.messages.length;
    const result = await test();
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(outcomes(result)).toEqual([
      ["authenticate", "ok"],
      ["permission", "ok"],
      ["send", "skipped"],
    ]);
    expect(result.steps[0]!.detail).toMatch(
      /The credentials work\. The account has production access in eu-west-1\./,
    );
    expect(result.steps[0]!.detail).toMatch(/at most 1000 a second/);
    expect(result.steps[1]!.detail).toBe(
      "SES may send From login@acme.example: the domain acme.example is verified in eu-west-1.",
    );
    expect(fakes.ses.messages.length).toBe(sends);
    expect(fakes.ses.requestLog.slice(-3).map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v2/email/account",
      "GET /v2/email/identities/login%40acme.example",
      "GET /v2/email/identities/acme.example",
    ]);
  });

  it("says when the account is in the sandbox, and when the sender is not verified", async () => {
    fakes.ses.account(ACCESS_KEY_ID).sandbox = true;
    const sandbox = await test({ config: fakes.providerBody() });
    expect(sandbox.steps[0]).toMatchObject({ name: "authenticate", outcome: "ok" });
    expect(sandbox.steps[0]!.detail).toMatch(/is in the SES sandbox/);
    expect(sandbox.steps[0]!.hint).toMatch(/request production access/);

    const unverified = await test({ config: fakes.providerBody({ senderEmail: "login@elsewhere.example" }) });
    expect(unverified.ok).toBe(false);
    expect(unverified.steps[1]).toMatchObject({ name: "permission", outcome: "failed", errorClass: "auth" });
    expect(unverified.steps[1]!.detail).toMatch(/Neither login@elsewhere\.example nor elsewhere\.example/);
  });

  it("fails the key step with the fix for a wrong secret, an unknown key and a suspended account", async () => {
    const wrong = await test({
      config: fakes.providerBody({ secretAccessKey: "wrong/secret+0123456789abcdefghij" }),
    });
    expect(outcomes(wrong)).toEqual([
      ["authenticate", "failed"],
      ["permission", "skipped"],
      ["send", "skipped"],
    ]);
    expect(wrong.steps[0]).toMatchObject({ errorClass: "auth" });
    expect(wrong.steps[0]!.smtpReply).toMatch(/^403 SignatureDoesNotMatch: /);
    expect(wrong.steps[0]!.hint).toMatch(/Enter the secret access key again/);

    const unknown = await test({ config: fakes.providerBody({ accessKeyId: "AKIAUNKNOWNKEY00001" }) });
    expect(unknown.steps[0]!.smtpReply).toMatch(/^403 UnrecognizedClientException: /);

    fakes.ses.account(ACCESS_KEY_ID).state = "suspended";
    const suspended = await test({ config: fakes.providerBody() });
    expect(suspended.steps[0]).toMatchObject({ name: "authenticate", outcome: "failed" });
    expect(suspended.steps[0]!.detail).toMatch(/sending is shut down for this account in eu-west-1/);
  });

  it("skips what a send-only key may not read, and proves it with a test email", async () => {
    fakes.ses.account(ACCESS_KEY_ID).sendOnly = true;
    const dry = await test({ config: fakes.providerBody() });
    expect(dry.ok).toBe(true);
    expect(outcomes(dry)).toEqual([
      ["authenticate", "skipped"],
      ["permission", "skipped"],
      ["send", "skipped"],
    ]);
    expect(dry.steps[0]!.detail).toMatch(/may not call ses:GetAccount/);
    const sends = fakes.ses.messages.length;
    const sent = await test({ config: fakes.providerBody(), sendTo: owner.email });
    expect(sent.steps.at(-1)).toMatchObject({ name: "send", outcome: "ok" });
    expect(sent.steps.at(-1)!.smtpReply).toMatch(/^200 OK \(MessageId /);
    expect(fakes.ses.messages.length).toBe(sends + 1);
    expect(fakes.ses.messages.at(-1)!.to).toEqual([owner.email]);
  });

  it("leaves the secret access key nowhere: not in the database, the logs, the API, the audit or the delivery log", async () => {
    await put(fakes.providerBody());
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    await put(fakes.providerBody({ secretAccessKey: "wrong/secret+0123456789abcdefghij" }));
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
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`));
      expect(JSON.stringify(rows), `${schemaname}.${tablename}`).not.toContain(SECRET_ACCESS_KEY);
    }
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) expect(text).not.toContain(SECRET_ACCESS_KEY);
    expect(t.logs.length).toBeGreaterThan(0);
    const logs = t.logs.join("\n");
    expect(logs).not.toContain(SECRET_ACCESS_KEY);
    expect(logs).not.toContain(encodeURIComponent(SECRET_ACCESS_KEY));
  });
});
