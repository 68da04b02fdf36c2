import { OPERATOR_TOKEN } from "./postern.ts";

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
  putEmailProvider(appId: string, body: Record<string, unknown>): Promise<void>;
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
      await expectStatus(
        await fetch(`${url}/api/apps/${appId}/email-provider`, {
          method: "PUT",
          headers: session,
          body: JSON.stringify(body),
        }),
        200,
        "save email provider",
      );
    },
  };
}
