// App → Login email in a real browser: edit a template and watch the sandboxed preview follow, hit a
// validation error marked at its line, brand it, switch language, send a test email through the app's
// real route and find it in the dev mailbox in that language, reset to the default; at 1440 and 375 px.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectAccessible } from "./audit.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  devInbox,
  gotoWhenIdle,
  type OpenedPage,
  openPage,
  type PosternProcess,
  screenshot,
  signIn,
  waitForEmail,
} from "./harness.ts";

const owner = "owner@acme.test";

async function createApp(page: Page, name: string): Promise<string> {
  await page.getByRole("link", { name: "Apps" }).click();
  await page
    .getByRole("button", { name: /New app|Create your first app/ })
    .first()
    .click();
  await page.getByLabel("App name").fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await page.getByRole("button", { name: "I have saved the secret key" }).click();
  await page.getByRole("heading", { name }).waitFor();
  return new URL(page.url()).pathname;
}

/**
 * A full-page screenshot with the viewport as tall as the page: Chromium leaves a sandboxed (out-of-process)
 * frame blank in the part of a full-page capture that lies below the viewport.
 */
async function screenshotWhole(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height });
  // Two frames: the new layout is painted, frames included.
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  );
  await screenshot(page, name);
  await page.setViewportSize(viewport);
  await expectAccessible(page, `${name} at ${viewport.width} px`);
}

const previewSubject = (page: Page) => page.getByTestId("preview-subject").textContent();
const previewText = (page: Page) => page.getByTestId("preview-text").textContent();
const previewFrame = (page: Page) => page.frameLocator("iframe.preview-frame");

