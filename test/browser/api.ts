// The management API of a running Postern process, driven over HTTP the way the dashboard does, for
// browser tests that need apps set up before a person (the browser) arrives.
import { codeFrom, devInbox, waitForEmail } from "./harness.ts";

export interface CreatedApp {
  id: string;
  publishableKey: string;
  secretKey: string;
  issuer: string;
  redirectUrls: string[];
}

export interface DashboardApi {
  workspaceId: string;
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  createApp(name: string, redirectUrls: string[], settings?: Record<string, unknown>): Promise<CreatedApp>;
}

/** Signs in to the dashboard API as `email` (code from the dev mailbox) and returns a client for it. */
export async function dashboardApi(baseUrl: string, email: string): Promise<DashboardApi> {
  const seen = await devInbox(baseUrl);
  const started = await fetch(`${baseUrl}/api/auth/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  const { loginId } = (await started.json()) as { loginId: string };
  const mail = await waitForEmail(baseUrl, email, { seen });
  const verified = await fetch(`${baseUrl}/api/auth/email/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ loginId, code: codeFrom(mail.subject) }),
  });
  if (!verified.ok) throw new Error(`dashboard sign-in failed: ${await verified.text()}`);
  const cookie = verified.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrfToken } = (await verified.json()) as { csrfToken: string };

  const request: DashboardApi["request"] = async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        cookie,
        "x-csrf-token": csrfToken,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const me = await request("GET", "/api/me");
  const workspaceId = (me.body.workspaces as { id: string }[])[0]!.id;

  return {
    workspaceId,
    request,
    async createApp(name, redirectUrls, settings = {}) {
      const created = await request("POST", `/api/workspaces/${workspaceId}/apps`, { name, redirectUrls });
      if (created.status !== 201) throw new Error(`create app failed: ${JSON.stringify(created.body)}`);
      const app = created.body as unknown as CreatedApp;
      if (Object.keys(settings).length > 0) {
        const patched = await request("PATCH", `/api/apps/${app.id}`, settings);
        if (patched.status !== 200) throw new Error(`app settings refused: ${JSON.stringify(patched.body)}`);
      }
      return app;
    },
  };
}
