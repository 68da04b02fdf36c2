// Issue 10's provider-side steps in a real browser: an invitation email in the dev mailbox, the test
// recipient chosen among the workspace's members, one validation pass over the provider form with focus
// on the first invalid field, the disable switch (logins go through the default sender meanwhile),
// failing health on the apps list and the app overview while the SMTP server is down (and its recovery,
// by the provider's own probe), and the Microsoft guide's Object ID field and real links. Every state
// visited is audited with axe at 375 and 1440 px.
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import type { CreatedApp, DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, ROOMY_SIGN_IN, startDashboard } from "./dashboard-fixture.ts";
import { devInbox, gotoWhenIdle, type OpenedPage, type PosternProcess, waitForEmail } from "./harness.ts";

const owner = "form-owner@acme.test";
const teammate = "teammate@acme.test";
const senderEmail = "login@acme.test";
const smtpUser = "mailer";
const smtpPassword = "correct-horse-battery";
const OBJECT_ID = "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f";

const field = (page: Page, label: string) =>
  label === "Sender name" ? page.getByLabel(/^Sender name/) : page.getByLabel(label, { exact: true });

const isFocused = (page: Page, label: string) =>
  field(page, label).evaluate((el) => el === document.activeElement);

describe("provider form, switch, health and invitations", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let smtp: SmtpServerFake;
  let desktop: OpenedPage;
  let api: DashboardApi;
  let app: CreatedApp;
  let workspaceUrl = "";
  let appUrl = "";

  const login = async (email: string) => {
    const response = await fetch(`${postern.url}/v1/login/email`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.publishableKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(response.status).toBe(202);
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { [smtpUser]: smtpPassword } });
    dashboard = await startDashboard({
      env: {
        ...ROOMY_SIGN_IN,
        ...ALLOWLIST,
        // A failing provider checks itself every 2 s, so recovery shows without pressing Test.
        POSTERN_PROVIDER_PROBE_SECONDS: "2",
      },
      owner,
      app: { name: "Acme Forms", redirectUrls: ["https://shop.acme.test/callback"] },
    });
    ({ postern, desktop, api, app } = dashboard);
    workspaceUrl = `/w/${api.workspaceId}`;
    appUrl = `${workspaceUrl}/apps/${app.id}`;
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
    await smtp?.close();
  });

  it("invites a member on the Members page; the invitation email is in the dev mailbox", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, `${workspaceUrl}/members`);
    const seen = await devInbox(postern.url);
    const invite = page.locator("form", { has: page.getByRole("button", { name: "Invite" }) });
    await invite.getByLabel("Email", { exact: true }).fill(teammate);
    await invite.getByRole("button", { name: "Invite" }).click();
    await page.locator("tbody tr", { hasText: teammate }).waitFor();
    const mail = await waitForEmail(postern.url, teammate, { seen });
    expect(mail.subject).toContain(`${owner} invited you to`);
    await auditAndCapture(page, "provider-form-member-invited");

    await page.getByRole("link", { name: "Dev mailbox" }).first().click();
    const item = page.locator(".mailbox-item", { hasText: teammate });
    await item.first().waitFor();
    expect(await item.first().locator(".mailbox-item-subject").textContent()).toBe(mail.subject);
    await item.first().click();
    await page.getByText(mail.subject).last().waitFor();
    await auditAndCapture(page, "provider-form-invite-in-mailbox");
  });

  it("shows every field error at once and focuses the first invalid field", { timeout: 60_000 }, async () => {
    const { page, watch } = desktop;
    await gotoWhenIdle(page, `${appUrl}/email-provider`);
    await page.getByRole("radio", { name: /Custom email provider/ }).check();
    await page.getByRole("tab", { name: "Basic Auth" }).waitFor();
    // Three mistakes in one body: an empty sender, a private host, a port out of range.
    await field(page, "SMTP host").fill("10.0.0.1");
    await field(page, "Port").fill("70000");
    await field(page, "Username").fill(smtpUser);
    await field(page, "Password").fill(smtpPassword);
    watch.expect({ method: "PUT", path: /\/email-provider$/, status: 400 });
    await page.getByRole("button", { name: "Save", exact: true }).click();

    const errorOf = (label: string) =>
      page.locator(".field", { has: field(page, label) }).locator(".field-error");
    // The space for errors is reserved (empty until there is one): read the text.
    const errorTexts = async () => ({
      senderEmail: (await errorOf("Sender email").textContent()) ?? "",
      host: (await errorOf("SMTP host").textContent()) ?? "",
      port: (await errorOf("Port").textContent()) ?? "",
    });
    await expect
      .poll(async () => Object.values(await errorTexts()).filter((text) => text.trim() === "").length)
      .toBe(0);
    expect((await errorTexts()).host).toMatch(/10\.0\.0\.1 is a private or internal address/);
    await expect.poll(() => isFocused(page, "Sender email")).toBe(true);
    for (const label of ["Sender email", "SMTP host", "Port"]) {
      expect(await field(page, label).getAttribute("aria-invalid"), label).toBe("true");
    }
    await auditAndCapture(page, "provider-form-all-errors");

    // Fixed and saved: no error left.
    await field(page, "Sender email").fill(senderEmail);
    await field(page, "SMTP host").fill("localhost");
    await field(page, "Port").fill(String(smtp.port));
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    const shownErrors = await page
      .locator(".provider-form .field-error")
      .evaluateAll((nodes) => nodes.map((n) => n.textContent?.trim() ?? "").filter(Boolean));
    expect(shownErrors).toEqual([]);

    // A test of unsaved values that passed, then saved as they are: the card says what the test found.
    await page.locator(".provider-status").getByText("Not checked yet", { exact: true }).waitFor();
    await field(page, "Sender name").fill("Acme sign-in");
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.locator(".test-area .test-result-ok").count(), { timeout: 20_000 }).toBe(1);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".provider-status").getByText("Working", { exact: true }).waitFor();
  });

  it("offers the workspace members' addresses as the test recipient", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    const select = page.getByLabel("Test email to");
    await expect
      .poll(() => select.locator("option").evaluateAll((os) => os.map((o) => o.textContent)))
      .toEqual(expect.arrayContaining([owner, teammate]));
    await select.selectOption(teammate);
    const received = smtp.messages.length;
    await page.getByRole("button", { name: "Send test email" }).click();
    await expect.poll(() => page.locator(".test-area .test-result-ok").count(), { timeout: 20_000 }).toBe(1);
    await page.getByText(`Test email to ${teammate}: every step passed`).waitFor();
    const [mail] = (await smtp.waitForMessages(received + 1)).slice(received);
    expect(mail?.to).toContain(teammate);
    await page.locator(".provider-status").getByText("Working", { exact: true }).waitFor();
    await auditAndCapture(page, "provider-form-test-to-member");
  });

  it("disables the provider (logins go through the default sender), then enables it again", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    const toggle = page.locator(".provider-status").getByRole("switch");
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Disable the custom provider?").waitFor();
    await auditAndCapture(page, "provider-form-disable-confirm");
    await dialog.getByRole("button", { name: "Disable provider" }).click();
    await page.locator(".provider-status").getByText("Disabled", { exact: true }).waitFor();
    expect(await toggle.getAttribute("aria-checked")).toBe("false");
    await auditAndCapture(page, "provider-form-disabled");

    // A login meanwhile comes from the default sender: the dev mailbox, and the log says so.
    const received = smtp.messages.length;
    const seen = await devInbox(postern.url);
    await login("while-disabled@example.net");
    await waitForEmail(postern.url, "while-disabled@example.net", { seen });
    expect(smtp.messages.length).toBe(received);
    await page.getByRole("link", { name: "Delivery log" }).click();
    const row = page.locator("tbody tr", { hasText: "while-disabled@example.net" });
    await expect.poll(() => row.locator(".badge").first().textContent(), { timeout: 20_000 }).toBe("Sent");
    expect(await row.locator("td[data-label=Route]").textContent()).toBe("Default sender");
    await auditAndCapture(page, "provider-form-disabled-delivery");

    await gotoWhenIdle(page, `${appUrl}/email-provider`);
    await page.locator(".provider-status").getByRole("switch").click();
    await dialog.getByText("Enable the custom provider?").waitFor();
    await dialog.getByRole("button", { name: "Enable provider" }).click();
    await expect
      .poll(() => page.locator(".provider-status").getByRole("switch").getAttribute("aria-checked"))
      .toBe("true");
    expect(await page.locator(".provider-status").getByText("Disabled", { exact: true }).count()).toBe(0);
    await login("after-enable@example.net");
    const [mail] = (await smtp.waitForMessages(received + 1)).slice(received);
    expect(mail?.to).toContain("after-enable@example.net");
    await auditAndCapture(page, "provider-form-enabled");
  });

  it("shows a failing provider on the apps list and the overview, and its recovery", {
    timeout: 90_000,
  }, async () => {
    const { page } = desktop;
    await smtp.stop();
    const received = smtp.messages.length;
    try {
      await login("during-outage@example.net");
      const badge = page.locator(".app-card", { hasText: "Acme Forms" }).getByText("Email provider failing");
      await expect
        .poll(
          async () => {
            await gotoWhenIdle(page, workspaceUrl);
            await page.locator(".app-card", { hasText: "Acme Forms" }).waitFor();
            return badge.count();
          },
          { timeout: 30_000, interval: 1000 },
        )
        .toBe(1);
      await auditAndCapture(page, "provider-form-apps-failing");
      await page.locator(".app-card", { hasText: "Acme Forms" }).click();
      await page.getByText("The custom email provider is failing").waitFor();
      await auditAndCapture(page, "provider-form-overview-failing");
    } finally {
      await smtp.restart();
    }

    // The probe finds it working again; the waiting login goes out without anyone pressing Test.
    const [mail] = (await smtp.waitForMessages(received + 1, 30_000)).slice(received);
    expect(mail?.to).toContain("during-outage@example.net");
    await expect
      .poll(
        async () => {
          await gotoWhenIdle(page, workspaceUrl);
          await page.locator(".app-card", { hasText: "Acme Forms" }).waitFor();
          return page.getByText("Email provider failing").count();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(0);
    await auditAndCapture(page, "provider-form-apps-recovered");
    await gotoWhenIdle(page, appUrl);
    await page.getByRole("heading", { name: "Acme Forms" }).first().waitFor();
    expect(await page.getByText("The custom email provider is failing").count()).toBe(0);
  });

  it("fills the Object ID into the Microsoft guide, whose Entra and Learn links are real", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, `${appUrl}/email-provider`);
    await page.getByRole("tab", { name: "Microsoft 365" }).click();
    await page.getByRole("heading", { name: "Set up Microsoft 365" }).waitFor();
    const guide = page.locator(".guide");
    const servicePrincipal = guide.locator(".guide-command", { hasText: "New-ServicePrincipal" });
    await servicePrincipal.first().waitFor();
    expect(await servicePrincipal.first().textContent()).not.toContain(OBJECT_ID);
    await guide.getByLabel("Object ID", { exact: true }).fill(OBJECT_ID);
    await expect
      .poll(() => servicePrincipal.first().textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`-ObjectId '?${OBJECT_ID}'?`));

    const links = await guide
      .locator(".guide-links a")
      .evaluateAll((as) => as.map((a) => ({ href: a.getAttribute("href") ?? "", text: a.textContent })));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link.href, link.text ?? "").toMatch(
        /^https:\/\/(entra\.microsoft\.com|learn\.microsoft\.com|portal\.azure\.com)\//,
      );
    }
    expect(links.some((l) => l.href.startsWith("https://entra.microsoft.com/"))).toBe(true);
    expect(links.some((l) => l.href.startsWith("https://learn.microsoft.com/"))).toBe(true);
    // A wrong value is flagged beside the field and leaves the command as it was.
    await guide.getByLabel("Object ID", { exact: true }).fill("not-a-guid");
    await guide.getByText("Object ID: must be a GUID").waitFor();
    await guide.getByLabel("Object ID", { exact: true }).fill(OBJECT_ID);
    await expect.poll(() => servicePrincipal.first().textContent()).toContain(OBJECT_ID);
    await auditAndCapture(page, "provider-form-microsoft-guide");
  });
});
