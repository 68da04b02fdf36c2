// The dashboard's finish at a phone's width and a desktop's: section tabs that scroll with a cue,
// member addresses that wrap at the @, an audit log in sentences, every time in the reader's locale,
// forms that show every error at once and focus the first, and unsaved edits kept across a re-sign-in.
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, ROOMY_SIGN_IN, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  gotoWhenIdle,
  type OpenedPage,
  type PosternProcess,
  waitForEmail,
} from "./harness.ts";

const owner = "polish-owner@example.com";
const longMember = "a.very.long.teammate.name@subdomain.example-company.com";
const ISO_TIME = /\d{4}-\d{2}-\d{2}T/;

describe("dashboard polish", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let desktop: OpenedPage;
  let api: DashboardApi;
  let appUrl = "";
  let workspaceUrl = "";

  // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees (rendered text) is the point.
  const visibleText = (page: Page) => page.locator("body").innerText();

  beforeAll(async () => {
    dashboard = await startDashboard({
      env: {
        ...ROOMY_SIGN_IN,
      },
      owner,
      app: { name: "Polish shop", redirectUrls: ["https://shop.example.com/callback"] },
      // Before the feature is unlocked and the browser starts.
      prepare: async ({ api }) => {
        await api.request("POST", `/api/workspaces/${api.workspaceId}/members`, {
          email: longMember,
          role: "member",
        });
        await api.request("PATCH", `/api/workspaces/${api.workspaceId}`, { name: "Polish works" });
      },
    });
    ({ postern, desktop, api } = dashboard);
    workspaceUrl = `/w/${api.workspaceId}`;
    appUrl = `${workspaceUrl}/apps/${dashboard.app.id}`;
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
  });

  it("scrolls the app's section tabs at 375 px with a fade cue and the current tab in view", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.setViewportSize({ width: 375, height: 800 });
    await gotoWhenIdle(page, `${appUrl}/deliveries`);
    await page.getByRole("heading", { name: "Polish shop" }).waitFor();
    const tabs = page.getByRole("navigation", { name: "App sections" });
    const layout = await tabs.evaluate((nav) => {
      const active = nav.querySelector<HTMLElement>('[aria-current="page"]')!;
      const box = nav.getBoundingClientRect();
      const tab = active.getBoundingClientRect();
      return {
        overflows: nav.scrollWidth > nav.clientWidth,
        activeVisible: tab.left >= box.left - 1 && tab.right <= box.right + 1,
        cueBefore: nav.parentElement!.hasAttribute("data-more-before"),
      };
    });
    expect(layout).toEqual({ overflows: true, activeVisible: true, cueBefore: true });
    await auditAndCapture(page, "app-tabs-scrolled", [375]);

    await page.getByRole("link", { name: "Overview" }).click();
    await expect
      .poll(() => tabs.evaluate((nav) => nav.parentElement!.hasAttribute("data-more-after")))
      .toBe(true);
    await auditAndCapture(page, "app-overview");
  });

  it("keeps member addresses whole at 375 px, wrapping only at the @", { timeout: 60_000 }, async () => {
    const { page } = desktop;
    await page.setViewportSize({ width: 375, height: 800 });
    await gotoWhenIdle(page, `${workspaceUrl}/members`);
    const cell = page.locator("td.cell-email", { hasText: "a.very.long.teammate.name" });
    await cell.waitFor();
    // Each side of the @ is one text node; neither may be split over two lines.
    const linesPerPart = await cell.evaluate((td) => {
      const texts = [...td.querySelectorAll("span")][0]!.childNodes;
      return [...texts]
        .filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent)
        .map((n) => {
          const range = document.createRange();
          range.selectNodeContents(n);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        });
    });
    expect(linesPerPart).toEqual([1, 1]);
    await auditAndCapture(page, "members-long-address");
  });

  it("reads the audit log as sentences with app names, addresses and the operator", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.setViewportSize({ width: 1440, height: 900 });
    await gotoWhenIdle(page, `${workspaceUrl}/audit`);
    await page.locator(".audit-item").first().waitFor();
    const text = await visibleText(page);
    expect(text).toContain(`${owner} created the app “Polish shop”`);
    expect(text).toContain(`${owner} invited ${longMember} as member`);
    expect(text).toContain(`${owner} renamed the workspace from`);
    expect(text).toContain("The operator unlocked custom email providers for this workspace");
    expect(text).not.toMatch(/feature\.unlocked|app\.created|app_[A-Za-z0-9]{6,}|\bok true\b/);
    await auditAndCapture(page, "audit-log-sentences");
  });

  it("shows no raw ISO time on any page it visits, and no wrapped button at 1440 px", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await page.setViewportSize({ width: 1440, height: 900 });
    for (const [url, heading] of [
      [workspaceUrl, "Apps"],
      [`${workspaceUrl}/members`, "Members & plan"],
      [`${workspaceUrl}/audit`, "Audit log"],
      [appUrl, "Polish shop"],
      [`${appUrl}/keys`, "Polish shop"],
      [`${appUrl}/deliveries`, "Polish shop"],
    ] as const) {
      await gotoWhenIdle(page, url);
      await page.getByRole("heading", { name: heading, exact: true }).waitFor();
      await page.waitForLoadState("networkidle");
      expect(await visibleText(page), url).not.toMatch(ISO_TIME);
      // At 1440 px no button's label runs onto a second line.
      const wrapped = await page.$$eval("button.btn, a.btn", (buttons) =>
        buttons
          .filter((b) => (b as HTMLElement).offsetParent !== null)
          .filter(
            (b) => b.getBoundingClientRect().height > parseFloat(getComputedStyle(b).lineHeight) * 1.5 + 20,
          )
          .map((b) => b.textContent),
      );
      expect(wrapped, url).toEqual([]);
    }
    await auditAndCapture(page, "delivery-log-localised");
  });

  it("shows every invalid field of a form after one save and focuses the first", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    await gotoWhenIdle(page, `${appUrl}/settings`);
    await page.getByRole("heading", { name: "General" }).waitFor();
    await page.getByRole("button", { name: "Add redirect URL" }).click();
    await page.getByRole("button", { name: "Add redirect URL" }).click();
    await page.getByLabel("Redirect URL 2", { exact: true }).fill("not a url");
    await page.getByLabel("Redirect URL 3", { exact: true }).fill("http://shop.example.com/callback");
    watch.expect({ method: "PATCH", path: /^\/api\/apps\/[^/]+$/, status: 400 });
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator('.url-row [aria-invalid="true"]').count()).toBe(2);
    await expect
      .poll(() =>
        page.getByLabel("Redirect URL 2", { exact: true }).evaluate((el) => el === document.activeElement),
      )
      .toBe(true);
    await auditAndCapture(page, "app-settings-every-error");

    // The dashboard's own check (a required name) focuses its field too, without a round trip.
    await gotoWhenIdle(page, `${workspaceUrl}/members`);
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByText("Enter the address your teammate signs in with.").waitFor();
    await expect
      .poll(() => page.getByLabel("Email", { exact: true }).evaluate((el) => el === document.activeElement))
      .toBe(true);
    await auditAndCapture(page, "invite-required-email");
  });

  it("keeps unsaved edits across a session expiry and restores them after signing in again", {
    timeout: 90_000,
  }, async () => {
    const { page, context, watch } = desktop;
    await gotoWhenIdle(page, `${appUrl}/settings`);
    await page.getByRole("heading", { name: "General" }).waitFor();
    await page.getByLabel("App name").fill("Polish shop (renamed)");
    await page.getByRole("button", { name: "Add redirect URL" }).click();
    await page.getByLabel("Redirect URL 2", { exact: true }).fill("https://shop.example.com/other");

    await context.clearCookies();
    watch.expect(
      { method: "PATCH", path: /^\/api\/apps\/[^/]+$/, status: 401 },
      { method: "GET", path: /^\/api\//, status: 401 },
    );
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Your session expired. Sign in again to pick up where you left off.").waitFor();

    await page.getByLabel("Email").fill(owner);
    const seen = await devInbox(postern.url);
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, owner, { seen });
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();

    await page.getByText("Your unsaved changes are back").waitFor();
    expect(await page.getByLabel("App name").inputValue()).toBe("Polish shop (renamed)");
    expect(await page.getByLabel("Redirect URL 2", { exact: true }).inputValue()).toBe(
      "https://shop.example.com/other",
    );
    await auditAndCapture(page, "app-settings-draft-restored");

    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved", { exact: true }).waitFor();
    expect(await page.getByText("Your unsaved changes are back").count()).toBe(0);
    await page.reload();
    await page.getByRole("heading", { name: "General" }).waitFor();
    expect(await page.getByLabel("App name").inputValue()).toBe("Polish shop (renamed)");
    expect(await page.getByText("Your unsaved changes are back").count()).toBe(0);
  });
});
