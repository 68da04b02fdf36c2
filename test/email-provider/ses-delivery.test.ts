// Login emails through Amazon SES v2, end to end over real sockets: Postern's worker, the AWS SDK signing
// every request, and the SES fake verifying the signatures and answering as SES does.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { type SesScriptedError, sesErrors } from "../fakes/ses.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { ACCESS_KEY_ID, SES_REGION, SES_SENDER, type SesFakes, startSesFakes } from "../support/ses.ts";
import { type DeliveryView, deliveryWhen, endEarlierEmails, sendLogin } from "./support.ts";

const BURST = 200;

type Attempt = DeliveryView["attempts"][number] & { hint?: string | null };

describe.each(backends)("Amazon SES delivery through the fake (%s)", (backend) => {
  let fakes: SesFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    fakes = await startSesFakes();
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
    fakes.ses.setFailure(null);
    Object.assign(fakes.ses.account(ACCESS_KEY_ID), { sandbox: false, state: "active" });
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  /** Saves the provider as a new version (a new sender name): new transport, health unknown. */
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

  it(`delivers ${BURST} login emails, each signed and sent as raw MIME with Postern's headers`, {
    timeout: 120_000,
  }, async () => {
    await save({ senderName: "Acme Login", configurationSet: "logins" });
    const before = fakes.ses.messages.length;
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => login(`burst-${batch * 25 + i}@example.com`)),
      );
    }
    await fakes.ses.waitForMessages(before + BURST, 90_000);
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
    const burst = fakes.ses.messages.slice(before);
    expect(new Set(burst.map((m) => m.to[0])).size).toBe(BURST);
    expect(fakes.ses.requestLog.filter((r) => r.code === "SignatureDoesNotMatch")).toEqual([]);
    const message = burst[0]!;
    expect(message).toMatchObject({
      accessKeyId: ACCESS_KEY_ID,
      region: SES_REGION,
      fromEmailAddress: SES_SENDER,
      configurationSet: "logins",
      from: { name: "Acme Login", address: SES_SENDER },
    });
    expect(message.text).toMatch(/login code is \d{6}/);
    expect(message.headers.get("auto-submitted")).toBe("auto-generated");
    expect(String(message.headers.get("message-id"))).toMatch(/@acme\.example>$/);

    const d = await deliveryWhen(
      t,
      owner,
      app.id,
      await login("one-more@example.com"),
      (v) => v.status === "sent",
    );
    expect(d).toMatchObject({ route: "custom", sender: `Acme Login <${SES_SENDER}>` });
    expect(d.attempts[0]!.smtpReply).toMatch(/^200 OK \(MessageId 0100018f\w+-000000, request-id [\w-]+\)$/);
    expect(d.attempts[0]!.message).toMatch(/Accepted by SES in eu-west-1: not yet delivered/);
  });

  const providerFailures: {
    what: string;
    overrides?: Record<string, unknown>;
    before?: () => void;
    code: string;
    message: RegExp;
    hint: RegExp;
  }[] = [
    {
      what: "a wrong secret access key",
      overrides: { secretAccessKey: "wrong/secret+0123456789abcdefghijklmnopq" },
      code: "403 SignatureDoesNotMatch",
      message: /secret access key does not match/,
      hint: /Enter the secret access key again/,
    },
    {
      what: "an access key AWS does not know",
      overrides: { accessKeyId: "AKIAUNKNOWNKEY00001" },
      code: "403 UnrecognizedClientException",
      message: /AWS does not recognise the access key/,
      hint: /IAM console → Users/,
    },
    {
      what: "a sender whose identity is not verified",
      overrides: { senderEmail: "login@unverified.example" },
      code: "400 MessageRejected",
      message: /SES has not verified login@unverified\.example in eu-west-1/,
      hint: /Verify the address, or better its domain unverified\.example/,
    },
    {
      what: "a sandboxed account and a recipient it has not verified",
      before: () => {
        fakes.ses.account(ACCESS_KEY_ID).sandbox = true;
      },
      code: "400 MessageRejected",
      message: /Your account is in the SES sandbox in eu-west-1/,
      hint: /Request production access/,
    },
    {
      what: "a suspended account",
      before: () => {
        fakes.ses.account(ACCESS_KEY_ID).state = "suspended";
      },
      code: "400 AccountSuspendedException",
      message: /suspended sending for this AWS account/,
      hint: /Reputation metrics/,
    },
    {
      what: "sending paused",
      before: () => {
        fakes.ses.account(ACCESS_KEY_ID).state = "paused";
      },
      code: "400 SendingPausedException",
      message: /Sending is paused for this account/,
      hint: /put-account-sending-attributes/,
    },
    {
      what: "a configuration set SES does not have",
      overrides: { configurationSet: "missing-set" },
      code: "404 NotFoundException",
      message: /no configuration set missing-set/,
      hint: /Configuration sets/,
    },
  ];

  it.each(providerFailures)("holds the email for $what, with the fix in the delivery log", async (c) => {
    await endEarlierEmails(t, app.id);
    await save(c.overrides);
    c.before?.();
    const id = await login(`fails-${c.code.replace(/\W/g, "")}@example.com`);
    const attempt = await firstAttempt(id);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "auth" });
    expect(attempt.smtpReply).toMatch(new RegExp(`^${c.code}: `));
    expect(attempt.message).toMatch(c.message);
    expect(attempt.hint).toMatch(c.hint);
    const state = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner });
    expect(state.body.provider).toMatchObject({ health: { status: "failing" } });
  });

  it.each([
    ["a refused message (MessageRejected)", sesErrors.rejected, /^400 MessageRejected: Message length/],
    [
      "a malformed request (BadRequestException)",
      sesErrors.badRequest,
      /^400 BadRequestException: Illegal address/,
    ],
  ] as [string, SesScriptedError, RegExp][])(
    "fails the email at once for %s, and says so",
    async (_what, error, reply) => {
      await save();
      // Only this email's send: a held email of an earlier case may go out first through the new version.
      const recipient = `refused-${error.code.toLowerCase()}@example.com`;
      fakes.ses.failNext(1, error, recipient);
      const id = await login(recipient);
      const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "failed");
      const attempt = d.attempts[0] as Attempt;
      expect(attempt).toMatchObject({ outcome: "failed", errorClass: "permanent" });
      expect(attempt.smtpReply).toMatch(reply);
      expect(attempt.hint).toMatch(/every email like it/);
    },
  );

  it("honours Retry-After on a throttled send, pauses the account's lane, then delivers", async () => {
    await save();
    fakes.ses.failNext(1, { ...sesErrors.throttled, retryAfter: 2 }, "throttled@example.com");
    const started = Date.now();
    const id = await login("throttled@example.com");
    const attempt = await firstAttempt(id);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "transient" });
    expect(attempt.smtpReply).toMatch(/^429 TooManyRequestsException: Maximum sending rate exceeded\./);
    expect(attempt.message).toMatch(/pauses it for 2 s, as Retry-After asks/);
    expect(attempt.hint).toMatch(/POSTERN_SES_MESSAGES_PER_SECOND/);
    const [lane] = await queryRows<{ sender: string; paused_until: Date | null }>(
      t.postern.ctx.db,
      sql`select sender, paused_until from sender_limits where sender = ${`ses:${ACCESS_KEY_ID}:${SES_REGION}`}`,
    );
    expect(lane?.paused_until).toBeTruthy();
    const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
  });

  it("backs off on a throttled send without Retry-After, and on a daily quota for longer", async () => {
    await save();
    fakes.ses.failNext(1, sesErrors.throttled, "throttled-bare@example.com");
    const id = await login("throttled-bare@example.com");
    const attempt = await firstAttempt(id);
    expect(attempt.message).toMatch(/pauses it for 2 s, and retries/);
    expect((await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent")).attempts).toHaveLength(2);

    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
    fakes.ses.failNext(
      1,
      { status: 429, code: "TooManyRequestsException", message: "Daily message quota exceeded." },
      "daily@example.com",
    );
    const daily = await firstAttempt(await login("daily@example.com"));
    expect(daily.message).toMatch(/daily SES quota.*pauses it for 900 s/);
    expect(daily.hint).toMatch(/Service Quotas/);
  });

  it("retries through an SES outage (5xx) and delivers when it is over", async () => {
    await save();
    fakes.ses.setFailure(sesErrors.unavailable);
    const id = await login("outage@example.com");
    const attempt = await firstAttempt(id);
    expect(attempt).toMatchObject({ outcome: "retry", errorClass: "network" });
    expect(attempt.smtpReply).toMatch(/^503 ServiceUnavailable/);
    expect(attempt.message).toMatch(/SES is unavailable just now in eu-west-1/);
    fakes.ses.setFailure(null);
    const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent");
    expect(d.attempts.at(-1)!.outcome).toBe("sent");
  });

  it("names the endpoint when SES cannot be reached, without its address", async () => {
    const closed = await startSesFakes();
    await closed.close();
    const other = await startTestPostern(backend, { ...fakes.env, POSTERN_SES_API_URL: closed.ses.url });
    try {
      const o = await other.signIn("owner@example.com");
      const a = await other.createApp(o, { name: "Unreachable" });
      await other.unlock(o.workspaceId);
      const put = await other.request("PUT", `/api/apps/${a.id}/email-provider`, {
        session: o,
        body: fakes.providerBody(),
      });
      expect(put.status, put.text).toBe(200);
      const id = await sendLogin(other, a.publishableKey, "nowhere@example.com");
      const d = await deliveryWhen(other, o, a.id, id, (v) => v.attempts.length >= 1);
      const attempt = d.attempts[0] as Attempt;
      expect(attempt).toMatchObject({ outcome: "retry", errorClass: "network" });
      expect(attempt.message).toBe(`Could not reach Amazon SES at localhost:${closed.ses.port} (refused).`);
      expect(attempt.hint).toMatch(/outbound HTTPS \(port 443\)/);
    } finally {
      await other.close();
    }
  });
});
