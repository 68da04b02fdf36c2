// App → Email provider in a real browser: Basic Auth against a local SMTP server (field error, save,
// write-only password, test connection, test email, a failing test with its hint, login emails through
// it), and Microsoft 365 OAuth against the identity and Exchange fakes with the pre-filled setup guide.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  gotoWhenIdle,
  type OpenedPage,
  openPage,
  type PosternProcess,
  setCustomEmailProvider,
  signIn,
} from "./harness.ts";

const owner = "owner@acme.test";
const senderEmail = "login@acme.test";
const smtpUser = "mailer";
const smtpPassword = "correct-horse-battery";

/** An input by its exact label; "Sender name" also says "(optional)". */
const field = (page: Page, label: string) =>
  label === "Sender name" ? page.getByLabel(/^Sender name/) : page.getByLabel(label, { exact: true });

/** Creates an app through the dashboard and returns its path, e.g. /w/ws_…/apps/app_…. */
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

/** The steps of the test result shown last, as name → outcome. */
async function testSteps(page: Page): Promise<Record<string, string>> {
  const result = page.locator(".test-area .test-result").last();
  await result.waitFor();
  const steps = await result
    .locator(".test-step")
    .evaluateAll((items) =>
      items.map((li) => [
        li.getAttribute("data-step") ?? "",
        (li.className.match(/test-step-(\w+)/) ?? [])[1] ?? "",
      ]),
    );
  return Object.fromEntries(steps);
}

