// The behaviour every HTTP email API kind must show, end to end through the real HTTP API, the worker and the
// vendor's fake on both backends: 200 login emails delivered exactly once, every vendor failure in the delivery
// log with its fix, a connection test that proves the credentials without sending, and the secret nowhere.
// Each kind's test file (sendgrid-delivery.test.ts, …) runs it against its vendor (test/support/email-apis.ts).
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { deliveries } from "../../src/db/schema.ts";
import type { ApiVendor } from "../support/email-apis.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { type DeliveryView, deliveryWhen, sendLogin } from "./support.ts";

type Attempt = DeliveryView["attempts"][number] & { at: string; hint?: string | null };
type Step = { name: string; outcome: string; detail?: string; hint?: string; errorClass?: string };

export function describeEmailApiKind(label: string, startVendor: () => Promise<ApiVendor>) {
  describe.each(backends)(`${label} provider, end to end (%s)`, (backend) => {
    let vendor: ApiVendor;
    let t: TestPostern;
    let owner: Session;
    let app: { id: string; publishableKey: string };
    const responses: string[] = [];
    const call = async (method: string, url: string, opts: Parameters<TestPostern["request"]>[2] = {}) => {
      const res = await t.request(method, url, { session: owner, ...opts });
      responses.push(res.text);
      return res;
    };
    const save = async (overrides: Record<string, unknown> = {}) => {
      const res = await call("PUT", `/api/apps/${app.id}/email-provider`, { body: vendor.body(overrides) });
      expect(res.status, res.text).toBe(200);
      return res;
    };
    /** A test whose emails stay waiting gets its own app, so a later save does not release them elsewhere. */
    const freshApp = async (name: string) => {
      app = await t.createApp(owner, { name });
      await save();
    };
    const login = (email: string) => sendLogin(t, app.publishableKey, email);

    beforeAll(async () => {
      vendor = await startVendor();
      t = await startTestPostern(backend, {
        ...vendor.env,
        POSTERN_LOG_LEVEL: "trace",
        POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
        POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
        POSTERN_LIMIT_APP_PER_HOUR: "100000",
        POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "100",
      });
      owner = await t.signIn("owner@example.com");
      app = await t.createApp(owner, { name: "Acme" });
      await t.unlock(owner.workspaceId);
    });
    afterAll(async () => {
      await t?.close();
      await vendor?.close();
    });
    afterEach(async () => {
      // A pause one test asked of the account's lane is not the next test's business.
      await t.postern.ctx.db.execute(sql`delete from sender_limits`);
    });

    it("delivers 200 login emails end to end, each exactly once, From the sender with the login headers", {
      timeout: 180_000,
    }, async () => {
      await freshApp("Two hundred");
      const before = vendor.received().length;
      const recipients = Array.from({ length: 200 }, (_, i) => `burst${i}@example.com`);
      const ids = await Promise.all(recipients.map((r) => login(r)));
      await waitFor(
        async () => {
          const rows = await t.postern.ctx.db
            .select({ status: deliveries.status })
            .from(deliveries)
            .where(and(eq(deliveries.appId, app.id), eq(deliveries.status, "sent")));
          return rows.length === ids.length;
        },
        90_000,
        "200 sent deliveries",
      );
      const got = vendor.received().slice(before);
      expect(got).toHaveLength(200);
      expect(new Set(got.map((m) => m.to))).toEqual(new Set(recipients));
      const sample = got[0]!;
      expect(sample).toMatchObject({ fromName: "Acme Login", fromAddress: "login@acme.example" });
      expect(sample.text).toMatch(/login code is \d{6}/);
      expect(sample.headers).toMatchObject({
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
      });
      expect(sample.headers["Message-ID"]).toMatch(/^<.+@acme\.example>$/);
      const d = await deliveryWhen(t, owner, app.id, ids[0]!, (x) => x.status === "sent");
      expect(d).toMatchObject({ route: "custom", sender: "Acme Login <login@acme.example>" });
      expect(d.attempts.at(-1)!.smtpReply).toMatch(/^20[02] (Accepted|OK) \(/);
    });

    it("holds the account's lane: never more requests in flight than the operator allows", () => {
      const limit = Number(
        vendor.env.POSTERN_SENDGRID_MAX_CONCURRENT ??
          vendor.env.POSTERN_POSTMARK_MAX_CONCURRENT ??
          vendor.env.POSTERN_RESEND_REQUESTS_PER_SECOND,
      );
      expect(vendor.fake.peakInFlight(vendor.kind === "resend" ? "acme" : vendor.secret)).toBeGreaterThan(0);
      expect(vendor.fake.peakInFlight(vendor.kind === "resend" ? "acme" : vendor.secret)).toBeLessThanOrEqual(
        limit,
      );
    });

    it("shows every vendor failure in the delivery log with its fix", { timeout: 400_000 }, async () => {
      for (const failure of vendor.failures) {
        await freshApp(failure.name);
        const recipient = `fail-${vendor.failures.indexOf(failure)}@example.com`;
        failure.arrange(recipient);
        const id = await login(recipient);
        const d = await deliveryWhen(t, owner, app.id, id, (x) => x.status === failure.status).catch(
          (err: Error) => {
            throw new Error(`${failure.name}: ${err.message}`);
          },
        );
        const attempt = d.attempts[0] as Attempt;
        expect(attempt, failure.name).toMatchObject({ errorClass: failure.errorClass, route: "custom" });
        expect(attempt.smtpReply, failure.name).toMatch(failure.reply);
        expect(`${attempt.message} ${attempt.hint ?? ""}`, failure.name).toMatch(failure.fix);
        expect(attempt.hint ?? "", failure.name).not.toContain(vendor.secret);
        if (failure.recovers) {
          failure.reset?.();
          const sent = await deliveryWhen(t, owner, app.id, id, (x) => x.status === "sent");
          const [first, second] = sent.attempts as Attempt[];
          if (failure.errorClass === "transient") {
            // The vendor asked for a second: the retry waited at least that long.
            expect(Date.parse(second!.at) - Date.parse(first!.at), failure.name).toBeGreaterThanOrEqual(900);
          }
        }
        failure.reset?.();
        await t.postern.ctx.db.execute(sql`delete from sender_limits`);
      }
    });

    it("marks the provider failing on a refused key; its emails wait without a request until a saved fix works", async () => {
      app = await t.createApp(owner, { name: "Refused key" });
      await save(vendor.badCredential());
      const first = await login("refused1@example.com");
      await deliveryWhen(t, owner, app.id, first, (x) => x.status === "retrying");
      const state = (await call("GET", `/api/apps/${app.id}/email-provider`)).body as {
        provider: { health: { status: string; reason: string } };
      };
      expect(state.provider.health.status).toBe("failing");
      const requests = vendor.fake.requestLog.length;
      const second = await login("refused2@example.com");
      await deliveryWhen(t, owner, app.id, second, (x) => x.status === "retrying");
      expect(vendor.fake.requestLog.length).toBe(requests);
      await save();
      await deliveryWhen(t, owner, app.id, first, (x) => x.status === "sent");
      await deliveryWhen(t, owner, app.id, second, (x) => x.status === "sent");
    });

    it("tests the connection without sending, and names what is wrong with a bad key", async () => {
      await freshApp("Test connection");
      const before = vendor.received().length;
      const res = await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: {} });
      expect(res.status, res.text).toBe(200);
      const steps = (res.body as { ok: boolean; steps: Step[] }).steps;
      expect(res.body.ok).toBe(true);
      expect(steps.map((s) => [s.name, s.outcome])).toEqual(vendor.checks.map((c) => [c.name, c.outcome]));
      for (const [i, check] of vendor.checks.entries()) expect(steps[i]!.detail).toMatch(check.detail);
      expect(vendor.received().length).toBe(before);

      const bad = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
        body: { config: vendor.body(vendor.badCredential()) },
      });
      const badSteps = (bad.body as { steps: Step[] }).steps;
      expect(badSteps[0]).toMatchObject({ name: "authenticate", outcome: "failed", errorClass: "auth" });
      expect(`${badSteps[0]!.detail} ${badSteps[0]!.hint ?? ""}`).toMatch(/API Keys|API Tokens/);
      expect(badSteps.slice(1).map((s) => s.outcome)).toEqual(["skipped", "skipped"]);

      const sent = await call("POST", `/api/apps/${app.id}/email-provider/test`, {
        body: { sendTo: "owner@example.com" },
      });
      const sentSteps = (sent.body as { steps: Step[] }).steps;
      expect(sentSteps.at(-1)).toMatchObject({ name: "send", outcome: "ok" });
      expect(vendor.received().at(-1)).toMatchObject({ to: "owner@example.com" });
    });

    it("leaves the secret nowhere: not in the database, the logs, the API, the audit or the delivery log", async () => {
      await freshApp("Leak check");
      const sent = await login("leak-check@example.com");
      await deliveryWhen(t, owner, app.id, sent, (d) => d.status === "sent");
      await call("GET", `/api/apps/${app.id}/deliveries/${sent}`);
      await call("GET", `/api/apps/${app.id}/deliveries`);
      await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
      await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: {} });
      await call("GET", `/api/apps/${app.id}/email-provider`);
      await call("GET", "/api/email-provider-kinds");
      // A refused send too: the client's errors carry the request's headers, which must go nowhere.
      app = await t.createApp(owner, { name: "Leak check, refused" });
      await save();
      vendor.failures[0]!.arrange("leak-refused@example.com");
      const refused = await login("leak-refused@example.com");
      await deliveryWhen(t, owner, app.id, refused, (d) => d.status === "retrying");
      await call("GET", `/api/apps/${app.id}/deliveries`);
      await call("GET", `/api/apps/${app.id}/email-provider`);
      const tables = await queryRows<{ tablename: string; schemaname: string }>(
        t.postern.ctx.db,
        sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
      );
      for (const { schemaname, tablename } of tables) {
        const rows = await queryRows(
          t.postern.ctx.db,
          sql.raw(`select * from "${schemaname}"."${tablename}"`),
        );
        expect(JSON.stringify(rows), `${schemaname}.${tablename}`).not.toContain(vendor.secret);
      }
      expect(responses.length).toBeGreaterThan(15);
      for (const text of responses) expect(text).not.toContain(vendor.secret);
      expect(t.logs.length).toBeGreaterThan(0);
      expect(t.logs.join("\n")).not.toContain(vendor.secret);
    });
  });
}
