// Browser-test harness: a real Postern process (built dashboard, embedded PGlite in a temp dir) and
// Debian's chromium driven by playwright-core, with a watch that fails the test on any console error,
// page error, failed request or unexpected HTTP error.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type PosternProcess as SpawnedPostern, spawnPostern } from "../support/process.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
// The committed screenshots (docs/screenshots) change only when asked, so `npm test` leaves the tree
// clean; otherwise they go to test-results/ (ignored) for inspection.
const screenshotDir = path.join(
  repoRoot,
  process.env.POSTERN_UPDATE_SCREENSHOTS === "1" ? "docs/screenshots" : "test-results/screenshots",
);

export interface PosternProcess extends SpawnedPostern {
  dataDir: string;
  /** The operator token the embedded default writes into its data dir. */
  operatorToken(): Promise<string>;
  /** Ends the process (SIGKILL if SIGTERM has not ended it in 10 s) and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts `postern start` (test/support/process.ts) on a free port with a fresh data dir, serving the built
 * dashboard; resolves once /readyz answers 200.
 */
export async function startPostern(env: Record<string, string> = {}): Promise<PosternProcess> {
  if (!existsSync(path.join(repoRoot, "web/dist/index.html"))) {
    throw new Error(
      "web/dist is missing: build it first (`npm run build`; the test run's global set-up does), then run the browser tests.",
    );
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), "postern-browser-"));
  let spawned: SpawnedPostern;
  try {
    spawned = await spawnPostern({ POSTERN_DATA_DIR: dataDir, ...env });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    const timer = setTimeout(() => void spawned.kill("SIGKILL"), 10_000);
    await spawned.kill("SIGTERM");
    clearTimeout(timer);
    await rm(dataDir, { recursive: true, force: true });
  };
  return {
    ...spawned,
    dataDir,
    operatorToken: async () => (await readFile(path.join(dataDir, "operator.token"), "utf8")).trim(),
    stop,
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface ExpectedResponse {
  method?: string;
  /** Matched against the URL's path (and query). */
  path: RegExp;
  status: number;
}

/**
 * Collects everything that went wrong in a page. A test declares the HTTP errors it causes on purpose
 * (`expect`); anything else fails `assertClean`.
 */
export class PageWatch {
  readonly problems: string[] = [];
  private expected: ExpectedResponse[] = [];
  private readonly allowedUrls = new Set<string>();

  constructor(page: Page) {
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      // Chromium reports every HTTP error response as a console error too; those are judged as responses.
      const url = message.location().url;
      if (message.text().startsWith("Failed to load resource") && this.allowedUrls.has(url)) return;
      this.problems.push(`console error: ${message.text()} (${url})`);
    });
    page.on("pageerror", (error) => this.problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      const reason = request.failure()?.errorText ?? "?";
      // A GET the page itself gave up (a refresh cut short by leaving the page) is no failure of Postern's;
      // anything else that fails, and any cancelled write, is.
      if (request.method() === "GET" && reason === "net::ERR_ABORTED") return;
      this.problems.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
    });
    page.on("response", (response) => {
      if (response.status() < 400) return;
      const url = new URL(response.url());
      const method = response.request().method();
      const allowed = this.expected.some(
        (e) =>
          e.status === response.status() &&
          (e.method ?? method) === method &&
          e.path.test(url.pathname + url.search),
      );
      if (allowed) this.allowedUrls.add(response.url());
      else this.problems.push(`unexpected HTTP ${response.status()}: ${method} ${url.pathname}${url.search}`);
    });
  }

  /** Declares an HTTP error the test causes on purpose. */
  expect(...responses: ExpectedResponse[]): void {
    this.expected.push(...responses);
  }

  /** Throws with every problem seen so far, then starts over (expectations are kept). */
  assertClean(): void {
    const problems = this.problems.splice(0);
    if (problems.length > 0) throw new Error(`The page had problems:\n  ${problems.join("\n  ")}`);
  }
}

