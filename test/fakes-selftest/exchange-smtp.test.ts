// Real nodemailer, msal-node and a raw socket client against the Exchange Online SMTP fake.
// Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem so the test CA is trusted.
import { ConfidentialClientApplication } from "@azure/msal-node";
import nodemailer from "nodemailer";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ExchangeSmtpFake, startExchangeSmtpFake } from "../fakes/exchange-smtp.ts";
import {
  type FakeApp,
  type MicrosoftIdentityFake,
  startMicrosoftIdentityFake,
} from "../fakes/microsoft-identity.ts";
import { SmtpDialog } from "./smtp-dialog.ts";

const tenantId = "3f1d6a0e-8c2b-4e5f-9a7d-0b1c2d3e4f50";
const mailbox = "login@contoso.onmicrosoft.com";
const trailer =
  /\[FAKE01CA0001\.EURP123\.PROD\.OUTLOOK\.COM \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9A-F]{16}\]/;
const storeTrailer = "[Hostname=FAKE01MB0001.eurprd01.prod.outlook.com]";
const authFailedLine = new RegExp(`^535 5\\.7\\.3 Authentication unsuccessful ${trailer.source}$`);

let identity: MicrosoftIdentityFake;
let exchange: ExchangeSmtpFake;
let app: FakeApp;

beforeAll(async () => {
  identity = await startMicrosoftIdentityFake();
});
afterAll(() => identity.close());
beforeEach(async () => {
  identity.tenants.clear();
  identity.addTenant({ id: tenantId, domains: ["contoso.onmicrosoft.com"] });
  app = identity.addApp(tenantId, { secret: "s3cret" });
  exchange = await startExchangeSmtpFake({ identity });
  exchange.allowApp(app, mailbox);
});
afterEach(() => exchange.close());

const blobFor = (user: string, token: string): string =>
  Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString("base64");

function transport(user: string, accessToken: string) {
  return nodemailer.createTransport({
    host: "localhost",
    port: exchange.port,
    secure: false,
    requireTLS: true,
    pool: false,
    auth: { type: "OAuth2", user, accessToken },
  });
}

const mail = { from: `"Acme" <${mailbox}>`, to: "user@example.test", subject: "Code", text: "123456" };

/** Greeting, EHLO, STARTTLS, EHLO over a raw socket; returns the dialog ready for AUTH. */
async function secureDialog(): Promise<SmtpDialog> {
  const dialog = await SmtpDialog.open(exchange.port);
  await dialog.reply();
  await dialog.command("EHLO client.test");
  await dialog.command("STARTTLS");
  await dialog.startTls();
  await dialog.command("EHLO client.test");
  return dialog;
}

async function authedDialog(): Promise<SmtpDialog> {
  const dialog = await secureDialog();
  expect(
    await dialog.command(`AUTH XOAUTH2 ${blobFor(mailbox, await identity.mintAccessToken(app.clientId))}`),
  ).toBe("235 2.7.0 Authentication successful");
  return dialog;
}

async function sendOver(dialog: SmtpDialog, from = mailbox): Promise<string> {
  await dialog.command(`MAIL FROM:<${from}>`);
  await dialog.command("RCPT TO:<user@example.test>");
  await dialog.command("DATA");
  return dialog.command(`From: ${from}\r\nSubject: hi\r\n\r\nhello\r\n.`);
}

