import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_TYPES_FILE, sdkTypesFrom } from "../../packages/sdk/scripts/openapi-types.ts";
import { PosternClient, PosternError, verifyToken } from "../../packages/sdk/src/index.ts";
import { interactionBase, TestBrowser } from "../oidc/support.ts";
import { type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The SDK against a Postern listening on loopback, as an app's server or page would call it. */
describe("the SDK (@postern/sdk)", () => {
  let t: TestPostern;
  let url: string;
  let session: Session;
  let spa: { id: string; publishableKey: string; secretKey: string };
  let web: { id: string; publishableKey: string; secretKey: string };
  const redirectUri = "https://app.example/callback";

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    t = await startTestPostern("pglite", { PUBLIC_URL: url, POSTERN_LIMIT_ADDRESS_PER_MINUTE: "50" });
    await t.postern.http.listen({ port, host: "127.0.0.1" });
    session = await t.signIn("dev@example.com");
    spa = await t.createApp(session, { name: "SPA", redirectUrls: [redirectUri] });
    await t.request("PATCH", `/api/apps/${spa.id}`, {
      session,
      body: { oidc: { tokenEndpointAuthMethod: "none" } },
    });
    web = await t.createApp(session, { name: "Web", redirectUrls: [redirectUri] });
    await t.request("PATCH", `/api/apps/${web.id}`, { session, body: { oidc: { refreshTokens: true } } });
  });
  afterAll(() => t?.close());

  /** The person's part: the hosted page, email, code; returns where the browser lands. */
  async function personSignsIn(signInUrl: string, email: string) {
    const browser = new TestBrowser(t.postern, url);
    const base = interactionBase(await browser.get(signInUrl));
    const before = Date.now();
    await browser.post(`${base}/email`, { email });
    const { code } = await t.latestLoginEmail(email, before);
    return { browser, base, landed: (await browser.post(`${base}/code`, { code })).location! };
  }

  it("has the API types it shares with the dashboard generated from /openapi.json, up to date", async () => {
    const document = (await t.request("GET", "/openapi.json")).body;
    expect(await readFile(SDK_TYPES_FILE, "utf8"), "run `npm run sdk:types`").toBe(
      await sdkTypesFrom(document),
    );
  });

  it("starts a login and verifies the code; the session token verifies on a server", async () => {
    const postern = new PosternClient({ url, appId: spa.id, publishableKey: spa.publishableKey });
    const before = Date.now();
    const { loginId } = await postern.startLogin({ email: "Kai@Example.com" });
    const { code } = await t.latestLoginEmail("kai@example.com", before);
    const wrong = await postern.verifyCode(loginId, code === "000000" ? "111111" : "000000").catch((e) => e);
    expect(wrong).toBeInstanceOf(PosternError);
    expect(wrong).toMatchObject({ code: "invalid_code", status: 400, problem: { attemptsRemaining: 4 } });
    const { token, user } = await postern.verifyCode(loginId, code);
    const claims = await verifyToken(token, { url, appId: spa.id });
    expect(claims).toMatchObject({ sub: user.id, email: "kai@example.com", email_verified: true, iss: url });
    // Another app of the same Postern: its keys never verify this app's token.
    await expect(verifyToken(token, { url, appId: web.id })).rejects.toThrow(/no applicable key/);
  });

  it("signs in a public client through the hosted page with PKCE, and signs out", async () => {
    const postern = new PosternClient({ url, appId: spa.id });
    const { url: signInUrl, pending } = await postern.signInUrl({
      redirectUri,
      loginHint: "lee@example.com",
    });
    expect(new URL(signInUrl).searchParams.get("code_challenge_method")).toBe("S256");
    const { landed } = await personSignsIn(signInUrl, "lee@example.com");
    const signedIn = await postern.handleCallback(landed, pending);
    expect(signedIn.claims).toMatchObject({
      iss: postern.issuer,
      aud: spa.id,
      email: "lee@example.com",
      email_verified: true,
      amr: ["otp"],
    });
    expect(signedIn.refreshToken).toBeUndefined();
    expect((await postern.verifyToken(signedIn.idToken)).sub).toBe(signedIn.claims.sub);
    const out = new URL(
      await postern.signOutUrl({ idToken: signedIn.idToken, postLogoutRedirectUri: redirectUri }),
    );
    expect(out.pathname).toBe(`/oidc/${spa.id}/session/end`);
    expect(out.searchParams.get("post_logout_redirect_uri")).toBe(redirectUri);
  });

  it("signs in a confidential client with the secret key, sent basic or post as the app says", async () => {
    const basic = new PosternClient({ url, appId: web.id, secretKey: web.secretKey });
    const first = await basic.signInUrl({
      redirectUri,
      scope: "openid email offline_access",
      prompt: "consent",
    });
    const signedIn = await basic.handleCallback(
      (await personSignsIn(first.url, "mo@example.com")).landed,
      first.pending,
    );
    expect(signedIn.claims.email).toBe("mo@example.com");
    expect(signedIn.refreshToken).toBeDefined();

    const wrongSecret = new PosternClient({ url, appId: web.id, secretKey: "sk_wrong" });
    const second = await wrongSecret.signInUrl({ redirectUri });
    const refused = await wrongSecret
      .handleCallback((await personSignsIn(second.url, "mo@example.com")).landed, second.pending)
      .catch((e) => e);
    expect(refused).toMatchObject({ code: "invalid_client", status: 401 });

    await t.request("PATCH", `/api/apps/${web.id}`, {
      session,
      body: { oidc: { tokenEndpointAuthMethod: "client_secret_post" } },
    });
    const post = new PosternClient({
      url,
      appId: web.id,
      secretKey: web.secretKey,
      tokenEndpointAuthMethod: "client_secret_post",
    });
    const third = await post.signInUrl({ redirectUri });
    expect(
      (await post.handleCallback((await personSignsIn(third.url, "mo@example.com")).landed, third.pending))
        .claims.email,
    ).toBe("mo@example.com");
  });

  it("refuses an answer for another sign-in, and reports a cancelled one", async () => {
    const postern = new PosternClient({ url, appId: spa.id });
    const mine = await postern.signInUrl({ redirectUri });
    const theirs = await postern.signInUrl({ redirectUri });
    const { landed } = await personSignsIn(theirs.url, "ny@example.com");
    await expect(postern.handleCallback(landed, mine.pending)).rejects.toMatchObject({
      code: "state_mismatch",
    });

    const cancelled = await postern.signInUrl({ redirectUri, prompt: "login" });
    const browser = new TestBrowser(t.postern, url);
    const base = interactionBase(await browser.get(cancelled.url));
    const back = (await browser.post(`${base}/abort`, {})).location!;
    await expect(postern.handleCallback(back, cancelled.pending)).rejects.toMatchObject({
      code: "access_denied",
    });
  });

  it("verifies with a clock tolerance: a token just expired passes within it, not beyond", async () => {
    const postern = new PosternClient({ url, appId: spa.id, publishableKey: spa.publishableKey });
    const before = Date.now();
    const { loginId } = await postern.startLogin({ email: "oz@example.com" });
    const { token } = await postern.verifyCode(
      loginId,
      (await t.latestLoginEmail("oz@example.com", before)).code,
    );
    const exp = decodeJwt(token).exp! * 1000;
    const justAfter = new Date(exp + 20_000);
    await expect(verifyToken(token, { url, appId: spa.id, now: justAfter })).resolves.toMatchObject({
      email: "oz@example.com",
    });
    await expect(
      verifyToken(token, { url, appId: spa.id, now: justAfter, clockToleranceSeconds: 10 }),
    ).rejects.toThrow(/exp/);
  });
});
