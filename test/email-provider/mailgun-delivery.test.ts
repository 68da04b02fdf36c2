// Login emails through Mailgun, end to end over real sockets: Postern's worker and the Mailgun fake
// answering as Mailgun's US host does.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { mailgunErrors } from "../fakes/mailgun.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import {
  MAILGUN_API_KEY,
  MAILGUN_DOMAIN,
  MAILGUN_SENDER,
  type MailgunFakes,
  startMailgunFakes,
} from "../support/mailgun.ts";
import { type DeliveryView, deliveryWhen, endEarlierEmails, sendLogin } from "./support.ts";

const BURST = 200;

type Attempt = DeliveryView["attempts"][number] & { hint?: string | null };

describe.each(backends)("Mailgun delivery through the fake (%s)", (backend) => {
  let fakes: MailgunFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    fakes = await startMailgunFakes();
    t = await startTestPostern(backend, fakes.env);
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await fakes?.close();
  });
  afterEach(async () => {
    fakes.mailgun.setFailure(null);
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  async function save(overrides: Record<string, unknown> = {}) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: fakes.providerBody({
        senderName: `Acme ${Math.random().toString(36).slice(2, 8)}`,
        ...overrides,
      }),
    });
    expect(res.status, res.text).toBe(200);
  }
  const login = (email: string) => sendLogin(t, app.publishableKey, email);
  const firstAttempt = async (id: string) =>
    (await deliveryWhen(t, owner, app.id, id, (d) => d.attempts.length >= 1)).attempts[0] as Attempt;

  it(`delivers ${BURST} login emails as MIME messages with Postern's headers`, {
    timeout: 120_000,
  }, async () => {
    await save({ senderName: "Acme Login" });
    const before = fakes.mailgun.messages.length;
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => login(`burst-${batch * 25 + i}@example.com`)),
      );
    }
    await fakes.mailgun.waitForMessages(before + BURST, 90_000);
    const sent = await waitFor(
      async () => {
        const [row] = await queryRows<{ n: number }>(
          t.postern.ctx.db,
          sql`select count(*)::int as n from deliveries where status = 'sent' and recipient like 'burst-%'`,
        );
        return row!.n >= BURST ? row!.n : undefined;
      },
      30_000,
      "every burst delivery sent",
    );
    expect(sent).toBe(BURST);
    const burst = fakes.mailgun.messages.slice(before);
    expect(new Set(burst.map((m) => m.to[0])).size).toBe(BURST);
    const message = burst[0]!;
    expect(message).toMatchObject({
      domain: MAILGUN_DOMAIN,
      apiKey: MAILGUN_API_KEY,
      form: "mime",
      from: { name: "Acme Login", address: MAILGUN_SENDER },
    });
    expect(message.text).toMatch(/login code is \d{6}/);
    expect(message.headers.get("auto-submitted")).toBe("auto-generated");
    expect(String(message.headers.get("message-id"))).toMatch(/@mg\.acme\.example>$/);

    const d = await deliveryWhen(
      t,
      owner,
      app.id,
      await login("one-more@example.com"),
      (v) => v.status === "sent",
    );
    expect(d).toMatchObject({ route: "custom", sender: `Acme Login <${MAILGUN_SENDER}>` });
    expect(d.attempts[0]!.smtpReply).toMatch(
      /^200 Queued\. Thank you\. \(id <\d{14}\.\w{8}@mg\.acme\.example>\)$/,
    );
    expect(d.attempts[0]!.message).toMatch(
      /Accepted by Mailgun for mg\.acme\.example: queued, not yet delivered/,
    );
  });

  it.each([
    {
      what: "a wrong API key",
      overrides: { apiKey: "key-wrong-0123456789abcdef" },
      reply: /^401 Forbidden$/,
      message: /Mailgun refused the API key/,
      hint: /API Security.*EU region is refused the same way/,
    },
    {
      what: "a domain of the other region",
      overrides: { domain: "mg.eu-acme.example", senderEmail: "login@mg.eu-acme.example" },
      reply: /^401 Forbidden$/,
      message: /Mailgun refused the API key/,
      hint: /choose that region/,
    },
    {
      what: "a domain the account does not have",
      overrides: { domain: "mg.other.example" },
      reply: /^404 Domain not found: mg\.other\.example$/,
      message: /knows no domain mg\.other\.example for this API key in the US region/,
      hint: /exactly as Mailgun → Send → Sending → Domains lists it/,
    },
    {
      what: "a domain that is not verified",
      overrides: { domain: "new.acme.example" },
      reply: /^403 Domain new\.acme\.example is not allowed to send: domain is not verified$/,
      message: /does not let this key send for new\.acme\.example/,
      hint: /DNS records: SPF, DKIM, MX/,
    },
    {
      what: "a sandbox domain and a recipient it has not authorized",
      overrides: { domain: "sandbox0a1b2c.mailgun.org" },
      reply: /^403 .*Free accounts are for test purposes only/,
      message: /sandbox domain, which sends only to authorized recipients/,
      hint: /Authorized Recipients \(at most 5\)/,
    },
  ])("holds the email for $what, with the fix in the delivery log", async (c) => {
    await endEarlierEmails(t, app.id);
    await save(c.overrides);
    const attempt = await firstAttempt(await login(`held-${c.what.replace(/\W/g, "-")}@example.com`));
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "auth" });
    expect(attempt.smtpReply).toMatch(c.reply);
    expect(attempt.message).toMatch(c.message);
    expect(attempt.hint).toMatch(c.hint);
    const state = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner });
    expect(state.body.provider).toMatchObject({ health: { status: "failing" } });
  });

  it("fails the email at once when Mailgun refuses the payload (400)", async () => {
    await save();
    fakes.mailgun.failNext(1, mailgunErrors.badRequest, "refused@example.com");
    const d = await deliveryWhen(
      t,
      owner,
      app.id,
      await login("refused@example.com"),
      (v) => v.status === "failed",
    );
    const attempt = d.attempts[0] as Attempt;
    expect(attempt).toMatchObject({ outcome: "failed", errorClass: "permanent" });
    expect(attempt.smtpReply).toMatch(/^400 'from' parameter is not a valid address/);
    expect(attempt.hint).toMatch(/every email like it/);
  });

  it("honours a 429's Retry-After, pausing the key and domain's lane, then delivers", async () => {
    await save();
    fakes.mailgun.failNext(1, { ...mailgunErrors.rateLimited, retryAfter: 2 }, "limited@example.com");
    const started = Date.now();
    const id = await login("limited@example.com");
    const attempt = await firstAttempt(id);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(attempt.smtpReply).toBe("429 Too many requests");
    expect(attempt.message).toMatch(/pauses it for 2 s, as Retry-After asks/);
    const lanes = await queryRows<{ sender: string; paused_until: Date | null }>(
      t.postern.ctx.db,
      sql`select sender, paused_until from sender_limits where sender like 'mailgun:us:mg.acme.example:%'`,
    );
    expect(lanes).toHaveLength(1);
    expect(lanes[0]!.paused_until).toBeTruthy();
    expect(lanes[0]!.sender).not.toContain(MAILGUN_API_KEY);
    expect(lanes[0]!.sender).toMatch(/^mailgun:us:mg\.acme\.example:[0-9a-f]{16}$/);
    const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
  });

  it("retries through a Mailgun outage (5xx) and delivers when it is over", async () => {
    await save();
    fakes.mailgun.setFailure(mailgunErrors.unavailable);
    const id = await login("outage@example.com");
    const attempt = await firstAttempt(id);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "network" });
    expect(attempt.smtpReply).toBe("503 Service Unavailable");
    expect(attempt.message).toMatch(/Mailgun is unavailable just now/);
    fakes.mailgun.setFailure(null);
    const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent");
    expect(d.attempts.at(-1)!.outcome).toBe("sent");
  });
});
