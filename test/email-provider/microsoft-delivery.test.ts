// Login emails through Microsoft 365 with OAuth, end to end over real sockets: Postern's worker, the
// Microsoft identity fake (tokens) and the Exchange Online SMTP fake (XOAUTH2, limits, replies).
import { sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { xoauth2InitialResponse } from "../../src/mail/smtp-probe.ts";
import { parseXoauth2 } from "../fakes/exchange-directory.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import {
  CLIENT_ID,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";
import { deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)("Microsoft 365 delivery through the fakes (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startMicrosoftFakes();
    t = await startTestPostern(backend, ms.env);
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });
  afterEach(async () => {
    ms.identity.setFailure(null);
    ms.identity.expiresIn = 3599;
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  /** Saves the provider with a new sender name: a new version, so a new pool and a new token source. */
  async function saveProvider(senderName: string) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody({ senderName }),
    });
    expect(res.status, res.text).toBe(200);
  }

  const login = (email: string) => sendLogin(t, app.publishableKey, email);
  const delivered = (id: string) => deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");

  it("delivers an end user's login email through Exchange with XOAUTH2, From the sender name and mailbox", async () => {
    await saveProvider("Contoso Login");
    const requests = ms.identity.tokenRequests;
    const d = await delivered(await login("alice@example.com"));
    expect(d).toMatchObject({ route: "custom", sender: `Contoso Login <${MAILBOX}>` });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]!.smtpReply).toMatch(/^250 2\.0\.0 OK/);
    const mail = ms.exchange.messages.find((m) => m.to.includes("alice@example.com"))!;
    expect(mail.from).toEqual({ name: "Contoso Login", address: MAILBOX });
    expect(mail.authUser).toBe(MAILBOX);
    expect(mail.text).toMatch(/login code is \d{6}/);
    expect(ms.identity.tokenRequests - requests).toBe(1);
    const issued = (await t.postern.metrics.tokenRequests.get()).values.find(
      (v) => v.labels.provider === "microsoft" && v.labels.outcome === "issued",
    );
    expect(issued?.value).toBeGreaterThanOrEqual(1);
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
      .body as unknown as ProviderState;
    expect(state.provider?.health.status).toBe("working");
  });

  it("sends the XOAUTH2 initial response byte for byte as Microsoft documents it", async () => {
    // Microsoft's own example (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
    expect(
      xoauth2InitialResponse("test@contoso.onmicrosoft.com", "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"),
    ).toBe(
      "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==",
    );
    await saveProvider("Contoso Login");
    await delivered(await login("bytes@example.com"));
    const test = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: {},
    });
    expect(test.body.ok, test.text).toBe(true);
    // As received by the fake: once from the delivery pool (nodemailer), once from Test connection.
    const blobs = ms.exchange.authResults.filter((r) => r.success).slice(-2);
    expect(blobs).toHaveLength(2);
    for (const { blob } of blobs) {
      const decoded = Buffer.from(blob!, "base64").toString("utf8");
      const token = parseXoauth2(blob!)!.token;
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(decoded).toBe(`user=${MAILBOX}\x01auth=Bearer ${token}\x01\x01`);
      expect(blob).toBe(
        Buffer.from(`user=${MAILBOX}\x01auth=Bearer ${token}\x01\x01`, "utf8").toString("base64"),
      );
      expect(await ms.identity.verifyAccessToken(token)).toMatchObject({ valid: true });
    }
  });

  it("replaces a token that expired while the pool was open, without a refused login", async () => {
    // Two seconds: exp is in whole seconds, as Entra's, so a token of one lives zero to one second
    // and a busy machine's first AUTH could come after it. This one lives one to two.
    ms.identity.expiresIn = 2;
    await saveProvider("Short-lived tokens");
    const requests = ms.identity.tokenRequests;
    const auths = ms.exchange.authResults.length;
    await delivered(await login("before-expiry@example.com"));
    const first = parseXoauth2(ms.exchange.authResults[auths]!.blob!)!.token;
    // The one wait on real time in this file: nodemailer and the identity fake judge a token's expiry
    // by the system clock, not Postern's. Then Exchange times out the idle connection, unless the
    // pool's own idle timeout (2 s) closed it first: either way the next send opens a new one.
    await sleep(decodeJwt(first).exp! * 1000 + 100 - Date.now());
    ms.exchange.closeIdleConnections();
    await delivered(await login("after-expiry@example.com"));
    expect(ms.identity.tokenRequests - requests).toBe(2);
    const newAuths = ms.exchange.authResults.slice(auths);
    expect(newAuths.map((a) => a.success)).toEqual([true, true]);
    const tokens = newAuths.map((a) => parseXoauth2(a.blob!)!.token);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it("rides out a token endpoint outage: the email is retried and delivered once it is back", async () => {
    await saveProvider("Outage");
    ms.identity.setFailure({ status: 503, retryAfter: 1 });
    const id = await login("outage@example.com");
    const waiting = await deliveryWhen(t, owner, app.id, id, (d) => d.status === "retrying");
    expect(waiting.attempts[0]).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(waiting.attempts[0]!.message).toMatch(/token endpoint/);
    ms.identity.setFailure("network");
    await waitFor(async () => (await deliveryWhen(t, owner, app.id, id, () => true)).attempts.length >= 2);
    ms.identity.setFailure(null);
    const d = await delivered(id);
    expect(d.attempts.at(-1)!.outcome).toBe("sent");
    expect(d.attempts.slice(0, -1).every((a) => a.outcome === "retry")).toBe(true);
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
      .body as unknown as ProviderState;
    expect(state.provider?.health.status).toBe("working");
  });

  it("refreshes a token revoked mid-traffic once, then delivers", async () => {
    await saveProvider("Revoked");
    await delivered(await login("before-revoke@example.com"));
    const requests = ms.identity.tokenRequests;
    const auths = ms.exchange.authResults.length;
    ms.identity.revoke(CLIENT_ID);
    // Exchange times out the idle connection: the next email authenticates again, with the revoked token.
    expect(ms.exchange.closeIdleConnections()).toBeGreaterThan(0);
    const d = await delivered(await login("after-revoke@example.com"));
    expect(d.attempts).toHaveLength(1);
    expect(ms.identity.tokenRequests - requests).toBe(1);
    expect(ms.exchange.authResults.slice(auths).map((a) => [a.success, a.reason])).toEqual([
      [false, "revoked"],
      [true, "ok"],
    ]);
  });

  it("on 432 4.3.2 uses one connection fewer for the mailbox, across processes, and retries", async () => {
    await saveProvider("Thread limit");
    ms.exchange.injectOnce(
      "data",
      "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=FAKE01MB0001.eurprd01.prod.outlook.com]",
    );
    const d = await delivered(await login("thread-limit@example.com"));
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
    expect(d.attempts[0]!.message).toMatch(/fewer connections/);
    const [limits] = await queryRows<{ connection_cap: number }>(
      t.postern.ctx.db,
      sql`select connection_cap from sender_limits where sender = ${`microsoft:${TENANT_ID}:${MAILBOX}`}`,
    );
    expect(limits?.connection_cap).toBe(1);
  });

  it("on SubmissionQuotaExceeded pauses the sender: the email waits in the queue, then goes out", async () => {
    await saveProvider("Quota");
    ms.exchange.injectOnce(
      "data",
      "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Message submission quota exceeded[EndDiagnosticData] [Hostname=FAKE01MB0001.eurprd01.prod.outlook.com]",
    );
    const id = await login("quota@example.com");
    const waiting = await deliveryWhen(
      t,
      owner,
      app.id,
      id,
      (d) => d.status === "queued" && d.attempts.length === 1,
    );
    expect(waiting.attempts[0]).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(waiting.attempts[0]!.message).toMatch(/pauses this sender/);
    // The worker marks the delivery queued, then enqueues its job for after the pause.
    const job = await waitFor(async () => {
      const [row] = await queryRows<{ wait: number }>(
        t.postern.ctx.db,
        sql`select extract(epoch from start_after - now())::float8 as wait from pgboss.job
          where data->>'deliveryId' = ${id} and state = 'created'`,
      );
      return row;
    });
    expect(job?.wait).toBeGreaterThan(45);
    // Its one job waits out the minute: nothing else may try it in the meantime.
    expect((await deliveryWhen(t, owner, app.id, id, () => true)).attempts).toHaveLength(1);
    // The minute passes.
    await t.postern.ctx.db.execute(sql`update sender_limits set paused_until = now()`);
    await t.postern.ctx.db.execute(
      sql`update pgboss.job set start_after = now() where data->>'deliveryId' = ${id}`,
    );
    const d = await delivered(id);
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
  });

  it("on 535 5.7.139 the email waits (never failed for the provider's sake), the provider is marked failing (not the mailbox's lane) and the PowerShell fix is named", async () => {
    await saveProvider("SMTP AUTH off");
    ms.exchange.setMailboxSmtpAuthDisabled(MAILBOX, true);
    try {
      const id = await login("auth-off@example.com");
      const d = await deliveryWhen(t, owner, app.id, id, (x) => x.status === "retrying");
      const fix = `Set-CASMailbox -Identity '${MAILBOX}' -SmtpClientAuthenticationDisabled $false`;
      expect(d.attempts[0]).toMatchObject({ outcome: "retry", errorClass: "auth" });
      expect(d.attempts[0]!.smtpReply).toMatch(/^535 5\.7\.139/);
      expect(d.lastError).toContain(fix);
      const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
        .body as unknown as ProviderState;
      expect(state.provider?.health).toMatchObject({
        status: "failing",
        reason: expect.stringContaining(fix),
      });
      // Other providers sending as this mailbox are not held up by this one's configuration.
      const paused = await queryRows<{ sender: string }>(
        t.postern.ctx.db,
        sql`select sender from sender_limits where paused_until > now()`,
      );
      expect(paused).toEqual([]);
    } finally {
      ms.exchange.setMailboxSmtpAuthDisabled(MAILBOX, null);
    }
  });
});
