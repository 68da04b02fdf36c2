// Every state of the hosted login page and the magic-link pages, reached the way a person reaches it,
// audited with axe-core and screenshotted at 375 and 1440 px (docs/screenshots/hosted-*, link-*, …).
import * as client from "openid-client";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import type { CreatedApp, DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  type OpenedPage,
  openPage,
  type PosternProcess,
  waitForEmail,
} from "./harness.ts";
import { askForCode, authorizationUrl, relyingParty, startAppServer } from "./oidc-support.ts";

const linkIn = (text: string) => /(https?:\/\/\S+\?token=[\w-]+)/.exec(text)![1]!;
const wrongCode = (code: string) => (code === "000000" ? "111111" : "000000");

describe("the hosted login page and the magic-link pages, state by state", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let browser: Browser;
  let smtp: SmtpServerFake;
  let appServer: Awaited<ReturnType<typeof startAppServer>>;
  let api: DashboardApi;
  let store: CreatedApp & { name: string };
  let acme: CreatedApp & { name: string };
  let config: client.Configuration;
  let person: OpenedPage;
  const opened: OpenedPage[] = [];

  const open = async () => {
    const page = await openPage(browser, postern.url, { width: 1440, height: 900 });
    opened.push(page);
    return page;
  };
  const startSignIn = async (
    page: Page,
    target = store,
    conf = config,
    extra: Record<string, string> = {},
  ) => {
    const { url, checks } = await authorizationUrl(conf, target.redirectUrls[0]!, extra);
    await page.goto(url);
    await page.getByRole("heading", { name: `Sign in to ${target.name}` }).waitFor();
    return checks;
  };
  const enterCode = async (page: Page, code: string) => {
    await page.getByLabel("6-digit code").fill(code);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
    appServer = await startAppServer();
    // No dashboard page: people sign in to the apps on pages of the tests' own.
    dashboard = await startDashboard({
      // Two emails a minute per address: enough to resend once, and to see the limit on the third.
      env: { ...ALLOWLIST, POSTERN_LIMIT_ADDRESS_PER_MINUTE: "2" },
      app: {
        name: "Storefront",
        redirectUrls: [`${appServer.origin}/callback`],
        settings: { oidc: { tokenEndpointAuthMethod: "none" }, branding: { accentColor: "#0f766e" } },
      },
      // Both apps exist before the feature is unlocked.
      prepare: async ({ api }) => {
        acme = { name: "Acme", ...(await api.createApp("Acme", [`${appServer.origin}/acme/callback`])) };
      },
      page: "none",
    });
    ({ postern, browser, api } = dashboard);
    store = { name: "Storefront", ...dashboard.app };
    const provider = await api.request("PUT", `/api/apps/${acme.id}/email-provider`, basicBody(smtp.port));
    expect(provider.status, JSON.stringify(provider.body)).toBe(200);
    config = await relyingParty(store);
    person = await open();
  }, 120_000);

  afterEach((context) => dashboard.afterTest(context, opened));

  afterAll(async () => {
    await dashboard?.close();
    await smtp?.close();
    await appServer?.close();
  });

  it("email and code steps, with every problem a person can run into", { timeout: 180_000 }, async () => {
    const { page, watch } = person;
    await startSignIn(page);
    // The email field has focus: a keyboard user types at once.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("email");
    await auditAndCapture(page, "hosted-email");

    watch.expect({ method: "POST", path: /\/interaction\/[^/]+\/email$/, status: 400 });
    await page.getByLabel("Email address").fill("not-an-email");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText("Enter an email address such as name@example.com.").waitFor();
    expect(await page.getByLabel("Email address").getAttribute("aria-invalid")).toBe("true");
    expect(await page.title()).toMatch(/^Error: /);
    await auditAndCapture(page, "hosted-email-invalid");

    const seen = await devInbox(postern.url);
    await page.getByLabel("Email address").fill("ana@example.com");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    const first = codeFrom((await waitForEmail(postern.url, "ana@example.com", { seen })).subject);
    await auditAndCapture(page, "hosted-code");

    watch.expect({ method: "POST", path: /\/interaction\/[^/]+\/code$/, status: 400 });
    await enterCode(page, wrongCode(first));
    await page.getByText("That code is not right. You have 4 tries left.").waitFor();
    await auditAndCapture(page, "hosted-code-wrong");

    const beforeResend = await devInbox(postern.url);
    await page.getByRole("button", { name: "Send a new code" }).click();
    await page.getByText("We sent a new code to ana@example.com. Older codes no longer work.").waitFor();
    const second = codeFrom(
      (await waitForEmail(postern.url, "ana@example.com", { seen: beforeResend })).subject,
    );
    await auditAndCapture(page, "hosted-code-resent");

    watch.expect({ method: "POST", path: /\/interaction\/[^/]+\/resend$/, status: 429 });
    await page.getByRole("button", { name: "Send a new code" }).click();
    await page.getByText(/Too many sign-in requests\. Try again in (about 1 minute|\d+ seconds)\./).waitFor();
    await auditAndCapture(page, "hosted-code-rate-limited");

    for (let left = 4; left >= 0; left--) {
      await enterCode(page, wrongCode(second));
      await page
        .getByText(
          left > 0 ? `You have ${left} ${left === 1 ? "try" : "tries"} left.` : "it was the last try",
        )
        .waitFor();
    }
    await enterCode(page, second);
    await page.getByText("Too many wrong codes. Ask for a new code.").waitFor();
    await auditAndCapture(page, "hosted-code-too-many");

    // A newer email for the same address (from another browser) makes this page's code useless.
    await page.getByRole("link", { name: "Use a different email address" }).click();
    const ben = await askForCode(page, postern.url, "ben@example.com");
    const other = await open();
    await startSignIn(other.page);
    await askForCode(other.page, postern.url, "ben@example.com");
    await enterCode(page, ben);
    await page.getByText("This code has expired or was already used. Ask for a new one.").waitFor();
    await auditAndCapture(page, "hosted-code-expired");

    watch.expect({ method: "POST", path: /\/interaction\/[^/]+\/email$/, status: 429 });
    await page.getByRole("link", { name: "Use a different email address" }).click();
    await expect.poll(() => page.getByLabel("Email address").inputValue()).toBe("ben@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText(/Too many sign-in requests\. Try again in/).waitFor();
    await auditAndCapture(page, "hosted-email-rate-limited");
  });

  it("refuses the address an app sends its emails from", { timeout: 60_000 }, async () => {
    const { page, watch } = person;
    await startSignIn(page, acme, await relyingParty(acme, client.ClientSecretBasic(acme.secretKey)));
    watch.expect({ method: "POST", path: /\/interaction\/[^/]+\/email$/, status: 403 });
    await page.getByLabel("Email address").fill("login@acme.example");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText("This address sends the sign-in emails of Acme").waitFor();
    await auditAndCapture(page, "hosted-email-sender-refused");
  });

  it("signs in with the link in the browser that asked, and sends any other browser back to it", {
    timeout: 90_000,
  }, async () => {
    const { page } = person;
    const checks = await startSignIn(page);
    const seen = await devInbox(postern.url);
    await page.getByLabel("Email address").fill("cai@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, "cai@example.com", { seen });
    await page.goto(linkIn(mail.text));
    await page.getByRole("heading", { name: "Sign in to Storefront" }).waitFor();
    await auditAndCapture(page, "link-bound");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${store.redirectUrls[0]}?**`);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), checks);
    expect(tokens.claims()?.email).toBe("cai@example.com");

    // Signed in at this issuer now: `prompt=login` asks for the hosted page again.
    const next = await startSignIn(page, store, config, { prompt: "login" });
    const before = await devInbox(postern.url);
    await page.getByLabel("Email address").fill("dee@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    const dee = await waitForEmail(postern.url, "dee@example.com", { seen: before });
    const phone = await open();
    await phone.page.goto(linkIn(dee.text));
    await phone.page.getByRole("heading", { name: "Continue where you started" }).waitFor();
    await auditAndCapture(phone.page, "link-elsewhere");
    // The phone used nothing: the code still signs in where the sign-in began.
    await enterCode(page, codeFrom(dee.subject));
    await page.waitForURL(`${store.redirectUrls[0]}?**`);
    expect((await client.authorizationCodeGrant(config, new URL(page.url()), next)).claims()?.email).toBe(
      "dee@example.com",
    );
  });

  it("signs out when the app asks", { timeout: 60_000 }, async () => {
    const { page } = person;
    await page.goto(client.buildEndSessionUrl(config, {}).toString());
    await page.getByRole("heading", { name: "Sign out of Storefront?" }).waitFor();
    await auditAndCapture(page, "logout-confirm");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "You are signed out of Storefront" }).waitFor();
    await auditAndCapture(page, "logged-out");
  });

  it("explains an expired sign-in page and a request the app got wrong", { timeout: 60_000 }, async () => {
    const { page, watch } = person;
    await startSignIn(page);
    const interaction = page.url();
    const stranger = await open();
    stranger.watch.expect({ method: "GET", path: /\/interaction\//, status: 400 });
    await stranger.page.goto(interaction);
    await stranger.page.getByRole("heading", { name: "This sign-in page has expired" }).waitFor();
    await auditAndCapture(stranger.page, "hosted-expired");

    watch.expect({ method: "GET", path: /\/auth\?/, status: 400 });
    const { url } = await authorizationUrl(config, "http://localhost:1/not-registered");
    await page.goto(url);
    await page.getByRole("heading", { name: "This sign-in cannot continue" }).waitFor();
    expect(await page.textContent("main")).toContain("invalid_redirect_uri");
    await auditAndCapture(page, "oidc-error");
  });

  it("asks for the code when a link is opened in a browser that did not ask", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = person;
    const seen = await devInbox(postern.url);
    // The app's server asks (secret key): no browser is bound, so the link needs the code everywhere.
    const started = await fetch(`${postern.url}/v1/login/email`, {
      method: "POST",
      headers: { authorization: `Bearer ${store.secretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "eve@example.com" }),
    });
    expect(started.status).toBe(202);
    const mail = await waitForEmail(postern.url, "eve@example.com", { seen });
    await page.goto(linkIn(mail.text));
    await page.getByRole("heading", { name: "Enter your code to continue" }).waitFor();
    await auditAndCapture(page, "link-code");

    watch.expect({ method: "POST", path: /^\/v1\/login\/email\/link$/, status: 400 });
    await enterCode(page, wrongCode(codeFrom(mail.subject)));
    await page.getByText("That code is not right. You have 4 tries left.").waitFor();
    await auditAndCapture(page, "link-code-wrong");

    await enterCode(page, codeFrom(mail.subject));
    await page.getByRole("heading", { name: "You are signed in to Storefront" }).waitFor();
    await auditAndCapture(page, "link-signed-in");

    watch.expect({ method: "GET", path: /^\/v1\/login\/email\/link\?token=/, status: 400 });
    await page.goto(linkIn(mail.text));
    await page.getByRole("heading", { name: "This link can no longer be used" }).waitFor();
    await auditAndCapture(page, "link-invalid");
  });
});
