// The Google Workspace provider through the management API: the JSON key checked and sealed (only the
// account's email, client ID and key ID shown back), when it may be kept, audit, the pre-filled setup
// guide, and the key found nowhere afterwards.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { GMAIL_SCOPE } from "../fakes/gmail-smtp.ts";
import { type GoogleFakes, MAILBOX, startGoogleFakes } from "../support/google.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { deliveryWhen, sendLogin } from "./support.ts";

type Guide = { steps: { title: string; text: string; commands?: { label: string; command: string }[] }[] };

describe.each(backends)("Google Workspace provider API (%s)", (backend) => {
  let g: GoogleFakes;
  let t: TestPostern;
  let owner: Session;
  let member: Session;
  let app: { id: string; publishableKey: string };
  const responses: string[] = [];
  const call = async (method: string, url: string, opts: Parameters<TestPostern["request"]>[2] = {}) => {
    const res = await t.request(method, url, { session: owner, ...opts });
    responses.push(res.text);
    return res;
  };
  const put = (body: Record<string, unknown>) => call("PUT", `/api/apps/${app.id}/email-provider`, { body });
  const guide = async (query = "", session = owner) => {
    const res = await call("GET", `/api/apps/${app.id}/email-provider/google-guide${query}`, { session });
    return { ...res, guide: res.body as unknown as Guide };
  };
  const commands = (gd: Guide) => gd.steps.flatMap((s) => s.commands ?? []);
  /** A stretch of the private key's base64 body: found in any text that holds the key, escaped or not. */
  const keyBody = () => g.keyFile.private_key.split("\n")[5]!;
  const withKey = (change: (file: Record<string, unknown>) => void) => {
    const file: Record<string, unknown> = structuredClone(g.keyFile) as unknown as Record<string, unknown>;
    change(file);
    return JSON.stringify(file);
  };

  beforeAll(async () => {
    g = await startGoogleFakes();
    t = await startTestPostern(backend, { ...g.env, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "member@example.com", role: "member" },
    });
    member = { ...(await t.signIn("member@example.com")), workspaceId: owner.workspaceId };
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await g?.close();
  });

  it("offers the Google Workspace form with the key as a write-only field", async () => {
    const res = await call("GET", "/api/email-provider-kinds");
    const kinds = res.body.kinds as {
      id: string;
      match: unknown;
      fields: { name: string; secret?: boolean }[];
    }[];
    const google = kinds.find((k) => k.id === "google")!;
    expect(google.match).toEqual({ type: "smtp_oauth", provider: "google" });
    expect(google.fields).toEqual([
      expect.objectContaining({ name: "serviceAccountKey", secret: true, setFlag: "serviceAccountKeySet" }),
    ]);
  });

  it("saves a Google provider and shows the account's email, client ID and key ID, never the key", async () => {
    const res = await put(g.providerBody());
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({
      type: "smtp_oauth",
      provider: "google",
      senderEmail: MAILBOX,
      senderName: "Acme Login",
      clientEmail: g.keyFile.client_email,
      clientId: g.keyFile.client_id,
      keyId: g.keyFile.private_key_id,
      serviceAccountKeySet: true,
    });
    expect(res.body.provider).not.toHaveProperty("serviceAccountKey");
    expect(res.text).not.toContain(keyBody());
    // Microsoft's view fields still serialise beside Google's (they share `provider` and `clientId`).
    const kinds = await call("GET", `/api/apps/${app.id}/email-provider`);
    expect(kinds.status).toBe(200);
  });

  it.each([
    ["not JSON", "-----BEGIN PRIVATE KEY-----\nMIIE…\n-----END PRIVATE KEY-----", /this is not JSON/],
    [
      "a user's credentials",
      JSON.stringify({ type: "authorized_user", client_id: "x", refresh_token: "y" }),
      /not a service account key/,
    ],
    [
      "an OAuth client",
      JSON.stringify({ installed: { client_id: "x.apps.googleusercontent.com" } }),
      /not a service account key/,
    ],
  ])("refuses a key that is %s with a 400 naming the field", async (_what, serviceAccountKey, message) => {
    const res = await put(g.providerBody({ serviceAccountKey }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field: "serviceAccountKey", code: "invalid_service_account_key" });
    expect(res.body.detail).toMatch(message);
  });

  it.each([
    ["client_email", (f: Record<string, unknown>) => delete f.client_email, /"client_email"/],
    ["client_id", (f: Record<string, unknown>) => (f.client_id = "postern-sender"), /numeric client ID/],
    ["private_key_id", (f: Record<string, unknown>) => delete f.private_key_id, /"private_key_id"/],
    [
      "private_key",
      (f: Record<string, unknown>) =>
        (f.private_key = String(f.private_key).replace(/[A-Za-z0-9+/]{64}/, "A".repeat(64))),
      /cannot be read/,
    ],
  ])("refuses a key file with a bad %s, without quoting the file", async (_field, change, message) => {
    const res = await put(g.providerBody({ serviceAccountKey: withKey(change) }));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("serviceAccountKey");
    expect(res.body.detail).toMatch(message);
    expect(res.text).not.toContain(keyBody());
  });

  it("keeps the stored key while it is left out, and asks for it when a Microsoft provider becomes a Google one", async () => {
    expect((await put(g.providerBody())).status).toBe(200);
    const kept = await put(g.providerBody({ serviceAccountKey: undefined, senderName: "Acme Team" }));
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.provider).toMatchObject({ clientId: g.keyFile.client_id, serviceAccountKeySet: true });
    const id = await sendLogin(t, app.publishableKey, "kept-key@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");

    const microsoft = await put({
      type: "smtp_oauth",
      provider: "microsoft",
      senderEmail: MAILBOX,
      clientId: "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f",
      clientSecret: "s3cret",
      tenantId: "contoso.onmicrosoft.com",
    });
    expect(microsoft.status, microsoft.text).toBe(200);
    const res = await put(g.providerBody({ serviceAccountKey: undefined }));
    expect(res.body).toMatchObject({ code: "secret_required", field: "serviceAccountKey" });
  });

  it("takes a key of another service account in place of the stored one, and audits the change without the key", async () => {
    expect((await put(g.providerBody())).status).toBe(200);
    const other = g.google.createServiceAccount({ name: "other-sender", projectId: "acme-login-123" });
    const res = await put(g.providerBody({ serviceAccountKey: JSON.stringify(other.keyFile) }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({
      clientEmail: other.keyFile.client_email,
      clientId: other.account.clientId,
    });
    const audit = await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    const events = (
      audit.body as unknown as { events: { action: string; changes: Record<string, unknown> }[] }
    ).events;
    const change = events.find((e) => e.action === "email_provider.updated" && "clientEmail" in e.changes)!;
    expect(change.changes.clientEmail).toEqual({
      from: g.keyFile.client_email,
      to: other.keyFile.client_email,
    });
    expect(change.changes.serviceAccountKey).toBe("(changed)");
    expect(audit.text).not.toContain(other.keyFile.private_key.split("\n")[5]!);
    expect((await put(g.providerBody())).status).toBe(200);
  });

  it("pre-fills the setup guide with the saved client ID, account and mailbox, for members too", async () => {
    await put(g.providerBody());
    const { status, guide: gd } = await guide("", member);
    expect(status).toBe(200);
    expect(gd.steps.map((s) => s.title)).toEqual([
      "Create a service account in Google Cloud",
      "Create a JSON key and paste it here",
      "Delegate Gmail to the service account",
      "Check the sender mailbox",
      "Test the connection",
    ]);
    expect(gd.steps[1]!.text).toContain(g.keyFile.client_email);
    expect(gd.steps[2]!.text).toMatch(
      /Security → Access and data control → API controls → Manage Domain Wide Delegation → Add new/,
    );
    expect(gd.steps[3]!.text).toContain(MAILBOX);
    expect(commands(gd)).toEqual([
      { label: "Client ID", command: g.keyFile.client_id },
      { label: "OAuth scopes", command: GMAIL_SCOPE },
    ]);
  });

  it("takes the values of the unsaved form over the saved ones, and refuses malformed ones", async () => {
    const { guide: gd } = await guide(
      "?clientId=123456789012345678901&clientEmail=Sender%40proj.iam.gserviceaccount.com&senderEmail=news%40acme.example",
    );
    expect(commands(gd)[0]!.command).toBe("123456789012345678901");
    expect(gd.steps[1]!.text).toContain("sender@proj.iam.gserviceaccount.com");
    expect(gd.steps[3]!.text).toContain("news@acme.example");
    expect((await guide("?clientId=postern-sender@proj.iam.gserviceaccount.com")).body.field).toBe(
      "clientId",
    );
    expect((await guide("?clientEmail=someone@gmail.com")).body.field).toBe("clientEmail");
    const stranger = await t.signIn("stranger@example.com");
    expect((await guide("", stranger)).status).toBe(404);
    expect((await t.request("GET", `/api/apps/${app.id}/email-provider/google-guide`)).status).toBe(401);
  });

  it("leaves the key and the tokens nowhere: not in the database, the logs, the API, the audit or the delivery log", async () => {
    await put(g.providerBody({ senderName: "Leak check" }));
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    // A failing send and a failing test too: their messages and steps must not carry the key either.
    g.google.revokeDelegation("acme-workspace.example", g.account.clientId);
    await put(g.providerBody({ senderName: "Leak check, failing" }));
    const failing = await sendLogin(t, app.publishableKey, "leak-check-failing@example.com");
    await deliveryWhen(t, owner, app.id, failing, (d) => d.status === "retrying");
    await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: { config: g.providerBody() } });
    g.google.delegate("acme-workspace.example", g.account.clientId, [GMAIL_SCOPE]);
    await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: { sendTo: "owner@example.com" } });
    await call("GET", `/api/apps/${app.id}/deliveries/${id}`);
    await call("GET", `/api/apps/${app.id}/deliveries/${failing}`);
    await call("GET", `/api/apps/${app.id}/deliveries`);
    await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    await call("GET", `/api/apps/${app.id}/email-provider`);

    const tokens = g.gmail.authResults.map(
      (a) => Buffer.from(a.blob, "base64").toString().split("auth=Bearer ")[1]?.split("\u0001")[0] ?? "",
    );
    expect(tokens.filter(Boolean).length).toBeGreaterThan(0);
    const secrets = [keyBody(), g.keyText, ...tokens.filter(Boolean)];
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = JSON.stringify(
        await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`)),
      );
      for (const secret of secrets) expect(rows, `${schemaname}.${tablename}`).not.toContain(secret);
    }
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(t.logs.length).toBeGreaterThan(0);
    const logs = t.logs.join("\n");
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
