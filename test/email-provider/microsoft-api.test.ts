// The Microsoft 365 provider through the management API: validation, the write-only client secret and
// when it may be reused, audit, the pre-filled setup guide, and the secret found nowhere afterwards.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_DOMAIN,
  TENANT_ID,
} from "../support/microsoft.ts";
import { ALLOWLIST, deliveryWhen, sendLogin } from "./support.ts";

type Guide = { steps: { title: string; text: string; commands?: { label: string; command: string }[] }[] };

describe.each(backends)("Microsoft 365 provider API (%s)", (backend) => {
  let ms: MicrosoftFakes;
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
    const res = await call("GET", `/api/apps/${app.id}/email-provider/microsoft-guide${query}`, { session });
    return { ...res, guide: res.body as unknown as Guide };
  };
  const commands = (g: Guide) => g.steps.flatMap((s) => s.commands ?? []).map((c) => c.command);

  beforeAll(async () => {
    ms = await startMicrosoftFakes();
    t = await startTestPostern(backend, { ...ms.env, ...ALLOWLIST, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "member@example.com", role: "member" },
    });
    member = { ...(await t.signIn("member@example.com")), workspaceId: owner.workspaceId };
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  it("saves a Microsoft provider and shows it without the secret", async () => {
    const res = await put(ms.providerBody({ clientId: CLIENT_ID.toUpperCase() }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({
      type: "smtp_oauth",
      provider: "microsoft",
      senderEmail: MAILBOX,
      senderName: "Contoso Login",
      effectiveSenderName: "Contoso Login",
      clientId: CLIENT_ID,
      tenantId: TENANT_ID,
      clientSecretSet: true,
      fallbackToDefault: false,
    });
    expect(res.body.provider).not.toHaveProperty("clientSecret");
    expect(res.text).not.toContain(CLIENT_SECRET);
  });

  it.each([
    ["clientId", { clientId: "not-a-guid" }],
    ["clientId", { clientId: undefined }],
    ["tenantId", { tenantId: "common" }],
    ["tenantId", { tenantId: "https://login.microsoftonline.com/contoso" }],
    ["tenantId", { tenantId: undefined }],
    ["provider", { provider: "yahoo" }],
    ["clientSecret", { clientSecret: "line\r\nbreak" }],
    ["senderEmail", { senderEmail: "not an email" }],
  ])("refuses a bad %s with a 400 naming it", async (field, overrides) => {
    const res = await put(ms.providerBody(overrides));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it("accepts a verified domain as the tenant", async () => {
    const res = await put(ms.providerBody({ tenantId: TENANT_DOMAIN.toUpperCase() }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.provider).toMatchObject({ tenantId: TENANT_DOMAIN });
  });

  it("keeps the stored secret only while provider, tenant and client are unchanged", async () => {
    expect((await put(ms.providerBody())).status).toBe(200);
    const kept = await put(ms.providerBody({ clientSecret: undefined, senderName: "Contoso Team" }));
    expect(kept.status, kept.text).toBe(200);
    for (const changed of [
      { tenantId: TENANT_DOMAIN },
      { clientId: "11111111-2222-3333-4444-555555555555" },
    ]) {
      const res = await put(ms.providerBody({ clientSecret: undefined, ...changed }));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "secret_required", field: "clientSecret" });
    }
    // The kept secret still works: a login email goes out with it.
    const id = await sendLogin(t, app.publishableKey, "kept-secret@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
  });

  it("asks for the secret again when a Basic Auth provider becomes a Microsoft one", async () => {
    const basic = await put({
      type: "smtp_basic",
      senderEmail: MAILBOX,
      host: "localhost",
      port: 2525,
      security: "starttls",
      username: "u",
      password: "p",
    });
    expect(basic.status, basic.text).toBe(200);
    const res = await put(ms.providerBody({ clientSecret: undefined }));
    expect(res.body).toMatchObject({ code: "secret_required", field: "clientSecret" });
    expect((await put(ms.providerBody())).status).toBe(200);
  });

  it("audits changed fields, never the secret", async () => {
    await put(ms.providerBody({ tenantId: TENANT_DOMAIN }));
    const audit = await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    const events = (
      audit.body as unknown as { events: { action: string; changes: Record<string, unknown> }[] }
    ).events;
    const change = events.find((e) => e.action === "email_provider.updated" && "tenantId" in e.changes)!;
    expect(change.changes.tenantId).toEqual({ from: TENANT_ID, to: TENANT_DOMAIN });
    expect(change.changes.clientSecret).toBe("(changed)");
    expect(audit.text).not.toContain(CLIENT_SECRET);
  });

  it("pre-fills the setup guide with the saved IDs and mailbox, for members too", async () => {
    await put(ms.providerBody());
    const { status, guide: g } = await guide("", member);
    expect(status).toBe(200);
    expect(g.steps.map((s) => s.title)).toEqual([
      "Register an app in Microsoft Entra",
      "Create a client secret",
      "Allow the app to send mail over SMTP",
      "Find the Enterprise application's Object ID",
      "Connect to Exchange Online PowerShell",
      "Register the service principal in Exchange",
      "Give it the sender mailbox",
      "Check that SMTP AUTH is enabled",
      "Test the connection",
    ]);
    expect(g.steps[2]!.text).toMatch(
      /Office 365 Exchange Online → Application permissions → SMTP\.SendAsApp.*Grant admin consent/,
    );
    expect(g.steps[3]!.text).toMatch(/Enterprise applications \(not App registrations\)/);
    expect(commands(g)).toEqual(
      expect.arrayContaining([
        "Install-Module -Name ExchangeOnlineManagement",
        `Connect-ExchangeOnline -Organization '${TENANT_ID}'`,
        `New-ServicePrincipal -AppId '${CLIENT_ID}' -ObjectId <object id> -DisplayName 'Postern SMTP sender ${CLIENT_ID}'`,
        `Add-MailboxPermission -Identity '${MAILBOX}' -User $sp.Identity -AccessRights FullAccess`,
        `Get-CASMailbox -Identity '${MAILBOX}' | Format-List SmtpClientAuthenticationDisabled`,
        `Set-CASMailbox -Identity '${MAILBOX}' -SmtpClientAuthenticationDisabled $false`,
      ]),
    );
  });

  it("takes the values typed in the unsaved form over the saved ones", async () => {
    const clientId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    const { guide: g } = await guide(
      `?clientId=${clientId}&tenantId=fabrikam.onmicrosoft.com&senderEmail=${encodeURIComponent("it's@fabrikam.example")}`,
    );
    const all = commands(g).join("\n");
    expect(all).toContain(`New-ServicePrincipal -AppId '${clientId}'`);
    expect(all).toContain("Connect-ExchangeOnline -Organization 'fabrikam.onmicrosoft.com'");
    // A quote in the address cannot end the PowerShell string.
    expect(all).toContain("Add-MailboxPermission -Identity 'it''s@fabrikam.example'");
    expect(all).not.toContain(CLIENT_ID);
  });

  it("refuses a malformed client ID in the guide's query with a 400 naming it, and strangers with a 404", async () => {
    const bad = await guide("?clientId=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("clientId");
    const tenant = await guide("?tenantId=organizations");
    expect(tenant.body.field).toBe("tenantId");
    const stranger = await t.signIn("stranger@example.com");
    expect((await guide("", stranger)).status).toBe(404);
    expect((await t.request("GET", `/api/apps/${app.id}/email-provider/microsoft-guide`)).status).toBe(401);
  });

  it("leaves the client secret nowhere: not in the database, the logs, the API, the audit or the delivery log", async () => {
    await put(ms.providerBody());
    const id = await sendLogin(t, app.publishableKey, "leak-check@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    await call("GET", `/api/apps/${app.id}/deliveries/${id}`);
    await call("GET", `/api/apps/${app.id}/deliveries`);
    await call("GET", `/api/workspaces/${owner.workspaceId}/audit`);
    await call("POST", `/api/apps/${app.id}/email-provider/test`, { body: {} });
    await call("GET", `/api/apps/${app.id}/email-provider`);
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`));
      expect(JSON.stringify(rows), `${schemaname}.${tablename}`).not.toContain(CLIENT_SECRET);
    }
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) expect(text).not.toContain(CLIENT_SECRET);
    expect(t.logs.length).toBeGreaterThan(0);
    const logs = t.logs.join("\n");
    expect(logs).not.toContain(CLIENT_SECRET);
    expect(logs).not.toContain(encodeURIComponent(CLIENT_SECRET));
  });
});
