// The Mailgun fake answers as Mailgun does to its own SDK (mailgun.js): both send forms, domains, errors.
import Mailgun from "mailgun.js";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MailgunFake, mailgunErrors, startMailgunFake } from "../fakes/mailgun.ts";

const API_KEY = "key-fake0123456789abcdef0123456789ab";
const SENDING_KEY = "fake0123456789abcdef0123456789ab-sending";

async function rawMessage(from: string, to: string) {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const info = await composer.sendMail({
    from: { name: "Acme Login", address: from },
    to,
    subject: "Your code",
    text: "Your login code is 123456",
    headers: { "Auto-Submitted": "auto-generated", "Content-Language": "en" },
  });
  return (info.message as Buffer).toString("utf8");
}

async function apiError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return err as { status: number; details: string; message: string };
  }
  throw new Error("expected a failure");
}

describe("the Mailgun fake, through mailgun.js", () => {
  let fake: MailgunFake;
  const client = (key = API_KEY) => new Mailgun(FormData).client({ username: "api", key, url: fake.url });

  beforeAll(async () => {
    fake = await startMailgunFake({
      accounts: [
        {
          apiKey: API_KEY,
          domains: [
            { name: "mg.acme.example" },
            { name: "mg.eu-acme.example", region: "eu" },
            { name: "new.acme.example", state: "unverified" },
            { name: "sandbox123.mailgun.org", authorizedRecipients: ["dev@acme.example"] },
          ],
          sendingKeys: { "mg.acme.example": SENDING_KEY },
        },
      ],
    });
  });
  afterAll(async () => fake?.close());

  it("queues a MIME message with every header as composed", async () => {
    const sent = await client().messages.create("mg.acme.example", {
      to: "user@example.com",
      message: await rawMessage("login@acme.example", "user@example.com"),
    });
    expect(sent).toMatchObject({ status: 200, message: "Queued. Thank you." });
    expect(sent.id).toMatch(/^<\d{14}\.\w{8}@mg\.acme\.example>$/);
    const message = fake.messages.at(-1)!;
    expect(message).toMatchObject({ form: "mime", to: ["user@example.com"], subject: "Your code" });
    expect(message.from).toEqual({ name: "Acme Login", address: "login@acme.example" });
    expect(message.headers.get("auto-submitted")).toBe("auto-generated");
    expect(message.headers.get("content-language")).toBe("en");
  });

  it("queues the fields form too, and lets a domain sending key send", async () => {
    const sent = await client(SENDING_KEY).messages.create("mg.acme.example", {
      from: "login@acme.example",
      to: ["user@example.com"],
      subject: "Fields",
      text: "Hello",
    });
    expect(sent.status).toBe(200);
    expect(fake.messages.at(-1)).toMatchObject({ form: "fields", subject: "Fields", text: "Hello" });
  });

  it("answers a wrong key, and a domain of the other region, with a plain-text 401 Forbidden", async () => {
    const wrong = await apiError(client("key-wrong").domains.get("mg.acme.example"));
    expect(wrong).toMatchObject({ status: 401, details: "Forbidden" });
    const eu = await apiError(
      client().messages.create("mg.eu-acme.example", { to: "u@example.com", message: "x" }),
    );
    expect(eu).toMatchObject({ status: 401, details: "Forbidden" });
  });

  it("shows a domain's state, and knows no domain of another account", async () => {
    const domain = await client().domains.get("mg.acme.example");
    expect(domain).toMatchObject({ name: "mg.acme.example", state: "active", type: "custom" });
    const unknown = await apiError(client().domains.get("other.example"));
    expect(unknown).toMatchObject({ status: 404, details: "Domain not found: other.example" });
    const unverified = await client().domains.get("new.acme.example");
    expect(unverified.state).toBe("unverified");
  });

  it("refuses unverified domains, sandbox strangers and missing fields", async () => {
    const raw = await rawMessage("login@acme.example", "stranger@example.com");
    const unverified = await apiError(
      client().messages.create("new.acme.example", { to: "stranger@example.com", message: raw }),
    );
    expect(unverified.status).toBe(403);
    const sandbox = await apiError(
      client().messages.create("sandbox123.mailgun.org", { to: "stranger@example.com", message: raw }),
    );
    expect(sandbox.status).toBe(403);
    expect(sandbox.details).toMatch(/Free accounts are for test purposes only/);
    const allowed = await client().messages.create("sandbox123.mailgun.org", {
      to: "dev@acme.example",
      message: raw,
    });
    expect(allowed.status).toBe(200);
    fake.failNext(1, mailgunErrors.badRequest);
    const refused = await apiError(
      client().messages.create("mg.acme.example", { to: "u@example.com", message: raw }),
    );
    expect(refused).toMatchObject({ status: 400 });
    expect(refused.details).toMatch(/not a valid address/);
  });

  it("rate-limits with 429 and answers outages with 5xx", async () => {
    fake.failNext(1, mailgunErrors.rateLimited);
    const limited = await apiError(client().domains.get("mg.acme.example"));
    expect(limited).toMatchObject({ status: 429, details: "Too many requests" });
    fake.failNext(1, mailgunErrors.unavailable);
    const down = await apiError(client().domains.get("mg.acme.example"));
    expect(down).toMatchObject({ status: 503, details: "Service Unavailable" });
  });
});
