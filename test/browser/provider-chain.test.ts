// Ordered fallback in a real browser: a Basic Auth primary against SMTP server A, a Basic Auth fallback
// against server B added through the dashboard, the fallback's connection tested from the list, moved
// up (kept after a reload) and back down with focus following it, a login email that moves on from A
// (refusing AUTH) to B as the delivery log shows, and the fallback removed. Every state visited is
// audited with axe at 375 and 1440 px.
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import type { CreatedApp, DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, ROOMY_SIGN_IN, startDashboard } from "./dashboard-fixture.ts";
import { gotoWhenIdle, type OpenedPage, type PosternProcess } from "./harness.ts";

const owner = "chain-owner@acme.test";
const primarySender = "login@acme.test";
const backupSender = "backup@acme.test";
const primaryLabel = `Basic Auth (${primarySender})`;
const backupLabel = `Basic Auth (${backupSender})`;
const userA = "mailer-a";
const passwordA = "correct-horse-battery";
const userB = "mailer-b";
const passwordB = "staple-battery-horse";

const field = (page: Page, label: string) =>
  label === "Sender name" ? page.getByLabel(/^Sender name/) : page.getByLabel(label, { exact: true });

/** The ordered list of providers. */
const chain = (page: Page) =>
  page.getByRole("list", { name: "Providers, in the order login emails try them" });

/** Each listed provider as "Position · label", first to last. */
const order = (page: Page) =>
  chain(page)
    .locator(":scope > li")
    .evaluateAll((items) =>
      items.map(
        (li) =>
          `${li.querySelector(".chain-position")?.textContent} · ${li.querySelector(".chain-label")?.textContent}`,
      ),
    );

/** The accessible name of the focused element. */
const focusedName = (page: Page) =>
  page.evaluate(
    () => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent,
  );

/** The list item of one provider. */
const item = (page: Page, label: string): Locator =>
  chain(page).locator(":scope > li", { has: page.locator(".chain-label", { hasText: label }) });

async function fillBasicAuth(
  page: Page,
  sender: string,
  server: SmtpServerFake,
  user: string,
  password: string,
) {
  await page.getByRole("tab", { name: "Basic Auth" }).waitFor();
  await field(page, "Sender email").fill(sender);
  await field(page, "SMTP host").fill("localhost");
  await field(page, "Port").fill(String(server.port));
  await field(page, "Username").fill(user);
  await field(page, "Password").fill(password);
}

