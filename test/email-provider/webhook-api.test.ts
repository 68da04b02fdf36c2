// The signed webhook through the HTTP API: the signing secret Postern creates and shows once, rotation
// with both signatures for a day, the URL rules of the outbound guard, Test connection's signed ping and
// test email, the audit, and the secrets found nowhere but in the answers that revealed them.
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ALLOWLIST, deliveryWhen, sendLogin } from "./support.ts";

type Provider = Record<string, unknown> & { revealedOnce?: { signingSecret: string } };

const webhookBody = (url: string, overrides: Record<string, unknown> = {}) => ({
  type: "webhook",
  senderEmail: "login@acme.example",
  senderName: "Acme Login",
  url,
  ...overrides,
});

describe.each(backends)("the signed webhook provider API (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let receiver: WebhookReceiver;
  /** Every answer, and apart the ones that revealed a secret. */
  const responses: string[] = [];
  const revealing: string[] = [];
  const secrets: string[] = [];
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await t.request(method, url, { session: owner, ...(body !== undefined ? { body } : {}) });
    const revealed = (res.body.provider as Provider | undefined)?.revealedOnce?.signingSecret;
    if (revealed) {
      secrets.push(revealed);
      revealing.push(res.text);
    } else responses.push(res.text);
    return res;
  };
  const put = async (body: Record<string, unknown>) => {
    const res = await call("PUT", `/api/apps/${app.id}/email-provider`, body);
    return { ...res, provider: res.body.provider as Provider };
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await startTestPostern(backend, { ...ALLOWLIST, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("creates a Standard Webhooks signing secret on the first save and shows it in that answer only", async () => {
    const saved = await put(webhookBody(receiver.url));
    expect(saved.status, saved.text).toBe(200);
    const secret = saved.provider.revealedOnce!.signingSecret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(saved.provider).toMatchObject({
      type: "webhook",
      url: receiver.url,
      senderEmail: "login@acme.example",
      signingSecretSet: true,
      previousSigningSecretValidUntil: null,
    });
    expect(Date.parse(String(saved.provider.signingSecretCreatedAt))).toBeGreaterThan(Date.now() - 60_000);
    const shown = await call("GET", `/api/apps/${app.id}/email-provider`);
    expect(shown.body.provider).not.toHaveProperty("revealedOnce");
    expect(shown.text).not.toContain(secret);
    // Saving other fields keeps the secret, and shows none.
    const renamed = await put(webhookBody(receiver.url, { senderName: "Acme" }));
    expect(renamed.provider).not.toHaveProperty("revealedOnce");
    expect(renamed.provider.signingSecretCreatedAt).toBe(saved.provider.signingSecretCreatedAt);
    receiver.secrets = [secret];
    const id = await sendLogin(t, app.publishableKey, "first@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    expect(receiver.deliveries.at(-1)!.webhookId).toBe(id);
  });

  it("never takes a signing secret from the request", async () => {
    for (const field of ["signingSecret", "signingSecret1", "signingSecret2"]) {
      const res = await put(webhookBody(receiver.url, { [field]: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
      expect(res.status, field).toBe(400);
    }
  });

  it("refuses http://, credentials in the URL and a fragment, naming the url field", async () => {
    for (const url of [
      "http://hooks.acme.example/postern",
      "ftp://hooks.acme.example/postern",
      "https://user:pass@hooks.acme.example/postern",
      "https://hooks.acme.example/postern#x",
      "not a url",
    ]) {
      const res = await put(webhookBody(url));
      expect(res.status, url).toBe(400);
      expect(
        (res.body.errors as { field: string }[]).map((e) => e.field),
        url,
      ).toContain("url");
    }
  });

  it("tests with a signed ping, and sends a signed test email to a member when asked", async () => {
    const tested = await call("POST", `/api/apps/${app.id}/email-provider/test`, {});
    expect(tested.status, tested.text).toBe(200);
    const steps = tested.body.steps as { name: string; outcome: string; detail?: string }[];
    expect(steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
      "resolve:ok",
      "connect:ok",
      "tls:ok",
      "authenticate:ok",
      "send:skipped",
    ]);
    expect(steps.at(-1)!.detail).toMatch(/only when a user logs in, or when you ask for a test email/);
    const withEmail = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
      sendTo: "owner@example.com",
    });
    expect(withEmail.body.ok, withEmail.text).toBe(true);
    expect(receiver.deliveries.at(-1)!.payload).toMatchObject({
      type: "login_email",
      test: true,
      appId: app.id,
      to: "owner@example.com",
      from: { name: "Acme", address: "login@acme.example" },
      subject: "Postern test email for Acme",
    });
  });

  it("rotates: a new secret shown once, and both sign every request for 24 hours", async () => {
    const [old] = secrets.slice(-1);
    const rotated = await put(webhookBody(receiver.url, { senderName: "Acme", rotateSigningSecret: true }));
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.provider.revealedOnce!.signingSecret;
    expect(fresh).not.toBe(old);
    const until = Date.parse(String(rotated.provider.previousSigningSecretValidUntil));
    expect(until - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    // A receiver still on the old secret keeps accepting.
    receiver.secrets = [old!];
    const id = await sendLogin(t, app.publishableKey, "rotation@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    const delivery = receiver.deliveries.at(-1)!;
    expect(delivery.webhookId).toBe(id);
    expect(delivery.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [old!, fresh]) {
      expect(new Webhook(secret).verify(delivery.rawBody, delivery.headers)).toMatchObject({
        to: "rotation@example.com",
      });
    }
    receiver.secrets = [fresh];
    const audit = await call("GET", `/api/workspaces/${owner.workspaceId}/audit?limit=200`);
    const events = audit.body.events as { action: string; changes: Record<string, unknown> }[];
    const rotation = events.find((e) => e.action === "email_provider.updated" && "signing" in e.changes)!;
    expect(Object.values(rotation.changes)).toContain("(changed)");
  });

  it("leaves the signing secrets nowhere but in the answers that revealed them: not in the database, the logs, the API, the audit, the delivery log or the requests", async () => {
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    await call("GET", `/api/apps/${app.id}/deliveries/${id}`);
    await call("GET", `/api/apps/${app.id}/deliveries`);
    await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    await call("POST", `/api/apps/${app.id}/email-provider/test`, {});
    await call("GET", `/api/apps/${app.id}/email-provider`);
    await call("GET", "/api/email-provider-kinds");
    expect(secrets).toHaveLength(2);
    expect(revealing).toHaveLength(2);
    const forms = [...secrets, ...secrets.map((s) => s.slice("whsec_".length))];
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = JSON.stringify(
        await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`)),
      );
      for (const form of forms) expect(rows, `${schemaname}.${tablename}`).not.toContain(form);
    }
    expect(responses.length).toBeGreaterThan(15);
    const logs = t.logs.join("\n");
    expect(t.logs.length).toBeGreaterThan(0);
    const requests = JSON.stringify(receiver.requests);
    expect(receiver.requests.length).toBeGreaterThan(5);
    for (const form of forms) {
      for (const text of responses) expect(text).not.toContain(form);
      expect(logs).not.toContain(form);
      expect(requests).not.toContain(form);
    }
    // Each revealing answer holds its own secret only.
    expect(revealing[0]).toContain(secrets[0]);
    expect(revealing[0]).not.toContain(secrets[1]);
  });
});

describe.each(backends)(
  "the webhook URL through the outbound guard, without an allowlist (%s)",
  (backend) => {
    let t: TestPostern;
    let owner: Session;
    let app: { id: string };

    beforeAll(async () => {
      t = await startTestPostern(backend);
      owner = await t.signIn("owner@example.com");
      app = await t.createApp(owner, { name: "Guarded" });
      await t.unlock(owner.workspaceId);
    });
    afterAll(() => t?.close());

    it.each([
      ["https://localhost/hook", "blocked_address"],
      ["https://127.0.0.1/hook", "blocked_address"],
      ["https://[::1]/hook", "blocked_address"],
      ["https://10.20.0.5/hook", "blocked_address"],
      ["https://192.168.1.10/hook", "blocked_address"],
      ["https://169.254.169.254/latest/meta-data", "blocked_address"],
      ["https://[fd00:ec2::254]/hook", "blocked_address"],
      ["https://0x7f000001/hook", "blocked_address"],
      ["https://nowhere.invalid/hook", "unresolvable"],
    ])("refuses %s (%s), saving nothing", async (url, code) => {
      const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
        session: owner,
        body: webhookBody(url),
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: "url", code }));
      expect(res.text).not.toContain("whsec_");
      const state = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner });
      expect(state.body.provider).toBeNull();
    });
  },
);
