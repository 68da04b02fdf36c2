import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySessionToken } from "../../src/apps/signing-keys.ts";
import { loginChallenges } from "../../src/db/schema.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

describe.each(backends)("end-user passwordless login (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  let otherApp: { id: string; publishableKey: string };
  const auth = () => ({ authorization: `Bearer ${app.publishableKey}` });

  beforeAll(async () => {
    t = await startTestPostern(backend);
    session = await t.signIn("dev@example.com");
    app = await t.createApp(session, {
      name: "Acme <Shop>",
      redirectUrls: ["https://acme.example/callback"],
    });
    otherApp = await t.createApp(session, { name: "Other" });
  });
  afterAll(() => t?.close());

  it("emails a 6-digit code and a link, and the code returns a JWT that verifies against the app's JWKS", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "Alice@Example.com" },
    });
    expect(start.status).toBe(202);
    expect(start.body).toEqual({ loginId: expect.stringMatching(/^lgn_/), expiresAt: expect.any(String) });
    const email = await t.latestLoginEmail("alice@example.com", before);
    expect(email.subject).toContain("Acme <Shop>");
    const message = t.postern.devMailbox!.list()[0]!;
    expect(message.html).toContain("Acme &lt;Shop&gt;");
    expect(message.html).toContain(email.code);
    expect(message.text).toMatch(/Someone asked to sign in to Acme <Shop> as alice@example.com/);
    expect(message.text).toMatch(/If it was not you, ignore this email/);

    const verified = await t.request("POST", "/v1/login/email/verify", {
      headers: auth(),
      body: { loginId: start.body.loginId, code: email.code },
    });
    expect(verified.status).toBe(200);
    const jwks = await t.request("GET", `/v1/apps/${app.id}/jwks.json`);
    const claims = await verifySessionToken(
      jwks.body as never,
      String(verified.body.token),
      "http://postern.localhost",
      app.id,
    );
    expect(claims).toMatchObject({
      aud: app.id,
      email: "alice@example.com",
      sub: (verified.body.user as { id: string }).id,
    });
  });

  it("stores codes and link tokens only as hashes", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "hash@example.com" },
    });
    const { code, link } = await t.latestLoginEmail("hash@example.com", before);
    const [row] = await t.postern.ctx.db
      .select()
      .from(loginChallenges)
      .where(eq(loginChallenges.id, String(start.body.loginId)));
    const token = new URL(link).searchParams.get("token")!;
    expect(JSON.stringify(row)).not.toContain(code);
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("sends the browser to the allowed redirect URL with the session token, and refuses other URLs", async () => {
    const refused = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "redirect@example.com", redirectUrl: "https://evil.example/callback" },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: "redirect_url_not_allowed", field: "redirectUrl" });
    for (const sneaky of [
      "https://acme.example/callback/../x",
      "https://acme.example/callback?next=//evil",
      "javascript:alert(1)",
      "//evil.example",
    ]) {
      const res = await t.request("POST", "/v1/login/email", {
        headers: auth(),
        body: { email: "redirect@example.com", redirectUrl: sneaky },
      });
      expect(res.status, sneaky).toBe(400);
    }
    const before = Date.now() - 1000;
    const ok = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "redirect@example.com", redirectUrl: "https://acme.example/callback" },
    });
    expect(ok.status).toBe(202);
    const { link, code } = await t.latestLoginEmail("redirect@example.com", before);
    const res = await t.request("POST", "/v1/login/email/link", {
      rawBody: new URLSearchParams({ token: new URL(link).searchParams.get("token")!, code }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(303);
    expect(String(res.headers.location)).toMatch(/^https:\/\/acme\.example\/callback#postern_token=ey/);
  });

  it("allows at most 5 tries per code, counted atomically", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "tries@example.com" },
    });
    const { code } = await t.latestLoginEmail("tries@example.com", before);
    const wrong = code === "000000" ? "111111" : "000000";
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.request("POST", "/v1/login/email/verify", {
          headers: auth(),
          body: { loginId: start.body.loginId, code: wrong },
        }),
      ),
    );
    expect(attempts.filter((r) => r.body.code === "invalid_code")).toHaveLength(5);
    expect(attempts.filter((r) => r.body.code === "too_many_attempts")).toHaveLength(3);
    const right = await t.request("POST", "/v1/login/email/verify", {
      headers: auth(),
      body: { loginId: start.body.loginId, code },
    });
    expect(right.status).toBe(400);
    expect(right.body.code).toBe("too_many_attempts");
  });

  it("makes an older code useless once a new one is sent", async () => {
    const limited = await startTestPostern(backend, { POSTERN_LIMIT_ADDRESS_PER_MINUTE: "10" });
    try {
      const s = await limited.signIn("dev2@example.com");
      const a = await limited.createApp(s);
      const headers = { authorization: `Bearer ${a.publishableKey}` };
      const t1 = Date.now() - 1000;
      const first = await limited.request("POST", "/v1/login/email", {
        headers,
        body: { email: "renew@example.com" },
      });
      const firstEmail = await limited.latestLoginEmail("renew@example.com", t1);
      // The second email is the first one received after this instant (the first was received before it).
      await new Promise((r) => setTimeout(r, 5));
      const t2 = Date.now();
      const second = await limited.request("POST", "/v1/login/email", {
        headers,
        body: { email: "renew@example.com" },
      });
      const secondEmail = await limited.latestLoginEmail("renew@example.com", t2);
      const old = await limited.request("POST", "/v1/login/email/verify", {
        headers,
        body: { loginId: first.body.loginId, code: firstEmail.code },
      });
      expect(old.body.code).toBe("login_expired");
      const fresh = await limited.request("POST", "/v1/login/email/verify", {
        headers,
        body: { loginId: second.body.loginId, code: secondEmail.code },
      });
      expect(fresh.status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("binds a login to its app: another app's key cannot verify it", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "bound@example.com" },
    });
    const { code } = await t.latestLoginEmail("bound@example.com", before);
    const res = await t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${otherApp.publishableKey}` },
      body: { loginId: start.body.loginId, code },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("login_expired");
  });

  it("refuses an expired code", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "late@example.com" },
    });
    const { code } = await t.latestLoginEmail("late@example.com", before);
    await t.postern.ctx.db
      .update(loginChallenges)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(loginChallenges.id, String(start.body.loginId)));
    const res = await t.request("POST", "/v1/login/email/verify", {
      headers: auth(),
      body: { loginId: start.body.loginId, code },
    });
    expect(res.body.code).toBe("login_expired");
  });

  it("answers an unknown address exactly like a known one", async () => {
    const known = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "alice2@example.com" },
    });
    const unknown = await t.request("POST", "/v1/login/email", {
      headers: auth(),
      body: { email: "nobody-ever@example.com" },
    });
    expect(known.status).toBe(unknown.status);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
  });

  it("limits sends per address under concurrent requests, with Retry-After", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.request("POST", "/v1/login/email", { headers: auth(), body: { email: "burst@example.com" } }),
      ),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(5);
    expect(Number(limited[0]!.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited[0]!.body.code).toBe("rate_limited");
  });

  it("limits sends per address per hour and per IP", async () => {
    const limited = await startTestPostern(backend, {
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "3",
      POSTERN_LIMIT_IP_PER_HOUR: "6",
    });
    try {
      const s = await limited.signIn("dev3@example.com");
      const a = await limited.createApp(s);
      const headers = { authorization: `Bearer ${a.publishableKey}` };
      const sameAddress = [];
      for (let i = 0; i < 4; i++)
        sameAddress.push(
          await limited.request("POST", "/v1/login/email", {
            headers,
            body: { email: "hourly@example.com" },
          }),
        );
      expect(sameAddress.map((r) => r.status)).toEqual([202, 202, 202, 429]);
      // Every request counts against the IP's budget, refused ones too: the sign-in and these 4 used 5
      // of its 6, so one more address gets through, then 429.
      const other = await limited.request("POST", "/v1/login/email", {
        headers,
        body: { email: "other1@example.com" },
      });
      const blocked = await limited.request("POST", "/v1/login/email", {
        headers,
        body: { email: "other2@example.com" },
      });
      expect([other.status, blocked.status]).toEqual([202, 429]);
    } finally {
      await limited.close();
    }
  });

  it("holds an app's hourly budget across concurrent requests", async () => {
    const budget = await startTestPostern(backend, {
      POSTERN_LIMIT_APP_PER_HOUR: "5",
      POSTERN_LIMIT_IP_PER_HOUR: "1000",
    });
    try {
      const s = await budget.signIn("dev4@example.com");
      const a = await budget.createApp(s);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          budget.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${a.publishableKey}` },
            body: { email: `b${i}@example.com` },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 202)).toHaveLength(5);
      const refused = results.filter((r) => r.status === 429);
      expect(refused).toHaveLength(7);
      expect(refused[0]!.body.detail).toMatch(/hourly login email budget/);
      expect(Number(refused[0]!.headers["retry-after"])).toBeGreaterThan(0);
    } finally {
      await budget.close();
    }
  });

  it("rejects a missing or unknown publishable key", async () => {
    const none = await t.request("POST", "/v1/login/email", { body: { email: "a@example.com" } });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe("invalid_publishable_key");
    const wrong = await t.request("POST", "/v1/login/email", {
      headers: { authorization: "Bearer pk_nope" },
      body: { email: "a@example.com" },
    });
    expect(wrong.status).toBe(401);
  });
});

