// The webhook receiver fake against requests signed by the Standard Webhooks reference library itself
// (`Webhook.sign`), so Postern's deliveries are judged by a receiver that is right. Run with
// NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.ts";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const other = `whsec_${randomBytes(32).toString("base64")}`;

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: await res.text() };
}

function signed(key: string, id: string, body: string, at = new Date()) {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(key).sign(id, at, body),
  };
}

describe("the webhook receiver fake", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [secret] });
  });
  afterAll(() => receiver.close());

  it("accepts a delivery signed by the library, once per webhook-id", async () => {
    const body = JSON.stringify({ type: "login_email", to: "a@example.com", subject: "Hi" });
    expect((await post(receiver.url, body, signed(secret, "dlv_1", body))).status).toBe(200);
    expect((await post(receiver.url, body, signed(secret, "dlv_1", body))).status).toBe(200);
    expect(receiver.deliveries.map((d) => d.webhookId)).toEqual(["dlv_1"]);
    expect(receiver.duplicates).toEqual(["dlv_1"]);
    expect(receiver.deliveries[0]!.payload).toMatchObject({ to: "a@example.com" });
  });

  it("refuses a wrong secret, a tampered body, an old timestamp and missing headers, as the library does", async () => {
    const body = JSON.stringify({ type: "login_email", to: "b@example.com" });
    const cases: [Record<string, string>, string, RegExp][] = [
      [signed(other, "dlv_2", body), body, /No matching signature found/],
      [signed(secret, "dlv_3", body), body.replace("b@", "c@"), /No matching signature found/],
      [signed(secret, "dlv_4", body, new Date(Date.now() - 10 * 60_000)), body, /too old/],
      [signed(secret, "dlv_5", body, new Date(Date.now() + 10 * 60_000)), body, /too new/],
      [{ "webhook-id": "dlv_6" }, body, /Missing required headers/],
    ];
    for (const [headers, sent, refusal] of cases) {
      const res = await post(receiver.url, sent, headers);
      expect(res.status).toBe(401);
      expect(receiver.requests.at(-1)!.refusal).toMatch(refusal);
    }
    expect(receiver.deliveries.map((d) => d.webhookId)).not.toContain("dlv_3");
  });

  it("accepts two space-separated signatures when either secret is the one it knows (rotation)", async () => {
    const body = JSON.stringify({ type: "login_email", to: "d@example.com" });
    const at = new Date();
    const both = {
      ...signed(secret, "dlv_7", body, at),
      "webhook-signature": `${new Webhook(other).sign("dlv_7", at, body)} ${new Webhook(secret).sign("dlv_7", at, body)}`,
    };
    expect((await post(receiver.url, body, both)).status).toBe(200);
  });

  it("answers pings, 404 elsewhere, 405 for GET, and scripted replies before anything else", async () => {
    const ping = JSON.stringify({ type: "ping" });
    expect((await post(receiver.url, ping, signed(secret, "ping_1", ping))).status).toBe(200);
    expect(receiver.pings).toBe(1);
    expect((await post(receiver.url.replace("/hook", "/nope"), ping, {})).status).toBe(404);
    expect((await fetch(receiver.url)).status).toBe(405);
    receiver.replies.push({ status: 429, headers: { "retry-after": "7" } });
    const res = await fetch(receiver.url, { method: "POST", body: "{}" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
  });
});
