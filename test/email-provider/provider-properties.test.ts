import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { freePort } from "../support/process.ts";
import { ALLOWLIST } from "./support.ts";

const RUNS = 1000;
// A thousand requests take 25 s alone and over 60 s beside a busy suite: the bound is throughput, not a hang.
const PROPERTY_TIMEOUT_MS = 240_000;
const noControl = (s: string) => !/\p{Cc}/u.test(s);
const text = (min: number, max: number) =>
  fc
    .string({ unit: "grapheme", minLength: min, maxLength: max })
    .filter((s) => noControl(s) && s.trim().length >= min && s.trim().length <= max && s.length <= max);

/** Bodies the API must accept: built to satisfy every documented rule. */
const validBody = (port: fc.Arbitrary<number>) =>
  fc.record(
    {
      type: fc.constant("smtp_basic"),
      senderEmail: fc
        .tuple(
          fc.stringMatching(/^[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?$/),
          fc.stringMatching(/^[a-z]{1,12}$/),
          fc.constantFrom("example", "test", "invalid"),
        )
        .map(([local, domain, tld]) => `${local}@${domain}.${tld}`),
      senderName: fc.option(text(0, 100), { nil: undefined }),
      host: fc.constantFrom("localhost", "127.0.0.1", "LOCALHOST"),
      port,
      security: fc.constantFrom("starttls", "tls", "none"),
      username: text(1, 256),
      password: fc.string({ minLength: 1, maxLength: 1024 }).filter((s) => !/[\r\n\0]/.test(s)),
      fallbackToDefault: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ["type", "senderEmail", "host", "port", "security", "username", "password"] },
  );

type Body = Record<string, unknown>;
const mutations: fc.Arbitrary<(b: Body) => unknown>[] = [
  fc.constantFrom("type", "senderEmail", "host", "port", "security", "username").map((k) => (b: Body) => {
    const { [k]: _dropped, ...rest } = b;
    return rest;
  }),
  fc
    .constantFrom(
      "",
      "no-at",
      "a@",
      "@b.example",
      "a b@c.example",
      "a@b.example\r\nBcc: x@y.example",
      `${"x".repeat(250)}@a.example`,
    )
    .map((v) => (b: Body) => ({ ...b, senderEmail: v })),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom("\r\n", "\n", "\r", "\0", "\u0007", "\u001b"))
    .map(([s, c]) => (b: Body) => ({ ...b, senderName: `${s}${c}Bcc: victim@example.com` })),
  fc.integer({ min: 101, max: 400 }).map((n) => (b: Body) => ({ ...b, senderName: "n".repeat(n) })),
  fc
    .constantFrom(
      "http://localhost",
      "localhost/x",
      "localhost:25",
      "",
      " ",
      "-bad-.example",
      "a_b..example",
      "[::1",
      "smtp.example.com?x",
    )
    .map((v) => (b: Body) => ({ ...b, host: v })),
  fc
    .oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: 65536 }),
      fc.constant(1.5),
      fc.constant("25"),
      fc.constant(null),
    )
    .map((v) => (b: Body) => ({ ...b, port: v })),
  fc.constantFrom("ssl", "", "STARTTLS", 1, null).map((v) => (b: Body) => ({ ...b, security: v })),
  fc.constantFrom("", "u\nser", "x".repeat(257)).map((v) => (b: Body) => ({ ...b, username: v })),
  fc.constantFrom("", "p\r\nass", "x".repeat(1025)).map((v) => (b: Body) => ({ ...b, password: v })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter(
      (k) =>
        ![
          "type",
          "senderEmail",
          "senderName",
          "host",
          "port",
          "security",
          "username",
          "password",
          "fallbackToDefault",
          "__proto__",
        ].includes(k),
    )
    .map((k) => (b: Body) => ({ ...b, [k]: 1 })),
  fc.constantFrom("smtp_magic", "", null, "SMTP_BASIC").map((v) => (b: Body) => ({ ...b, type: v })),
  // (undefined would vanish from the JSON request and leave a valid body behind.)
  fc
    .anything()
    .filter((v) => v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v)))
    .map((v) => () => v),
];
const invalidBody = (port: fc.Arbitrary<number>) =>
  fc.tuple(validBody(port), fc.oneof(...mutations)).map(([b, mutate]) => mutate(b));

describe.each(backends)("provider routes under generated bodies (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string };
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort();
    t = await startTestPostern(backend, { ...ALLOWLIST, POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "100000" });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session);
    await t.unlock(session.workspaceId);
  });
  afterAll(() => t?.close());

  const state = async () => (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session })).text;

  it(
    `PUT answers 2xx to valid bodies and 4xx to invalid ones, never 5xx, and an invalid body changes nothing (${RUNS} bodies)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            validBody(fc.integer({ min: 1, max: 65535 })).map((b) => ({ valid: true, b })),
            invalidBody(fc.integer({ min: 1, max: 65535 })).map((b) => ({ valid: false, b })),
          ),
          async ({ valid, b }) => {
            const before = await state();
            const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, { session, body: b });
            if (valid) {
              expect(res.status, res.text).toBe(200);
            } else {
              expect(res.status, res.text).toBeGreaterThanOrEqual(400);
              expect(res.status, res.text).toBeLessThan(500);
              expect(await state()).toBe(before);
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `the test route answers 200 to valid configs and 4xx to invalid ones, never 5xx (${RUNS} bodies)`,
    async () => {
      const port = fc.constant(closedPort);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            validBody(port).map((b) => ({ valid: true, b })),
            invalidBody(port).map((b) => ({ valid: false, b })),
          ),
          async ({ valid, b }) => {
            const before = await state();
            const res = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
              session,
              body: { config: b },
            });
            if (valid) expect(res.status, res.text).toBe(200);
            else {
              expect(res.status, res.text).toBeGreaterThanOrEqual(400);
              expect(res.status, res.text).toBeLessThan(500);
            }
            expect(await state()).toBe(before);
          },
        ),
        { numRuns: RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
