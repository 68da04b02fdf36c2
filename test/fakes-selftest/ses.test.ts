// The SES fake answers as SES does to AWS's own SDK (@aws-sdk/client-sesv2): signatures, operations, errors.
import {
  GetAccountCommand,
  GetEmailIdentityCommand,
  SESv2Client,
  type SESv2ServiceException,
  SendEmailCommand,
} from "@aws-sdk/client-sesv2";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SesFake, sesErrors, startSesFake } from "../fakes/ses.ts";

const KEY = {
  accessKeyId: "AKIAFAKESES0000001",
  secretAccessKey: "fake/ses+secret0123456789abcdefghijklmnop",
};

async function rawMessage(from: string, to: string) {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const info = await composer.sendMail({
    from: { name: "Acme Login", address: from },
    to,
    subject: "Your code",
    text: "Your login code is 123456",
    headers: { "Auto-Submitted": "auto-generated" },
  });
  return info.message as Buffer;
}

/** The SDK's error, as a value. */
async function sdkError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return err as SESv2ServiceException & { $response?: { headers: Record<string, string> } };
  }
  throw new Error("expected a failure");
}

describe("the SES fake, through @aws-sdk/client-sesv2", () => {
  let fake: SesFake;
  const client = (credentials = KEY, region = "us-east-1") =>
    new SESv2Client({ region, endpoint: fake.url, credentials, maxAttempts: 1 });

  beforeAll(async () => {
    fake = await startSesFake({
      accounts: [
        { ...KEY, verified: ["acme.example"], pending: ["new.example"], configurationSets: ["login"] },
      ],
    });
  });
  afterAll(async () => fake?.close());

  it("accepts a signed raw SendEmail and keeps the message as sent", async () => {
    const sent = await client().send(
      new SendEmailCommand({
        FromEmailAddress: "login@acme.example",
        Destination: { ToAddresses: ["user@example.com"] },
        Content: { Raw: { Data: await rawMessage("login@acme.example", "user@example.com") } },
        ConfigurationSetName: "login",
      }),
    );
    expect(sent.MessageId).toMatch(/^0100018f/);
    expect(sent.$metadata.httpStatusCode).toBe(200);
    const message = fake.messages.at(-1)!;
    expect(message).toMatchObject({
      accessKeyId: KEY.accessKeyId,
      region: "us-east-1",
      to: ["user@example.com"],
      configurationSet: "login",
      from: { name: "Acme Login", address: "login@acme.example" },
      subject: "Your code",
    });
    expect(message.headers.get("auto-submitted")).toBe("auto-generated");
  });

  it("refuses a wrong secret with SignatureDoesNotMatch and an unknown key with UnrecognizedClientException", async () => {
    const wrong = await sdkError(
      client({ ...KEY, secretAccessKey: "not-the-secret" }).send(new GetAccountCommand({})),
    );
    expect(wrong.name).toBe("SignatureDoesNotMatch");
    expect(wrong.$metadata.httpStatusCode).toBe(403);
    const unknown = await sdkError(
      client({ accessKeyId: "AKIAUNKNOWN0000000", secretAccessKey: "x" }).send(new GetAccountCommand({})),
    );
    expect(unknown.name).toBe("UnrecognizedClientException");
    expect(unknown.message).toBe("The security token included in the request is invalid.");
  });

  it("verifies signatures of paths the SDK encodes (an address as the identity)", async () => {
    const found = await client().send(new GetEmailIdentityCommand({ EmailIdentity: "acme.example" }));
    expect(found).toMatchObject({ IdentityType: "DOMAIN", VerifiedForSendingStatus: true });
    const pending = await client().send(new GetEmailIdentityCommand({ EmailIdentity: "new.example" }));
    expect(pending.VerifiedForSendingStatus).toBe(false);
    const missing = await sdkError(
      client().send(new GetEmailIdentityCommand({ EmailIdentity: "who+tag@acme.example" })),
    );
    expect(missing.name).toBe("NotFoundException");
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it("shows the account's sandbox state and quota with GetAccount", async () => {
    const account = await client().send(new GetAccountCommand({}));
    expect(account).toMatchObject({
      ProductionAccessEnabled: true,
      SendingEnabled: true,
      EnforcementStatus: "HEALTHY",
      SendQuota: { MaxSendRate: 1000 },
    });
  });

  it("rejects an unverified sender, and in the sandbox an unverified recipient, with MessageRejected", async () => {
    const send = async (from: string, to: string, region?: string) =>
      client(KEY, region).send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Raw: { Data: await rawMessage(from, to) } },
        }),
      );
    const sender = await sdkError(send("login@other.example", "u@example.com"));
    expect(sender.name).toBe("MessageRejected");
    expect(sender.message).toBe(
      "Email address is not verified. The following identities failed the check in region US-EAST-1: login@other.example",
    );
    expect(sender.$metadata.httpStatusCode).toBe(400);
    // Identities are per region.
    const elsewhere = await sdkError(send("login@acme.example", "u@example.com", "eu-west-1"));
    expect(elsewhere.message).toMatch(/in region EU-WEST-1: login@acme.example$/);

    fake.account(KEY.accessKeyId).sandbox = true;
    const recipient = await sdkError(send("login@acme.example", "stranger@example.com"));
    fake.account(KEY.accessKeyId).sandbox = false;
    expect(recipient.message).toMatch(/failed the check in region US-EAST-1: stranger@example.com$/);
  });

  it("throttles past the account's rate with 429 TooManyRequestsException, and scripted errors carry Retry-After", async () => {
    fake.account(KEY.accessKeyId).maxSendRate = 2;
    const data = await rawMessage("login@acme.example", "u@example.com");
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        client().send(
          new SendEmailCommand({
            Destination: { ToAddresses: ["u@example.com"] },
            Content: { Raw: { Data: data } },
          }),
        ),
      ),
    );
    fake.account(KEY.accessKeyId).maxSendRate = 1000;
    const refused = results
      .filter((r) => r.status === "rejected")
      .map((r) => r.reason as SESv2ServiceException);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused[0]!.name).toBe("TooManyRequestsException");
    expect(refused[0]!.$metadata.httpStatusCode).toBe(429);

    fake.failNext(1, { ...sesErrors.throttled, retryAfter: 7 });
    const scripted = await sdkError(client().send(new GetAccountCommand({})));
    expect(scripted.$response?.headers["retry-after"]).toBe("7");
    fake.failNext(1, sesErrors.suspended);
    expect((await sdkError(client().send(new GetAccountCommand({})))).name).toBe("AccountSuspendedException");
  });
});
