import { decodeProtectedHeader } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { newPglite } from "../support/database-templates.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { interactionBase, PUBLIC_ORIGIN, relyingParty, TestBrowser } from "./support.ts";

interface TestApp {
  id: string;
  publishableKey: string;
  secretKey: string;
  issuer: string;
  redirect: string;
}

describe.each(backends)("OpenID Connect provider (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let spa: TestApp;
  let web: TestApp;
  let other: TestApp;

  async function app(name: string, redirect: string, oidc: Record<string, unknown>): Promise<TestApp> {
    const created = await t.createApp(session, { name, redirectUrls: [redirect] });
    const patched = await t.request("PATCH", `/api/apps/${created.id}`, { session, body: { oidc } });
    expect(patched.status).toBe(200);
    return { ...created, issuer: String(patched.body.issuer), redirect };
  }

  /** A person signs in on the hosted page; returns the app's callback URL and the checks to redeem it. */
  async function signIn(
    browser: TestBrowser,
    config: client.Configuration,
    target: TestApp,
    email: string,
    extra: Record<string, string> = {},
  ) {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const expectedState = client.randomState();
    const expectedNonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: target.redirect,
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: "S256",
      state: expectedState,
      nonce: expectedNonce,
      ...extra,
    });
    const page = await browser.get(url.toString());
    expect(page.status).toBe(200);
    const base = interactionBase(page);
    const before = Date.now();
    const sent = await browser.post(`${base}/email`, { email });
    expect(sent.text).toContain("Check your email");
    const { code } = await t.latestLoginEmail(email.toLowerCase(), before);
    const done = await browser.post(`${base}/code`, { code });
    expect(done.location, done.text).toBeDefined();
    return { callback: new URL(done.location!), checks: { pkceCodeVerifier, expectedState, expectedNonce } };
  }

  const tokenRequest = (appId: string, form: Record<string, string>, secret?: string) =>
    t.request("POST", `/oidc/${appId}/token`, {
      rawBody: new URLSearchParams(form).toString(),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(secret ? { authorization: `Basic ${Buffer.from(`${appId}:${secret}`).toString("base64")}` } : {}),
      },
    });

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
    });
    session = await t.signIn("dev@example.com");
    spa = await app("Single page", "https://spa.example/callback", { tokenEndpointAuthMethod: "none" });
    web = await app("Web app", "https://web.example/callback", { refreshTokens: true });
    other = await app("Other tenant's app", "https://other.example/callback", {});
  });
  afterAll(() => t?.close());

  it("publishes each app's issuer and its discovery document, with ES256 keys and PKCE S256 only", async () => {
    expect(spa.issuer).toBe(`${PUBLIC_ORIGIN}/oidc/${spa.id}`);
    // The issuer comes from PUBLIC_URL, never from the Host header (a loopback name here: with the
    // dev mailbox, a foreign Host is refused with 421 before any route runs).
    const discovery = await t.request("GET", `/oidc/${spa.id}/.well-known/openid-configuration`, {
      headers: { host: "localhost:9" },
    });
    expect(discovery.status).toBe(200);
    expect(discovery.body).toMatchObject({
      issuer: spa.issuer,
      authorization_endpoint: `${spa.issuer}/auth`,
      token_endpoint: `${spa.issuer}/token`,
      jwks_uri: `${spa.issuer}/jwks`,
      userinfo_endpoint: `${spa.issuer}/me`,
      end_session_endpoint: `${spa.issuer}/session/end`,
      id_token_signing_alg_values_supported: ["ES256"],
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
    });
    const jwks = await t.request("GET", `/oidc/${spa.id}/jwks`);
    const appKeys = await t.request("GET", `/v1/apps/${spa.id}/jwks.json`);
    expect((jwks.body.keys as { kid: string }[]).map((k) => k.kid)).toEqual(
      (appKeys.body.keys as { kid: string }[]).map((k) => k.kid),
    );
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    expect((await t.request("GET", "/oidc/app_nope/.well-known/openid-configuration")).status).toBe(404);
  });

  it("lets a public client sign in with code + PKCE through the hosted page; the ID token carries the claims", async () => {
    const config = await relyingParty(t.postern, spa.issuer, spa.id, client.None());
    const { callback, checks } = await signIn(new TestBrowser(t.postern), config, spa, "Pat@Example.com");
    expect(callback.origin + callback.pathname).toBe(spa.redirect);
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: "ES256" });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: spa.issuer,
      aud: spa.id,
      email: "pat@example.com",
      email_verified: true,
      amr: ["otp"],
      nonce: checks.expectedNonce,
    });
    expect(claims.sub).toMatch(/^usr_/);
    expect(typeof claims.auth_time).toBe("number");
    expect(tokens.refresh_token).toBeUndefined();
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, email: "pat@example.com", email_verified: true });

    // The same person through the /v1 API is the same end user, signed by the same key.
    const before = Date.now();
    const start = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${spa.publishableKey}` },
      body: { email: "pat@example.com" },
    });
    const { code } = await t.latestLoginEmail("pat@example.com", before);
    const verified = await t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${spa.publishableKey}` },
      body: { loginId: start.body.loginId, code },
    });
    expect((verified.body.user as { id: string }).id).toBe(claims.sub);
    expect(decodeProtectedHeader(String(verified.body.token)).kid).toBe(
      decodeProtectedHeader(tokens.id_token!).kid,
    );
  });

  it("lets a confidential client sign in with the app's secret key, with refresh tokens when the app allows them", async () => {
    const config = await relyingParty(t.postern, web.issuer, web.id, client.ClientSecretBasic(web.secretKey));
    const { callback, checks } = await signIn(new TestBrowser(t.postern), config, web, "robin@example.com", {
      scope: "openid email offline_access",
      prompt: "consent",
    });
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    expect(tokens.claims()).toMatchObject({ iss: web.issuer, aud: web.id, email: "robin@example.com" });
    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);

    // client_secret_post, once the app says so; the same secret key.
    await t.request("PATCH", `/api/apps/${web.id}`, {
      session,
      body: { oidc: { tokenEndpointAuthMethod: "client_secret_post" } },
    });
    const post = await relyingParty(t.postern, web.issuer, web.id, client.ClientSecretPost(web.secretKey));
    const again = await signIn(new TestBrowser(t.postern), post, web, "robin@example.com");
    expect((await client.authorizationCodeGrant(post, again.callback, again.checks)).claims()?.email).toBe(
      "robin@example.com",
    );
    await t.request("PATCH", `/api/apps/${web.id}`, {
      session,
      body: { oidc: { tokenEndpointAuthMethod: "client_secret_basic" } },
    });
  });

  it("refuses a redirect URI that is not exactly one of the app's, without redirecting to it", async () => {
    const config = await relyingParty(t.postern, spa.issuer, spa.id);
    for (const redirect_uri of [
      "https://evil.example/callback",
      "https://spa.example/callback/",
      "https://spa.example/callback?next=/x",
    ]) {
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri,
        scope: "openid",
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: "S256",
      });
      const answer = await new TestBrowser(t.postern).get(url.toString());
      expect(answer.status, redirect_uri).toBe(400);
      expect(answer.location).toBeUndefined();
      expect(answer.text).toContain("invalid_redirect_uri");
      expect(answer.text).toContain("This sign-in cannot continue");
    }
  });

  it("requires PKCE with S256", async () => {
    const config = await relyingParty(t.postern, spa.issuer, spa.id);
    const missing = await new TestBrowser(t.postern).get(
      client
        .buildAuthorizationUrl(config, { redirect_uri: spa.redirect, scope: "openid", state: "s1" })
        .toString(),
    );
    const refused = new URL(missing.location!);
    expect(refused.origin + refused.pathname).toBe(spa.redirect);
    expect(refused.searchParams.get("error")).toBe("invalid_request");
    expect(refused.searchParams.get("error_description")).toMatch(/PKCE/);
    expect(refused.searchParams.get("state")).toBe("s1");
    const plain = await new TestBrowser(t.postern).get(
      client
        .buildAuthorizationUrl(config, {
          redirect_uri: spa.redirect,
          scope: "openid",
          code_challenge: "a".repeat(43),
          code_challenge_method: "plain",
        })
        .toString(),
    );
    expect(new URL(plain.location!).searchParams.get("error")).toBe("invalid_request");
  });

  it("refuses a reused code, a wrong verifier, a wrong redirect URI, a wrong secret and another app's code", async () => {
    const config = await relyingParty(t.postern, web.issuer, web.id, client.ClientSecretBasic(web.secretKey));
    const first = await signIn(new TestBrowser(t.postern), config, web, "errors@example.com");
    const code = first.callback.searchParams.get("code")!;
    const redeem = { grant_type: "authorization_code", code, redirect_uri: web.redirect };
    const verifier = first.checks.pkceCodeVerifier;

    const wrongSecret = await tokenRequest(web.id, { ...redeem, code_verifier: verifier }, "sk_wrong");
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe("invalid_client");
    const noSecret = await tokenRequest(web.id, { ...redeem, code_verifier: verifier, client_id: web.id });
    expect(noSecret.body.error).toBe("invalid_client");
    const foreign = await tokenRequest(other.id, { ...redeem, code_verifier: verifier }, other.secretKey);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe("invalid_grant");
    const asForeignClient = await tokenRequest(
      other.id,
      { ...redeem, code_verifier: verifier },
      web.secretKey,
    );
    expect(asForeignClient.body.error).toBe("invalid_client");

    const second = await signIn(new TestBrowser(t.postern), config, web, "errors@example.com");
    const secondCode = second.callback.searchParams.get("code")!;
    const wrongRedirect = await tokenRequest(
      web.id,
      {
        ...redeem,
        code: secondCode,
        redirect_uri: "https://web.example/other",
        code_verifier: second.checks.pkceCodeVerifier,
      },
      web.secretKey,
    );
    expect(wrongRedirect.body.error).toBe("invalid_grant");
    const third = await signIn(new TestBrowser(t.postern), config, web, "errors@example.com");
    const wrongVerifier = await tokenRequest(
      web.id,
      {
        ...redeem,
        code: third.callback.searchParams.get("code")!,
        code_verifier: client.randomPKCECodeVerifier(),
      },
      web.secretKey,
    );
    expect(wrongVerifier.body.error).toBe("invalid_grant");

    const tokens = await client.authorizationCodeGrant(config, first.callback, first.checks);
    const reused = await tokenRequest(web.id, { ...redeem, code_verifier: verifier }, web.secretKey);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
    // A reused code revokes what it was exchanged for (RFC 6749 §4.1.2).
    await expect(
      client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck),
    ).rejects.toThrow();
  });

  it("keeps a session per app: signed in to one app is not signed in to another", async () => {
    const browser = new TestBrowser(t.postern);
    const spaConfig = await relyingParty(t.postern, spa.issuer, spa.id);
    await signIn(browser, spaConfig, spa, "both@example.com");
    // Signed in at this issuer: the next authorization needs no page at all.
    const silent = await browser.get(
      client
        .buildAuthorizationUrl(spaConfig, {
          redirect_uri: spa.redirect,
          scope: "openid email",
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: "S256",
        })
        .toString(),
    );
    expect(new URL(silent.location!).searchParams.get("code")).toBeTruthy();
    const otherConfig = await relyingParty(
      t.postern,
      other.issuer,
      other.id,
      client.ClientSecretBasic(other.secretKey),
    );
    const elsewhere = await browser.get(
      client
        .buildAuthorizationUrl(otherConfig, {
          redirect_uri: other.redirect,
          scope: "openid email",
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: "S256",
        })
        .toString(),
    );
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.text).toContain("Sign in to Other tenant&#39;s app");
  });

  it("lets another person sign in on a browser where someone is signed in: the first is signed out", async () => {
    const browser = new TestBrowser(t.postern);
    const config = await relyingParty(t.postern, spa.issuer, spa.id);
    await signIn(browser, config, spa, "first@example.com");
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: spa.redirect,
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
      prompt: "login",
    });
    const base = interactionBase(await browser.get(url.toString()));
    const before = Date.now();
    await browser.post(`${base}/email`, { email: "second@example.com" });
    const { code } = await t.latestLoginEmail("second@example.com", before);
    // oidc-provider ends the first person's session with a self-submitting form (a button without JS).
    const switching = await browser.post(`${base}/code`, { code });
    expect(switching.text).toContain("session/end/confirm");
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(switching.text)![1]!;
    const done = await browser.post(`${spa.issuer.replace(PUBLIC_ORIGIN, "")}/session/end/confirm`, {
      xsrf,
      logout: "yes",
    });
    const callback = new URL(done.location!);
    expect(callback.searchParams.get("code")).toBeTruthy();
  });

  it("signs out at the app's request (RP-initiated logout) and back to its redirect URL", async () => {
    const browser = new TestBrowser(t.postern);
    const config = await relyingParty(t.postern, spa.issuer, spa.id);
    const { callback, checks } = await signIn(browser, config, spa, "leaving@example.com");
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: spa.redirect,
      state: "bye",
    });
    const confirm = await browser.get(logout.toString());
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain("Sign out of Single page?");
    const action = /<form[^>]*action="([^"]+)"/.exec(confirm.text)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1]!;
    const out = await browser.post(action.replaceAll("&amp;", "&"), { xsrf, logout: "yes" });
    const back = new URL(out.location!);
    expect(back.origin + back.pathname).toBe(spa.redirect);
    expect(back.searchParams.get("state")).toBe("bye");
    const again = await browser.get(
      client
        .buildAuthorizationUrl(config, {
          redirect_uri: spa.redirect,
          scope: "openid",
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: "S256",
        })
        .toString(),
    );
    expect(again.text).toContain("Sign in to Single page");
  });

  it("keeps sessions and grants in the database: a sign-in begun in one process ends in another", async () => {
    const secretKey = formatKeyring([generateSecretKey()]);
    const env = { POSTERN_SECRET_KEY: secretKey, POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100" };
    const pglite = backend === "pglite" ? await newPglite() : undefined;
    const first = await startTestPostern(backend, env, pglite ? { pglite } : {});
    // Only the first process sends email, so the code arrives in its dev mailbox.
    const second = await startTestPostern(backend, env, {
      workers: false,
      ...(pglite ? { pglite } : { databaseUrl: first.databaseUrl! }),
    });
    try {
      const s = await first.signIn("ops@example.com");
      const created = await first.createApp(s, {
        name: "Shared",
        redirectUrls: ["https://shared.example/cb"],
      });
      await first.request("PATCH", `/api/apps/${created.id}`, {
        session: s,
        body: { oidc: { tokenEndpointAuthMethod: "none" } },
      });
      const issuer = `${PUBLIC_ORIGIN}/oidc/${created.id}`;
      const config = await relyingParty(first.postern, issuer, created.id);
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const browser = new TestBrowser(first.postern);
      const page = await browser.get(
        client
          .buildAuthorizationUrl(config, {
            redirect_uri: "https://shared.example/cb",
            scope: "openid email",
            code_challenge: await client.calculatePKCECodeChallenge(verifier),
            code_challenge_method: "S256",
            state,
          })
          .toString(),
      );
      const base = interactionBase(page);
      const before = Date.now();
      await browser.use(second.postern).post(`${base}/email`, { email: "moving@example.com" });
      const { code } = await first.latestLoginEmail("moving@example.com", before);
      const done = await browser.use(first.postern).post(`${base}/code`, { code });
      const onSecond = await relyingParty(second.postern, issuer, created.id);
      const tokens = await client.authorizationCodeGrant(onSecond, new URL(done.location!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(info.email).toBe("moving@example.com");
    } finally {
      await second.close();
      await first.close();
      await pglite?.close();
    }
  });
});
