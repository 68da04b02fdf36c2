// The Graph sendMail fake, driven with tokens that @azure/msal-node gets with a certificate from the identity fake.
// No Graph SDK is installed, so requests go through plain fetch, as a thin Graph transport would send them.
// Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { ConfidentialClientApplication } from "@azure/msal-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GraphFake, graphErrors, startGraphFake } from "../fakes/graph.ts";
import { type MicrosoftIdentityFake, startMicrosoftIdentityFake } from "../fakes/microsoft-identity.ts";
import { createTestCertificate } from "../fakes/x509.ts";

const tenantId = "7e4b5ba7-59cd-4d4f-82a5-a8370ce63400";
const consentedApp = "3b8e1f2a-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
const scopedApp = "4c9f2a3b-5d6e-4f70-9bac-1d2e3f4a5b6c";
const sender = "noreply@contoso.com";
const certificate = createTestCertificate();

let identity: MicrosoftIdentityFake;
let graph: GraphFake;
const tokens = new Map<string, string>();

async function tokenFor(appId: string): Promise<string> {
  const cached = tokens.get(appId);
  if (cached) return cached;
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: appId,
      clientCertificate: { thumbprintSha256: certificate.thumbprintSha256, privateKey: certificate.keyPem },
      authority: identity.authority(tenantId),
      knownAuthorities: [identity.authorityHost],
      authorityMetadata: identity.authorityMetadata(tenantId),
    },
  });
  const result = await cca.acquireTokenByClientCredential({
    scopes: ["https://graph.microsoft.com/.default"],
  });
  tokens.set(appId, result?.accessToken ?? "");
  return result?.accessToken ?? "";
}

beforeAll(async () => {
  identity = await startMicrosoftIdentityFake({
    tenants: [
      {
        id: tenantId,
        apps: [
          { clientId: consentedApp, certificates: [certificate.certPem], graphRoles: ["Mail.Send"] },
          { clientId: scopedApp, certificates: [certificate.certPem] },
        ],
      },
    ],
  });
});
afterAll(() => identity.close());
beforeEach(async () => {
  graph = await startGraphFake({ identity });
  graph.addMailbox(tenantId, { address: sender, id: "11111111-2222-4333-8444-555555555555" });
  graph.addMailbox(tenantId, { address: "other@contoso.com" });
  graph.addMailbox(tenantId, { address: "unlicensed@contoso.com", restEnabled: false });
  graph.addMailbox(tenantId, { address: "team@contoso.com", kind: "group" });
});
afterEach(() => graph.close());

const jsonMessage = (overrides: Record<string, unknown> = {}) => ({
  message: {
    subject: "Your sign-in code",
    body: { contentType: "Text", content: "123456" },
    toRecipients: [{ emailAddress: { address: "user@example.com", name: "User" } }],
    from: { emailAddress: { address: sender } },
    ...overrides,
  },
  saveToSentItems: false,
});

async function sendJson(
  body: unknown,
  { user = sender, token, app = consentedApp }: { user?: string; token?: string; app?: string } = {},
): Promise<Response> {
  return fetch(`${graph.url}/v1.0/users/${encodeURIComponent(user)}/sendMail`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token ?? (await tokenFor(app))}`,
      "Content-Type": "application/json",
      "client-request-id": "c0ffee00-0000-4000-8000-000000000001",
    },
    body: JSON.stringify(body),
  });
}

async function sendMime(mime: string, user = sender): Promise<Response> {
  return fetch(`${graph.url}/v1.0/users/${user}/sendMail`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(consentedApp)}`, "Content-Type": "text/plain" },
    body: Buffer.from(mime).toString("base64"),
  });
}

const mime = (from = sender): string =>
  [
    `From: "Postern" <${from}>`,
    "To: user@example.com",
    "Subject: =?UTF-8?Q?Anmeldung_f=C3=BCr_Sie?=",
    "Message-ID: <abc@postern.test>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Your code is 123456",
    "",
  ].join("\r\n");

async function errorOf(
  res: Response,
): Promise<{ status: number; code: string; message: string; retryAfter: string | null }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return {
    status: res.status,
    code: body.error.code,
    message: body.error.message,
    retryAfter: res.headers.get("retry-after"),
  };
}

