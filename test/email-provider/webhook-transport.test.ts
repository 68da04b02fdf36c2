// The webhook transport on its own, against the receiver fake: what it POSTs and signs, the pinned and
// re-checked connection (DNS rebinding), how every kind of answer is classified, and the rollover of a
// rotated secret. Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEndpoint, endpointOf } from "../../src/email-provider/kinds/webhook/endpoint.ts";
import { webhookHint } from "../../src/email-provider/kinds/webhook/replies.ts";
import {
  changeSigning,
  createSigningSecret,
  ROLLOVER_HOURS,
  signingSecrets,
} from "../../src/email-provider/kinds/webhook/signing-secrets.ts";
import { webhookTransport } from "../../src/email-provider/kinds/webhook/transport.ts";
import type { OutgoingEmail } from "../../src/mail/sender.ts";
import { deliveryErrorOf } from "../../src/mail/transport.ts";
import type { HostResolver, OutboundPolicy } from "../../src/security/outbound-guard.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.ts";

const LOCAL: OutboundPolicy = { allowlist: ["localhost", "127.0.0.1/32", "::1/128"] };
const NONE: OutboundPolicy = { allowlist: [] };
/** A public address, only ever checked (the port or a later answer refuses it before any connection). */
const PUBLIC = "93.184.215.14";
const secret = createSigningSecret();
const first = changeSigning(undefined, false, new Date());
const signing = first.state;

const email = (id: string): OutgoingEmail => ({
  from: { name: "Acme Login", address: "login@acme.example" },
  to: "user@example.com",
  subject: "Your Acme login code: 123456",
  text: "Your login code is 123456",
  html: "<p>Your login code is <b>123456</b></p>",
  messageId: `<${id}@acme.example>`,
  replyTo: "help@acme.example",
  language: "en",
});

