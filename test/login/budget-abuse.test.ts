import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type Response, startTestPostern, type TestPostern } from "../support/harness.ts";

type TestApp = { id: string; publishableKey: string; secretKey: string };
type StartedLogin = { loginId: unknown; code: string };

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
  verify: (loginId: unknown, code: string) =>
    t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${app.secretKey}`, "x-postern-client-ip": clientIp },
      body: { loginId, code },
    }),
});

const wrongCode = (code: string) => (code === "000000" ? "111111" : "000000");

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

  describe("failed code attempts", () => {
    let t: TestPostern;
    beforeAll(async () => {
      t = await startTestPostern(backend, {
        POSTERN_LIMIT_FAILED_CODES_PER_IP_PER_HOUR: "4",
        POSTERN_LIMIT_FAILED_CODES_PER_APP_PER_HOUR: "6",
      });
    });
    afterAll(() => t?.close());

    /** Logins started by one IP (starting is not guessing); returns each login's id and code. */
    async function logins(app: TestApp, startIp: string, emails: string[]) {
      const before = Date.now() - 1000;
      const started: StartedLogin[] = [];
      for (const email of emails) {
        const res = await asServer(t, app, startIp).startLogin(email);
        expect(res.status).toBe(202);
        started.push({ loginId: res.body.loginId, code: (await t.latestLoginEmail(email, before)).code });
      }
      return started;
    }

    it("stops one IP guessing across many logins, a fresh login included, with Retry-After", async () => {
      const app = await t.createApp(await t.signIn("dev-ip@example.com"));
      const [l1, l2, l3] = await logins(app, "192.0.2.10", [
        "g1@example.com",
        "g2@example.com",
        "g3@example.com",
      ]);
      const guesser = asServer(t, app, "192.0.2.66");
      for (const login of [l1!, l1!, l2!, l2!]) {
        const res = await guesser.verify(login.loginId, wrongCode(login.code));
        expect(res.body.code).toBe("invalid_code");
      }
      expectRateLimited(await guesser.verify(l3!.loginId, wrongCode(l3!.code)));
      // Refused before the code is looked at: a right guess would otherwise tell the guesser so.
      expectRateLimited(await guesser.verify(l3!.loginId, l3!.code));
      // The refused guesses did not use up the login's own tries.
      expect((await asServer(t, app, "192.0.2.67").verify(l3!.loginId, l3!.code)).status).toBe(200);
    });

    it("counts failures, not successes", async () => {
      const app = await t.createApp(await t.signIn("dev-ok@example.com"));
      const emails = Array.from({ length: 6 }, (_, i) => `ok${i}@example.com`);
      const started = await logins(app, "192.0.2.20", emails);
      const user = asServer(t, app, "192.0.2.21");
      for (const login of started.slice(0, 5))
        expect((await user.verify(login.loginId, login.code)).status).toBe(200);
      const last = started[5]!;
      for (let i = 0; i < 4; i++)
        expect((await user.verify(last.loginId, wrongCode(last.code))).body.code).toBe("invalid_code");
      expectRateLimited(await user.verify(last.loginId, wrongCode(last.code)));
    });

    it("past the app's ceiling each login gets one try: guessing stops, the app's users still sign in", async () => {
      const target = await t.createApp(await t.signIn("dev-app@example.com"));
      const bystander = await t.createApp(await t.signIn("dev-other@example.com"));
      const started = await logins(target, "192.0.2.30", [
        "a1@example.com",
        "a2@example.com",
        "a3@example.com",
      ]);
      for (const [i, login] of started.entries()) {
        const guesser = asServer(t, target, `192.0.2.${40 + i}`);
        for (let k = 0; k < 2; k++)
          expect((await guesser.verify(login.loginId, wrongCode(login.code))).body.code).toBe("invalid_code");
      }
      // The ceiling (6) is reached: a wrong guess now spends the login, answered 429 with Retry-After…
      const [fresh, person] = await logins(target, "192.0.2.30", ["a4@example.com", "a5@example.com"]);
      const refused = await asServer(t, target, "192.0.2.49").verify(fresh!.loginId, wrongCode(fresh!.code));
      expectRateLimited(refused);
      expect(refused.body.detail).toMatch(/application/);
      const spent = await asServer(t, target, "192.0.2.48").verify(fresh!.loginId, fresh!.code);
      expect(spent.body.code).toBe("too_many_attempts");
      // …while someone with the right code still signs in: nobody can switch the app's logins off.
      expect((await asServer(t, target, "192.0.2.52").verify(person!.loginId, person!.code)).status).toBe(
        200,
      );

      const [other] = await logins(bystander, "192.0.2.50", ["b1@example.com"]);
      expect((await asServer(t, bystander, "192.0.2.51").verify(other!.loginId, other!.code)).status).toBe(
        200,
      );
    });

    it("stops one IP guessing dashboard sign-in codes", async () => {
      const started: StartedLogin[] = [];
      const before = Date.now() - 1000;
      for (const email of ["d1@example.com", "d2@example.com", "d3@example.com"]) {
        const res = await fromAddress(t, "192.0.2.60", "/api/auth/email", { email });
        expect(res.status).toBe(202);
        started.push({ loginId: res.body.loginId, code: (await t.latestLoginEmail(email, before)).code });
      }
      const guess = (ip: string, login: StartedLogin, code: string) =>
        fromAddress(t, ip, "/api/auth/email/verify", { loginId: login.loginId, code });
      const [d1, d2, d3] = started;
      for (const login of [d1!, d1!, d2!, d2!])
        expect((await guess("2001:db8:66::1", login, wrongCode(login.code))).body.code).toBe("invalid_code");
      // Another address of the same /64 is the same guesser.
      expectRateLimited(await guess("2001:db8:66::2", d3!, wrongCode(d3!.code)));
      expect((await guess("192.0.2.61", d3!, d3!.code)).status).toBe(200);
    });
  });
});
