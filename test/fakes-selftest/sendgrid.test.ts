// The SendGrid fake, driven by SendGrid's own client (@sendgrid/mail and @sendgrid/client 8): it must answer as
// the real API does for the client to read it — 202 with X-Message-Id, errors[] bodies, 429 with X-RateLimit-*.
import sendgridClient from "@sendgrid/client";
import sendgridMail from "@sendgrid/mail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DOMAINS_READ_SCOPE,
  MAIL_SEND_SCOPE,
  type SendgridFake,
  sendgridErrors,
  startSendgridFake,
} from "../fakes/sendgrid.ts";

const { Client } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

const KEY = "SG.selftest-key.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

describe("SendGrid fake, through @sendgrid/mail", () => {
  let fake: SendgridFake;
  const mailer = (apiKey = KEY) => {
    const client = new Client();
    client.setApiKey(apiKey);
    client.setDefaultRequest("baseUrl", `${fake.url}/`);
    const mail = new MailService();
    mail.setClient(client);
    return { mail, client };
  };
  const message = (from = "login@acme.example", to = "user@example.com") => ({
    to,
    from: { email: from, name: "Acme" },
    subject: "Your code",
    text: "123456",
    html: "<p>123456</p>",
  });
  const failure = async (run: () => Promise<unknown>) => {
    const err = (await run().then(
      () => undefined,
      (e: unknown) => e,
    )) as {
      code: number;
      response: {
        body: { errors: { field: string | null; message: string }[] };
        headers: Record<string, string>;
      };
    };
    expect(err, "the call should fail").toBeDefined();
    return err;
  };

  beforeAll(async () => {
    fake = await startSendgridFake({ requestsPerSecond: 5 });
    fake.addKey(KEY, {
      scopes: [MAIL_SEND_SCOPE, DOMAINS_READ_SCOPE],
      domains: [
        { domain: "acme.example", valid: true },
        { domain: "pending.example", valid: false },
      ],
    });
    fake.addKey("SG.no-send.scope", { scopes: ["user.profile.read"] });
  });
  afterAll(async () => fake?.close());

  it("accepts a message with 202, an empty body and X-Message-Id, and keeps what was sent", async () => {
    const [response] = await mailer().mail.send({
      ...message(),
      headers: { "Auto-Submitted": "auto-generated" },
    });
    expect(response.statusCode).toBe(202);
    expect(response.headers["x-message-id"]).toMatch(/^\w{22}$/);
    const [sent] = await fake.waitForMessages(1);
    expect(sent).toMatchObject({
      from: { email: "login@acme.example", name: "Acme" },
      to: ["user@example.com"],
      text: "123456",
      html: "<p>123456</p>",
      headers: { "Auto-Submitted": "auto-generated" },
    });
  });

  it("answers the scopes and the authenticated domains", async () => {
    const [, scopes] = await mailer().client.request({ method: "GET", url: "/v3/scopes" });
    expect(scopes).toEqual({ scopes: [MAIL_SEND_SCOPE, DOMAINS_READ_SCOPE] });
    const [, domains] = await mailer().client.request({ method: "GET", url: "/v3/whitelabel/domains" });
    expect(domains).toEqual(
      expect.arrayContaining([expect.objectContaining({ domain: "acme.example", valid: true })]),
    );
  });

  it("refuses an unknown key with 401, a key without mail.send with 403, an unverified sender with 403 on field from", async () => {
    const bad = await failure(() => mailer("SG.unknown.key").mail.send(message()));
    expect(bad.code).toBe(401);
    expect(bad.response.body.errors[0]!.message).toMatch(/authorization grant is invalid/);
    const scope = await failure(() => mailer("SG.no-send.scope").mail.send(message()));
    expect(scope.code).toBe(403);
    expect(scope.response.body.errors[0]!.message).toBe("access forbidden");
    const sender = await failure(() => mailer().mail.send(message("login@pending.example")));
    expect(sender.code).toBe(403);
    expect(sender.response.body.errors[0]!.field).toBe("from");
  });

  it("refuses a bad recipient with 400 naming the field", async () => {
    const err = await failure(() =>
      mailer().client.request({
        method: "POST",
        url: "/v3/mail/send",
        body: {
          personalizations: [{ to: [{ email: "not an address" }] }],
          from: { email: "login@acme.example" },
          subject: "s",
          content: [{ type: "text/plain", value: "x" }],
        },
      }),
    );
    expect(err.code).toBe(400);
    expect(err.response.body.errors[0]!.field).toBe("personalizations.0.to.0.email");
  });

  it("answers 429 with X-RateLimit-Reset (a Unix time) past its requests per second", async () => {
    const { mail } = mailer();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => mail.send(message())));
    const refused = results
      .filter((r) => r.status === "rejected")
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    const err = refused[0] as { code: number; response: { headers: Record<string, string> } };
    expect(err.code).toBe(429);
    const reset = Number(err.response.headers["x-ratelimit-reset"]);
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    expect(reset).toBeLessThan(Date.now() / 1000 + 5);
  });

  it("plays scripted failures and outages on mail/send only", async () => {
    fake.startOutage(sendgridErrors.serviceUnavailable());
    expect((await failure(() => mailer().mail.send(message()))).code).toBe(503);
    const [, scopes] = await mailer().client.request({ method: "GET", url: "/v3/scopes" });
    expect(scopes).toBeDefined();
    fake.endOutage();
    fake.setRequestsPerSecond(5); // an empty window: the earlier case's burst is not this one's
    fake.failNext(1, sendgridErrors.tooLarge());
    expect((await failure(() => mailer().mail.send(message()))).code).toBe(413);
    const [response] = await mailer().mail.send(message());
    expect(response.statusCode).toBe(202);
  });
});