describe("client addresses behind a reverse proxy", () => {
  const attempt = async (trustProxy: string) => {
    const t = await startTestPostern("pglite", {
      POSTERN_TRUST_PROXY: trustProxy,
      POSTERN_LIMIT_IP_PER_HOUR: "2",
    });
    try {
      const s = await t.signIn("proxy@example.com");
      const a = await t.createApp(s);
      const send = (ip: string, email: string) =>
        t.request("POST", "/v1/login/email", {
          headers: { authorization: `Bearer ${a.publishableKey}`, "x-forwarded-for": ip },
          body: { email },
        });
      return [
        (await send("203.0.113.7", "p1@example.com")).status,
        (await send("198.51.100.9", "p2@example.com")).status,
      ];
    } finally {
      await t.close();
    }
  };

  it("counts per-IP limits by X-Forwarded-For only when the operator trusts the proxy", async () => {
    // The sign-in used one of the proxy's own 2; untrusted, everyone shares the proxy's address.
    expect(await attempt("false")).toEqual([202, 429]);
    expect(await attempt("true")).toEqual([202, 202]);
    // Two Posterns start and stop in this test.
  }, 180_000);
});

describe("server-side calls with the secret key", () => {
  it("may name the end user's address for per-IP limits; a publishable-key call may not", async () => {
    const t = await startTestPostern("pglite", { POSTERN_LIMIT_IP_PER_HOUR: "1" });
    try {
      const s = await t.signIn("server@example.com");
      const a = await t.createApp(s);
      const send = (key: string, ip: string, email: string) =>
        t.request("POST", "/v1/login/email", {
          headers: { authorization: `Bearer ${key}`, "x-postern-client-ip": ip },
          body: { email },
        });
      expect((await send(a.secretKey, "203.0.113.7", "s1@example.com")).status).toBe(202);
      expect((await send(a.secretKey, "198.51.100.9", "s2@example.com")).status).toBe(202);
      expect((await send(a.secretKey, "203.0.113.7", "s3@example.com")).status).toBe(429);
      const spoofed = await send(a.publishableKey, "192.0.2.1", "s4@example.com");
      expect(spoofed.status).toBe(403);
      expect(spoofed.body.code).toBe("client_ip_needs_secret_key");
      expect((await send(a.secretKey, "not-an-ip", "s5@example.com")).body.code).toBe("invalid_client_ip");
    } finally {
      await t.close();
    }
  });
});