/** Signed-out visitors load /api/me once to learn they are signed out: a 401 by design. */
export const signedOutCheck: ExpectedResponse = { method: "GET", path: /^\/api\/me$/, status: 401 };

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
}

export async function openPage(
  browser: Browser,
  baseUrl: string,
  viewport: { width: number; height: number } = { width: 1440, height: 900 },
): Promise<OpenedPage> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, deviceScaleFactor: 1 });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  const page = await context.newPage();
  const watch = new PageWatch(page);
  return { context, page, watch };
}

export interface DevMessage {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  receivedAt: string;
}

export async function devInbox(baseUrl: string): Promise<DevMessage[]> {
  const response = await fetch(`${baseUrl}/api/dev/inbox`);
  return ((await response.json()) as { messages: DevMessage[] }).messages;
}

/** The newest dev-mailbox message to `recipient` that is not in `seen`, waiting for it to arrive. */
export async function waitForEmail(
  baseUrl: string,
  recipient: string,
  options: { seen?: DevMessage[]; timeoutMs?: number } = {},
): Promise<DevMessage> {
  const seen = new Set(options.seen?.map((m) => m.id));
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const found = (await devInbox(baseUrl)).find((m) => m.to.includes(recipient) && !seen.has(m.id));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`No new email to ${recipient} reached the dev mailbox.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function codeFrom(subject: string): string {
  const code = /(\d{6})/.exec(subject)?.[1];
  if (!code) throw new Error(`No 6-digit code in "${subject}".`);
  return code;
}

/** After a failed test: what the page looked like, saved outside the repository; returns the path. */
export async function failureScreenshot(page: Page, testName: string): Promise<string> {
  const file = path.join(
    tmpdir(),
    "postern-browser-failures",
    `${testName.replace(/[^a-z0-9]+/gi, "-").slice(0, 80)}.png`,
  );
  await mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}

/** Saves a full-page screenshot as <screenshotDir>/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  const width = page.viewportSize()?.width ?? 1440;
  // From the top (sticky parts stay where a reader first sees them), once fonts have settled.
  await page.evaluate(async () => {
    window.scrollTo(0, 0);
    await document.fonts.ready;
  });
  await page.screenshot({ path: path.join(screenshotDir, `${name}-${width}.png`), fullPage: true });
}

/** Unlocks (or locks) Custom Email Provider for a workspace through the operator API. */
export async function setCustomEmailProvider(postern: PosternProcess, workspaceId: string, enabled: boolean) {
  const response = await fetch(`${postern.url}/api/operator/workspaces/${workspaceId}/features`, {
    method: "POST",
    headers: { authorization: `Bearer ${await postern.operatorToken()}`, "content-type": "application/json" },
    body: JSON.stringify({ feature: "custom-email-provider", enabled }),
  });
  if (!response.ok) throw new Error(`operator API answered ${response.status}: ${await response.text()}`);
}

/** Signs in through the sign-in page, reading the code from the dev mailbox. */
export async function signIn({ page, watch }: OpenedPage, baseUrl: string, email: string): Promise<void> {
  watch.expect(signedOutCheck);
  await gotoWhenIdle(page, "/sign-in");
  await page.getByLabel("Email").fill(email);
  const seen = await devInbox(baseUrl);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await page.getByLabel("Sign-in code").waitFor();
  const mail = await waitForEmail(baseUrl, email, { seen });
  await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("main#main").waitFor();
}

/**
 * Loads a URL once the page's own requests have finished: leaving mid-request would abort them,
 * and an aborted request counts as a failed one.
 */
export async function gotoWhenIdle(page: Page, url: string): Promise<void> {
  // A page that refreshes itself (the delivery log, every 4 s) may never be idle on a loaded machine;
  // a GET cut short by leaving is no failure (see PageWatch), so the wait is bounded.
  await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => undefined);
  await page.goto(url);
}
