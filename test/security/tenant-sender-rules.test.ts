import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

/**
 * The two sender rules protect one app and one workspace. An attacker who controls another
 * workspace tries to use them to lock people out of apps and dashboards that are not theirs.
 */
describe.each(backends)("no workspace's sender settings lock out another's users (%s)", (backend) => {
  let t: TestPostern;
  let smtp: SmtpServerFake;
  let attacker: Session;
  let attackerApp: { id: string; publishableKey: string };
  let victim: Session;
  let victimApp: { id: string; publishableKey: string };

  const saveSender = (session: Session, appId: string, senderEmail: string) =>
    t.request("PUT", `/api/apps/${appId}/email-provider`, {
      session,
      body: basicBody(smtp.port, { senderEmail }),
    });
  const login = (app: { publishableKey: string }, email: string) =>
    t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email },
    });

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100",
    });
    attacker = await t.signIn("mallory@attacker.example");
    attackerApp = await t.createApp(attacker, { name: "Attacker" });
    await t.unlock(attacker.workspaceId);
    victim = await t.signIn("owner@victim.example");
    victimApp = await t.createApp(victim, { name: "Victim" });
    await t.unlock(victim.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("another app's sender email blocks its own app only: the person logs in elsewhere and to the dashboard", async () => {
    expect((await saveSender(attacker, attackerApp.id, "user@victim.example")).status).toBe(200);
    const victimLogin = await login(victimApp, "user@victim.example");
    expect(victimLogin.status, victimLogin.text).toBe(202);
    const dashboard = await t.request("POST", "/api/auth/email", { body: { email: "User@Victim.example" } });
    expect(dashboard.status, dashboard.text).toBe(202);
    // The rule still holds where it belongs: nobody logs in to an app with the address it sends from.
    const own = await login(attackerApp, "USER@victim.example");
    expect(own.status).toBe(403);
    expect(own.body).toMatchObject({ code: "sender_email_login_refused", field: "email" });
  });

  it("a sender email that is another workspace's dashboard account neither blocks that account nor is revealed", async () => {
    const saved = await saveSender(attacker, attackerApp.id, "owner@victim.example");
    expect(saved.status, saved.text).toBe(200);
    const started = Date.now();
    const signIn = await t.request("POST", "/api/auth/email", { body: { email: "owner@victim.example" } });
    expect(signIn.status).toBe(202);
    const { code } = await t.latestLoginEmail("owner@victim.example", started);
    const verified = await t.request("POST", "/api/auth/email/verify", {
      body: { loginId: signIn.body.loginId, code },
    });
    expect(verified.status, verified.text).toBe(200);
    expect((await login(victimApp, "owner@victim.example")).status).toBe(202);
  });

  it("an invitation elsewhere, kept or removed, never stops a workspace from using that address as sender", async () => {
    const invited = await t.request("POST", `/api/workspaces/${attacker.workspaceId}/members`, {
      session: attacker,
      body: { email: "login@victim.example" },
    });
    expect(invited.status, invited.text).toBe(201);
    expect((await saveSender(victim, victimApp.id, "login@victim.example")).status).toBe(200);
    const members = invited.body.members as { accountId: string; email: string }[];
    const invitee = members.find((m) => m.email === "login@victim.example")!;
    const removed = await t.request(
      "DELETE",
      `/api/workspaces/${attacker.workspaceId}/members/${invitee.accountId}`,
      { session: attacker },
    );
    expect(removed.status).toBeLessThan(300);
    const resaved = await saveSender(victim, victimApp.id, "login2@victim.example");
    expect(resaved.status).toBe(200);
    expect((await saveSender(victim, victimApp.id, "login@victim.example")).status).toBe(200);
  });

  it("inside one workspace both rules still hold", async () => {
    const ownAccount = await saveSender(victim, victimApp.id, "owner@victim.example");
    expect(ownAccount.status).toBe(400);
    expect(ownAccount.body).toMatchObject({ code: "sender_is_dashboard_account", field: "senderEmail" });
    expect((await saveSender(victim, victimApp.id, "sender@victim.example")).status).toBe(200);
    const invite = await t.request("POST", `/api/workspaces/${victim.workspaceId}/members`, {
      session: victim,
      body: { email: "Sender@Victim.example" },
    });
    expect(invite.status).toBe(400);
    expect(invite.body).toMatchObject({ code: "sender_email_not_allowed", field: "email" });
    // The attacker's workspace may invite that address: it is not its sender.
    const elsewhere = await t.request("POST", `/api/workspaces/${attacker.workspaceId}/members`, {
      session: attacker,
      body: { email: "sender@victim.example" },
    });
    expect(elsewhere.status, elsewhere.text).toBe(201);
  });
});