describe("the webhook transport", () => {
  let receiver: WebhookReceiver;
  const transport = (
    url: string,
    options: { policy?: OutboundPolicy; resolve?: HostResolver; timeoutMs?: number } = {},
  ) =>
    webhookTransport(
      { url, signing, secrets: { [signing.current]: secret }, appId: "app_1" },
      {
        policy: options.policy ?? LOCAL,
        now: () => new Date(),
        timeoutMs: options.timeoutMs ?? 2000,
        explain: webhookHint,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      },
    );
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return deliveryErrorOf(err);
    }
    throw new Error("expected a failure");
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [secret] });
  });
  afterAll(() => receiver.close());

  it("POSTs the composed email, signed, with the delivery id as webhook-id and nothing secret", async () => {
    const t = transport(receiver.url);
    const result = await t.send(email("dlv_abc"));
    await t.close();
    expect(result).toMatchObject({ messageId: "<dlv_abc@acme.example>", smtpReply: "200 OK" });
    const [delivery] = await receiver.waitForDeliveries(1);
    expect(delivery!.webhookId).toBe("dlv_abc");
    expect(delivery!.payload).toEqual({
      type: "login_email",
      appId: "app_1",
      deliveryId: "dlv_abc",
      messageId: "<dlv_abc@acme.example>",
      to: "user@example.com",
      from: { name: "Acme Login", address: "login@acme.example" },
      replyTo: "help@acme.example",
      language: "en",
      subject: "Your Acme login code: 123456",
      text: "Your login code is 123456",
      html: "<p>Your login code is <b>123456</b></p>",
    });
    expect(delivery!.headers["content-type"]).toBe("application/json");
    expect(delivery!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const everything = JSON.stringify(receiver.requests);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice("whsec_".length));
  });

  it("connects to the address it checked, with the URL's host as the TLS name", async () => {
    // login.test.local is in no DNS: only the pinned lookup can reach the receiver under that name, and
    // the certificate (which names it) is checked against it.
    const resolve: HostResolver = async (host) =>
      host === "login.test.local" ? [{ address: "127.0.0.1", family: 4 }] : [];
    const t = transport(`https://login.test.local:${receiver.port}/hook`, { resolve });
    await t.send(email("dlv_pinned"));
    await t.close();
    expect(receiver.deliveries.at(-1)!.headers.host).toBe(`login.test.local:${receiver.port}`);
  });

  it("refuses a host that resolves to a private address when it sends, even after a public answer at save time (DNS rebinding)", async () => {
    // Nothing ever connects to the public answer: it is only checked, as a save's validation does.
    let answer = PUBLIC;
    const resolve: HostResolver = async () => [{ address: answer, family: 4 }];
    const saved = await checkEndpoint(endpointOf("https://hooks.example.com/hook"), NONE, resolve);
    expect(saved.address).toBe(PUBLIC);
    const t = transport("https://hooks.example.com/hook", { policy: NONE, resolve });
    answer = "127.0.0.1";
    const before = receiver.requests.length;
    const error = await failure(t.send(email("dlv_rebind")));
    await t.close();
    expect(error.classified).toMatchObject({ errorClass: "blocked", blame: "provider", configProblem: true });
    expect(error.classified.message).toContain("private or internal address");
    expect(error.classified.message).not.toContain("127.0.0.1");
    expect(receiver.requests.length).toBe(before);
  });

  it("refuses loopback and private literals and other ports unless allowlisted", async () => {
    for (const url of [
      `https://127.0.0.1:${receiver.port}/hook`,
      "https://10.0.0.8/hook",
      "https://[::1]/hook",
      "https://169.254.169.254/latest",
    ]) {
      const t = transport(url, { policy: NONE });
      const error = await failure(t.send(email("dlv_private")));
      await t.close();
      expect(error.classified.errorClass, url).toBe("blocked");
    }
    const resolve: HostResolver = async () => [{ address: PUBLIC, family: 4 }];
    const t = transport("https://hooks.example.com:8443/hook", { policy: NONE, resolve });
    const error = await failure(t.send(email("dlv_port")));
    expect(error.classified.message).toMatch(/^Port 8443 is not open to webhooks/);
  });

  it("classifies every kind of answer, with Retry-After, and follows no redirect", async () => {
    const t = transport(receiver.url);
    const cases: [number, Record<string, string>, string, string, boolean][] = [
      [422, {}, "permanent", "recipient", false],
      [400, {}, "permanent", "recipient", false],
      [401, {}, "auth", "provider", false],
      [403, {}, "auth", "provider", false],
      [404, {}, "blocked", "provider", false],
      [405, {}, "blocked", "provider", false],
      [410, {}, "blocked", "provider", false],
      [302, { location: "https://elsewhere.example/hook" }, "blocked", "provider", false],
      [408, {}, "transient", "transient", true],
      [429, { "retry-after": "30" }, "transient", "transient", true],
      [500, {}, "network", "provider", true],
      [503, { "retry-after": "12" }, "network", "provider", true],
    ];
    for (const [status, headers, errorClass, blame, retryable] of cases) {
      receiver.replies.push({ status, headers, body: "Your login code is 123456 (echoed)" });
      const before = receiver.requests.length;
      const error = await failure(t.send(email(`dlv_${status}`)));
      expect(error.classified, String(status)).toMatchObject({
        errorClass,
        blame,
        retryable,
        responseCode: status,
      });
      expect(error.classified.smtpReply).toMatch(new RegExp(`^${status} `));
      // The response body is never kept: an echoing endpoint would copy the code into the delivery log.
      expect(JSON.stringify(error.classified)).not.toContain("123456");
      expect(receiver.requests.length - before).toBe(1);
      if (headers["retry-after"]) expect(error.retryAfterSeconds).toBe(Number(headers["retry-after"]));
      expect(webhookHint(error.classified, "send"), String(status)).toBeTruthy();
    }
    receiver.replies.push({ status: 302, headers: { location: "https://elsewhere.example/hook" } });
    expect((await failure(t.send(email("dlv_redirect")))).classified.message).toContain(
      'a redirect to "https://elsewhere.example/hook": Postern does not follow redirects',
    );
    await t.close();
  });

  it("gives up on a stalled endpoint at the timeout, and reads only the start of a huge answer", async () => {
    const t = transport(receiver.url, { timeoutMs: 300 });
    receiver.replies.push({ status: 200, delayMs: 2000 });
    const started = Date.now();
    const stalled = await failure(t.send(email("dlv_stall")));
    expect(stalled.classified).toMatchObject({ errorClass: "timeout", blame: "provider", retryable: true });
    expect(stalled.classified.cause).toEqual({ host: "localhost", port: receiver.port, reason: "timeout" });
    expect(Date.now() - started).toBeLessThan(1500);
    receiver.replies.push({ status: 500, body: "x".repeat(1_000_000) });
    expect((await failure(t.send(email("dlv_huge")))).classified.errorClass).toBe("network");
    await t.close();
  });

  it("refuses a plain-HTTP server and an untrusted certificate as TLS failures", async () => {
    const plain = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => plain.listen(0, "localhost", resolve));
    const port = (plain.address() as { port: number }).port;
    const t = transport(`https://localhost:${port}/hook`);
    expect((await failure(t.send(email("dlv_plain")))).classified).toMatchObject({ errorClass: "tls" });
    await t.close();
    plain.close();
    const untrusted = await startWebhookReceiver({ secrets: [secret], cert: "untrusted" });
    const u = transport(untrusted.url);
    const error = await failure(u.send(email("dlv_untrusted")));
    expect(error.classified.message).toMatch(/certificate of localhost:\d+ is not trusted/);
    expect(untrusted.requests).toHaveLength(0);
    await u.close();
    await untrusted.close();
  });

  it("tests with a signed ping, and sends the test email only when asked", async () => {
    const t = transport(receiver.url);
    const steps = await t.probe({});
    expect(steps.map((s) => [s.name, s.outcome])).toEqual([
      ["resolve", "ok"],
      ["connect", "ok"],
      ["tls", "ok"],
      ["authenticate", "ok"],
      ["send", "skipped"],
    ]);
    expect(receiver.pings).toBeGreaterThan(0);
    const withEmail = await t.probe({ email: email("test_1") });
    expect(withEmail.at(-1)).toMatchObject({ name: "send", outcome: "ok", smtpReply: "200 OK" });
    expect(receiver.deliveries.at(-1)!.payload).toMatchObject({
      type: "login_email",
      test: true,
      deliveryId: "test_1",
    });
    receiver.secrets = [createSigningSecret()];
    const refused = await t.probe({});
    expect(refused.find((s) => s.name === "authenticate")).toMatchObject({
      outcome: "failed",
      errorClass: "auth",
      smtpReply: "401 Unauthorized",
    });
    receiver.secrets = [secret];
    receiver.replies.push({ status: 400 });
    const unknownPing = await t.probe({});
    expect(unknownPing.find((s) => s.name === "authenticate")).toMatchObject({ outcome: "ok" });
    await t.close();
  });
});

