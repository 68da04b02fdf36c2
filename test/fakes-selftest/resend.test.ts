// The Resend fake, driven by Resend's own client (resend 6, `baseUrl` given to the constructor): it must answer as
// the real API does for the client to read it — {data, error, headers}, errors by name, rate-limit headers.
import { Resend } from "resend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResendFake, resendErrors, startResendFake } from "../fakes/resend.ts";

const FULL = "re_full_0123456789";
const SENDING = "re_sending_0123456789";
const NEW_TEAM = "re_newteam_0123456789";

describe("Resend fake, through resend's client", () => {
  let fake: ResendFake;
  const client = (key = FULL) => new Resend(key, { baseUrl: fake.url });
  const email = (from = "Acme <login@acme.example>", to = "user@example.com") => ({
    from,
    to: [to],
    subject: "Your code",
    text: "123456",
  });

  beforeAll(async () => {
    fake = await startResendFake({ requestsPerSecond: 1000 });
    fake.addTeam("acme", {
      domains: [
        { name: "acme.example", status: "verified", clickTracking: true },
        { name: "pending.example", status: "pending" },
      ],
      dailyQuota: 50,
    });
    fake.addTeam("new", { ownerEmail: "owner@new.example" });
    fake.addKey(FULL, { team: "acme", permission: "full_access" });
    fake.addKey(SENDING, { team: "acme", permission: "sending_access" });
    fake.addKey(NEW_TEAM, { team: "new" });
  });
  afterAll(async () => fake?.close());

  it("sends, answering {id}, and an Idempotency-Key makes a second send the same one", async () => {
    const first = await client().emails.send(
      { ...email(), headers: { "Auto-Submitted": "auto-generated" } },
      { idempotencyKey: "<d1@acme.example>" },
    );
    expect(first.error).toBeNull();
    expect(first.data?.id).toMatch(/^[0-9a-f-]{36}$/);
    const again = await client().emails.send(
      { ...email(), headers: { "Auto-Submitted": "auto-generated" } },
      { idempotencyKey: "<d1@acme.example>" },
    );
    expect(again.data?.id).toBe(first.data?.id);
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({
      from: { name: "Acme", address: "login@acme.example" },
      headers: { "Auto-Submitted": "auto-generated" },
    });
    const changed = await client().emails.send(
      { ...email(), subject: "Other" },
      { idempotencyKey: "<d1@acme.example>" },
    );
    expect(changed.error).toMatchObject({ name: "invalid_idempotent_request", statusCode: 409 });
  });

  it("lists domains for a full-access key and refuses a sending-only key with restricted_api_key", async () => {
    const listed = await client().domains.list();
    expect(listed.data?.data.map((d) => [d.name, d.status])).toEqual([
      ["acme.example", "verified"],
      ["pending.example", "pending"],
    ]);
    const restricted = await client(SENDING).domains.list();
    expect(restricted.error).toMatchObject({ name: "restricted_api_key", statusCode: 401 });
    expect((await client(SENDING).emails.send(email())).error).toBeNull();
  });

  it("refuses an unknown key, an unverified domain and a team without any domain, by name", async () => {
    expect((await client("re_unknown").emails.send(email())).error).toMatchObject({
      name: "invalid_api_key",
      statusCode: 403,
    });
    expect((await client().emails.send(email("login@pending.example"))).error).toMatchObject({
      name: "validation_error",
      statusCode: 403,
      message: expect.stringMatching(/pending\.example domain is not verified/),
    });
    expect((await client(NEW_TEAM).emails.send(email("a@new.example"))).error).toMatchObject({
      statusCode: 403,
      message: expect.stringMatching(
        /only send testing emails to your own email address \(owner@new\.example\)/,
      ),
    });
    expect((await client().emails.send(email("not an address"))).error).toMatchObject({
      name: "invalid_from_address",
    });
  });

  it("answers 429 rate_limit_exceeded with retry-after and ratelimit-reset past the team's rate (all keys together)", async () => {
    fake.setRequestsPerSecond(2);
    const results = await Promise.all(
      [client(), client(SENDING), client(), client(SENDING)].map((c) => c.emails.send(email())),
    );
    const limited = results.filter((r) => r.error?.name === "rate_limit_exceeded");
    expect(limited).toHaveLength(2);
    expect(limited[0]!.headers).toMatchObject({
      "retry-after": "1",
      "ratelimit-reset": "1",
      "ratelimit-limit": "2",
    });
    fake.setRequestsPerSecond(1000);
  });

  it("answers daily_quota_exceeded once the team's quota is used, and plays outages on sends", async () => {
    fake.startOutage(resendErrors.internal());
    expect((await client().emails.send(email())).error).toMatchObject({
      statusCode: 500,
      name: "internal_server_error",
    });
    expect((await client().domains.list()).error).toBeNull();
    fake.endOutage();
    while (fake.sentToday("acme") < 50) await client().emails.send(email());
    expect((await client().emails.send(email())).error).toMatchObject({
      statusCode: 429,
      name: "daily_quota_exceeded",
    });
  });
});