describe("email provider", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let smtp: SmtpServerFake;
  let ms: MicrosoftFakes;
  let browser: Browser;
  let desktop: OpenedPage;
  let workspaceId = "";
  let appPath = "";

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { [smtpUser]: smtpPassword } });
    ms = await startMicrosoftFakes();
    // Signed in on the page only; the first test unlocks the feature and creates the app in the dashboard.
    dashboard = await startDashboard({
      env: {
        // The owner signs in from a second, narrow browser within the minute.
        POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20",
        ...ALLOWLIST,
        ...ms.env,
      },
      owner,
      api: false,
    });
    ({ postern, browser, desktop, workspaceId } = dashboard);
    expect(workspaceId).not.toBe("");
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
    await smtp?.close();
    await ms?.close();
  });

  it("configures Basic Auth: a field error from the API, then save with a write-only password", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    await setCustomEmailProvider(postern, workspaceId, true);
    appPath = await createApp(page, "Acme Shop");
    await page.getByRole("link", { name: "Email provider" }).click();
    await page.getByRole("radio", { name: /Default sender/ }).waitFor();
    expect(await page.getByRole("radio", { name: /Default sender/ }).isChecked()).toBe(true);
    await auditAndCapture(page, "email-provider-default");

    await page.getByRole("radio", { name: /Custom email provider/ }).check();
    await page.getByRole("tab", { name: "Basic Auth" }).waitFor();
    // The dashboard account's own address cannot be the sender: the API says so, beside the field.
    await field(page, "Sender email").fill(owner);
    expect(await field(page, "Sender name").getAttribute("placeholder")).toBe(owner);
    await field(page, "SMTP host").fill("localhost");
    await field(page, "Port").fill(String(smtp.port));
    await field(page, "Username").fill(smtpUser);
    await field(page, "Password").fill(smtpPassword);
    watch.expect({ method: "PUT", path: /\/email-provider$/, status: 400 });
    const actionsTop = () =>
      page.locator(".provider-actions").evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
    const before = await actionsTop();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const senderError = page.locator(".field", { has: field(page, "Sender email") }).locator(".field-error");
    await expect.poll(() => senderError.textContent()).toMatch(/dashboard account/);
    // Space for the error was reserved: nothing below it moved.
    expect(await actionsTop()).toBe(before);
    await auditAndCapture(page, "email-provider-field-error");

    await field(page, "Sender email").fill(senderEmail);
    expect(await field(page, "Sender name").getAttribute("placeholder")).toBe(senderEmail);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    // The password is write-only now: shown as set, with Replace.
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();
    expect(await page.locator("input[type=password]").count()).toBe(0);
    expect(await page.content()).not.toContain(smtpPassword);
    await page.locator(".provider-status").getByText(`“${senderEmail}” <${senderEmail}>`).waitFor();
  });

  it("tests the connection with every step green, and sends a test email that arrives", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.locator(".test-area .test-result-ok").count(), { timeout: 20_000 }).toBe(1);
    const steps = await testSteps(page);
    expect(steps).toEqual({
      resolve: "ok",
      connect: "ok",
      tls: "ok",
      ehlo: "ok",
      authenticate: "ok",
      send: "skipped",
    });

    const received = smtp.messages.length;
    await page.getByLabel("Test email to").selectOption(owner);
    await page.getByRole("button", { name: "Send test email" }).click();
    await expect.poll(() => page.locator(".test-area .test-result-ok").count(), { timeout: 20_000 }).toBe(1);
    expect((await testSteps(page)).send).toBe("ok");
    const [mail] = (await smtp.waitForMessages(received + 1)).slice(received);
    expect(mail?.to).toContain(owner);
    // The sender name defaults to the sender email (the parser folds such a name away: read the line).
    expect(mail?.headerLines.find((l) => l.key === "from")?.line).toBe(
      `From: "${senderEmail}" <${senderEmail}>`,
    );

    // Health and the last test are on the page once it refreshes.
    await page.locator(".provider-status").getByText("Working", { exact: true }).waitFor();
    await page
      .locator(".last-test summary")
      .getByText(/Last test: passed/)
      .waitFor();
    await auditAndCapture(page, "email-provider-basic");
  });

  it("empties the password when the destination changes, and shows a failing test's hint", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await field(page, "SMTP host").fill("127.0.0.1");
    await page.getByText("You changed the SMTP host, so enter the password again").waitFor();
    expect(await field(page, "Password").inputValue()).toBe("");
    await field(page, "SMTP host").fill("localhost");
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();

    // A wrong password, tested from the form before saving: the failure names the fix.
    await page.getByRole("button", { name: "Replace the saved password" }).click();
    await field(page, "Password").fill("wrong-password");
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect
      .poll(() => page.locator(".test-area .test-result-failed").count(), { timeout: 20_000 })
      .toBe(1);
    const steps = await testSteps(page);
    expect(steps.authenticate).toBe("failed");
    const hint = page.locator(".test-area .test-step-failed .test-step-hint");
    await expect.poll(() => hint.textContent()).toMatch(/rejected the username or password/);
    await auditAndCapture(page, "email-provider-failing-test");

    // Nothing was saved: keep the stored password.
    await page.getByRole("button", { name: "Keep the saved one" }).click();
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();
  });

  it("sends end users' login emails through the provider, visible in the delivery log", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    const appId = appPath.split("/").at(-1)!;
    const { publishableKey } = (await (await page.request.get(`/api/apps/${appId}`)).json()) as {
      publishableKey: string;
    };
    const login = async (email: string) => {
      const response = await fetch(`${postern.url}/v1/login/email`, {
        method: "POST",
        headers: { authorization: `Bearer ${publishableKey}`, "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
      expect(response.status).toBe(202);
    };
    const received = smtp.messages.length;
    await login("shopper@example.net");
    const [mail] = (await smtp.waitForMessages(received + 1)).slice(received);
    expect(mail?.to).toContain("shopper@example.net");

    await page.getByRole("link", { name: "Delivery log" }).click();
    const row = page.locator("tbody tr", { hasText: "shopper@example.net" });
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 20_000 }).toBe("Sent");
    expect(await row.locator("td[data-label=Route]").textContent()).toBe("Custom provider");
    await row.getByRole("link").click();
    await expect.poll(() => page.locator(".attempt .smtp-reply").first().textContent()).toMatch(/^250/);

    // A permanent refusal fails at once; the detail shows the server's reply and the error class.
    smtp.replies.push({ code: 550, message: "5.1.1 Mailbox unavailable" });
    await login("gone@example.net");
    await page.getByRole("link", { name: "← All login emails" }).click();
    const failed = page.locator("tbody tr", { hasText: "gone@example.net" });
    await expect.poll(() => failed.locator(".badge").textContent(), { timeout: 20_000 }).toBe("Failed");
    await failed.getByRole("link").click();
    await expect
      .poll(() => page.locator(".attempt .smtp-reply").first().textContent())
      .toContain("550 5.1.1");
    const errorClass = page
      .locator(".attempt-body > div", { has: page.getByText("Error class") })
      .locator("dd");
    expect(await errorClass.textContent()).toMatch(/recipient|permanent/);
    await page.getByText("Last error").waitFor();
    await auditAndCapture(page, "delivery-detail-failed");
  });

  it("configures Microsoft 365 OAuth against the fakes, with the setup guide pre-filled", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, `${appPath}/email-provider`);
    await page.getByRole("tab", { name: "Microsoft 365" }).click();
    await page.getByRole("heading", { name: "Set up Microsoft 365" }).waitFor();
    await page.getByText("Saving replaces the Basic Auth provider").waitFor();
    // The kind's fields, labels and order come from the registry (GET /api/email-provider-kinds).
    const labels = await page
      .locator(".provider-form .field-label")
      .evaluateAll((nodes) => nodes.map((n) => n.firstChild?.textContent?.trim() ?? ""));
    expect(labels).toEqual([
      "Sender email",
      "Sender name",
      "Send through",
      "Directory (tenant) ID",
      "Application (client) ID",
      "Credential",
      "Client secret",
      "Secret expires on",
      "Test email to",
    ]);
    await page.getByText("Exchange Online through an Entra app registration").waitFor();

    await field(page, "Sender email").fill(MAILBOX);
    await field(page, "Sender name").fill("Contoso Login");
    await field(page, "Application (client) ID").fill(CLIENT_ID);
    await field(page, "Client secret").fill(CLIENT_SECRET);
    await field(page, "Directory (tenant) ID").fill(TENANT_ID);

    // The guide's PowerShell carries the entered IDs and mailbox, each command with a copy button.
    const guide = page.locator(".guide");
    const filledIn = [
      `New-ServicePrincipal -AppId '${CLIENT_ID}'`,
      `Add-MailboxPermission -Identity '${MAILBOX}'`,
      `Connect-ExchangeOnline -Organization '${TENANT_ID}'`,
    ];
    await expect
      .poll(
        async () => {
          const text = (await guide.textContent()) ?? "";
          return filledIn.filter((command) => !text.includes(command));
        },
        {
          timeout: 10_000,
        },
      )
      .toEqual([]);
    const connect = guide.locator(".guide-command", { hasText: "Connect-ExchangeOnline" });
    await connect.getByRole("button", { name: /^Copy/ }).click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe(`Connect-ExchangeOnline -Organization '${TENANT_ID}'`);

    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Replace the saved client secret" }).waitFor();

    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.locator(".test-area .test-result-ok").count(), { timeout: 20_000 }).toBe(1);
    const steps = await testSteps(page);
    expect(steps.token).toBe("ok");
    expect(steps.authenticate).toBe("ok");
    await auditAndCapture(page, "email-provider-oauth");

    // A wrong tenant empties the secret; a wrong secret fails at the token step with its fix.
    await field(page, "Directory (tenant) ID").fill("contoso.onmicrosoft.com");
    await page.getByText("You changed the directory (tenant) ID, so enter the client secret again").waitFor();
    await field(page, "Directory (tenant) ID").fill(TENANT_ID);
    await page.getByRole("button", { name: "Replace the saved client secret" }).click();
    await field(page, "Client secret").fill("not-the-secret");
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect
      .poll(() => page.locator(".test-area .test-result-failed").count(), { timeout: 20_000 })
      .toBe(1);
    expect((await testSteps(page)).token).toBe("failed");
    await expect
      .poll(() => page.locator(".test-area .test-step-hint").first().textContent())
      .toMatch(/secret/i);
    await auditAndCapture(page, "email-provider-oauth-failing");
  });

  it("switches back to the default sender", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await page.getByRole("radio", { name: /Default sender/ }).check();
    await page.getByRole("button", { name: "Switch to the default sender" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Switch to default sender" }).click();
    await expect.poll(() => page.locator(".provider-status").count()).toBe(0);
    expect(await page.getByRole("radio", { name: /Default sender/ }).isChecked()).toBe(true);
  });

  it("works at 375 px wide", { timeout: 60_000 }, async () => {
    const mobile = await openPage(browser, postern.url, { width: 375, height: 812 });
    try {
      await signIn(mobile, postern.url, owner);
      await gotoWhenIdle(mobile.page, `${appPath}/email-provider`);
      await mobile.page.getByRole("radio", { name: /Custom email provider/ }).check();
      await mobile.page.getByRole("tab", { name: "Basic Auth" }).waitFor();
      const overflow = await mobile.page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await auditAndCapture(mobile.page, "email-provider-custom", [375]);
      mobile.watch.assertClean();
    } finally {
      await mobile.context.close();
    }
  });
});
