// Setting up Microsoft 365 through Graph: the setup guide's Graph variant (RBAC for Applications for the
// one sender mailbox, pre-filled and quoted for PowerShell), Test connection's steps (token, what the
// token shows about Mail.Send, and a send only when asked: Graph has no dry run), and no token or secret
// in any response or log line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailboxFilter } from "../../src/email-provider/kinds/microsoft/graph-guide.ts";
import { microsoftGuide } from "../../src/email-provider/kinds/microsoft/guide.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { CLIENT_ID, CLIENT_SECRET, MAILBOX, TENANT_ID } from "../support/microsoft.ts";
import { type GraphFakes, startGraphFakes } from "../support/microsoft-graph.ts";
import { HOSTILE, readVerbatimString } from "./powershell-reader.ts";

type Guide = { steps: { title: string; text: string; commands?: { label: string; command: string }[] }[] };
type Step = { name: string; outcome: string; detail?: string; hint?: string; smtpReply?: string };
const OBJECT_ID = "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const commands = (g: Guide) => g.steps.flatMap((s) => s.commands ?? []).map((c) => c.command);

describe("the Graph guide's PowerShell", () => {
  it.each(HOSTILE.filter(Boolean))("keeps the scope to exactly %j, whatever it holds", (senderEmail) => {
    const guide = microsoftGuide({ senderEmail, clientId: CLIENT_ID, transport: "graph" });
    const scope = commands(guide).find((c) => c.startsWith("New-ManagementScope"))!;
    const afterName = readVerbatimString(scope.slice("New-ManagementScope -Name ".length));
    expect(afterName.value).toBe(`Postern sender ${senderEmail}`);
    expect(afterName.rest.startsWith(" -RecipientRestrictionFilter ")).toBe(true);
    // The filter is one PowerShell string, and inside it the address is one OPATH string.
    const filter = readVerbatimString(afterName.rest.slice(" -RecipientRestrictionFilter ".length));
    expect(filter.rest).toBe("");
    expect(filter.value).toBe(mailboxFilter(senderEmail));
    const inner = readVerbatimString(filter.value.slice("PrimarySmtpAddress -eq ".length));
    expect(inner).toEqual({ value: senderEmail, rest: "" });
    const check = commands(guide).find((c) => c.startsWith("Test-ServicePrincipalAuthorization"))!;
    expect(readVerbatimString(check.slice(check.indexOf("-Resource ") + "-Resource ".length))).toEqual({
      value: senderEmail,
      rest: "",
    });
  });
});

