// The dashboard in a real browser against a real Postern: sign-in through the dev mailbox, workspaces,
// apps and keys, a locked workspace's provider section, the delivery log, sign-out and session expiry.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codeFrom,
  devInbox,
  failureScreenshot,
  gotoWhenIdle,
  launchBrowser,
  type OpenedPage,
  openPage,
  type PosternProcess,
  screenshot,
  signedOutCheck,
  signIn,
  startPostern,
  waitForEmail,
} from "./harness.ts";

const owner = "alice@example.com";

/** The value shown beside a label in a list of keys. */
const keyValue = (page: Page, label: string) =>
  page.locator(".key-row", { has: page.getByText(label, { exact: true }) }).locator(".copy-field-value");
const endUser = "end-user@example.net";

describe("dashboard", () => {
  let postern: PosternProcess;
  let browser: Browser;
  let desktop: OpenedPage;
  const opened: OpenedPage[] = [];
  let workspaceUrl = "";
  let appUrl = "";
  let publishableKey = "";

  beforeAll(async () => {
    // The same owner signs in from two browsers within a minute: lift the per-address send limit.
    postern = await startPostern({
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100",
    });
    browser = await launchBrowser();
    desktop = await openPage(browser, postern.url);
    opened.push(desktop);
  }, 90_000);

  afterEach(async (context) => {
    if (context.task.result?.state === "fail") {
      for (const { page } of opened)
        console.error(`Screenshot: ${await failureScreenshot(page, context.task.name)}`);
      console.error(`Postern's output so far:\n${postern.output()}`);
    }
    for (const { watch } of opened) watch.assertClean();
  });

  afterAll(async () => {
    await browser?.close();
    await postern?.stop();
  });

  it("signs in with the code from the dev mailbox, linked from the sign-in page", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    watch.expect(signedOutCheck);
    await gotoWhenIdle(page, "/");
    await page.waitForURL("**/sign-in");
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    await screenshot(page, "sign-in");

    // An address the server refuses: the reason appears next to the field.
    watch.expect({ method: "POST", path: /^\/api\/auth\/email$/, status: 400 });
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await expect
      .poll(() => page.locator(".field-error").first().textContent())
      .toMatch(/valid email address, such as name@example\.com/i);

    await page.getByLabel("Email").fill(owner);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    await screenshot(page, "sign-in-code");

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
    await page.getByRole("link", { name: "Back to sign in" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();

    const mail = await waitForEmail(postern.url, owner);
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();

    // A new account starts in a workspace of its own; another is created from the switcher.
    await page.getByRole("heading", { name: "Apps", exact: true }).waitFor();
    await expect.poll(() => page.locator(".switcher-name").textContent()).toBe("alice's workspace");
    await page.getByRole("button", { name: /Workspace/ }).click();
    await screenshot(page, "workspace-switcher");
    await page.getByRole("link", { name: "+ Create workspace" }).click();
    await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
    await screenshot(page, "workspace-create");
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
    await screenshot(page, "app-create-error");

    await page.getByLabel("Redirect URL 1", { exact: true }).fill("https://shop.example.com/callback");
    await page.getByRole("button", { name: "Create app" }).click();
    await page.getByText("Copy the secret key now: it is shown only once").waitFor();
    const secretKey = (await keyValue(page, "Secret key").textContent()) ?? "";
    publishableKey = (await keyValue(page, "Publishable key").textContent()) ?? "";
    expect(secretKey).toMatch(/^sk_/);
    expect(publishableKey).toMatch(/^pk_/);
    await screenshot(page, "app-created-secret");

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
    await screenshot(page, "app-overview");

    // The secret key is never shown again: the keys page has only its hint.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "Secret key" }).waitFor();
    expect(await page.content()).not.toContain(secretKey);
    await screenshot(page, "app-keys");

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
    await screenshot(page, "app-settings");
  });

  it("shows a locked workspace's email provider section, disabled, with why", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByRole("link", { name: "Email provider" }).click();
    await page.getByText("Custom Email Provider is locked for this workspace").waitFor();
    await expect.poll(() => page.getByLabel("Sender email", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Host", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Password", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("radio", { name: /Custom SMTP server/ }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Save" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Test connection" }).count()).toBe(0);
    expect(await page.getByRole("tab", { name: "OAuth" }).isDisabled()).toBe(true);
    await screenshot(page, "email-provider-locked");

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
    await screenshot(page, "members");
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
    await screenshot(page, "delivery-log");

    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No failed emails").waitFor();
    await page.getByLabel("Status").selectOption("");
    await row.waitFor();

    await row.getByRole("link", { name: endUser }).click();
    await page.getByRole("heading", { name: `Login email to ${endUser}` }).waitFor();
    await page.getByText("Attempt 1").waitFor();
    await expect.poll(() => page.locator(".attempt .smtp-reply").first().textContent()).toMatch(/^2\d\d/);
    await screenshot(page, "delivery-detail");
  });

  it("shows the audit log and the dev mailbox", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.getByText("created an app").first().waitFor();
    await page.getByText("rotated an app's secret key").waitFor();
    await screenshot(page, "audit-log");

    await page.getByRole("link", { name: "Dev mailbox" }).click();
    await page
      .getByRole("button", { name: /login code/ })
      .first()
      .waitFor();
    // The email's own HTML, rendered in the sandboxed frame.
    await page.frameLocator("iframe.mailbox-frame").getByText("login code is").waitFor();
    await screenshot(page, "dev-mailbox");
  });

  it("works at 375 px wide", { timeout: 60_000 }, async () => {
    const mobile = await openPage(browser, postern.url, { width: 375, height: 812 });
    opened.push(mobile);
    const { page } = mobile;
    mobile.watch.expect(signedOutCheck);
    await gotoWhenIdle(page, "/sign-in");
    await page.getByRole("heading", { name: "Sign in to Postern" }).waitFor();
    await screenshot(page, "sign-in");

    await signIn(mobile, postern.url, owner);
    await gotoWhenIdle(page, appUrl);
    await page.getByRole("heading", { name: "Storefront (prod)" }).waitFor();
    await screenshot(page, "app-overview");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    await gotoWhenIdle(page, `${appUrl}/email-provider`);
    await page.getByText("Custom Email Provider is locked for this workspace").waitFor();
    await screenshot(page, "email-provider-locked");

    await gotoWhenIdle(page, `${appUrl}/deliveries`);
    await page.locator("tbody tr", { hasText: endUser }).waitFor();
    await screenshot(page, "delivery-log");

    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Members & plan" }).click();
    await page.getByRole("heading", { name: "Members & plan" }).waitFor();
    await screenshot(page, "members");
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
    expect(new URL(page.url()).searchParams.get("next")).toBe(`${workspaceUrl}/members`);

    await page.getByLabel("Email").fill("second-session@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, "second-session@example.com");
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();
    // Another account is not a member of Acme: the page says so instead of failing.
    await page.getByRole("heading", { name: "Workspace not found" }).waitFor();
  });

  it("signs out", { timeout: 60_000 }, async () => {
    const { page, watch } = desktop;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
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
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await expect.poll(() => page.locator(".switcher-name").textContent()).toBe("Acme");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    watch.expect({ method: "GET", path: /^\/api\/auth\/email\/link\?token=/, status: 400 });
    await gotoWhenIdle(page, link);
    await page.getByRole("heading", { name: "This link can no longer be used" }).waitFor();
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
});
