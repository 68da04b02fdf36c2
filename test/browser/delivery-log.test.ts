// The delivery log as a developer uses it to solve a problem: search for the person who wrote in, see
// why their email failed and how to fix it, and resend — audited with axe-core at 375 and 1440 px.
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import type { CreatedApp, DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  failureScreenshot,
  gotoWhenIdle,
  type OpenedPage,
  openPage,
  type PosternProcess,
  signIn,
} from "./harness.ts";

describe("the delivery log: search, cause, hint and resend", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let browser: Browser;
  let smtp: SmtpServerFake;
  let api: DashboardApi;
  let app: CreatedApp;
  let opened: OpenedPage | undefined;
  // The recipient's server refuses the first email to them, then accepts (their mailbox was fixed).
  let refuseBounced = true;

  const login = async (email: string) => {
    const res = await fetch(`${postern.url}/v1/login/email`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.publishableKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(res.status).toBe(202);
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({
      users: { acme: "s3cret-Passw0rd!" },
      rejectRecipients: (address) =>
        address.startsWith("bounced@") && refuseBounced
          ? { code: 550, message: "5.1.1 Mailbox unavailable" }
          : undefined,
    });
    // The owner signs in on a page of the test's own.
    dashboard = await startDashboard({
      env: { ...ALLOWLIST, POSTERN_LIMIT_ADDRESS_PER_MINUTE: "2" },
      app: { name: "Acme", redirectUrls: ["http://localhost/callback"] },
      page: "none",
    });
    ({ postern, browser, api, app } = dashboard);
    const put = await api.request("PUT", `/api/apps/${app.id}/email-provider`, basicBody(smtp.port));
    expect(put.status).toBe(200);
    for (const email of ["alice@example.com", "bob@example.com", "bounced@example.com"]) await login(email);
    // Wait until the bounced one has failed.
    for (let i = 0; ; i++) {
      const res = await api.request("GET", `/api/apps/${app.id}/deliveries?status=failed`);
      if ((res.body.deliveries as unknown[]).length === 1) break;
      if (i > 400) throw new Error("the bounced email never failed");
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120_000);
  afterEach(async (context) => {
    if (opened && context.task.result?.state === "fail") {
      console.error(`screenshot: ${await failureScreenshot(opened.page, context.task.name)}`);
    }
  });
  afterAll(async () => {
    await opened?.context.close();
    await dashboard?.close();
    await smtp?.close();
  });

  it("finds a person's email by search, shows why it failed and how to fix it, and resends it", {
    timeout: 120_000,
  }, async () => {
    opened = await openPage(browser, postern.url);
    const { page, watch } = opened;
    await signIn(opened, postern.url, "owner@example.com");
    await gotoWhenIdle(page, `/w/${api.workspaceId}/apps/${app.id}/deliveries`);
    await page.getByRole("link", { name: "alice@example.com" }).waitFor();
    await auditAndCapture(page, "delivery-log-search");

    // Search: the beginning of the address, as a person types it.
    await page.getByLabel("Recipient").fill("BOUN");
    await page.keyboard.press("Enter");
    await page.waitForURL(/q=BOUN/);
    await expect.poll(() => page.getByRole("link", { name: /@example\.com$/ }).count()).toBe(1);
    await page.getByRole("cell", { name: /refused the recipient/ }).waitFor();
    await auditAndCapture(page, "delivery-log-search-result");
    // Status filter combined with the search; then nothing matches.
    await page.getByLabel("Status").selectOption("sent");
    await page.getByText("No login emails match").waitFor();
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByRole("link", { name: "bob@example.com" }).waitFor();
    await page.getByLabel("Recipient").fill("bounced@example.com");
    await page.getByRole("button", { name: "Search" }).click();

    // The attempt: the server's reply, and the hint Test connection gives for it.
    await page.getByRole("link", { name: "bounced@example.com" }).click();
    await page.getByText("How to fix").waitFor();
    await expect(page.getByText("550 5.1.1 Mailbox unavailable")).toBeDefined();
    await auditAndCapture(page, "delivery-log-attempt-cause");

    // Resend, confirmed, with its result: a new email with a new code, which now goes through.
    refuseBounced = false;
    await page.getByRole("button", { name: "Resend login email" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("the old code is not sent again").waitFor();
    await auditAndCapture(page, "delivery-resend-confirm");
    await dialog.getByRole("button", { name: "Send a new email" }).click();
    await page.getByText("A new login email is on its way").waitFor();
    await auditAndCapture(page, "delivery-resend-done");
    await page.getByRole("link", { name: "Follow the new email" }).click();
    await page.getByText("Login email to bounced@example.com").waitFor();
    await expect
      .poll(() => smtp.messages.filter((m) => m.to.includes("bounced@example.com")).length, {
        timeout: 20_000,
      })
      .toBe(1);
    watch.assertClean();
  });
});