describe.each(backends)("Microsoft Graph setup (%s)", (backend) => {
  let ms: GraphFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  const responses: string[] = [];

  beforeAll(async () => {
    ms = await startGraphFakes();
    t = await startTestPostern(backend, { ...ms.env, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await t.request(method, url, { session: owner, ...(body === undefined ? {} : { body }) });
    responses.push(res.text);
    return res;
  };
  const guide = async (query: string) =>
    (await call("GET", `/api/apps/${app.id}/email-provider/microsoft-guide${query}`))
      .body as unknown as Guide;
  const test = async (body: Record<string, unknown> = {}) => {
    const res = await call("POST", `/api/apps/${app.id}/email-provider/test`, body);
    expect(res.status, res.text).toBe(200);
    return res.body as { ok: boolean; steps: Step[] };
  };

  it("gives the Graph guide when asked, and for a saved Graph provider without asking", async () => {
    const asked = await guide(
      `?transport=graph&senderEmail=${encodeURIComponent(MAILBOX)}&clientId=${CLIENT_ID}&objectId=${OBJECT_ID}&tenantId=${TENANT_ID}`,
    );
    const all = commands(asked);
    expect(all).toContain(
      `New-ServicePrincipal -AppId '${CLIENT_ID}' -ObjectId '${OBJECT_ID}' -DisplayName 'Postern Graph sender ${CLIENT_ID}'`,
    );
    expect(all).toContain(
      `New-ManagementScope -Name 'Postern sender ${MAILBOX}' -RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''${MAILBOX}'''`,
    );
    expect(all).toContain(
      `New-ManagementRoleAssignment -App '${CLIENT_ID}' -Role "Application Mail.Send" -CustomResourceScope 'Postern sender ${MAILBOX}'`,
    );
    expect(all).toContain(
      `Test-ServicePrincipalAuthorization -Identity '${CLIENT_ID}' -Resource '${MAILBOX}'`,
    );
    expect(all).toContain(`Connect-ExchangeOnline -Organization '${TENANT_ID}'`);
    expect(all.some((c) => c.startsWith("Add-MailboxPermission"))).toBe(false);
    const text = asked.steps.map((s) => s.text).join("\n");
    expect(text).toMatch(/a consented Mail\.Send is tenant-wide.*lets the app send as every mailbox/);
    expect(text).toMatch(/Graph has no dry run for sendMail/);
    expect(JSON.stringify(asked)).toMatch(
      /https:\/\/learn\.microsoft\.com\/exchange\/permissions-exo\/application-rbac/,
    );

    expect(commands(await guide("")).some((c) => c.startsWith("Add-MailboxPermission"))).toBe(true);
    const put = await call("PUT", `/api/apps/${app.id}/email-provider`, ms.providerBody());
    expect(put.status, put.text).toBe(200);
    expect(commands(await guide("")).some((c) => c.startsWith("New-ManagementRoleAssignment"))).toBe(true);
    expect(commands(await guide("?transport=smtp")).some((c) => c.startsWith("Add-MailboxPermission"))).toBe(
      true,
    );
  });

  it("tests the connection: token, a token without Mail.Send (RBAC), and no send without a test email", async () => {
    await call("PUT", `/api/apps/${app.id}/email-provider`, ms.providerBody());
    const accepted = ms.graph.messages.length;
    const result = await test();
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => [s.name, s.outcome])).toEqual([
      ["token", "ok"],
      ["permission", "skipped"],
      ["send", "skipped"],
    ]);
    expect(result.steps[1]!.detail).toMatch(/no Mail\.Send role.*RBAC for Applications/);
    expect(result.steps[2]!.detail).toBe(
      "Graph has no dry run for sendMail: send a test email to prove sending.",
    );
    expect(ms.graph.messages.length).toBe(accepted);
  });

  it("warns that a consented Mail.Send is tenant-wide, and sends a test email when asked", async () => {
    ms.identity.setGraphRoles(CLIENT_ID, ["Mail.Send"]);
    try {
      await call("PUT", `/api/apps/${app.id}/email-provider`, ms.providerBody({ senderName: "Consented" }));
      const result = await test({ sendTo: "owner@example.com" });
      expect(result.ok).toBe(true);
      const [, permission, send] = result.steps;
      expect(permission).toMatchObject({ outcome: "ok" });
      expect(permission!.hint).toMatch(/send as any mailbox of the tenant/);
      expect(send).toMatchObject({ name: "send", outcome: "ok" });
      expect(send!.smtpReply).toMatch(/^202 Accepted \(request-id /);
      expect(send!.detail).toMatch(/^Accepted by Microsoft Graph .*not yet delivered/);
      const mail = ms.graph.messages.at(-1)!;
      expect(mail.to.map((r) => r.address)).toEqual(["owner@example.com"]);
      expect(mail.permission).toBe("entra-consent");
    } finally {
      ms.identity.setGraphRoles(CLIENT_ID, []);
    }
  });

  it("shows the fix in a failed test send (403 ErrorAccessDenied)", async () => {
    await call("PUT", `/api/apps/${app.id}/email-provider`, ms.providerBody({ senderName: "Denied" }));
    ms.graph.removeMailSendAssignment(TENANT_ID, CLIENT_ID);
    try {
      const result = await test({ sendTo: "owner@example.com" });
      expect(result.ok).toBe(false);
      const send = result.steps.at(-1)!;
      expect(send).toMatchObject({ name: "send", outcome: "failed", errorClass: "auth" });
      expect(send.smtpReply).toMatch(/^403 ErrorAccessDenied/);
      expect(send.detail).toMatch(/New-ManagementRoleAssignment/);
    } finally {
      ms.graph.assignMailSend(TENANT_ID, CLIENT_ID, [MAILBOX]);
    }
  });

  it("puts neither the client secret nor any token in a response or a log line", async () => {
    const text = [...responses, ...t.logs].join("\n");
    expect(responses.length).toBeGreaterThan(5);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);
  });
});