describe("provider chain", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let smtpA: SmtpServerFake;
  let smtpB: SmtpServerFake;
  let desktop: OpenedPage;
  let api: DashboardApi;
  let app: CreatedApp;
  let providerUrl = "";
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
    smtpA = await startSmtpServer({ security: "starttls", users: { [userA]: passwordA } });
    smtpB = await startSmtpServer({ security: "starttls", users: { [userB]: passwordB } });
    dashboard = await startDashboard({
      env: {
        ...ROOMY_SIGN_IN,
        ...ALLOWLIST,
      },
      owner,
      app: { name: "Acme Chain", redirectUrls: ["https://shop.acme.test/callback"] },
    });
    ({ postern, desktop, api, app } = dashboard);
    appUrl = `/w/${api.workspaceId}/apps/${app.id}`;
    providerUrl = `${appUrl}/email-provider`;
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
    await smtpA?.close();
    await smtpB?.close();
  });

  it("sets up a Basic Auth primary against server A; the list shows it as the primary", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("radio", { name: /Custom email provider/ }).check();
    await fillBasicAuth(page, primarySender, smtpA, userA, passwordA);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    await expect.poll(() => order(page)).toEqual([`Primary · ${primaryLabel}`]);
    // One provider: nothing to move.
    expect(await page.getByRole("button", { name: `Move ${primaryLabel} up` }).count()).toBe(0);
    await page.getByRole("button", { name: "Add a fallback provider" }).waitFor();
  });

  it("adds a fallback against server B and tests its connection from the list", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByRole("button", { name: "Add a fallback provider" }).click();
    const heading = page.getByRole("heading", { name: "Add a fallback provider" });
    await heading.waitFor();
    await expect.poll(() => heading.evaluate((el) => el === document.activeElement)).toBe(true);
    // The new provider's form starts empty.
    expect(await field(page, "Sender email").inputValue()).toBe("");
    await fillBasicAuth(page, backupSender, smtpB, userB, passwordB);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    await expect
      .poll(() => order(page))
      .toEqual([`Primary · ${primaryLabel}`, `Fallback 1 · ${backupLabel}`]);
    // The form now edits the saved fallback, with its password write-only.
    await page.getByRole("heading", { name: `Fallback 1: ${backupLabel}` }).waitFor();
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();

    const attempts = smtpB.authAttempts.length;
    await page.getByRole("button", { name: `Test the connection to ${backupLabel}` }).click();
    const result = item(page, backupLabel).locator(".test-result-ok");
    await result.waitFor({ timeout: 20_000 });
    expect(await result.locator(".test-result-head").textContent()).toContain(
      `Connection test of ${backupLabel}: every step passed`,
    );
    expect(await result.locator('[data-step="authenticate"]').getAttribute("class")).toContain(
      "test-step-ok",
    );
    expect(smtpB.authAttempts.slice(attempts).map((a) => [a.username, a.success])).toEqual([[userB, true]]);
    await item(page, backupLabel).getByText("Working", { exact: true }).waitFor();
    await auditAndCapture(page, "provider-chain");
  });

  it("moves the fallback up, keeps the order after a reload, and moves it back", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.getByRole("button", { name: `Move ${backupLabel} up` }).click();
    await expect
      .poll(() => order(page))
      .toEqual([`Primary · ${backupLabel}`, `Fallback 1 · ${primaryLabel}`]);
    // It cannot go higher: focus stays with it, on its other move button.
    await expect.poll(() => focusedName(page)).toBe(`Move ${backupLabel} down`);
    await expect
      .poll(() => page.locator(".provider-chain > [role=status]").textContent())
      .toBe(`${backupLabel} is now the primary.`);
    // The form still shows the provider it showed, now the primary.
    await page.getByRole("heading", { name: `Primary: ${backupLabel}` }).waitFor();
    await auditAndCapture(page, "provider-chain-reordered");

    await gotoWhenIdle(page, providerUrl);
    await expect
      .poll(() => order(page))
      .toEqual([`Primary · ${backupLabel}`, `Fallback 1 · ${primaryLabel}`]);
    const saved = await api.request("GET", `/api/apps/${app.id}/email-providers`);
    expect((saved.body.provider as { label: string }).label).toBe(backupLabel);

    await page.getByRole("button", { name: `Move ${backupLabel} down` }).click();
    await expect
      .poll(() => order(page))
      .toEqual([`Primary · ${primaryLabel}`, `Fallback 1 · ${backupLabel}`]);
    await expect.poll(() => focusedName(page)).toBe(`Move ${backupLabel} up`);
  });

  it("sends a login email through the fallback while server A refuses AUTH; the log shows both attempts", {
    timeout: 90_000,
  }, async () => {
    const { page } = desktop;
    // The primary with a wrong password: server A answers 535 to AUTH.
    await page.getByRole("button", { name: `Edit ${primaryLabel}` }).click();
    await page.getByRole("heading", { name: `Primary: ${primaryLabel}` }).waitFor();
    await page.getByRole("button", { name: "Replace the saved password" }).click();
    await field(page, "Password").fill("not-the-password");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();

    const receivedA = smtpA.messages.length;
    const receivedB = smtpB.messages.length;
    await login("shopper@example.net");
    const [mail] = (await smtpB.waitForMessages(receivedB + 1, 60_000)).slice(receivedB);
    expect(mail?.to).toContain("shopper@example.net");
    expect(mail?.headerLines.find((l) => l.key === "from")?.line).toContain(backupSender);
    expect(smtpA.messages.length).toBe(receivedA);
    expect(smtpA.authAttempts.at(-1)?.success).toBe(false);

    await page.getByRole("link", { name: "Delivery log" }).click();
    const row = page.locator("tbody tr", { hasText: "shopper@example.net" });
    await expect.poll(() => row.locator(".badge").first().textContent(), { timeout: 30_000 }).toBe("Sent");
    await row.getByRole("link").click();
    const attempts = page.locator(".attempt");
    await expect.poll(() => attempts.count(), { timeout: 20_000 }).toBe(2);
    const summary = (attempt: Locator) =>
      attempt.evaluate((li) => ({
        outcome: li.querySelector(".attempt-head .badge")?.textContent,
        provider: [...li.querySelectorAll(".attempt-body > div")]
          .find((d) => d.querySelector("dt")?.textContent === "Provider")
          ?.querySelector("dd")?.textContent,
      }));
    expect(await summary(attempts.nth(0))).toEqual({
      outcome: "Moved on to the next provider",
      provider: primaryLabel,
    });
    expect(await summary(attempts.nth(1))).toEqual({ outcome: "Sent", provider: backupLabel });
    await expect.poll(() => attempts.nth(0).locator(".smtp-reply").textContent()).toContain("535");
    await auditAndCapture(page, "delivery-detail-moved-on");
  });

  it("removes the fallback after a confirm", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, providerUrl);
    await expect.poll(() => order(page)).toHaveLength(2);
    await page.getByRole("button", { name: `Remove ${backupLabel}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(`Remove ${backupLabel}?`).waitFor();
    await dialog.getByText("The others keep their order.", { exact: false }).waitFor();
    await auditAndCapture(page, "provider-chain-remove-confirm");
    await dialog.getByRole("button", { name: "Remove provider" }).click();
    await expect.poll(() => order(page)).toEqual([`Primary · ${primaryLabel}`]);
    // Focus returns to the list, not to the page's start.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Providers");
    const saved = await api.request("GET", `/api/apps/${app.id}/email-providers`);
    expect((saved.body.providers as { label: string }[]).map((p) => p.label)).toEqual([primaryLabel]);
  });

  it("stops at five providers, then switches to the default sender, removing all five after saying so", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    const extra = ["two", "three", "four", "five"].map((n) => `${n}@acme.test`);
    for (const sender of extra) {
      const added = await api.request("POST", `/api/apps/${app.id}/email-providers`, {
        type: "smtp_basic",
        senderEmail: sender,
        host: "localhost",
        port: smtpB.port,
        security: "starttls",
        username: userB,
        password: passwordB,
        fallbackToDefault: false,
      });
      expect(added.status, sender).toBe(200);
    }
    await gotoWhenIdle(page, providerUrl);
    await expect.poll(() => order(page)).toHaveLength(5);
    const add = page.getByRole("button", { name: "Add a fallback provider" });
    expect(await add.isDisabled()).toBe(true);
    // The reason is the button's description.
    const description = await add.evaluate(
      (button) => document.getElementById(button.getAttribute("aria-describedby") ?? "")?.textContent,
    );
    expect(description).toBe("An app can have at most 5 providers. Remove one to add another.");
    await auditAndCapture(page, "provider-chain-full");

    await page.getByRole("radio", { name: /Default sender/ }).check();
    await page.getByText("5 custom providers are saved and in use.", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Switch to the default sender" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("All 5 custom providers are deleted", { exact: false }).waitFor();
    expect(await dialog.getByRole("listitem").allTextContents()).toEqual([
      primaryLabel,
      ...extra.map((sender) => `Basic Auth (${sender})`),
    ]);
    await auditAndCapture(page, "provider-chain-default-confirm");
    await dialog.getByRole("button", { name: "Switch to default sender" }).click();
    // The cards hid when the radio was checked; the switch itself goes once every provider is deleted.
    await expect
      .poll(() => page.getByRole("button", { name: "Switch to the default sender" }).count(), {
        timeout: 20_000,
      })
      .toBe(0);
    expect(await page.getByRole("radio", { name: /Default sender/ }).isChecked()).toBe(true);
    const saved = await api.request("GET", `/api/apps/${app.id}/email-providers`);
    expect(saved.body.providers).toEqual([]);
    // Custom again: nothing listed, the empty form for a first provider.
    await page.getByRole("radio", { name: /Custom email provider/ }).check();
    await page.getByRole("heading", { name: "Custom email provider" }).waitFor();
    expect(await chain(page).count()).toBe(0);
    expect(await field(page, "Sender email").inputValue()).toBe("");
  });
});
