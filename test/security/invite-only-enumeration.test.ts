import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../src/accounts/accounts.ts";
import { canonicalEmail } from "../../src/email-address/email-address.ts";
import { backends, startTestPostern, type TestPostern } from "../support/harness.ts";

type Answer = { status: number; code: string | undefined; keys: string[]; extra: unknown };

/** What a caller can see of an answer, without the values that differ on every request anyway. */
const visible = (res: Awaited<ReturnType<TestPostern["request"]>>): Answer => ({
  status: res.status,
  code: res.body.code,
  keys: Object.keys(res.body).sort(),
  extra: {
    attemptsRemaining: res.body.attemptsRemaining,
    retryAfter: res.headers["retry-after"] !== undefined,
  },
});

describe.each(backends)("invite-only sign-in does not reveal which accounts exist (%s)", (backend) => {
  let t: TestPostern;
  let known = 0;
  /** A fresh pair: one address with an account, one without. */
  const pair = async () => {
    known++;
    const account = canonicalEmail(`known${known}@example.com`);
    await t.postern.ctx.db.transaction((tx) => createAccount(tx, account));
    return { known: account, unknown: `unknown${known}@example.com` };
  };
  const start = (email: string) => t.request("POST", "/api/auth/email", { body: { email } });
  const verify = (loginId: unknown, code: string) =>
    t.request("POST", "/api/auth/email/verify", { body: { loginId, code } });

  beforeAll(async () => {
    // No workers: nothing but the requests themselves touches the database while they are observed.
    t = await startTestPostern(
      backend,
      {
        POSTERN_SIGNUP: "invite",
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
        POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE: "1",
      },
      { workers: false },
    );
  });
  afterAll(() => t?.close());

  it("asking twice: the same 202, then the same 429 with Retry-After", async () => {
    const { known, unknown } = await pair();
    const answers = { known: [] as Answer[], unknown: [] as Answer[] };
    for (let i = 0; i < 3; i++) {
      answers.known.push(visible(await start(known)));
      answers.unknown.push(visible(await start(unknown)));
    }
    expect(answers.known.map((a) => a.status)).toEqual([202, 429, 429]);
    expect(answers.unknown).toEqual(answers.known);
  });

  it("wrong codes: the same invalid_code with tries left, then too_many_attempts", async () => {
    const { known, unknown } = await pair();
    const knownLogin = await start(known);
    const unknownLogin = await start(unknown);
    for (let i = 0; i < 6; i++) {
      const a = visible(await verify(knownLogin.body.loginId, "000000"));
      const b = visible(await verify(unknownLogin.body.loginId, "000000"));
      expect(b).toEqual(a);
    }
    expect(visible(await verify(knownLogin.body.loginId, "000000")).code).toBe("too_many_attempts");
  });

  it("a login id that was never issued answers as a used one, not as a decoy", async () => {
    const { unknown } = await pair();
    const login = await start(unknown);
    const forged = await verify(`${String(login.body.loginId)}x`, "000000");
    expect(forged.body.code).toBe("login_expired");
  });

  it.runIf(backend === "postgres")("the same statements run for a known and an unknown address", async () => {
    const { known, unknown } = await pair();
    const statements = async (email: string) => {
      const seen: string[] = [];
      const original = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string }).text;
        // Only this request's statements: the queue's own polling runs on its own schedule.
        if (text && !/pgboss/.test(text)) seen.push(text);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      try {
        expect((await start(email)).status).toBe(202);
      } finally {
        pg.Client.prototype.query = original;
      }
      return seen;
    };
    const forKnown = await statements(known);
    const forUnknown = await statements(unknown);
    // The login's own statement is among those seen (the counter watched the request).
    expect(forKnown.some((text) => /postern_start_login/.test(text))).toBe(true);
    expect(forUnknown).toEqual(forKnown);
  });
});
