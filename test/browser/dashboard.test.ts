// The dashboard in a real browser against a real Postern: sign-in through the dev mailbox, workspaces,
// apps and keys, a locked workspace's provider section, the delivery log, sign-out and session expiry.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  gotoWhenIdle,
  type OpenedPage,
  openPage,
  PageWatch,
  type PosternProcess,
  signedOutCheck,
  signIn,
  waitForEmail,
} from "./harness.ts";

const owner = "alice@example.com";

/** The value shown beside a label in a list of keys. */
const keyValue = (page: Page, label: string) =>
  page.locator(".key-row", { has: page.getByText(label, { exact: true }) }).locator(".copy-field-value");
const endUser = "end-user@example.net";

describe("dashboard", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let browser: Browser;
  let desktop: OpenedPage;
  const opened: OpenedPage[] = [];
  let workspaceUrl = "";
  let appUrl = "";
  let publishableKey = "";

  beforeAll(async () => {
    // Nobody signed in yet: signing in is what the tests do (the workspace stays locked).
    dashboard = await startDashboard({
      // The same owner signs in from two browsers within a minute: lift the per-address send limit.
      env: { POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20", POSTERN_LIMIT_ADDRESS_PER_HOUR: "100" },
      owner,
      api: false,
      page: "open",
    });
    ({ postern, browser, desktop } = dashboard);
    opened.push(desktop);
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context, opened));

  afterAll(async () => {
    await dashboard?.close();
  });

  it("signs in with the code from the dev mailbox, linked from the sign-in page", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    watch.expect(signedOutCheck);
    await gotoWhenIdle(page, "/");
    await page.waitForURL("**/sign-in");
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    await auditAndCapture(page, "sign-in");

    // An address the server refuses: the reason appears next to the field.
    watch.expect({ method: "POST", path: /^\/api\/auth\/email$/, status: 400 });
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await expect
      .poll(() => page.locator(".field-error").first().textContent())
      .toMatch(/valid email address, such as name@example\.com/i);
    await auditAndCapture(page, "sign-in-invalid");

    await page.getByLabel("Email").fill(owner);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    await auditAndCapture(page, "sign-in-code");

    // The dev mailbox page shows the email; the pending code step survives the trip there and back.
    await page.getByRole("link", { name: "Open the dev mailbox" }).click();
    await page.waitForURL("**/dev/mailbox");
    await page
      .getByRole("button", { name: /login code/ })
      .first()
      .waitFor();
    await expect.poll(() => page.locator(".mailbox-item-to").first().textContent()).toBe(owner);
    await page.locator("iframe.mailbox-frame").waitFor();
    expect(await page.locator("iframe.mailbox-frame").getAttribute("sandbox")).toBe("");
    await auditAndCapture(page, "dev-mailbox-signed-out");
    await page.getByRole("link", { name: "Back to sign in" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();

    const mail = await waitForEmail(postern.url, owner);
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();

    // A new account starts in a workspace of its own; another is created from the switcher.
    await page.getByRole("heading", { name: "Apps", exact: true }).waitFor();
    await expect.poll(() => page.locator(".switcher-name").textContent()).toBe("alice's workspace");
    await page.getByRole("button", { name: /Workspace/ }).click();
    await auditAndCapture(page, "workspace-switcher");
    await page.getByRole("link", { name: "+ Create workspace" }).click();
    await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
    await auditAndCapture(page, "workspace-create");
    await page.getByLabel("Workspace name").fill("Acme");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.getByRole("heading", { name: "Apps", exact: true }).waitFor();
    await page.getByText("No apps yet").waitFor();
    workspaceUrl = new URL(page.url()).pathname;
    expect(workspaceUrl).toMatch(/^\/w\/[^/]+$/);
    await expect.poll(() => page.locator(".switcher-name").textContent()).toBe("Acme");
  });

  it("creates an app, shows the secret key once and copies both keys", { timeout: 60_000 }, async () => {
    const { page, watch } = desktop;
    await page.getByRole("button", { name: "Create your first app" }).click();
    await page.getByLabel("App name").fill("Storefront");
    await page.getByRole("button", { name: "Add redirect URL" }).click();
    await page.getByLabel("Redirect URL 1", { exact: true }).fill("http://shop.example.com/callback");

    // The API refuses plain http off localhost and names the field: the error sits under that URL.
    watch.expect({ method: "POST", path: /^\/api\/workspaces\/[^/]+\/apps$/, status: 400 });
    await page.getByRole("button", { name: "Create app" }).click();
    const urlError = page.locator(".url-row .field-error").first();
    await expect.poll(() => urlError.textContent()).toMatch(/https/);
    await auditAndCapture(page, "app-create-error");

    await page.getByLabel("Redirect URL 1", { exact: true }).fill("https://shop.example.com/callback");
    await page.getByRole("button", { name: "Create app" }).click();
    await page.getByText("Copy the secret key now: it is shown only once").waitFor();
    const secretKey = (await keyValue(page, "Secret key").textContent()) ?? "";
    publishableKey = (await keyValue(page, "Publishable key").textContent()) ?? "";
    expect(secretKey).toMatch(/^sk_/);
    expect(publishableKey).toMatch(/^pk_/);
    await auditAndCapture(page, "app-created-secret");

    await page.getByRole("button", { name: "Copy secret key" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secretKey);
    await page.getByRole("button", { name: "Copy publishable key" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(publishableKey);

    await page.getByRole("button", { name: "I have saved the secret key" }).click();
    await page.getByRole("heading", { name: "Storefront" }).waitFor();
    appUrl = new URL(page.url()).pathname;
    // The integrate snippet uses this app's publishable key.
    await page.locator(".code-block pre", { hasText: publishableKey }).first().waitFor();
    // The hosted-page snippets are filled in for this app: its issuer, its ID, its redirect URL.
    const sdkSnippet = await page.locator(".code-block pre", { hasText: "new PosternClient" }).textContent();
    const appId = /appId: "(app_[\w-]+)"/.exec(sdkSnippet ?? "")?.[1];
    expect(appId).toBeDefined();
    expect(sdkSnippet).toContain("secretKey: process.env.POSTERN_SECRET_KEY");
    await page.getByText(`${postern.url}/oidc/${appId}/.well-known/openid-configuration`).waitFor();
    await auditAndCapture(page, "app-overview");

    // The secret key is never shown again: the keys page has only its hint.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "Secret key" }).waitFor();
    expect(await page.content()).not.toContain(secretKey);
    await auditAndCapture(page, "app-keys");

    await page.getByRole("button", { name: "Rotate secret key" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Rotate now" }).click();
    await page.getByText("Copy the secret key now: it is shown only once").waitFor();
    const rotated = (await keyValue(page, "Secret key").textContent()) ?? "";
    expect(rotated).toMatch(/^sk_/);
    expect(rotated).not.toBe(secretKey);
    await page.getByRole("button", { name: "Done" }).click();

    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "General" }).waitFor();
    await page.getByLabel("App name").fill("Storefront (prod)");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved", { exact: true }).waitFor();
    await page.getByRole("heading", { name: "Storefront (prod)" }).waitFor();
    await auditAndCapture(page, "app-settings");
  });

  it("shows a locked workspace's email provider section, disabled, with why", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByRole("link", { name: "Email provider" }).click();
    await page.getByText("Custom Email Provider is locked for this workspace").waitFor();
    await expect.poll(() => page.getByLabel("Sender email", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByLabel("SMTP host", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Password", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("radio", { name: /Custom email provider/ }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Save" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Test connection" }).count()).toBe(0);
    expect(await page.getByRole("tab", { name: "Microsoft 365" }).isDisabled()).toBe(true);
    await auditAndCapture(page, "email-provider-locked");

    await page.getByRole("link", { name: "Members & plan" }).click();
    await page.getByRole("heading", { name: "What is unlocked" }).waitFor();
    await page.locator(".feature-row").getByText("Locked", { exact: true }).waitFor();
  });

  it("manages members: invite, change role, remove", { timeout: 60_000 }, async () => {
    const { page, watch } = desktop;
    await page.getByLabel("Email", { exact: true }).fill("bob@example.com");
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByText("bob@example.com can now sign in").waitFor();
    await page.getByLabel("Role of bob@example.com").selectOption("admin");
    await expect.poll(() => page.getByLabel("Role of bob@example.com").inputValue()).toBe("admin");

    watch.expect({ method: "POST", path: /\/members$/, status: 409 });
    await page.getByLabel("Email", { exact: true }).fill("bob@example.com");
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByText("already a member").waitFor();

    await page.getByLabel("Email", { exact: true }).fill("carol@example.com");
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByText("carol@example.com can now sign in").waitFor();
    await page.getByRole("button", { name: "Remove carol@example.com" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove member" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Remove carol@example.com" }).count()).toBe(0);
    await auditAndCapture(page, "members");
  });

  it("shows an end-user login in the delivery log with its status and attempts", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, `${appUrl}/deliveries`);
    await page.getByText("No login emails yet").waitFor();

    const response = await fetch(`${postern.url}/v1/login/email`, {
      method: "POST",
      headers: { authorization: `Bearer ${publishableKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: endUser }),
    });
    expect(response.status).toBe(202);

    // No reload: the table refreshes by itself until the email is sent.
    const row = page.locator("tbody tr", { hasText: endUser });
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 20_000 }).toBe("Sent");
    expect(await row.locator("td[data-label=Route]").textContent()).toBe("Default sender");
    await auditAndCapture(page, "delivery-log");

    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No login emails match").waitFor();
    await page.getByLabel("Status").selectOption("");
    await row.waitFor();

    await row.getByRole("link", { name: endUser }).click();
    await page.getByRole("heading", { name: `Login email to ${endUser}` }).waitFor();
    await page.getByText("Attempt 1").waitFor();
    await expect.poll(() => page.locator(".attempt .smtp-reply").first().textContent()).toMatch(/^2\d\d/);
    await auditAndCapture(page, "delivery-detail");
  });

  it("shows the audit log and the dev mailbox", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.getByText("created the app").first().waitFor();
    await page.getByText(/rotated the secret key of “.+”/).waitFor();
    await auditAndCapture(page, "audit-log");

    await page.getByRole("link", { name: "Dev mailbox" }).click();
    await page
      .getByRole("button", { name: /login code/ })
      .first()
      .waitFor();
    // The email's own HTML, rendered in the sandboxed frame.
    await page.frameLocator("iframe.mailbox-frame").getByText("login code is").waitFor();
    await auditAndCapture(page, "dev-mailbox");

    // The API reference is one click away, and says whose API it is.
    await page.getByRole("link", { name: "API reference" }).click();
    await page.waitForURL(/\/docs/);
    await expect.poll(() => page.title()).toBe("Postern API");
    await page.getByText("Passwordless login (public API").first().waitFor();
    await page.goBack();
    await page.getByRole("heading", { name: "Dev mailbox" }).waitFor();
  });

  it("works at 375 px wide", { timeout: 60_000 }, async () => {
    const mobile = await openPage(browser, postern.url, { width: 375, height: 812 });
    opened.push(mobile);
    const { page } = mobile;
    mobile.watch.expect(signedOutCheck);
    await gotoWhenIdle(page, "/sign-in");
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    await auditAndCapture(page, "sign-in");

    await signIn(mobile, postern.url, owner);
    await gotoWhenIdle(page, appUrl);
    await page.getByRole("heading", { name: "Storefront (prod)" }).waitFor();
    await auditAndCapture(page, "app-overview");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    await gotoWhenIdle(page, `${appUrl}/email-provider`);
    await page.getByText("Custom Email Provider is locked for this workspace").waitFor();
    await auditAndCapture(page, "email-provider-locked");

    await gotoWhenIdle(page, `${appUrl}/deliveries`);
    await page.locator("tbody tr", { hasText: endUser }).waitFor();
    await auditAndCapture(page, "delivery-log");

    await page.getByRole("button", { name: "Menu" }).click();
    await auditAndCapture(page, "mobile-menu", [375]);
    await page.getByRole("link", { name: "Members & plan" }).click();
    await page.getByRole("heading", { name: "Members & plan" }).waitFor();
    await auditAndCapture(page, "members");
    await mobile.context.close();
    opened.pop();
  });

  it("sends an expired session back to sign-in calmly, then returns to the page", {
    timeout: 60_000,
  }, async () => {
    const { page, context, watch } = desktop;
    await gotoWhenIdle(page, workspaceUrl);
    await page.getByRole("heading", { name: "Apps", exact: true }).waitFor();
    await context.clearCookies();
    watch.expect({ method: "GET", path: /^\/api\/workspaces\/[^/]+\/members$/, status: 401 });
    watch.expect({ method: "GET", path: /^\/api\/workspaces\/[^/]+$/, status: 401 });
    await page.getByRole("link", { name: "Members & plan" }).click();
    await page.getByText("Your session expired. Sign in again to pick up where you left off.").waitFor();
    await auditAndCapture(page, "sign-in-expired");
    expect(new URL(page.url()).searchParams.get("next")).toBe(`${workspaceUrl}/members`);

    await page.getByLabel("Email").fill("second-session@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, "second-session@example.com");
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();
    // Another account is not a member of Acme: the page says so instead of failing.
    await page.getByRole("heading", { name: "Workspace not found" }).waitFor();
    await auditAndCapture(page, "workspace-not-found");
  });

  it("signs out", { timeout: 60_000 }, async () => {
    const { page, watch } = desktop;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    await auditAndCapture(page, "signed-out");
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    watch.expect(signedOutCheck);
    await gotoWhenIdle(page, "/sign-in");
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    expect((await page.request.get("/api/me")).status()).toBe(401);
  });

  it("signs in with the magic link from the dev mailbox, and explains a used link", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    // Keyboard only: the email field has focus, Enter submits.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("email");
    const seen = await devInbox(postern.url);
    await page.keyboard.type(owner);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    const mail = await waitForEmail(postern.url, owner, { seen });
    const link = /https?:\/\/\S+\/api\/auth\/email\/link\?token=\S+/.exec(mail.text)?.[0] ?? "";
    expect(link).not.toBe("");

    await page.getByRole("link", { name: "Open the dev mailbox" }).click();
    await page.getByRole("link", { name: link }).first().click();
    // Opening the link uses nothing (link scanners open it too); this browser asked, so one click signs in.
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    await auditAndCapture(page, "sign-in-link");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await expect.poll(() => page.locator(".switcher-name").textContent()).toBe("Acme");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    watch.expect({ method: "GET", path: /^\/api\/auth\/email\/link\?token=/, status: 400 });
    await gotoWhenIdle(page, link);
    await page.getByRole("heading", { name: "This link can no longer be used" }).waitFor();
    await auditAndCapture(page, "sign-in-link-used");
  });

  it("is reachable by keyboard, with a visible focus ring", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await signIn(desktop, postern.url, owner);
    await gotoWhenIdle(page, appUrl);
    await page.getByRole("heading", { name: "Storefront (prod)" }).waitFor();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.textContent === "Delivery log");
    }
    expect(reached).toBe(true);
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement!);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(outline).toBe("solid 2px");
    await page.keyboard.press("Enter");
    await page.waitForURL(`**${appUrl}/deliveries`);
  });

  it("opens the demo for the demo account, takes a pasted code in any tab, and says when to retry a limit", {
    timeout: 90_000,
  }, async () => {
    const first = await openPage(browser, postern.url);
    opened.push(first);
    const { page, watch } = first;
    watch.expect(signedOutCheck);
    const demo = "developer@postern.localhost";

    // The code is asked for in one tab…
    await gotoWhenIdle(page, "/sign-in");
    await page.getByLabel("Email").fill(demo);
    const seen = await devInbox(postern.url);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    const code = codeFrom((await waitForEmail(postern.url, demo, { seen })).subject);

    // …and entered in another, pasted the way mail apps copy it: grouped, with a leading space.
    const second = await first.context.newPage();
    const secondWatch = new PageWatch(second);
    secondWatch.expect(signedOutCheck);
    await second.goto("/sign-in");
    const haveCode = second.getByRole("button", { name: `I already have a code for ${demo}` });
    await haveCode.waitFor();
    await auditAndCapture(second, "sign-in-have-code");
    await haveCode.click();
    await second.evaluate(
      (text) => navigator.clipboard.writeText(text),
      ` ${code.slice(0, 3)}-${code.slice(3)}`,
    );
    await second.getByLabel("Sign-in code").focus();
    await second.keyboard.press("ControlOrMeta+V");
    await expect.poll(() => second.getByLabel("Sign-in code").inputValue()).toBe(code);
    await second.getByRole("button", { name: "Sign in" }).click();

    // The demo account lands in the demo workspace, on the demo app.
    await second.waitForURL("**/w/ws_demo");
    await second
      .getByRole("link", { name: /Demo app/ })
      .first()
      .waitFor();
    await expect.poll(() => second.locator(".switcher-name").textContent()).toBe("Demo workspace");
    await auditAndCapture(second, "demo-workspace");
    await second.getByRole("button", { name: /Workspace/ }).click();
    expect(await second.locator(".switcher-item-name").allTextContents()).toEqual(["Demo workspace"]);
    await second.keyboard.press("Escape");

    // The sole owner is told before confirming that leaving cannot be done, then renames and deletes.
    await second.getByRole("link", { name: "Members & plan" }).click();
    await second.getByRole("button", { name: "Leave workspace" }).click();
    await second.getByRole("heading", { name: "You are the only owner of Demo workspace" }).waitFor();
    await auditAndCapture(second, "members-sole-owner");
    await second.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    await second.getByLabel("Workspace name", { exact: true }).fill("Demo (renamed)");
    await second.getByRole("button", { name: "Rename" }).click();
    await second.getByText("Renamed", { exact: true }).waitFor();
    await expect.poll(() => second.locator(".switcher-name").textContent()).toBe("Demo (renamed)");
    await auditAndCapture(second, "workspace-settings");
    await second.getByRole("button", { name: "Delete workspace" }).click();
    const confirm = second.getByRole("dialog").getByRole("button", { name: "Delete workspace" });
    expect(await confirm.isDisabled()).toBe(true);
    await second.getByLabel("Type “Demo (renamed)” to confirm").fill("Demo (renamed)");
    await auditAndCapture(second, "workspace-delete-confirm");
    await confirm.click();
    await second.waitForURL("**/workspaces/new");
    expect((await second.request.get("/api/workspaces/ws_demo")).status()).toBe(404);
    secondWatch.assertClean();
    await second.close();

    // Sign-in limits name the time to retry and the setting behind them.
    await first.context.clearCookies();
    const eager = "eager@example.com";
    for (let i = 0; i < 10; i++) {
      const sent = await fetch(`${postern.url}/api/auth/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: eager }),
      });
      expect(sent.status).toBe(202);
    }
    watch.expect({ method: "POST", path: /^\/api\/auth\/email$/, status: 429 });
    await gotoWhenIdle(page, "/sign-in");
    await page.getByRole("button", { name: "Use a different email" }).click();
    await page.getByLabel("Email").fill(eager);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText(/Try again in (1 minute|\d+ seconds)\./).waitFor();
    await page.getByText("POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE").waitFor();
    await auditAndCapture(page, "sign-in-rate-limited");
    await first.context.close();
    opened.pop();
  });
});