describe("Exchange Online SMTP fake", () => {
  it("speaks Exchange's dialogue byte for byte, two-step XOAUTH2, dot-unstuffing", async () => {
    const dialog = await SmtpDialog.open(exchange.port);
    const greeting = await dialog.reply();
    expect(greeting).toMatch(
      /^220 FAKE01CA0001\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000 \[[0-9A-F]{16}\]$/,
    );
    const sessionId = greeting.slice(-17, -1);
    const capabilities = (middle: string) =>
      [
        "250-FAKE01CA0001.outlook.office365.com Hello [127.0.0.1]",
        "250-SIZE 157286400",
        "250-PIPELINING",
        "250-DSN",
        "250-ENHANCEDSTATUSCODES",
        `250-${middle}`,
        "250-8BITMIME",
        "250-BINARYMIME",
        "250-CHUNKING",
        "250 SMTPUTF8",
      ].join("\r\n");
    expect(await dialog.command("EHLO client.test")).toBe(capabilities("STARTTLS"));
    expect(await dialog.command("AUTH XOAUTH2")).toBe("504 5.7.4 Unrecognized authentication type");
    const notAuthed = await dialog.command("MAIL FROM:<x@contoso.onmicrosoft.com>");
    expect(notAuthed).toMatch(
      new RegExp(`^530 5\\.7\\.57 Client not authenticated to send mail\\. ${trailer.source}$`),
    );
    expect(notAuthed.slice(-17, -1)).toBe(sessionId);
    expect(await dialog.command("STARTTLS")).toBe("220 2.0.0 SMTP server ready");
    await dialog.startTls();
    expect(await dialog.command("EHLO client.test")).toBe(capabilities("AUTH LOGIN XOAUTH2"));
    expect(await dialog.command("auth xoauth2")).toBe("334 ");
    const token = await identity.mintAccessToken(app.clientId);
    expect(await dialog.command(blobFor(mailbox, token))).toBe("235 2.7.0 Authentication successful");
    expect(await dialog.command(`MAIL FROM:<${mailbox}>`)).toBe("250 2.1.0 Sender OK");
    expect(await dialog.command("RCPT TO:<user@example.test>")).toBe("250 2.1.5 Recipient OK");
    expect(await dialog.command("DATA")).toBe("354 Start mail input; end with <CRLF>.<CRLF>");
    const body = `From: ${mailbox}\r\nMessage-ID: <m1@test>\r\nSubject: dots\r\n\r\n..leading dot\r\n.`;
    expect(await dialog.command(body)).toBe(`250 2.0.0 OK <m1@test> ${storeTrailer}`);
    expect(await dialog.command("QUIT")).toBe("221 2.0.0 Service closing transmission channel");
    const [message] = exchange.messages;
    expect(message?.raw.toString()).toContain("\r\n\r\n.leading dot\r\n");
    expect(message?.authUser).toBe(mailbox);
    expect(exchange.authResults.map((r) => r.success)).toEqual([true]);
  });

  it("accepts nodemailer's one-line XOAUTH2 with a token from msal-node (235), then the message", async () => {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: app.clientId,
        clientSecret: "s3cret",
        authority: identity.authority(tenantId),
        knownAuthorities: [identity.authorityHost],
        authorityMetadata: identity.authorityMetadata(tenantId),
      },
    });
    const result = await cca.acquireTokenByClientCredential({
      scopes: ["https://outlook.office365.com/.default"],
    });
    const info = await transport(mailbox, result?.accessToken ?? "").sendMail(mail);
    expect(info.response).toMatch(/^250 2\.0\.0 OK <.+> \[Hostname=/);
    const [message] = await exchange.waitForMessages(1);
    expect(message).toMatchObject({
      subject: "Code",
      authUser: mailbox,
      from: { name: "Acme", address: mailbox },
    });
    expect(exchange.authResults[0]).toMatchObject({
      mechanism: "XOAUTH2",
      success: true,
      appId: app.clientId,
    });
  });

  it("rejects a token without SMTP.SendAsApp with Microsoft's 535 5.7.3 line", async () => {
    identity.setConsent(app.clientId, false);
    const token = await identity.mintAccessToken(app.clientId);
    const err = await transport(mailbox, token)
      .sendMail(mail)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EAUTH", responseCode: 535, command: "AUTH XOAUTH2" });
    expect((err as { response: string }).response).toMatch(authFailedLine);
    expect(exchange.authResults[0]).toMatchObject({ success: false, reason: "token lacks SMTP.SendAsApp" });
  });

  it("receives Microsoft's documented XOAUTH2 example byte for byte from nodemailer", async () => {
    const err = await transport("test@contoso.onmicrosoft.com", "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA")
      .sendMail(mail)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EAUTH", responseCode: 535 });
    expect(exchange.authResults[0]?.blob).toBe(
      "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==",
    );
  });

  const otherIdentity = async () => {
    const other = await startMicrosoftIdentityFake({
      tenants: [{ id: tenantId, apps: [{ clientId: app.clientId }] }],
    });
    const token = await other.mintAccessToken(app.clientId);
    await other.close();
    return token;
  };
  it.each([
    [
      "an expired token",
      () => identity.mintAccessToken(app.clientId, { exp: Math.floor(Date.now() / 1000) - 5 }),
      /exp/,
    ],
    [
      "another audience",
      () => identity.mintAccessToken(app.clientId, { aud: "https://graph.microsoft.com" }),
      /audience/,
    ],
    ["another issuer's signature", otherIdentity, /signature/],
    [
      "a revoked token",
      async () => {
        const token = await identity.mintAccessToken(app.clientId);
        identity.revoke(app.clientId);
        return token;
      },
      /revoked/,
    ],
    [
      "an unregistered service principal",
      async () => identity.mintAccessToken(identity.addApp(tenantId).clientId),
      /not registered/,
    ],
    [
      "a service principal registered with the app registration's object id",
      async () => {
        exchange.registerServicePrincipal(tenantId, app.clientId, crypto.randomUUID());
        return identity.mintAccessToken(app.clientId);
      },
      /another object id/,
    ],
  ] as const)("answers 535 5.7.3 to %s", async (_name, makeToken, reason) => {
    const dialog = await secureDialog();
    expect(await dialog.command(`AUTH XOAUTH2 ${blobFor(mailbox, await makeToken())}`)).toMatch(
      authFailedLine,
    );
    expect(exchange.authResults[0]?.reason).toMatch(reason);
    dialog.close();
  });

  it("reports a missing mailbox permission at AUTH, or at end of DATA when configured", async () => {
    const other = "other@contoso.onmicrosoft.com";
    const token = await identity.mintAccessToken(app.clientId);
    const dialog = await secureDialog();
    expect(await dialog.command(`AUTH XOAUTH2 ${blobFor(other, token)}`)).toMatch(authFailedLine);
    dialog.close();
    await exchange.close();
    exchange = await startExchangeSmtpFake({ identity, mailboxPermissionFailure: "data" });
    exchange.allowApp(app, mailbox);
    const late = await secureDialog();
    expect(await late.command(`AUTH XOAUTH2 ${blobFor(other, token)}`)).toBe(
      "235 2.7.0 Authentication successful",
    );
    expect(await sendOver(late, other)).toMatch(
      /^430 4\.2\.0 STOREDRV; mailbox logon failure; STOREDRV\.Submission/,
    );
    late.close();
  });

  it("honours SMTP AUTH switches for the tenant and the mailbox (5.7.139)", async () => {
    const token = await identity.mintAccessToken(app.clientId);
    const attempt = async () => {
      const dialog = await secureDialog();
      const reply = await dialog.command(`AUTH XOAUTH2 ${blobFor(mailbox, token)}`);
      dialog.close();
      return reply;
    };
    const disabled = (scope: string) =>
      new RegExp(
        `^535 5\\.7\\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the ${scope}\\. Visit https://aka\\.ms/smtp_auth_disabled for more information\\. ${trailer.source}$`,
      );
    exchange.setTenantSmtpAuthDisabled(tenantId, true);
    expect(await attempt()).toMatch(disabled("Tenant"));
    exchange.setMailboxSmtpAuthDisabled(mailbox, false); // the mailbox setting overrides the tenant's
    expect(await attempt()).toBe("235 2.7.0 Authentication successful");
    exchange.setTenantSmtpAuthDisabled(tenantId, false);
    exchange.setMailboxSmtpAuthDisabled(mailbox, true);
    expect(await attempt()).toMatch(disabled("Mailbox"));
  });

  it("refuses basic auth (AUTH LOGIN) without recording credentials", async () => {
    const dialog = await secureDialog();
    expect(await dialog.command("AUTH LOGIN")).toBe("334 VXNlcm5hbWU6");
    expect(await dialog.command(Buffer.from(mailbox).toString("base64"))).toBe("334 UGFzc3dvcmQ6");
    const reply = await dialog.command(Buffer.from("hunter2").toString("base64"));
    expect(reply).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. \[/,
    );
    expect(JSON.stringify(exchange.authResults)).not.toMatch(/hunter2|aHVudGVyMg/);
    dialog.close();
  });

  it("denies sending as another address without a SendAs grant (554 5.2.252)", async () => {
    const noreply = "noreply@contoso.onmicrosoft.com";
    const token = await identity.mintAccessToken(app.clientId);
    const err = await transport(mailbox, token)
      .sendMail({ ...mail, from: noreply })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EMESSAGE", responseCode: 554 });
    expect((err as { response: string }).response).toBe(
      `554 5.2.252 SendAsDenied; ${mailbox} not allowed to send as ${noreply}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] ${storeTrailer}`,
    );
    exchange.grantSendAs(noreply, app.servicePrincipalId);
    await transport(mailbox, token).sendMail({ ...mail, from: noreply });
    expect(exchange.messages).toHaveLength(1);
  });

  it("limits concurrent authenticated connections per mailbox (432 4.3.2 on the 4th)", async () => {
    const first = await authedDialog();
    const others = [await authedDialog(), await authedDialog()];
    const fourth = await authedDialog();
    expect(exchange.maxConcurrentByMailbox.get(mailbox)).toBe(4);
    expect(await sendOver(fourth)).toBe(
      `432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded ${storeTrailer}`,
    );
    expect(await sendOver(first)).toMatch(/^250 2\.0\.0 OK/);
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The 4th connection now holds one of the three slots.
    expect(await sendOver(fourth)).toMatch(/^250 2\.0\.0 OK/);
    for (const d of [...others, fourth]) d.close();
    expect(exchange.limitViolations).toMatchObject([{ mailbox, limit: "concurrency" }]);
  });

  it("limits messages per rolling minute (554 5.2.0 SubmissionQuotaExceeded)", async () => {
    exchange.limits.messagesPerMinute = 2;
    const dialog = await authedDialog();
    expect(await sendOver(dialog)).toMatch(/^250 /);
    expect(await sendOver(dialog)).toMatch(/^250 /);
    expect(await sendOver(dialog)).toBe(
      `554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Message submission quota exceeded[EndDiagnosticData] ${storeTrailer}`,
    );
    expect(exchange.limitViolations).toMatchObject([{ mailbox, limit: "rate" }]);
    dialog.close();
  });

  it("plays injected replies once", async () => {
    const logon = `430 4.2.0 STOREDRV; mailbox logon failure; injected ${storeTrailer}`;
    exchange.injectOnce("data", logon);
    const t = transport(mailbox, await identity.mintAccessToken(app.clientId));
    await expect(t.sendMail(mail)).rejects.toMatchObject({
      code: "EMESSAGE",
      responseCode: 430,
      response: logon,
    });
    await t.sendMail(mail);
    exchange.injectOnce("greeting", "421 4.3.2 Service not available");
    await expect(t.sendMail(mail)).rejects.toMatchObject({ responseCode: 421 });
    expect(exchange.messages).toHaveLength(1);
  });

  it("accepts AUTH lines over 12 KiB and refuses lines over 16 KiB", async () => {
    const big = await identity.mintAccessToken(app.clientId, { xms_pad: "x".repeat(6900) });
    const line = `AUTH XOAUTH2 ${blobFor(mailbox, big)}`;
    expect(line.length).toBeGreaterThan(12_288);
    expect(line.length).toBeLessThan(16_384);
    const dialog = await secureDialog();
    expect(await dialog.command(line)).toBe("235 2.7.0 Authentication successful");
    dialog.close();
    const huge = await secureDialog();
    expect(await huge.command(`AUTH XOAUTH2 ${"A".repeat(17_000)}`)).toMatch(/^500 5\.5\.6 Line too long/);
    huge.close();
  });

  it("fails STARTTLS for a client that does not trust the certificate", async () => {
    await exchange.close();
    exchange = await startExchangeSmtpFake({ identity, cert: "untrusted" });
    const err = await transport(mailbox, "t")
      .sendMail(mail)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ESOCKET", message: expect.stringMatching(/unable to verify/) });
    expect(exchange.authResults).toHaveLength(0);
  });
});
