// Test connection for Microsoft 365: token → resolve → connect → STARTTLS → XOAUTH2 → test email, and
// every failure of the setup mapped to its fix, through the identity and Exchange fakes.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";

type Step = {
  name: string;
  outcome: string;
  detail?: string;
  hint?: string;
  errorClass?: string;
  smtpReply?: string;
};
type TestResult = { ok: boolean; steps: Step[] };

describe.each(backends)("Microsoft 365 connection test, each failure with its fix (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;
  let owner: Session;
  let appId: string;

  beforeAll(async () => {
    ms = await startMicrosoftFakes();
    t = await startTestPostern(backend, { ...ms.env, POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "1000" });
    owner = await t.signIn("owner@example.com");
    appId = (await t.createApp(owner, { name: "Contoso" })).id;
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });
  afterEach(() => {
    ms.identity.setConsent(CLIENT_ID, true);
    ms.exchange.setMailboxSmtpAuthDisabled(MAILBOX, null);
    ms.exchange.setTenantSmtpAuthDisabled(TENANT_ID, false);
  });

  async function runTest(overrides: Record<string, unknown> = {}, sendTo?: string): Promise<TestResult> {
    const res = await t.request("POST", `/api/apps/${appId}/email-provider/test`, {
      session: owner,
      body: { config: ms.providerBody(overrides), ...(sendTo ? { sendTo } : {}) },
    });
    expect(res.status, res.text).toBe(200);
    return res.body as unknown as TestResult;
  }
  const failed = (result: TestResult) => result.steps.find((s) => s.outcome === "failed")!;

  it("runs token, resolve, connect, STARTTLS, XOAUTH2 and a test email, all ok", async () => {
    const result = await runTest({}, owner.email);
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => [s.name, s.outcome])).toEqual([
      ["token", "ok"],
      ["resolve", "ok"],
      ["connect", "ok"],
      ["tls", "ok"],
      ["ehlo", "ok"],
      ["authenticate", "ok"],
      ["send", "ok"],
    ]);
    expect(result.steps.find((s) => s.name === "authenticate")!.detail).toBe(`XOAUTH2 as ${MAILBOX}`);
    expect(result.steps.find((s) => s.name === "send")!.smtpReply).toMatch(/^250 2\.0\.0 OK/);
    const mail = ms.exchange.messages.find((m) => m.to.includes(owner.email))!;
    expect(mail.from).toEqual({ name: "Contoso Login", address: MAILBOX });
  });

  it.each([
    ["a wrong secret", { clientSecret: "not-the-secret" }, /AADSTS7000215/, /Value \(not its Secret ID\)/],
    ["an unknown tenant", { tenantId: randomUUID() }, /AADSTS90002/, /Directory \(tenant\) ID/],
    [
      "an unknown tenant domain",
      { tenantId: "fabrikam.onmicrosoft.com" },
      /AADSTS90002/,
      /Directory \(tenant\) ID/,
    ],
    ["an app not in the tenant", { clientId: randomUUID() }, /AADSTS700016/, /Application \(client\) ID/],
  ])("stops at the token step on %s, with the fix", async (_name, overrides, detail, hint) => {
    const result = await runTest(overrides);
    expect(result.ok).toBe(false);
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ name: "token", outcome: "failed", errorClass: "token" });
    expect(result.steps[0]!.detail).toMatch(detail);
    expect(result.steps[0]!.hint).toMatch(hint);
  });

  it("says an expired secret has expired", async () => {
    ms.identity.addSecret(CLIENT_ID, "Old~Secret.Value");
    ms.identity.expireSecret(CLIENT_ID, "Old~Secret.Value");
    const step = failed(await runTest({ clientSecret: "Old~Secret.Value" }));
    expect(step).toMatchObject({ name: "token", errorClass: "token" });
    expect(step.detail).toMatch(/expired \(AADSTS7000222\)/);
    expect(step.hint).toMatch(/new client secret/);
  });

  it("says admin consent is missing when the token has no SMTP.SendAsApp role", async () => {
    ms.identity.setConsent(CLIENT_ID, false);
    const step = failed(await runTest());
    expect(step).toMatchObject({ name: "token", errorClass: "token" });
    expect(step.detail).toMatch(/no SMTP\.SendAsApp role: admin consent is missing/);
    expect(step.hint).toMatch(
      /Office 365 Exchange Online → Application permissions → SMTP\.SendAsApp.*Grant admin consent/,
    );
  });

  it("explains 535 5.7.3 when the service principal is not registered in Exchange", async () => {
    const unregistered = ms.identity.addApp(TENANT_ID, { secret: "Unregistered~Secret" });
    const step = failed(
      await runTest({ clientId: unregistered.clientId, clientSecret: "Unregistered~Secret" }),
    );
    expect(step).toMatchObject({ name: "authenticate", errorClass: "auth" });
    expect(step.smtpReply).toMatch(/^535 5\.7\.3 Authentication unsuccessful/);
    expect(step.hint).toMatch(
      /New-ServicePrincipal with the Enterprise application's Object ID, not the App registration's/,
    );
  });

  it("explains 535 5.7.3 when the service principal has no permission on the mailbox", async () => {
    const noMailbox = ms.identity.addApp(TENANT_ID, { secret: "NoMailbox~Secret" });
    ms.exchange.registerServicePrincipal(TENANT_ID, noMailbox.clientId, noMailbox.servicePrincipalId);
    const step = failed(await runTest({ clientId: noMailbox.clientId, clientSecret: "NoMailbox~Secret" }));
    expect(step).toMatchObject({ name: "authenticate", errorClass: "auth" });
    expect(step.hint).toContain(
      `Add-MailboxPermission -Identity '${MAILBOX}' -User <service principal> -AccessRights FullAccess`,
    );
  });

  it("gives the Set-CASMailbox command when SMTP AUTH is disabled for the mailbox (5.7.139)", async () => {
    ms.exchange.setMailboxSmtpAuthDisabled(MAILBOX, true);
    const step = failed(await runTest());
    expect(step).toMatchObject({ name: "authenticate", errorClass: "auth" });
    expect(step.smtpReply).toMatch(/^535 5\.7\.139 .*disabled for the Mailbox/);
    expect(step.hint).toContain(
      `Set-CASMailbox -Identity '${MAILBOX}' -SmtpClientAuthenticationDisabled $false`,
    );
  });

  it("gives the Set-TransportConfig command when SMTP AUTH is disabled for the tenant (5.7.139)", async () => {
    ms.exchange.setTenantSmtpAuthDisabled(TENANT_ID, true);
    const step = failed(await runTest());
    expect(step.hint).toContain("Set-TransportConfig -SmtpClientAuthenticationDisabled $false");
  });

  it("explains SendAs denied (554 5.2.252) at the test email", async () => {
    ms.exchange.injectOnce(
      "data",
      `554 5.2.252 SendAsDenied; ${MAILBOX} not allowed to send as ${MAILBOX}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=FAKE01MB0001.eurprd01.prod.outlook.com]`,
    );
    const step = failed(await runTest({}, owner.email));
    expect(step).toMatchObject({ name: "send" });
    expect(step.hint).toContain(
      `Add-RecipientPermission -Identity '${MAILBOX}' -Trustee <service principal> -AccessRights SendAs`,
    );
  });

  it("records a failing saved provider's test as its health, and a passing one clears it", async () => {
    ms.identity.setConsent(CLIENT_ID, false);
    const put = await t.request("PUT", `/api/apps/${appId}/email-provider`, {
      session: owner,
      body: ms.providerBody(),
    });
    expect(put.status).toBe(200);
    const saved = async () =>
      (await t.request("POST", `/api/apps/${appId}/email-provider/test`, { session: owner, body: {} }))
        .body as unknown as TestResult;
    expect((await saved()).ok).toBe(false);
    const state = await t.request("GET", `/api/apps/${appId}/email-provider`, { session: owner });
    expect(state.body.provider).toMatchObject({
      health: { status: "failing", reason: expect.stringMatching(/admin consent/) },
    });
    ms.identity.setConsent(CLIENT_ID, true);
    expect((await saved()).ok).toBe(true);
    const fixed = await t.request("GET", `/api/apps/${appId}/email-provider`, { session: owner });
    expect(fixed.body.provider).toMatchObject({ health: { status: "working" } });
    expect(fixed.text).not.toContain(CLIENT_SECRET);
  });
});
