// The Postmark fake, driven by Postmark's own client (postmark 5's ServerClient): it must answer as the real API
// does for the client to read it — ErrorCode bodies by HTTP status, GET /server, message streams.
import { ServerClient } from "postmark";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostmarkFake, postmarkErrors, startPostmarkFake } from "../fakes/postmark.ts";

const TOKEN = "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f";
const PENDING = "11111111-2222-4333-8444-555555555555";

describe("Postmark fake, through postmark's ServerClient", () => {
  let fake: PostmarkFake;
  const client = (token = TOKEN) =>
    new ServerClient(token, { useHttps: true, requestHost: `localhost:${fake.port}`, timeout: 10 });
  const email = (from = "Acme <login@acme.example>", to = "user@example.com") => ({
    From: from,
    To: to,
    Subject: "Your code",
    TextBody: "123456",
    MessageStream: "outbound",
  });
  const failure = async (run: () => Promise<unknown>) =>
    (await run().then(
      () => {
        throw new Error("the call should fail");
      },
      (e: unknown) => e,
    )) as { code: number; statusCode: number; message: string; name: string };

  beforeAll(async () => {
    fake = await startPostmarkFake();
    fake.addServer(TOKEN, {
      name: "Acme login",
      domains: ["acme.example"],
      signatures: [{ address: "new@other.example", confirmed: false }],
      streams: [
        { id: "outbound", type: "Transactional" },
        { id: "news", type: "Broadcasts" },
      ],
      inactive: ["bounced@example.com"],
    });
    fake.addServer(PENDING, { domains: ["acme.example"], pendingApproval: true });
  });
  afterAll(async () => fake?.close());

  it("sends, answering MessageID and ErrorCode 0, and keeps what was sent", async () => {
    const sent = await client().sendEmail({
      ...email(),
      Headers: [{ Name: "Auto-Submitted", Value: "auto-generated" }],
    });
    expect(sent).toMatchObject({ ErrorCode: 0, Message: "OK", To: "user@example.com" });
    expect(sent.MessageID).toMatch(/^[0-9a-f-]{36}$/);
    const [message] = await fake.waitForMessages(1);
    expect(message).toMatchObject({
      from: { name: "Acme", address: "login@acme.example" },
      messageStream: "outbound",
      headers: [{ Name: "Auto-Submitted", Value: "auto-generated" }],
      delivered: true,
    });
  });

  it("answers GET /server and the message streams", async () => {
    expect(await client().getServer()).toMatchObject({ Name: "Acme login", DeliveryType: "Live" });
    expect(await client().getMessageStream("news")).toMatchObject({ MessageStreamType: "Broadcasts" });
    const missing = await failure(() => client().getMessageStream("nope"));
    expect(missing).toMatchObject({ statusCode: 422, code: 1226 });
  });

  it("refuses a bad token with 401 and ErrorCode 10 (InvalidAPIKeyError)", async () => {
    const err = await failure(() => client("99999999-2222-4333-8444-555555555555").sendEmail(email()));
    expect(err).toMatchObject({ statusCode: 401, code: 10, name: "InvalidAPIKeyError" });
  });

  it.each([
    ["a sender that is no signature", email("Someone <x@unknown.example>"), 400],
    ["an unconfirmed signature", email("new@other.example"), 401],
    ["an inactive recipient", email(undefined, "bounced@example.com"), 406],
    ["a bad recipient", email(undefined, "not an address"), 300],
    ["an unknown stream", { ...email(), MessageStream: "missing" }, 1235],
  ])("refuses %s with 422 and its ErrorCode", async (_what, message, code) => {
    const err = await failure(() => client().sendEmail(message));
    expect(err).toMatchObject({ statusCode: 422, code });
  });

  it("lets an account pending approval send only within the sender's domain (412)", async () => {
    await client(PENDING).sendEmail(email(undefined, "colleague@acme.example"));
    const err = await failure(() => client(PENDING).sendEmail(email()));
    expect(err).toMatchObject({ statusCode: 422, code: 412 });
  });

  it("answers 429 (RateLimitExceededError) past its rate, and plays outages", async () => {
    fake.setRequestsPerSecond(4);
    const results = await Promise.allSettled(Array.from({ length: 7 }, () => client().sendEmail(email())));
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      statusCode: 429,
      name: "RateLimitExceededError",
    });
    fake.startOutage(postmarkErrors.serviceUnavailable());
    expect(await failure(() => client().sendEmail(email()))).toMatchObject({ statusCode: 503 });
    fake.endOutage();
    fake.setRequestsPerSecond(1000);
  });
});
