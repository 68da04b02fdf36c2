// Login emails through the signed webhook, end to end: the API, the queue, the worker and a receiver that
// verifies every request with the Standard Webhooks reference library. 200 emails, replay and tampering,
// and each kind of failure as the delivery log shows it, with its fix.
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { ALLOWLIST, type DeliveryView, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

const BURST = 200;

type Attempt = DeliveryView["attempts"][number] & { at: string; hint?: string | null };
type Delivery = DeliveryView & { id: string; attempts: Attempt[] };

describe.each(backends)("login emails through the signed webhook (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  const receivers: WebhookReceiver[] = [];

  /** A receiver of its own and an app of its own, so one test's failing provider touches no other. */
  const setUp = async (name: string, path = "/hook") => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    app = await t.createApp(owner, { name });
    const url = `https://localhost:${receiver.port}${path}`;
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: { type: "webhook", senderEmail: "login@acme.example", senderName: name, url },
    });
    expect(res.status, res.text).toBe(200);
    const secret = (res.body.provider as { revealedOnce: { signingSecret: string } }).revealedOnce
      .signingSecret;
    receiver.secrets = [secret];
    return { receiver, secret, url };
  };
  const delivery = (id: string, done: (d: Delivery) => boolean) =>
    deliveryWhen(t, owner, app.id, id, (d) => done(d as Delivery)) as Promise<Delivery>;
  const health = async () =>
    (
      (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
        .body as unknown as ProviderState
    ).provider!.health as { status: string; cause: string | null; reason: string | null };

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_WEBHOOK_TIMEOUT_SECONDS: "3",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    owner = await t.signIn("owner@example.com");
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    for (const receiver of receivers) await receiver.close();
  });

  it(`delivers ${BURST} login emails, each verified by the reference library and accepted once`, {
    timeout: 240_000,
  }, async () => {
    const { receiver, secret } = await setUp("Burst");
    const started = Date.now();
    const ids: string[] = [];
    for (let batch = 0; batch < BURST / 25; batch++) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            sendLogin(t, app.publishableKey, `burst-${batch * 25 + i}@example.com`),
          ),
        )),
      );
    }
    const received = await receiver.waitForDeliveries(BURST, 200_000);
    const seconds = (Date.now() - started) / 1000;
    expect(receiver.requests.every((r) => r.status === 200)).toBe(true);
    expect(received.map((d) => d.webhookId).toSorted()).toEqual(ids.toSorted());
    for (const d of received) {
      expect(new Webhook(secret).verify(d.rawBody, d.headers)).toMatchObject({
        type: "login_email",
        appId: app.id,
        deliveryId: d.webhookId,
        from: { name: "Burst", address: "login@acme.example" },
      });
      expect(d.payload.text).toMatch(/\d{6}/);
    }
    const rows = await waitFor(
      async () => {
        const all = await t.postern.ctx.db.select().from(deliveries).where(eq(deliveries.appId, app.id));
        return all.every((r) => r.status === "sent") ? all : undefined;
      },
      30_000,
      "every delivery marked sent",
    );
    expect(rows).toHaveLength(BURST);
    expect(rows.every((r) => r.attempts.at(-1)!.smtpReply === "200 OK")).toBe(true);
    // At least once: a request whose answer came after the timeout is sent again with the same
    // webhook-id, and the receiver's dedupe answers it without accepting it twice.
    const retried = rows.filter((r) => r.attempts.length > 1);
    for (const id of receiver.duplicates) expect(retried.map((r) => r.id)).toContain(id);
    console.info(
      `webhook burst (${backend}): ${BURST} emails in ${seconds.toFixed(1)} s, ${retried.length} retried, ${receiver.duplicates.length} duplicates deduplicated`,
    );
  });

  it("a replayed delivery is answered once (webhook-id), a stale one and a tampered one are refused by the library", async () => {
    const { receiver, secret, url } = await setUp("Replay");
    const id = await sendLogin(t, app.publishableKey, "replay@example.com");
    await delivery(id, (d) => d.status === "sent");
    const [original] = await receiver.waitForDeliveries(1);
    const signature = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;
    const resend = (body: string) =>
      fetch(url, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          ...Object.fromEntries(signature.map((name) => [name, original!.headers[name]!])),
        },
      });
    // Replayed at once: the signature is still good, and the receiver's dedupe by webhook-id holds.
    expect((await resend(original!.rawBody)).status).toBe(200);
    expect(receiver.duplicates).toEqual([id]);
    expect(receiver.deliveries).toHaveLength(1);
    // Replayed later: the library refuses the old timestamp (5 minutes' tolerance).
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 6 * 60_000);
      expect(() => new Webhook(secret).verify(original!.rawBody, original!.headers)).toThrow(
        /Message timestamp too old/,
      );
    } finally {
      vi.useRealTimers();
    }
    // Tampered: another recipient in the same signed envelope.
    const tampered = original!.rawBody.replace("replay@example.com", "attacker@example.com");
    expect(tampered).not.toBe(original!.rawBody);
    expect((await resend(tampered)).status).toBe(401);
    expect(receiver.requests.at(-1)!.refusal).toBe("No matching signature found");
    expect(() => new Webhook(secret).verify(tampered, original!.headers)).toThrow(
      /No matching signature found/,
    );
  });

  it("fails an email the endpoint refuses with a 4xx at once, and the delivery log says so with the fix", async () => {
    const { receiver } = await setUp("Refused");
    receiver.replies.push({ status: 422, body: '{"error":"unknown recipient"}' });
    const id = await sendLogin(t, app.publishableKey, "refused@example.com");
    const d = await delivery(id, (x) => x.status === "failed");
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({
      outcome: "failed",
      errorClass: "permanent",
      smtpReply: "422 Unprocessable Entity",
      message: expect.stringContaining("it refused this email, so Postern does not retry it"),
      hint: expect.stringContaining("Your endpoint decided against this email"),
    });
    expect(d.lastError).toContain("422");
    // A refused email is not the provider's failure: the next one goes out.
    const next = await sendLogin(t, app.publishableKey, "accepted@example.com");
    await delivery(next, (x) => x.status === "sent");
  });

  it("retries a 5xx, a 429 after its Retry-After, a 408 and a stall past the timeout, then delivers once", {
    timeout: 40_000,
  }, async () => {
    const { receiver } = await setUp("Flaky");
    receiver.replies.push(
      { status: 503 },
      { status: 429, headers: { "retry-after": "3" } },
      { status: 408 },
      { status: 200, delayMs: 4000 },
    );
    const id = await sendLogin(t, app.publishableKey, "flaky@example.com");
    const d = await waitFor(
      async () => {
        const res = await t.request("GET", `/api/apps/${app.id}/deliveries/${id}`, { session: owner });
        const body = res.body as unknown as Delivery;
        return body.status === "sent" ? body : undefined;
      },
      35_000,
      "the flaky delivery",
    );
    expect(d.attempts.map((a) => [a.outcome, a.errorClass ?? null, a.smtpReply ?? null])).toEqual([
      ["retry", "network", "503 Service Unavailable"],
      ["retry", "transient", "429 Too Many Requests"],
      ["retry", "transient", "408 Request Timeout"],
      ["retry", "timeout", null],
      ["sent", null, "200 OK"],
    ]);
    expect(Date.parse(d.attempts[2]!.at) - Date.parse(d.attempts[1]!.at)).toBeGreaterThanOrEqual(3000 - 50);
    expect(d.attempts[3]!.hint).toMatch(/Answer quickly/);
    expect(d.attempts[0]!.hint).toMatch(/Your endpoint failed/);
    expect(d.attempts[1]!.hint).toMatch(/Retry-After/);
    // The stalled request got its answer after Postern gave up: a retry with the same webhook-id is how
    // a receiver knows it saw the email already.
    const ids = receiver.requests.map((r) => r.headers["webhook-id"]);
    expect(new Set(ids)).toEqual(new Set([id]));
    expect(receiver.deliveries).toHaveLength(1);
    expect(await health()).toMatchObject({ status: "working" });
  });

  it("holds emails while the endpoint refuses the signature (401), and sends them when a test passes again", async () => {
    const { receiver, secret } = await setUp("Wrong secret");
    receiver.secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
    const firstId = await sendLogin(t, app.publishableKey, "held1@example.com");
    const first = await delivery(firstId, (x) => x.status === "retrying");
    expect(first.attempts[0]).toMatchObject({
      errorClass: "auth",
      smtpReply: "401 Unauthorized",
      hint: expect.stringContaining("verify the webhook-signature header with the signing secret"),
    });
    expect(await health()).toMatchObject({ status: "failing", cause: "auth" });
    const requests = receiver.requests.length;
    const secondId = await sendLogin(t, app.publishableKey, "held2@example.com");
    const second = await delivery(
      secondId,
      (x) => x.status === "retrying" && /Waiting for the custom provider/.test(x.lastError ?? ""),
    );
    expect(second.attempts).toHaveLength(0);
    expect(receiver.requests.length).toBe(requests);

    receiver.secrets = [secret];
    const test = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: {},
    });
    expect(test.body.ok, test.text).toBe(true);
    for (const id of [firstId, secondId]) await delivery(id, (x) => x.status === "sent");
    expect(receiver.deliveries.map((d) => d.payload.to).toSorted()).toEqual([
      "held1@example.com",
      "held2@example.com",
    ]);
  });

  it("holds emails while the URL names no receiver (404), and a saved fix releases them", async () => {
    const { receiver } = await setUp("Wrong path", "/wrong");
    const id = await sendLogin(t, app.publishableKey, "path@example.com");
    const d = await delivery(id, (x) => x.status === "retrying");
    expect(d.attempts[0]).toMatchObject({
      errorClass: "blocked",
      smtpReply: "404 Not Found",
      hint: expect.stringContaining("Check the URL's path"),
    });
    expect(await health()).toMatchObject({ status: "failing", cause: "blocked" });
    const fixed = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: {
        type: "webhook",
        senderEmail: "login@acme.example",
        senderName: "Wrong path",
        url: receiver.url,
      },
    });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body.provider).not.toHaveProperty("revealedOnce");
    await delivery(id, (x) => x.status === "sent");
    expect(receiver.deliveries.map((x) => x.payload.to)).toEqual(["path@example.com"]);
  });
});
