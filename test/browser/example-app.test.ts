// The example app (examples/web-app) started with its one command beside a real `postern start`,
// signed in to end to end in Chromium: its protected page, then out again.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/process.ts";
import { type Dashboard, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  failureScreenshot,
  type OpenedPage,
  openPage,
  type PosternProcess,
  waitForEmail,
} from "./harness.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

describe("the example app", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let example: ChildProcess;
  let exampleOutput = "";
  let opened: OpenedPage;
  let appUrl = "";

  beforeAll(async () => {
    // The seeded developer, signed in to the API; the page (on the example's origin) comes later.
    dashboard = await startDashboard({ owner: "developer@postern.localhost", unlock: false, page: "none" });
    postern = dashboard.postern;
    // The demo app is seeded for the example on port 3000; this machine may use that port, so the
    // test gives the demo app the example's actual port.
    const port = await freePort();
    appUrl = `http://localhost:${port}`;
    const developer = dashboard.api;
    const patched = await developer.request("PATCH", "/api/apps/app_demo", {
      redirectUrls: [`${appUrl}/callback`, `${appUrl}/`],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.oidc).toMatchObject({ tokenEndpointAuthMethod: "none" });

    example = spawn("npm", ["run", "--silent", "example"], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), POSTERN_URL: postern.url },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: npm, tsx and node all stop together (a signal to npm alone leaves node running).
      detached: true,
    });
    example.stdout?.on("data", (chunk: Buffer) => {
      exampleOutput += chunk.toString();
    });
    example.stderr?.on("data", (chunk: Buffer) => {
      exampleOutput += chunk.toString();
    });
    const deadline = Date.now() + 60_000;
    while (!exampleOutput.includes("Example app on")) {
      if (example.exitCode !== null || Date.now() > deadline)
        throw new Error(`the example did not start:\n${exampleOutput}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    opened = await openPage(dashboard.browser, appUrl);
  }, 120_000);

  afterEach(async (context) => {
    if (context.task.result?.state === "fail") {
      console.error(`Screenshot: ${await failureScreenshot(opened.page, context.task.name)}`);
      console.error(`Example's output:\n${exampleOutput}\nPostern's output:\n${postern.output()}`);
    }
    opened.watch.assertClean();
  });

  afterAll(async () => {
    if (example?.pid !== undefined && example.exitCode === null) process.kill(-example.pid, "SIGTERM");
    await dashboard?.close();
  });

  it("signs in through the hosted page to its protected page, and signs out", {
    timeout: 90_000,
  }, async () => {
    const { page } = opened;
    await page.goto(`${appUrl}/account`);
    // Protected: the example sends the visitor to sign in first.
    await page.getByRole("heading", { name: "Sign in to Demo app" }).waitFor();
    await page.getByLabel("Email address").fill("visitor@example.com");
    const seen = await devInbox(postern.url);
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, "visitor@example.com", { seen });
    await page.getByLabel("6-digit code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    expect(new URL(page.url()).origin).toBe(appUrl);
    expect(await page.textContent("main")).toContain("visitor@example.com");
    expect(await page.textContent("main")).toMatch(/usr_/);

    await page.getByRole("link", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign out of Demo app?" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Example app" }).waitFor();
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    await page.goto(`${appUrl}/account`);
    await page.getByRole("heading", { name: "Sign in to Demo app" }).waitFor();
  });
});