describe("the signing secrets", () => {
  it("are Standard Webhooks secrets: whsec_ and 32 random bytes in base64", () => {
    const created = createSigningSecret();
    expect(created).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.slice(6), "base64")).toHaveLength(32);
    expect(() => new Webhook(created)).not.toThrow();
  });

  it(`sign with both secrets for ${ROLLOVER_HOURS} hours after a rotation, then with the new one only`, () => {
    const t0 = new Date("2030-01-01T00:00:00Z");
    const created = changeSigning(undefined, false, t0);
    const old = created.created!;
    const rotated = changeSigning(created.state, true, t0);
    expect(rotated.created!.slot).not.toBe(old.slot);
    expect(rotated.discarded).toEqual([]);
    const secrets = { [old.slot]: old.secret, [rotated.created!.slot]: rotated.created!.secret };
    const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
    expect(signingSecrets(rotated.state, secrets, at(23.9))).toEqual([rotated.created!.secret, old.secret]);
    expect(signingSecrets(rotated.state, secrets, at(24))).toEqual([rotated.created!.secret]);
    // A save after the rollover drops the old secret from storage.
    const later = changeSigning(rotated.state, false, at(25));
    expect(later.discarded).toEqual([old.slot]);
    expect(later.state.previousValidUntil).toBeNull();
    expect(later.created).toBeUndefined();
  });
});