describe("login email templates", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let desktop: OpenedPage;
  let browser: Browser;
  let appPath = "";

  beforeAll(async () => {
    // Signed in on the page only; the tests create the app in the dashboard (the feature stays locked).
    dashboard = await startDashboard({ env: { POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20" }, owner, api: false });
    ({ postern, browser, desktop } = dashboard);
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
  });

  it("edits a template and the preview follows: subject, HTML at two widths, derived text", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    appPath = await createApp(page, "Acme Shop");
    await page.getByRole("link", { name: "Login email" }).click();
    await expect.poll(() => previewSubject(page)).toBe("Your Acme Shop login code: 123456");
    await previewFrame(page).getByText("Your Acme Shop login code is").waitFor();
    expect(await previewText(page)).toContain("The code and the link work once and expire in 10 minutes.");
    await page.locator(".template-state").getByText("Built-in translation").waitFor();
    await screenshotWhole(page, "login-email-default");

    await page.getByLabel("Subject", { exact: true }).fill("Welcome to {{appName}}: {{code}}");
    await expect.poll(() => previewSubject(page)).toBe("Welcome to Acme Shop: 123456");

    const html = page.getByLabel("HTML template", { exact: true });
    await html.fill(
      '<style>h1 { color: #b91c1c; }</style>\n<h1>Hello from {{appName}}</h1>\n<p>Your code: <strong>{{code}}</strong></p>\n<p><a href="{{link}}">Sign in</a> within {{expiresIn}}.</p>\n{{#footer}}<p>{{footer}}</p>{{/footer}}',
    );
    const heading = previewFrame(page).getByRole("heading", { name: "Hello from Acme Shop" });
    await heading.waitFor();
    // The <style> rule arrives inlined, as mail clients get it.
    expect(await heading.getAttribute("style")).toBe("color: #b91c1c;");

    // The frame is sandboxed: no script runs in it, whatever the HTML holds.
    expect(await page.locator("iframe.preview-frame").getAttribute("sandbox")).toBe("");
    await page.getByRole("radio", { name: /Mobile/ }).check();
    await expect
      .poll(() => page.locator("iframe.preview-frame").evaluate((el) => el.getBoundingClientRect().width))
      .toBe(375);
    await page.getByRole("radio", { name: /Desktop/ }).check();

    await page.getByRole("tab", { name: /Plain text/ }).click();
    await page.getByLabel("Derive the plain text from the HTML").check();
    await expect.poll(() => previewText(page)).toContain("Hello from Acme Shop");
    expect(await previewText(page)).toContain("Your code: 123456");
    await page.getByRole("tab", { name: /^HTML/ }).click();
  });

  it("marks a validation error at its line, takes the caret there, and refuses to save until it is fixed", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    const html = page.getByLabel("HTML template", { exact: true });
    const good = await html.inputValue();
    await html.fill(good.replace("<h1>Hello from {{appName}}</h1>", "<h1>Hello {{userName}}</h1>"));
    const problem = page.locator(".template-problem").first();
    await expect.poll(() => problem.textContent()).toMatch(/\{\{userName\}\} is not a template variable/);
    expect(await problem.getByRole("button").textContent()).toBe("Line 2, column 11");
    expect(await html.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(".code-gutter-error").allTextContents()).toEqual(["2"]);
    await page.locator(".preview-stale").waitFor();
    await screenshotWhole(page, "login-email-error");

    // The problem's button puts the caret on the line, keyboard first.
    await problem.getByRole("button").focus();
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-invalid"))).toBe("true");
    const caret = await html.evaluate((el: HTMLTextAreaElement) => el.selectionStart);
    expect(caret).toBe(good.split("\n")[0]!.length + 1 + "<h1>Hello ".length);

    // Saving anyway: the server refuses it the same way, and nothing is saved.
    watch.expect({ method: "PUT", path: /\/email-templates\/en$/, status: 400 });
    // Its answer is awaited: the preview shows the same problem sooner, and a fix typed before the
    // refusal arrives would be shown the refusal of the older draft.
    const refused = page.waitForResponse(
      (r) => r.request().method() === "PUT" && /\/email-templates\/en$/.test(new URL(r.url()).pathname),
    );
    await page.getByRole("button", { name: "Save template" }).click();
    expect((await refused).status()).toBe(400);
    await page.locator(".template-problem", { hasText: "userName" }).waitFor();
    await page.locator(".template-state").getByText("Built-in translation").waitFor();

    await html.fill(good);
    await expect.poll(() => page.locator(".template-problem").count()).toBe(0);
    await page.getByRole("button", { name: "Save template" }).click();
    await page.locator(".template-actions .form-status").getByText("Saved", { exact: true }).waitFor();
    await page.locator(".template-state").getByText("Customized").waitFor();
  });

  it("brands the email: the preview shows unsaved branding, then it is saved", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByLabel("Accent colour", { exact: false }).last().fill("#0f766e");
    await page.getByLabel(/^Footer/).fill("Acme Inc.\n1 Main Street, Springfield");
    await page.getByLabel(/^Reply-to address/).fill("support@acme.test");
    await previewFrame(page).getByText("1 Main Street, Springfield").waitFor();
    await page.locator(".preview-meta").getByText("support@acme.test").waitFor();
    await page.getByRole("button", { name: "Save branding" }).click();
    await page.locator(".branding-form .form-status").getByText("Saved", { exact: true }).waitFor();
  });

  it("switches to German and sends a test email that arrives in German in the dev mailbox", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByLabel("Language", { exact: true }).selectOption("de");
    await expect.poll(() => previewSubject(page)).toBe("Ihr Anmeldecode für Acme Shop: 123456");
    await previewFrame(page).getByText("Acme Inc.").waitFor();
    const seen = await devInbox(postern.url);
    await page.getByRole("button", { name: `Send test email to ${owner}` }).click();
    await page.locator(".template-test").getByText("Sent", { exact: true }).waitFor();
    const mail = await waitForEmail(postern.url, owner, { seen });
    expect(mail.subject).toBe("[Test] Ihr Anmeldecode für Acme Shop: 123456");
    expect(mail.text).toContain("Der Code und der Link sind nur einmal gültig und laufen in 10 Minuten ab.");
    expect(mail.text).toContain("Acme Inc.\n1 Main Street, Springfield");
    expect(mail.html).toContain('lang="de"');
    await screenshotWhole(page, "login-email-test-sent");

    // The delivery log has it, as a test in German.
    await page.locator(".template-test").getByRole("link", { name: "See it in the delivery log" }).click();
    await page.getByText("Test from the template editor").waitFor();
    await page.locator(".details").getByText("de", { exact: true }).waitFor();
    await gotoWhenIdle(page, `${appPath}/login-email`);
    await page.getByTestId("preview-subject").waitFor();
  });

  it("resets the English template to the built-in one", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await page.getByLabel("Language", { exact: true }).selectOption("en");
    await page.locator(".template-state").getByText("Customized").waitFor();
    await page.getByRole("button", { name: "Reset to default" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Reset to default" }).click();
    await page.locator(".template-state").getByText("Built-in translation").waitFor();
    await expect.poll(() => previewSubject(page)).toBe("Your Acme Shop login code: 123456");
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe(
      "Your {{appName}} login code: {{code}}",
    );
  });

  it("works at 375 px wide", { timeout: 60_000 }, async () => {
    const mobile = await openPage(browser, postern.url, { width: 375, height: 812 });
    try {
      await signIn(mobile, postern.url, owner);
      await gotoWhenIdle(mobile.page, `${appPath}/login-email`);
      await expect.poll(() => previewSubject(mobile.page)).toBe("Your Acme Shop login code: 123456");
      await previewFrame(mobile.page).getByText("Acme Inc.").waitFor();
      // Nothing wider than the screen but the code itself, which scrolls in its box.
      const overflow = await mobile.page.evaluate(() => document.documentElement.scrollWidth);
      expect(overflow).toBeLessThanOrEqual(375);
      await screenshotWhole(mobile.page, "login-email");
      mobile.watch.assertClean();
    } finally {
      await mobile.context.close();
    }
  });
});