describe("Microsoft Graph sendMail fake", () => {
  it("accepts a JSON message with 202 and an empty body, and records it", async () => {
    const res = await sendJson(jsonMessage());
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
    expect(res.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("client-request-id")).toBe("c0ffee00-0000-4000-8000-000000000001");
    expect(graph.messages).toHaveLength(1);
    expect(graph.messages[0]).toMatchObject({
      format: "json",
      mailbox: sender,
      appId: consentedApp,
      tenantId,
      permission: "entra-consent",
      subject: "Your sign-in code",
      text: "123456",
      to: [{ address: "user@example.com", name: "User" }],
      from: sender,
      saveToSentItems: false,
    });
    expect(graph.tokenValidations).toBe(1);
  });

  it("accepts base64 MIME as text/plain, by user id too, and parses it", async () => {
    expect((await sendMime(mime(), "11111111-2222-4333-8444-555555555555")).status).toBe(202);
    const [message] = await graph.waitForMessages(1);
    expect(message).toMatchObject({
      format: "mime",
      from: sender,
      subject: "Anmeldung für Sie",
      saveToSentItems: true,
    });
    expect(message?.mime?.headers.get("message-id")).toBe("<abc@postern.test>");
    expect(message?.text?.trim()).toBe("Your code is 123456");
  });

  it("shapes errors like Graph: error.code, message, innerError ids and date, headers", async () => {
    const res = await sendJson(jsonMessage(), { user: "nobody@contoso.com" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toEqual({
      code: "ErrorInvalidUser",
      message: "The requested user 'nobody@contoso.com' is invalid.",
      innerError: {
        date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
        "request-id": res.headers.get("request-id"),
        "client-request-id": "c0ffee00-0000-4000-8000-000000000001",
      },
    });
  });

  it("answers 401 InvalidAuthenticationToken for a missing, garbled, foreign-audience or expired token", async () => {
    const noToken = await fetch(`${graph.url}/v1.0/users/${sender}/sendMail`, { method: "POST", body: "{}" });
    expect(await errorOf(noToken)).toMatchObject({
      status: 401,
      code: "InvalidAuthenticationToken",
      message: "Access token is empty.",
    });
    expect(noToken.headers.get("www-authenticate")).toMatch(/^Bearer realm=""/);
    expect(await errorOf(await sendJson(jsonMessage(), { token: "not-a-jwt" }))).toMatchObject({
      status: 401,
      message: "CompactToken parsing failed with error code: 80049217",
    });
    const outlook = await identity.mintAccessToken(consentedApp);
    expect(await errorOf(await sendJson(jsonMessage(), { token: outlook }))).toMatchObject({
      status: 401,
      message: "Access token validation failure. Invalid audience.",
    });
    const expired = await identity.mintAccessToken(consentedApp, {
      aud: "https://graph.microsoft.com",
      exp: Math.floor(Date.now() / 1000) - 5,
    });
    expect(await errorOf(await sendJson(jsonMessage(), { token: expired }))).toMatchObject({
      status: 401,
      message: "Lifetime validation failed, the token is expired.",
    });
  });

  it("without Mail.Send, only an RBAC for Applications assignment opens a mailbox, and only that one", async () => {
    expect(await errorOf(await sendJson(jsonMessage(), { app: scopedApp }))).toMatchObject({
      status: 403,
      code: "ErrorAccessDenied",
      message: "Access is denied. Check credentials and try again.",
    });
    graph.assignMailSend(tenantId, scopedApp, [sender]);
    expect((await sendJson(jsonMessage(), { app: scopedApp })).status).toBe(202);
    expect(graph.messages[0]?.permission).toBe("rbac");
    const other = jsonMessage({ from: { emailAddress: { address: "other@contoso.com" } } });
    expect((await sendJson(other, { app: scopedApp, user: "other@contoso.com" })).status).toBe(403);
    // An Entra consent of Mail.Send is tenant-wide: the scope does not hold it back.
    expect((await sendJson(other, { user: "other@contoso.com" })).status).toBe(202);
    graph.restrictAccess(tenantId, consentedApp, [sender]);
    expect(await errorOf(await sendJson(other, { user: "other@contoso.com" }))).toMatchObject({
      status: 403,
      code: "ErrorAccessDenied",
      message: expect.stringMatching(/^Access to OData is disabled/),
    });
  });

  it("answers 404 for unknown users, groups and mailboxes not enabled for REST", async () => {
    expect(await errorOf(await sendJson(jsonMessage(), { user: "team@contoso.com" }))).toMatchObject({
      status: 404,
      code: "ErrorInvalidUser",
    });
    expect(await errorOf(await sendJson(jsonMessage(), { user: "unlicensed@contoso.com" }))).toMatchObject({
      status: 404,
      code: "MailboxNotEnabledForRESTAPI",
    });
    const resourceStyle = await startGraphFake({ identity, unknownMailboxCode: "ResourceNotFound" });
    const res = await fetch(`${resourceStyle.url}/v1.0/users/x@contoso.com/sendMail`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${await tokenFor(consentedApp)}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(jsonMessage()),
    });
    await resourceStyle.close();
    expect(await errorOf(res)).toMatchObject({ status: 404, code: "ResourceNotFound" });
  });

  it("refuses another From without SendAs (JSON and MIME) until SendAs is granted", async () => {
    const asOther = jsonMessage({ from: { emailAddress: { address: "other@contoso.com" } } });
    expect(await errorOf(await sendJson(asOther))).toMatchObject({ status: 403, code: "ErrorSendAsDenied" });
    expect(await errorOf(await sendMime(mime("other@contoso.com")))).toMatchObject({
      status: 403,
      code: "ErrorSendAsDenied",
    });
    graph.grantSendAs("other@contoso.com", sender);
    expect((await sendJson(asOther)).status).toBe(202);
  });

  it("refuses bad bodies: size, base64, recipients, headers, /me", async () => {
    graph.limits.maxRequestBytes = 2048;
    const big = jsonMessage({ body: { contentType: "Text", content: "x".repeat(4096) } });
    expect(await errorOf(await sendJson(big))).toMatchObject({ status: 413 });
    graph.limits.maxRequestBytes = 4 * 1024 * 1024;
    graph.limits.maxMessageBytes = 1024;
    expect(await errorOf(await sendJson(big))).toMatchObject({
      status: 400,
      code: "ErrorMessageSizeExceeded",
    });
    graph.limits.maxMessageBytes = 35 * 1024 * 1024;
    const badBase64 = await fetch(`${graph.url}/v1.0/users/${sender}/sendMail`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(consentedApp)}`, "Content-Type": "text/plain" },
      body: "not base64!",
    });
    expect(await errorOf(badBase64)).toMatchObject({
      status: 400,
      code: "ErrorMimeContentInvalidBase64String",
    });
    expect(await errorOf(await sendJson(jsonMessage({ toRecipients: [] })))).toMatchObject({
      code: "ErrorInvalidRecipients",
    });
    const threaded = jsonMessage({ internetMessageHeaders: [{ name: "In-Reply-To", value: "<a@b>" }] });
    expect(await errorOf(await sendJson(threaded))).toMatchObject({
      status: 400,
      code: "InvalidInternetMessageHeader",
    });
    const me = await fetch(`${graph.url}/v1.0/me/sendMail`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${await tokenFor(consentedApp)}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(jsonMessage()),
    });
    expect(await errorOf(me)).toMatchObject({
      status: 400,
      message: "/me request is only valid with delegated authentication flow.",
    });
    expect(graph.messages).toHaveLength(0);
  });

  it("holds 4 concurrent requests per app and mailbox: the rest get 429 with Retry-After", async () => {
    graph.setLatency(1000);
    const results = await Promise.all(Array.from({ length: 8 }, () => sendJson(jsonMessage())));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429, 429, 429]);
    const refused = results.find((r) => r.status === 429);
    expect(await errorOf(refused as Response)).toMatchObject({
      code: "ApplicationThrottled",
      message: "Application is over its MailboxConcurrency limit.",
      retryAfter: "1",
    });
    // A refused request leaves at once, so the peak is the 4 in flight plus one refused: above 4 means the client
    // tried more than Graph allows.
    expect(graph.peakConcurrency(sender)).toBe(5);
    expect(graph.throttled.concurrency).toBe(4);
    expect(graph.limitViolations.every((v) => v.limit === "concurrency")).toBe(true);
    // Sequential requests never trip it.
    graph.setLatency(0);
    for (let i = 0; i < 5; i++) expect((await sendJson(jsonMessage())).status).toBe(202);
  });

  it("holds Exchange's messages per minute and recipients per day on the fake's clock", async () => {
    graph.limits.messagesPerMinutePerMailbox = 2;
    expect((await sendJson(jsonMessage())).status).toBe(202);
    expect((await sendJson(jsonMessage())).status).toBe(202);
    const third = await errorOf(await sendJson(jsonMessage()));
    expect(third).toMatchObject({ status: 429, code: "ApplicationThrottled" });
    expect(Number(third.retryAfter)).toBeGreaterThan(0);
    expect(Number(third.retryAfter)).toBeLessThanOrEqual(60);
    graph.advanceClock(61_000);
    graph.limits.messagesPerMinutePerMailbox = 30;
    graph.limits.recipientsPerDayPerMailbox = 5;
    const three = Array.from({ length: 3 }, (_, i) => ({ emailAddress: { address: `u${i}@example.com` } }));
    expect((await sendJson(jsonMessage({ toRecipients: three }))).status).toBe(202);
    const over = await errorOf(await sendJson(jsonMessage({ toRecipients: three })));
    expect(over).toMatchObject({ status: 429, message: "Mailbox is over its limit of recipients per day." });
    expect(Number(over.retryAfter)).toBeGreaterThan(23 * 3600);
    graph.advanceClock(24 * 3600 * 1000);
    expect((await sendJson(jsonMessage({ toRecipients: three }))).status).toBe(202);
    expect(graph.throttled).toMatchObject({ messages: 1, recipients: 1 });
  });

  it("scripts outages (503 with Retry-After) and the next N failures", async () => {
    graph.startOutage(30_000, 7);
    expect(await errorOf(await sendJson(jsonMessage()))).toMatchObject({
      status: 503,
      code: "serviceNotAvailable",
      retryAfter: "7",
    });
    graph.advanceClock(30_001);
    expect((await sendJson(jsonMessage())).status).toBe(202);
    graph.failNext(2, graphErrors.concurrencyThrottled(3));
    expect(await errorOf(await sendJson(jsonMessage()))).toMatchObject({ status: 429, retryAfter: "3" });
    expect((await sendJson(jsonMessage())).status).toBe(429);
    expect((await sendJson(jsonMessage())).status).toBe(202);
    expect(graph.requestLog.map((r) => r.status)).toEqual([503, 202, 429, 429, 202]);
  });
});
