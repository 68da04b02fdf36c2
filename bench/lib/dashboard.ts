import { loginsAt, recipients } from "./pipeline.ts";
import { type InProcessPostern, OPERATOR_TOKEN } from "./postern.ts";
import type { Login } from "./world-protocol.ts";

/** Reads the sign-in code that Postern emailed to `email` (from whichever mailbox got it). */
export type CodeReader = (email: string) => Promise<string>;

export interface AppKeys {
  id: string;
  publishableKey: string;
}

/** A developer signed in to the dashboard over real HTTP, as the web app does it. */
export interface Dashboard {
  workspaceId: string;
  /** The operator unlocks Custom Email Provider for the developer's workspace. */
  unlockCustomProvider(): Promise<void>;
  createApp(name: string): Promise<AppKeys>;
  /** Answers the saved provider, with what Postern shows only once (a webhook's signing secret). */
  putEmailProvider(appId: string, body: Record<string, unknown>): Promise<SavedProvider>;
}

export interface SavedProvider {
  provider: { revealedOnce?: Record<string, string> };
}

async function expectStatus(res: Response, status: number, what: string): Promise<unknown> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function signInToDashboard(
  url: string,
  email: string,
  readCode: CodeReader,
): Promise<Dashboard> {
  const json = { "content-type": "application/json" };
  const started = (await expectStatus(
    await fetch(`${url}/api/auth/email`, { method: "POST", headers: json, body: JSON.stringify({ email }) }),
    202,
    "dashboard sign-in",
  )) as { loginId: string };
  const code = await readCode(email);
  const verify = await fetch(`${url}/api/auth/email/verify`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ loginId: started.loginId, code }),
  });
  const cookie = (verify.headers.get("set-cookie") ?? "").split(";")[0]!;
  const { csrfToken } = (await expectStatus(verify, 200, "dashboard verify")) as { csrfToken: string };
  const session = { ...json, cookie, "x-csrf-token": csrfToken };
  const me = (await expectStatus(await fetch(`${url}/api/me`, { headers: session }), 200, "me")) as {
    workspaces: { id: string }[];
  };
  const workspaceId = me.workspaces[0]!.id;

  return {
    workspaceId,
    async unlockCustomProvider() {
      await expectStatus(
        await fetch(`${url}/api/operator/workspaces/${workspaceId}/features`, {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${OPERATOR_TOKEN}` },
          body: JSON.stringify({ feature: "custom-email-provider", enabled: true }),
        }),
        200,
        "unlock",
      );
    },
    async createApp(name) {
      return (await expectStatus(
        await fetch(`${url}/api/workspaces/${workspaceId}/apps`, {
          method: "POST",
          headers: session,
          body: JSON.stringify({ name, redirectUrls: ["https://app.bench.example/callback"] }),
        }),
        201,
        "create app",
      )) as AppKeys;
    },
    async putEmailProvider(appId, body) {
      return (await expectStatus(
        await fetch(`${url}/api/apps/${appId}/email-provider`, {
          method: "PUT",
          headers: session,
          body: JSON.stringify(body),
        }),
        200,
        "save email provider",
      )) as SavedProvider;
    },
  };
}

/** A developer's app with `provider` saved through the dashboard API, and logins for new recipients at it. */
export async function appWithProvider(
  postern: InProcessPostern,
  provider: Record<string, unknown>,
): Promise<{ app: AppKeys; saved: SavedProvider; logins: (label: string, count: number) => Login[] }> {
  const dashboard = await signInToDashboard(postern.url, "owner@bench.example", postern.readCode);
  await dashboard.unlockCustomProvider();
  const app = await dashboard.createApp("Bench app");
  const saved = await dashboard.putEmailProvider(app.id, provider);
  return { app, saved, logins: (label, count) => loginsAt(app.publishableKey, recipients(label, count)) };
}
