import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySessionToken } from "../../src/apps/signing-keys.ts";
import { loginChallenges } from "../../src/db/schema.ts";
import {
  backends,
  type Response,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";

/** The `name=value` of a cookie the response sets, if it sets it. */
function cookieFrom(res: Response, name: string): string | undefined {
  const header = res.headers["set-cookie"];
  const lines = Array.isArray(header) ? header : header ? [String(header)] : [];
  return lines.map((line) => line.split(";")[0]!).find((pair) => pair.startsWith(`${name}=`));
}

const pathOf = (link: string) => new URL(link).pathname + new URL(link).search;
const tokenOf = (link: string) => new URL(link).searchParams.get("token")!;

describe.each(backends)("magic links that survive link scanners (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string; secretKey: string };
  const APP_ORIGIN = "https://acme.example";

  /** Posts a page's form as a browser would (urlencoded, same-origin). */
  const submit = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.request("POST", path, {
      rawBody: new URLSearchParams(fields).toString(),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://postern.localhost",
        "sec-fetch-site": "same-origin",
        ...headers,
      },
    });

  /** A login asked for from the app's own page in a browser; returns the browser's cookie and the email. */
  async function loginFromBrowser(email: string) {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}`, origin: APP_ORIGIN },
      body: { email, redirectUrl: `${APP_ORIGIN}/callback` },
    });
    expect(start.status).toBe(202);
    expect(start.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    expect(start.headers["access-control-allow-credentials"]).toBe("true");
    const cookie = cookieFrom(start, "postern_browser");
    expect(cookie).toBeDefined();
    return {
      cookie: cookie!,
      loginId: String(start.body.loginId),
      ...(await t.latestLoginEmail(email, before)),
    };
  }

  const challenge = async (loginId: string) =>
    (await t.postern.ctx.db.select().from(loginChallenges).where(eq(loginChallenges.id, loginId)))[0]!;

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "50",
    });
    session = await t.signIn("dev@example.com");
    app = await t.createApp(session, { name: "Acme", redirectUrls: [`${APP_ORIGIN}/callback`] });
  });
  afterAll(() => t?.close());

  it("never uses a link on GET or HEAD, and signs in once with one click in the browser that asked", async () => {
    const login = await loginFromBrowser("bound@example.com");
    const path = pathOf(login.link);
    for (let i = 0; i < 3; i++) {
      const scan = await t.request("GET", path, { headers: { "user-agent": "Go-http-client/1.1" } });
      expect(scan.status).toBe(200);
      expect(scan.text).toContain("Enter your code to continue");
      expect((await t.request("HEAD", path)).status).toBe(200);
    }
    expect((await challenge(login.loginId)).consumedAt).toBeNull();

    const opened = await t.request("GET", path, { headers: { cookie: login.cookie } });
    expect(opened.status).toBe(200);
    expect(opened.text).toContain("Sign in to Acme");
    expect(opened.text).toContain('<button type="submit">Sign in</button>');
    expect(opened.headers["cache-control"]).toBe("no-store");
    expect(opened.headers["x-frame-options"]).toBe("DENY");
    expect((await challenge(login.loginId)).consumedAt).toBeNull();

    const signedIn = await submit(
      "/v1/login/email/link",
      { token: tokenOf(login.link) },
      { cookie: login.cookie },
    );
    expect(signedIn.status).toBe(303);
    const location = String(signedIn.headers.location);
    expect(location).toMatch(/^https:\/\/acme\.example\/callback#postern_token=ey/);
    const jwks = await t.request("GET", `/v1/apps/${app.id}/jwks.json`);
    const token = decodeURIComponent(location.split("#postern_token=")[1]!);
    const claims = await verifySessionToken(jwks.body as never, token, "http://postern.localhost", app.id);
    expect(claims).toMatchObject({ email: "bound@example.com", email_verified: true });

    const again = await submit(
      "/v1/login/email/link",
      { token: tokenOf(login.link) },
      { cookie: login.cookie },
    );
    expect(again.status).toBe(400);
    expect(again.text).toContain("This link can no longer be used");
    const code = await t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { loginId: login.loginId, code: login.code },
    });
    expect(code.body.code).toBe("login_expired");
  });

  it("asks any other browser for the code first: a scanner's clicks and empty forms use nothing", async () => {
    const login = await loginFromBrowser("elsewhere@example.com");
    const token = tokenOf(login.link);
    // A scanner replays the one-click form without the asking browser's cookie, and submits the code form empty.
    const replay = await submit("/v1/login/email/link", { token });
    expect(replay.status).toBe(200);
    expect(replay.text).toContain("Enter your code to continue");
    const empty = await submit("/v1/login/email/link", { token, code: "" });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain("Enter the 6 digits from the email.");
    const words = await submit("/v1/login/email/link", { token, code: "scanner" });
    expect(words.status).toBe(400);
    const stale = await challenge(login.loginId);
    expect(stale.consumedAt).toBeNull();
    expect(stale.attempts).toBe(0);

    const wrong = login.code === "000000" ? "111111" : "000000";
    const miss = await submit("/v1/login/email/link", { token, code: wrong });
    expect(miss.status).toBe(400);
    expect(miss.text).toContain("That code is not right. You have 4 tries left.");
    expect(miss.text).toContain('aria-invalid="true"');

    // The person's phone: no cookie, the code from the same email.
    const phone = await submit("/v1/login/email/link", { token, code: login.code });
    expect(phone.status).toBe(303);
    expect(String(phone.headers.location)).toMatch(/#postern_token=ey/);
    const inBrowser = await submit("/v1/login/email/link", { token }, { cookie: login.cookie });
    expect(inBrowser.status).toBe(400);
    expect(inBrowser.text).toContain("This link can no longer be used");
  });

  it("binds nothing when a server asks (no browser): the link always asks for the code", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.secretKey}`, "x-postern-client-ip": "203.0.113.7" },
      body: { email: "server@example.com" },
    });
    expect(start.status).toBe(202);
    expect(cookieFrom(start, "postern_browser")).toBeUndefined();
    const { link, code } = await t.latestLoginEmail("server@example.com", before);
    const someBrowser = (await loginFromBrowser("other@example.com")).cookie;
    const opened = await t.request("GET", pathOf(link), { headers: { cookie: someBrowser } });
    expect(opened.text).toContain("Enter your code to continue");
    const oneClick = await submit("/v1/login/email/link", { token: tokenOf(link) }, { cookie: someBrowser });
    expect(oneClick.text).toContain("Enter your code to continue");
    const withCode = await submit("/v1/login/email/link", { token: tokenOf(link), code });
    expect(withCode.status).toBe(200);
    expect(withCode.text).toContain("You are signed in to Acme");
  });

  it("ignores a form posted from another site (login CSRF) without using the link", async () => {
    const login = await loginFromBrowser("csrf@example.com");
    const token = tokenOf(login.link);
    for (const headers of [
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      { "sec-fetch-site": "same-site", origin: "https://evil.postern.localhost" },
    ]) {
      const forged = await submit("/v1/login/email/link", { token, code: login.code }, headers);
      expect(forged.status).toBe(403);
      expect(forged.text).toContain("sent from another site");
    }
    expect((await challenge(login.loginId)).consumedAt).toBeNull();
    expect((await submit("/v1/login/email/link", { token }, { cookie: login.cookie })).status).toBe(303);
  });

  it("keeps a link to its own app and flow, and lets it expire with the code", async () => {
    const login = await loginFromBrowser("scope@example.com");
    const asDashboard = await t.request("GET", `/api/auth/email/link?token=${tokenOf(login.link)}`, {
      headers: { cookie: login.cookie },
    });
    expect(asDashboard.status).toBe(400);
    expect(asDashboard.text).toContain("This link can no longer be used");

    const realNow = t.postern.ctx.now;
    t.postern.ctx.now = () => new Date(Date.now() + 11 * 60_000);
    try {
      expect((await t.request("GET", pathOf(login.link), { headers: { cookie: login.cookie } })).status).toBe(
        400,
      );
      const late = await submit(
        "/v1/login/email/link",
        { token: tokenOf(login.link) },
        { cookie: login.cookie },
      );
      expect(late.status).toBe(400);
    } finally {
      t.postern.ctx.now = realNow;
    }
  });

  it("refuses a browser origin that is not one of the app's, and answers preflights", async () => {
    const preflight = await t.request("OPTIONS", "/v1/login/email", {
      headers: { origin: APP_ORIGIN, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-headers"]).toContain("authorization");
    const foreign = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}`, origin: "https://evil.example" },
      body: { email: "foreign@example.com" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: "origin_not_allowed" });
    expect(cookieFrom(foreign, "postern_browser")).toBeUndefined();
  });

  it("treats dashboard sign-in links the same: one click where asked, the code anywhere else", async () => {
    const before = Date.now() - 1000;
    const start = await t.request("POST", "/api/auth/email", { body: { email: "dashlink@example.com" } });
    expect(start.status).toBe(202);
    const cookie = cookieFrom(start, "postern_browser")!;
    const first = await t.latestLoginEmail("dashlink@example.com", before);
    expect(new URL(first.link).pathname).toBe("/api/auth/email/link");
    expect((await t.request("GET", pathOf(first.link))).text).toContain("Enter your code to continue");
    expect((await t.request("HEAD", pathOf(first.link))).status).toBe(200);
    expect((await t.request("GET", pathOf(first.link), { headers: { cookie } })).text).toContain(
      "Sign in to Postern",
    );
    const signedIn = await submit("/api/auth/email/link", { token: tokenOf(first.link) }, { cookie });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe("/");
    const sessionCookie = cookieFrom(signedIn, "postern_session")!;
    expect((await t.request("GET", "/api/me", { headers: { cookie: sessionCookie } })).status).toBe(200);
    const again = await submit("/api/auth/email/link", { token: tokenOf(first.link) }, { cookie });
    expect(again.text).toContain("This link can no longer be used");
    expect(again.text).toContain('href="/sign-in"');

    const later = Date.now();
    await t.request("POST", "/api/auth/email", { body: { email: "dashlink@example.com" } });
    const second = await t.latestLoginEmail("dashlink@example.com", later);
    const phone = await submit("/api/auth/email/link", { token: tokenOf(second.link), code: second.code });
    expect(phone.status).toBe(303);
    const phoneSession = cookieFrom(phone, "postern_session")!;
    expect((await t.request("GET", "/api/me", { headers: { cookie: phoneSession } })).status).toBe(200);
  });
});
