// The set-up most browser tests share, in one place: a running Postern (the built dashboard), chromium,
// an owner signed in to the management API and on a desktop page, an app, and Custom Email Provider
// unlocked for the owner's workspace. Each piece can be left out; close() ends whatever was started.
import type { Browser } from "playwright-core";
import { type CreatedApp, type DashboardApi, dashboardApi } from "./api.ts";
import {
  failureScreenshot,
  launchBrowser,
  type OpenedPage,
  openPage,
  type PosternProcess,
  setCustomEmailProvider,
  signIn,
  startPostern,
} from "./harness.ts";

/**
 * Room for the owner to sign in several times a minute (a second, narrow browser; the dashboard's own
 * sign-in), which the default per-address limits would refuse within one test file.
 */
export const ROOMY_SIGN_IN = {
  POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20",
  POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE: "20",
};

export interface DashboardOptions {
  /** Postern's environment, over the harness's defaults. */
  env?: Record<string, string>;
  /** The dashboard account that signs in (default owner@example.com). */
  owner?: string;
  /** Sign the owner in to the management API through the dev mailbox (default true). */
  api?: boolean;
  /** An app to create through the API (needs `api`). */
  app?: { name: string; redirectUrls: string[]; settings?: Record<string, unknown> };
  /** Unlock Custom Email Provider for the owner's workspace (default: whenever `api` is on). */
  unlock?: boolean;
  /** Runs once the API sign-in and the app are done, before the feature is unlocked and the browser starts. */
  prepare?: (dashboard: Dashboard) => Promise<void>;
  /**
   * "signed-in" (default): a 1440 × 900 page on which the owner signed in through the sign-in page;
   * "open": the page, nobody signed in; "none": no page (the test opens its own).
   */
  page?: "signed-in" | "open" | "none";
}

export interface Dashboard {
  postern: PosternProcess;
  browser: Browser;
  owner: string;
  /** The owner's management-API client (only with `api`). */
  readonly api: DashboardApi;
  /** The app created through the API (only with `app`). */
  readonly app: CreatedApp;
  /** The owner's workspace: from the API, or from the page the owner signed in on. */
  readonly workspaceId: string;
  /** The desktop page (unless `page: "none"`). */
  readonly desktop: OpenedPage;
  /**
   * For afterEach: after a failed test, the pages' screenshots and Postern's output so far; then every
   * page's watch must be clean. `pages` defaults to the desktop page.
   */
  afterTest(
    context: { task: { name: string; result?: { state?: string } } },
    pages?: readonly OpenedPage[],
  ): Promise<void>;
  /** Closes the browser, then stops Postern (and removes its data dir). */
  close(): Promise<void>;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`startDashboard was not asked for ${what}.`);
  return value;
}

export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const owner = options.owner ?? "owner@example.com";
  const withApi = options.api ?? true;
  const unlock = options.unlock ?? withApi;
  const pageMode = options.page ?? "signed-in";
  if (options.app && !withApi) throw new Error("startDashboard: an app needs `api`.");

  let postern: PosternProcess | undefined;
  let browser: Browser | undefined;
  let api: DashboardApi | undefined;
  let app: CreatedApp | undefined;
  let desktop: OpenedPage | undefined;
  let workspaceId: string | undefined;

  const close = async () => {
    await browser?.close();
    await postern?.stop();
  };

  try {
    postern = await startPostern(options.env);
    const started = postern;
    const dashboard: Dashboard = {
      postern: started,
      get browser() {
        return required(browser, "a browser");
      },
      owner,
      get api() {
        return required(api, "`api`");
      },
      get app() {
        return required(app, "`app`");
      },
      get workspaceId() {
        return required(workspaceId, "a workspace (`api`, or a signed-in page)");
      },
      get desktop() {
        return required(desktop, "a page");
      },
      async afterTest(context, pages) {
        const watched = pages ?? (desktop ? [desktop] : []);
        if (context.task.result?.state === "fail") {
          for (const { page } of watched)
            console.error(`Screenshot: ${await failureScreenshot(page, context.task.name)}`);
          console.error(`Postern's output so far:\n${started.output()}`);
        }
        for (const { watch } of watched) watch.assertClean();
      },
      close,
    };

    if (withApi) {
      api = await dashboardApi(started.url, owner);
      workspaceId = api.workspaceId;
      if (options.app) {
        app = await api.createApp(options.app.name, options.app.redirectUrls, options.app.settings);
      }
    }
    await options.prepare?.(dashboard);
    if (unlock) {
      await setCustomEmailProvider(started, required(workspaceId, "`api` (to unlock the feature)"), true);
    }
    browser = await launchBrowser();
    if (pageMode !== "none") {
      desktop = await openPage(browser, started.url);
      if (pageMode === "signed-in") {
        await signIn(desktop, started.url, owner);
        workspaceId ??= /^\/w\/([^/]+)/.exec(new URL(desktop.page.url()).pathname)?.[1];
      }
    }
    return dashboard;
  } catch (error) {
    await close();
    throw error;
  }
}
