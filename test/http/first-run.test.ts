// A developer's first hour: the demo account opens the demo, sign-in limits say when to try again and
// what sets them, and a code pasted with spaces or dashes signs in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { backends, startTestPostern, type TestPostern } from "../support/harness.ts";

describe.each(backends)("first run (%s)", (backend) => {
  let t: TestPostern;

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_SEED_DEMO: "true",
      POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE: "2",
    });
  });
  afterAll(() => t?.close());

  it("signs the demo account in to the demo workspace and its demo app, with no empty workspace beside it", async () => {
    const demo = await t.signIn("developer@postern.localhost");
    const me = await t.request("GET", "/api/me", { session: demo });
    expect((me.body.workspaces as { id: string; name: string }[]).map((w) => [w.id, w.name])).toEqual([
      ["ws_demo", "Demo workspace"],
    ]);
    const apps = await t.request("GET", "/api/workspaces/ws_demo/apps", { session: demo });
    expect(JSON.stringify(apps.body)).toContain("Demo app");
  });

  it("refuses a sign-in over the limit with the seconds to wait and the setting that sets the limit", async () => {
    const ask = () => t.request("POST", "/api/auth/email", { body: { email: "eager@example.com" } });
    expect((await ask()).status).toBe(202);
    expect((await ask()).status).toBe(202);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      code: "rate_limited",
      setting: "POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE",
      limit: 2,
    });
    const retryAfter = refused.body.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers["retry-after"]).toBe(String(retryAfter));
  });

  it("accepts a dashboard code pasted with spaces or dashes", async () => {
    for (const [i, shape] of [
      (c: string) => ` ${c}`,
      (c: string) => `${c.slice(0, 3)}-${c.slice(3)}`,
      (c: string) => `${c.slice(0, 3)} ${c.slice(3)} `,
    ].entries()) {
      const email = `paste-${i}@example.com`;
      const before = Date.now() - 1000;
      const start = await t.request("POST", "/api/auth/email", { body: { email } });
      const { code } = await t.latestLoginEmail(email, before);
      const verified = await t.request("POST", "/api/auth/email/verify", {
        body: { loginId: start.body.loginId, code: shape(code) },
      });
      expect(verified.status, shape(code)).toBe(200);
    }
  });

  it("accepts an end user's code with a dash, and still names the field for a code that is not one", async () => {
    const owner = await t.signIn("owner@example.com");
    const app = await t.createApp(owner);
    const auth = { authorization: `Bearer ${app.publishableKey}` };
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth,
      body: { email: "eu@example.net" },
    });
    const { code } = await t.latestLoginEmail("eu@example.net", before);
    const wrongShape = await t.request("POST", "/v1/login/email/verify", {
      headers: auth,
      body: { loginId: start.body.loginId, code: "12-34" },
    });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body).toMatchObject({ field: "code" });
    const verified = await t.request("POST", "/v1/login/email/verify", {
      headers: auth,
      body: { loginId: start.body.loginId, code: `${code.slice(0, 3)}-${code.slice(3)}` },
    });
    expect(verified.status).toBe(200);
  });
});

describe("dashboard sign-in limits", () => {
  const base = { POSTERN_DATA_DIR: "/tmp/postern-config-test", POSTERN_SECRET_KEY: "x" };
  it("suit one developer on the embedded default, and follow the end-user limits on PostgreSQL", () => {
    expect(loadConfig(base).limits).toMatchObject({
      dashboardAddressPerMinute: 10,
      dashboardAddressPerHour: 60,
    });
    expect(loadConfig({ ...base, DATABASE_URL: "postgres://db.example/postern" }).limits).toMatchObject({
      dashboardAddressPerMinute: 1,
      dashboardAddressPerHour: 5,
    });
  });
});
