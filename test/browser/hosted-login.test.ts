// openid-client, a certified relying-party library, signs a person in to two apps through the hosted
// login page in Chromium: a public client (PKCE alone) and a confidential one (the app's secret key),
// against a real `postern start` on each backend.
import * as client from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends, createDatabase } from "../support/harness.ts";
import type { CreatedApp } from "./api.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import { failureScreenshot, type OpenedPage, openPage, type PosternProcess } from "./harness.ts";
import { relyingParty, signInOnHostedPage, startAppServer } from "./oidc-support.ts";

describe.each(backends)("the hosted login page with openid-client in Chromium (%s)", (backend) => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let browser: Browser;
  let opened: OpenedPage | undefined;
  let spa: CreatedApp & { name: string };
  let web: CreatedApp & { name: string };
  let appServer: Awaited<ReturnType<typeof startAppServer>>;

  beforeAll(async () => {
    database = backend === "postgres" ? await createDatabase() : undefined;
    appServer = await startAppServer();
    // The default sender (the feature stays locked); no dashboard page: each test opens its own.
    dashboard = await startDashboard({
      env: { POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20", ...(database ? { DATABASE_URL: database.url } : {}) },
      app: {
        name: "Storefront",
        redirectUrls: [`${appServer.origin}/spa/callback`],
        settings: { oidc: { tokenEndpointAuthMethod: "none" }, branding: { accentColor: "#0f766e" } },
      },
      unlock: false,
      page: "none",
    });
    ({ postern, browser } = dashboard);
    spa = { name: "Storefront", ...dashboard.app };
    web = {
      name: "Back office",
      ...(await dashboard.api.createApp("Back office", [`${appServer.origin}/web/callback`], {
        oidc: { refreshTokens: true },
      })),
    };
  }, 120_000);

  afterEach(async (context) => {
    if (opened && context.task.result?.state === "fail") {
      console.error(`Screenshot: ${await failureScreenshot(opened.page, context.task.name)}`);
      console.error(`Postern's output so far:\n${postern.output()}`);
    }
    opened?.watch.assertClean();
    await opened?.context.close();
    opened = undefined;
  });

  afterAll(async () => {
    await dashboard?.close();
    await database?.drop();
    await appServer?.close();
  });

  it("signs a person in to a public client with code + PKCE; the ID token passes openid-client's checks", async () => {
    opened = await openPage(browser, postern.url);
    const config = await relyingParty(spa, client.None());
    const { callback, checks } = await signInOnHostedPage(
      opened.page,
      postern.url,
      config,
      spa,
      "pat@example.com",
    );
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: spa.issuer,
      aud: spa.id,
      email: "pat@example.com",
      email_verified: true,
      amr: ["otp"],
    });
    expect(typeof claims.auth_time).toBe("number");
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe("pat@example.com");
  });

  it("signs a person in to a confidential client with the app's secret key, with a refresh token", async () => {
    opened = await openPage(browser, postern.url);
    const config = await relyingParty(web, client.ClientSecretBasic(web.secretKey));
    const { callback, checks } = await signInOnHostedPage(
      opened.page,
      postern.url,
      config,
      web,
      "sam@example.com",
      {
        scope: "openid email offline_access",
        prompt: "consent",
      },
    );
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    expect(tokens.claims()).toMatchObject({ iss: web.issuer, aud: web.id, email: "sam@example.com" });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);

    // The same browser is now signed in at this issuer: the next authorization comes straight back.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: web.redirectUrls[0]!,
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    await opened.page.goto(again.toString());
    await opened.page.waitForURL(`${web.redirectUrls[0]}?**`);
    expect(new URL(opened.page.url()).searchParams.get("code")).toBeTruthy();
  });
});
