import fc from "fast-check";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmailAddress } from "../../src/email-address/email-address.ts";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

/** Forms a mail library would re-parse into other recipients, or that are not one plain address. */
const HOSTILE = [
  "bomb@victim.test>,<1",
  "a:root,mallory@attacker.test",
  "a:root,mallory@attacker.test;",
  "Mallory <mallory@attacker.test>",
  "victim@example.com, mallory@attacker.test",
  "victim@example.com;mallory@attacker.test",
  "victim@example.com\nBcc: mallory@attacker.test",
  "victim@example.com\r\n",
  "vic\u0000tim@example.com",
  "victim(comment)@example.com",
  '"mallory@attacker.test"@example.com',
  "user@[127.0.0.1]",
  "user@[IPv6:::1]",
  "user@127.0.0.1",
  "user@localhost",
  "user@example..com",
  "user@-example.com",
  ".user@example.com",
  "user.@example.com",
  "us..er@example.com",
  "user@example.com:25",
  "user@@example.com",
  "@example.com",
  "user@",
  "a’;irm(https://evil.example)|iex;’@contoso.com",
  `${"a".repeat(65)}@example.com`,
  `user@${"a".repeat(250)}.com`,
];

describe("the canonical address", () => {
  it.each([
    ["User@Example.COM", "user@example.com"],
    ["  user@example.com  ", "user@example.com"],
    ["o'brien+login@example.com", "o'brien+login@example.com"],
    ["user@Bücher.Example", "user@xn--bcher-kva.example"],
    ["user@例え.テスト", "user@xn--r8jz45g.xn--zckzah"],
    ["user@XN--BCHER-KVA.example", "user@xn--bcher-kva.example"],
  ])("%s is %s", (input, canonical) => {
    expect(parseEmailAddress(input)).toEqual({ ok: true, address: canonical });
  });

  it.each(HOSTILE)("refuses %j", (input) => {
    expect(parseEmailAddress(input).ok).toBe(false);
  });

  it("is one plain address for whatever it accepts, and canonical twice over", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.emailAddress(), fc.constantFrom(...HOSTILE)), (input) => {
        const parsed = parseEmailAddress(input);
        if (!parsed.ok) return;
        const { address } = parsed;
        expect(address.split("@")).toHaveLength(2);
        expect(address).toMatch(/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]+$/);
        expect(address.length).toBeLessThanOrEqual(254);
        expect(parseEmailAddress(address)).toEqual(parsed);
      }),
      { numRuns: 2000 },
    );
  });
});

describe.each(backends)("every address that enters Postern is the canonical one (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  const login = (email: string, headers: Record<string, string> = {}) =>
    t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}`, ...headers },
      body: { email },
    });

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      POSTERN_LOG_LEVEL: "info",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
    });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
    const saved = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(smtp.port),
    });
    expect(saved.status, saved.text).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("refuses lists, groups, names and odd forms at every entry with invalid_email, naming the field", async () => {
    const entries: { method: string; url: string; field: string; body: (v: string) => unknown }[] = [
      { method: "POST", url: "/v1/login/email", field: "email", body: (email) => ({ email }) },
      { method: "POST", url: "/api/auth/email", field: "email", body: (email) => ({ email }) },
      {
        method: "POST",
        url: `/api/workspaces/${owner.workspaceId}/members`,
        field: "email",
        body: (email) => ({ email }),
      },
      {
        method: "PUT",
        url: `/api/apps/${app.id}/email-provider`,
        field: "senderEmail",
        body: (senderEmail) => basicBody(smtp.port, { senderEmail }),
      },
      {
        method: "POST",
        url: `/api/apps/${app.id}/email-provider/test`,
        field: "sendTo",
        body: (sendTo) => ({ sendTo }),
      },
    ];
    for (const entry of entries) {
      for (const value of HOSTILE) {
        const res = await t.request(entry.method, entry.url, {
          session: owner,
          headers: { authorization: `Bearer ${app.publishableKey}` },
          body: entry.body(value),
        });
        expect(res.status, `${entry.url} ${JSON.stringify(value)}: ${res.text}`).toBe(400);
        expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
        expect(res.body).toMatchObject({ code: "invalid_email", field: entry.field });
        expect(res.body.detail).toMatch(new RegExp(`^${entry.field}: `));
      }
    }
    const guide = await t.request(
      "GET",
      `/api/apps/${app.id}/email-provider/microsoft-guide?senderEmail=${encodeURIComponent("a’;irm(x)|iex;’@contoso.com")}`,
      { session: owner },
    );
    expect(guide.status).toBe(400);
    expect(guide.body).toMatchObject({ code: "invalid_email", field: "senderEmail" });
    expect(smtp.messages).toHaveLength(0);
  });

  it("a NUL byte is a 400, and the log never holds the address or a statement's parameters", async () => {
    const res = await login("vic\u0000tim@example.com");
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_email");
    const redirect = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email: "nul@example.com", redirectUrl: "https://app.example.com/\u0000" },
    });
    expect(redirect.status).toBeLessThan(500);
    expect(t.logs.join("\n")).not.toMatch(/vic.?tim|params:/);
  });

  it("one person whatever the spelling: one rate-limit key, the JWT claim and the SMTP envelope", async () => {
    const first = await login("Unicode.User@Bücher.EXAMPLE");
    expect(first.status, first.text).toBe(202);
    // Same person, spelled differently: the per-address limit (1 a minute) already counts them.
    for (const spelling of ["UNICODE.USER@bücher.example", "unicode.user@XN--BCHER-KVA.example "]) {
      const again = await login(spelling);
      expect(again.status, spelling).toBe(429);
    }
    const [mail] = await smtp.waitForMessages(1);
    // One recipient on the wire, in punycode (smtp-server hands the envelope's domain back decoded).
    expect(mail!.envelope.rcptTo).toEqual(["unicode.user@bücher.example"]);
    expect(mail!.raw.toString()).toMatch(/^To: unicode\.user@xn--bcher-kva\.example\r$/m);
    const code = /login code is (\d{6})/.exec(mail!.text ?? "")?.[1];
    const verified = await t.request("POST", "/v1/login/email/verify", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { loginId: first.body.loginId, code },
    });
    expect(verified.status, verified.text).toBe(200);
    expect(decodeJwt(String(verified.body.token)).email).toBe("unicode.user@xn--bcher-kva.example");
    expect((verified.body.user as { email: string }).email).toBe("unicode.user@xn--bcher-kva.example");
  });

  it("invites and dashboard accounts are canonical too", async () => {
    const invited = await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: " New.Member@Bücher.Example " },
    });
    expect(invited.status, invited.text).toBe(201);
    const members = invited.body.members as { email: string; accountId: string }[];
    expect(members.map((m) => m.email)).toContain("new.member@xn--bcher-kva.example");
    const invitedId = (
      members.find((m) => m.email === "new.member@xn--bcher-kva.example") as { accountId: string }
    ).accountId;
    const started = Date.now() - 1000;
    const signIn = await t.request("POST", "/api/auth/email", {
      body: { email: "NEW.MEMBER@bücher.example" },
    });
    expect(signIn.status).toBe(202);
    // mailparser shows the domain decoded; the account it signs in to is the invited one.
    const { code } = await t.latestLoginEmail("new.member@bücher.example", started);
    const verified = await t.request("POST", "/api/auth/email/verify", {
      body: { loginId: signIn.body.loginId, code },
    });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.account).toEqual({ id: invitedId, email: "new.member@xn--bcher-kva.example" });
  });
});
