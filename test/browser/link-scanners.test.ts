// Link scanners (Defender Safe Links and its peers) open every link in an email before the person
// does: a HEAD, a GET, and a sandboxed headless browser that runs the page's scripts, submits its
// forms and clicks its buttons. Here they go first, every time, and the person still signs in with
// the link, once, in the browser that asked, and on another device with the code.
import { createLocalJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CreatedApp } from "./api.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  gotoWhenIdle,
  type OpenedPage,
  openPage,
  type PosternProcess,
  signedOutCheck,
  waitForEmail,
} from "./harness.ts";
import { askForCode, authorizationUrl, relyingParty, startAppServer } from "./oidc-support.ts";

const linkIn = (text: string) => /(https?:\/\/\S+\?token=[\w-]+)/.exec(text)![1]!;

describe("magic links against link scanners, in Chromium", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let browser: Browser;
  let hostedApp: Awaited<ReturnType<typeof startAppServer>>;
  let ownPages: Awaited<ReturnType<typeof startAppServer>>;
  const appPages: Record<string, string> = {};
  let store: CreatedApp & { name: string };
  let shop: CreatedApp;
  const opened: OpenedPage[] = [];
  const scannerVisits: string[] = [];

  const open = async () => {
    const page = await openPage(browser, postern.url);
    opened.push(page);
    return page;
  };

  /** Everything a scanner was seen doing, before the person gets the email. */
  async function scan(link: string): Promise<void> {
    for (const method of ["HEAD", "GET"]) {
      const res = await fetch(link, {
        method,
        headers: { "user-agent": "Go-http-client/1.1" },
        redirect: "manual",
      });
      expect(res.status, `${method} ${link}`).toBe(200);
    }
    // The sandbox: its own browser (no cookies of the person's), JavaScript on.
    const context = await browser.newContext({ javaScriptEnabled: true });
    const page = await context.newPage();
    page.on("request", (request) =>
      scannerVisits.push(`${request.method()} ${new URL(request.url()).pathname}`),
    );
    const visit = async () => {
      await page.goto(link);
      await page.waitForLoadState("networkidle");
    };
    /** Does something that leaves the page, and waits until the next page has loaded. */
    const leave = async (action: () => Promise<unknown>) => {
      const navigated = page.waitForNavigation({ waitUntil: "load" });
      await action();
      await navigated;
    };
    for (let round = 0; round < 2; round++) {
      await visit();
      const forms = await page.locator("form").count();
      for (let i = 0; i < forms; i++) {
        // Each form submitted as found, and with its fields filled in by guesswork.
        for (const guess of [false, true]) {
          await visit();
          await leave(() =>
            page
              .locator("form")
              .nth(i)
              .evaluate((form: HTMLFormElement, fill: boolean) => {
                for (const input of form.querySelectorAll<HTMLInputElement>("input:not([type=hidden])")) {
                  if (fill) input.value = "scanner";
                }
                form.submit();
              }, guess),
          );
        }
      }
      await visit();
      const buttons = await page.getByRole("button").count();
      for (let i = 0; i < buttons; i++) {
        await visit();
        await leave(() => page.getByRole("button").nth(i).click());
      }
    }
    await context.close();
  }

  beforeAll(async () => {
    hostedApp = await startAppServer();
    // The app's own login page, on the same site as Postern (127.0.0.1), calling the /v1 API itself.
    ownPages = await startAppServer({ host: "127.0.0.1", pages: appPages });
    // The default sender (the feature stays locked); no dashboard page: the tests open their own.
    dashboard = await startDashboard({
      env: { POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20", POSTERN_LIMIT_ADDRESS_PER_HOUR: "100" },
      app: {
        name: "Storefront",
        redirectUrls: [`${hostedApp.origin}/callback`],
        settings: { oidc: { tokenEndpointAuthMethod: "none" } },
      },
      unlock: false,
      page: "none",
    });
    ({ postern, browser } = dashboard);
    store = { name: "Storefront", ...dashboard.app };
    shop = await dashboard.api.createApp("Corner shop", [`${ownPages.origin}/callback`]);
    appPages["/login"] = `<!doctype html><html lang="en"><head><title>Log in</title></head><body><main>
<h1>Log in to the corner shop</h1>
<form id="login"><label>Email <input name="email" type="email"></label><button>Email me a link</button></form>
<p id="status" role="status"></p>
<script>
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch(${JSON.stringify(`${postern.url}/v1/login/email`)}, {
    method: "POST",
    credentials: "include",
    headers: { authorization: "Bearer ${shop.publishableKey}", "content-type": "application/json" },
    body: JSON.stringify({ email: event.target.email.value, redirectUrl: location.origin + "/callback" }),
  });
  document.getElementById("status").textContent = response.status === 202 ? "Check your email" : "Failed";
});
</script></main></body></html>`;
  }, 120_000);

  afterEach((context) => dashboard.afterTest(context, opened));

  afterAll(async () => {
    await dashboard?.close();
    await hostedApp?.close();
    await ownPages?.close();
  });

  it("dashboard sign-in: one click in the browser that asked, the code on a phone", {
    timeout: 240_000,
  }, async () => {
    const person = await open();
    const askToSignIn = async (page: Page, email: string) => {
      const seen = await devInbox(postern.url);
      await page.goto("/sign-in");
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Email me a code" }).click();
      await page.getByRole("heading", { name: "Check your email" }).waitFor();
      return waitForEmail(postern.url, email, { seen });
    };
    person.watch.expect(signedOutCheck);
    const mail = await askToSignIn(person.page, "dana@example.com");
    await scan(linkIn(mail.text));
    expect(scannerVisits.some((v) => v.startsWith("POST /api/auth/email/link"))).toBe(true);

    await person.page.goto(linkIn(mail.text));
    await person.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await person.page.locator("main#main").waitFor();
    person.watch.expect({ method: "GET", path: /^\/api\/auth\/email\/link\?token=/, status: 400 });
    // Once the dashboard's own requests are done: leaving mid-request would abort them.
    await gotoWhenIdle(person.page, linkIn(mail.text));
    await person.page.getByRole("heading", { name: "This link can no longer be used" }).waitFor();

    const laptop = await open();
    laptop.watch.expect(signedOutCheck);
    const second = await askToSignIn(laptop.page, "dana@example.com");
    await scan(linkIn(second.text));
    const phone = await open();
    phone.watch.expect(signedOutCheck);
    await phone.page.goto(linkIn(second.text));
    await phone.page.getByLabel("6-digit code").fill(codeFrom(second.subject));
    await phone.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await phone.page.locator("main#main").waitFor();
  });

  it("the hosted login page: the link finishes the sign-in where it began, the code too", {
    timeout: 240_000,
  }, async () => {
    const person = await open();
    const config = await relyingParty(store);
    const begin = async (extra: Record<string, string> = {}) => {
      const { url, checks } = await authorizationUrl(config, store.redirectUrls[0]!, extra);
      await person.page.goto(url);
      const seen = await devInbox(postern.url);
      await askForCode(person.page, postern.url, "eli@example.com");
      return { checks, mail: await waitForEmail(postern.url, "eli@example.com", { seen }) };
    };

    const first = await begin();
    await scan(linkIn(first.mail.text));
    await person.page.goto(linkIn(first.mail.text));
    await person.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await person.page.waitForURL(`${store.redirectUrls[0]}?**`);
    const tokens = await client.authorizationCodeGrant(config, new URL(person.page.url()), first.checks);
    expect(tokens.claims()?.email).toBe("eli@example.com");

    const second = await begin({ prompt: "login" });
    await scan(linkIn(second.mail.text));
    const phone = await open();
    await phone.page.goto(linkIn(second.mail.text));
    await phone.page.getByRole("heading", { name: "Continue where you started" }).waitFor();
    await person.page.getByLabel("6-digit code").fill(codeFrom(second.mail.subject));
    await person.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await person.page.waitForURL(`${store.redirectUrls[0]}?**`);
    const again = await client.authorizationCodeGrant(config, new URL(person.page.url()), second.checks);
    expect(again.claims()?.sub).toBe(tokens.claims()?.sub);
  });

  it("an app's own page on Postern's site: bound by the /v1 API, one click, or the code elsewhere", {
    timeout: 240_000,
  }, async () => {
    const jwks = createLocalJWKSet(await (await fetch(`${postern.url}/v1/apps/${shop.id}/jwks.json`)).json());
    const tokenFrom = async (page: Page) => {
      await page.waitForURL(`${ownPages.origin}/callback#postern_token=**`);
      const token = decodeURIComponent(new URL(page.url()).hash.replace("#postern_token=", ""));
      return (await jwtVerify(token, jwks, { issuer: postern.url, audience: shop.id })).payload;
    };
    const person = await open();
    const ask = async () => {
      const seen = await devInbox(postern.url);
      await person.page.goto(`${ownPages.origin}/login`);
      await person.page.getByLabel("Email").fill("fay@example.com");
      await person.page.getByRole("button", { name: "Email me a link" }).click();
      await person.page.getByText("Check your email").waitFor();
      return waitForEmail(postern.url, "fay@example.com", { seen });
    };

    const mail = await ask();
    await scan(linkIn(mail.text));
    await person.page.goto(linkIn(mail.text));
    await person.page.getByRole("heading", { name: "Sign in to Corner shop" }).waitFor();
    await person.page.getByRole("button", { name: "Sign in", exact: true }).click();
    expect(await tokenFrom(person.page)).toMatchObject({ email: "fay@example.com", email_verified: true });

    const second = await ask();
    await scan(linkIn(second.text));
    const phone = await open();
    await phone.page.goto(linkIn(second.text));
    await phone.page.getByLabel("6-digit code").fill(codeFrom(second.subject));
    await phone.page.getByRole("button", { name: "Sign in", exact: true }).click();
    expect(await tokenFrom(phone.page)).toMatchObject({ email: "fay@example.com" });
  });
});
