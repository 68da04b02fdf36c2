// The HTTP email API kinds' per-account limits and their bodies: Resend's 2 requests a second held without a
// single 429, a SendGrid 429 pausing every app of that API key (and no app of another key), and the bodies'
// validation, kept secrets and views.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ResendFake, startResendFake } from "../fakes/resend.ts";
import { MAIL_SEND_SCOPE, type SendgridFake, sendgridErrors, startSendgridFake } from "../fakes/sendgrid.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { deliveryWhen, sendLogin } from "./support.ts";

const SG_KEY = "SG.shared-account.key0123456789abcdefghijklmnopqrstuvwxyz";
const SG_OTHER = "SG.other-account.key0123456789abcdefghijklmnopqrstuvwxyz";
const RESEND_KEY = "re_limits_0123456789abcdef";

describe.each(backends)("HTTP email API limits and bodies (%s)", (backend) => {
  let sendgrid: SendgridFake;
  let resend: ResendFake;
  let t: TestPostern;
  let owner: Session;

  const appWith = async (name: string, body: Record<string, unknown>) => {
    const app = await t.createApp(owner, { name });
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, { session: owner, body });
    expect(res.status, res.text).toBe(200);
    return app;
  };
  const sg = (apiKey = SG_KEY) => ({ type: "sendgrid", senderEmail: "login@acme.example", apiKey });
  const mailSends = () => sendgrid.requestLog.filter((r) => r.path === "/v3/mail/send");

  beforeAll(async () => {
    sendgrid = await startSendgridFake();
    for (const key of [SG_KEY, SG_OTHER]) {
      sendgrid.addKey(key, { scopes: [MAIL_SEND_SCOPE], domains: [{ domain: "acme.example", valid: true }] });
    }
    resend = await startResendFake({ requestsPerSecond: 2 });
    resend.addTeam("acme", { domains: [{ name: "acme.example", status: "verified" }] });
    resend.addKey(RESEND_KEY, { team: "acme" });
    t = await startTestPostern(backend, {
      POSTERN_SENDGRID_API_URL: sendgrid.url,
      POSTERN_RESEND_API_URL: resend.url,
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
    });
    owner = await t.signIn("owner@example.com");
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await sendgrid?.close();
    await resend?.close();
  });
  afterEach(async () => {
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  it("sends 12 emails through Resend at its documented 2 requests a second, a rare 429 only pausing the lane", async () => {
    const app = await appWith("Resend rate", {
      type: "resend",
      senderEmail: "login@acme.example",
      apiKey: RESEND_KEY,
    });
    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => sendLogin(t, app.publishableKey, `rate${i}@example.com`)),
    );
    for (const id of ids) await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    expect(resend.messages).toHaveLength(12);
    // The lane holds Resend's per-second rate across processes (a request counts from its start until its
    // end). Under heavy load a request delayed on its way can still reach Resend in the same second as a
    // later one; each such 429 pauses the team's lane and the email goes out after it. Without the lane
    // every request past the second would be refused.
    expect(resend.throttled).toBeLessThanOrEqual(3);
    // 12 requests at 2 a second take at least 5 s after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  });

  it("a SendGrid 429 pauses every app of that API key for X-RateLimit-Reset, and no app of another key", async () => {
    const first = await appWith("SendGrid A", sg());
    const second = await appWith("SendGrid B", sg());
    const other = await appWith("SendGrid other account", sg(SG_OTHER));
    const resetAt = Math.ceil(Date.now() / 1000) + 4;
    sendgrid.failNext(1, sendgridErrors.tooManyRequests(resetAt, 600));
    const limited = await sendLogin(t, first.publishableKey, "limited@example.com");
    const d = await deliveryWhen(t, owner, first.id, limited, (x) => x.status === "retrying");
    expect(d.attempts[0]).toMatchObject({
      errorClass: "transient",
      smtpReply: expect.stringMatching(/^429/),
    });
    const sendsAtPause = mailSends().length;

    const otherId = await sendLogin(t, other.publishableKey, "other-account@example.com");
    await deliveryWhen(t, owner, other.id, otherId, (x) => x.status === "sent");
    expect(mailSends().length).toBe(sendsAtPause + 1);

    const waiting = await sendLogin(t, second.publishableKey, "same-account@example.com");
    const sent = await deliveryWhen(t, owner, second.id, waiting, (x) => x.status === "sent");
    // Paused, not attempted: the email waited in the queue, SendGrid saw nothing of it before the reset,
    // and its one attempt is the send.
    expect(sent.attempts.map((a) => a.outcome)).toEqual(["sent"]);
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(resetAt * 1000 - 1000);
    await deliveryWhen(t, owner, first.id, limited, (x) => x.status === "sent");
  });

  it.each([
    [{ type: "sendgrid", apiKey: "not-a-key" }, "apiKey"],
    [{ type: "sendgrid", apiKey: SG_KEY, laneKey: "someone-elses-lane" }, "laneKey"],
    [{ type: "postmark", serverToken: "nope" }, "serverToken"],
    [
      { type: "postmark", serverToken: "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f", messageStream: "no spaces" },
      "messageStream",
    ],
    [{ type: "resend", apiKey: "sk_live_123" }, "apiKey"],
    [{ type: "resend" }, "apiKey"],
  ])("refuses %j with a 400 naming %s", async (fields, field) => {
    const app = await t.createApp(owner, { name: "Bad body" });
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: { senderEmail: "login@acme.example", ...fields },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.text).toContain(field);
  });

  it("keeps a stored key when a save leaves it out, asks again when EU data residency changes, and never shows it", async () => {
    const app = await appWith("Kept key", sg());
    const kept = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: { type: "sendgrid", senderEmail: "login@acme.example", senderName: "Acme" },
    });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.provider).toMatchObject({ type: "sendgrid", apiKeySet: true, euDataResidency: false });
    expect(kept.body.provider).not.toHaveProperty("laneKey");
    expect(kept.text).not.toContain(SG_KEY);
    const id = await sendLogin(t, app.publishableKey, "kept@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");
    const eu = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: { type: "sendgrid", senderEmail: "login@acme.example", euDataResidency: true },
    });
    expect(eu.status).toBe(400);
    expect(eu.body).toMatchObject({ code: "secret_required", field: "apiKey" });
  });
});
