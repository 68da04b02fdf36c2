import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type Response, startTestPostern, type TestPostern } from "../support/harness.ts";

type TestApp = { id: string; publishableKey: string; secretKey: string };

/** Through the public HTTP API, from `remoteAddress` (the socket's address, as Fastify sees it). */
async function fromAddress(t: TestPostern, remoteAddress: string, url: string, body: unknown) {
  const res = await t.postern.http.inject({
    method: "POST",
    url,
    remoteAddress,
    headers: { "content-type": "application/json" },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) } as Response;
}

/** A developer's server calling with the secret key, vouching for the end user's address. */
const asServer = (t: TestPostern, app: TestApp, clientIp: string) => ({
  startLogin: (email: string) =>
    t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.secretKey}`, "x-postern-client-ip": clientIp },
      body: { email },
    }),
});

function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe("rate_limited");
  const retryAfter = Number(res.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(3600);
}

describe.each(backends)("an app's budgets cannot be drained by others (%s)", (backend) => {
  describe("the app's hourly email budget", () => {
    let t: TestPostern;
    let app: TestApp;
    beforeAll(async () => {
      t = await startTestPostern(backend, { POSTERN_LIMIT_APP_PER_HOUR: "5" });
      app = await t.createApp(await t.signIn("dev@example.com"));
    });
    afterAll(() => t?.close());

    it("counts only the emails it queued: 20 IPs hammering one address leave it for everyone else", async () => {
      const attack = await Promise.all(
        Array.from({ length: 20 }, (_, i) => asServer(t, app, `198.51.100.${i + 1}`)).flatMap((ip) =>
          Array.from({ length: 3 }, () => ip.startLogin("victim@example.com")),
        ),
      );
      expect(attack.filter((r) => r.status === 202)).toHaveLength(1);
      expect(attack.filter((r) => r.status === 429)).toHaveLength(59);

      // One email went out, so 4 of the 5 remain for other addresses, then the budget holds.
      const before = Date.now() - 1000;
      for (let k = 1; k <= 4; k++) {
        const res = await asServer(t, app, `203.0.113.${k}`).startLogin(`fresh${k}@example.com`);
        expect(res.status, `fresh${k}`).toBe(202);
      }
      expect((await t.latestLoginEmail("fresh1@example.com", before)).code).toMatch(/^\d{6}$/);
      const over = await asServer(t, app, "203.0.113.9").startLogin("fresh5@example.com");
      expectRateLimited(over);
      expect(over.body.detail).toMatch(/hourly login email budget/);
    });
  });

  describe("per-IP budgets", () => {
    let t: TestPostern;
    let app: TestApp;
    beforeAll(async () => {
      t = await startTestPostern(backend, { POSTERN_LIMIT_IP_PER_HOUR: "3" });
      app = await t.createApp(await t.signIn("dev@example.com"));
    });
    afterAll(() => t?.close());

    it("counts an IPv6 client per /64, so rotating the interface id gains nothing", async () => {
      const statuses = [];
      for (const [i, ip] of ["2001:db8::1", "2001:db8::2", "2001:db8::3:4", "2001:db8::ffff:9"].entries())
        statuses.push((await asServer(t, app, ip).startLogin(`v6-${i}@example.com`)).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      expect((await asServer(t, app, "2001:db8:0:1::1").startLogin("v6-other@example.com")).status).toBe(202);
    });

    it("counts an IPv4-mapped IPv6 address as the IPv4 address", async () => {
      const statuses = [];
      for (const [i, ip] of [
        "203.0.113.5",
        "::ffff:203.0.113.5",
        "::ffff:cb00:7105",
        "203.0.113.5",
      ].entries())
        statuses.push((await asServer(t, app, ip).startLogin(`v4-${i}@example.com`)).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
    });

    it("counts dashboard sign-ins from IPv6 per /64 too", async () => {
      const statuses = [];
      for (const [i, ip] of [
        "2001:db8:aa::1",
        "2001:db8:aa::2",
        "2001:db8:aa::3",
        "2001:db8:aa::4",
      ].entries())
        statuses.push(
          (await fromAddress(t, ip, "/api/auth/email", { email: `dash-${i}@example.com` })).status,
        );
      expect(statuses).toEqual([202, 202, 202, 429]);
      const other = await fromAddress(t, "2001:db8:bb::1", "/api/auth/email", {
        email: "dash-x@example.com",
      });
      expect(other.status).toBe(202);
    });
  });
});
