// The template API under generated input: well over a thousand bodies, each broken in one documented
// way, must each get a 4xx problem, and together change nothing in any table. Valid generated
// templates, for contrast, are saved.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmailAddress } from "../../src/email-address/email-address.ts";
import { isBuiltInLocale, templateLocale } from "../../src/i18n/locales.ts";
import { isTemplateVariable } from "../../src/mail/templates/variables.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { snapshot } from "../support/snapshot.ts";

const RUNS = 1200;

type Body = Record<string, unknown>;
type Mutation = (body: Body) => unknown;

const words = fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replace(/[\p{Cc}{}<>&]/gu, ""));

/** Templates the API accepts: the code or the link in each body part, known variables only. */
const validTemplate = fc.record({
  subject: fc
    .tuple(words, fc.constantFrom("{{code}}", "{{appName}}", ""))
    .map(([w, v]) => `${w} ${v} login`.trim()),
  html: fc
    .tuple(
      words,
      fc.constantFrom("{{code}}", '<a href="{{link}}">Sign in</a>'),
      fc.constantFrom("", "{{#footer}}<p>{{footer}}</p>{{/footer}}"),
    )
    .map(([w, credential, footer]) => `<p>${w}</p>\n<p>${credential}</p>${footer}`),
  text: fc.option(
    words.map((w) => `${w}\n{{code}}\n{{link}}`),
    { nil: null },
  ),
});

const identifier = fc
  .stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/)
  .filter((name) => !isTemplateVariable(name));
const insertAt = (text: string, at: number, piece: string) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + piece + text.slice(i);
};
const part = fc.constantFrom("subject", "html", "text");
const bodyPart = fc.constantFrom("html", "text");
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

/** Each breaks a valid template body in one way the API documents. */
const templateMutations: fc.Arbitrary<Mutation>[] = [
  fc.tuple(part, identifier, fc.nat()).map(([p, name, at]) => (b: Body) => ({
    ...b,
    [p]: insertAt(String(b[p] ?? "{{code}}"), at, `{{${name}}}`),
  })),
  fc.tuple(bodyPart, words).map(([p, w]) => (b: Body) => ({ ...b, [p]: `<p>${w} without a credential</p>` })),
  fc
    .tuple(
      bodyPart,
      fc.constantFrom("{{code", "{{#footer}}", "{{/footer}}", "{{> partial}}", "{{=<% %>=}}", "{{^logoUrl}}"),
    )
    .map(([p, broken]) => (b: Body) => ({ ...b, [p]: `${String(b[p] ?? "{{code}}")}${broken}` })),
  fc
    .constantFrom("{{{appName}}}", "{{& footer}}", "<img alt={{appName}}>")
    .map((raw) => (b: Body) => ({ ...b, html: `${b.html}${raw}` })),
  fc.tuple(fc.constantFrom("\r", "\n", "\r\n"), fc.nat()).map(([newline, at]) => (b: Body) => ({
    ...b,
    subject: insertAt(String(b.subject), at, `${newline}Bcc: victim@example.com`),
  })),
  fc
    .tuple(part, fc.constantFrom("\u0000", "\u0007", "\u001b", "\u007f"), fc.nat())
    .map(([p, c, at]) => (b: Body) => ({ ...b, [p]: insertAt(String(b[p] ?? "{{code}}"), at, c) })),
  fc.tuple(bodyPart, fc.integer({ min: 1, max: 60_000 })).map(([p, extra]) => (b: Body) => ({
    ...b,
    [p]: `{{code}}\n${"x".repeat(100 * 1024 + extra)}`,
  })),
  fc.constantFrom("", "   ", "\t").map((blank) => (b: Body) => ({ ...b, subject: blank })),
  fc.tuple(fc.constantFrom("subject", "html"), notAString).map(([p, v]) => (b: Body) => ({ ...b, [p]: v })),
  notAString.map((v) => (b: Body) => ({ ...b, text: v })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !["subject", "html", "text", "version", "__proto__"].includes(k))
    .map((k) => (b: Body) => ({ ...b, [k]: "x" })),
  fc
    .anything()
    .filter((v) => v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v)))
    .map((v) => () => v),
];

/** PUT only: a required part left out, a version that is not a version, or a stale one (someone saved since). */
const putMutations: fc.Arbitrary<Mutation>[] = [
  fc.constantFrom("subject", "html").map((p) => (b: Body) => {
    const { [p]: _dropped, ...rest } = b;
    return rest;
  }),
  fc
    .oneof(
      fc.integer({ max: -1 }),
      fc.constant(1.5),
      fc.constant("1"),
      fc.constant(null),
      fc.constant(2 ** 31),
    )
    .map((v) => (b: Body) => ({ ...b, version: v })),
  fc.integer({ min: 1000, max: 2 ** 31 - 1 }).map((v) => (b: Body) => ({ ...b, version: v })),
];

const badReplyTo = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc
      .tuple(fc.emailAddress(), fc.constantFrom(", x@example.com", " ", "\r\nBcc: y@example.com", ">", "(c)"))
      .map(([a, s]) => `${a}${s}`),
    fc.emailAddress().map((a) => `Support <${a}>`),
  )
  .filter((v) => !parseEmailAddress(v).ok);

/** Each breaks a valid branding patch in one way. */
const settingsMutations: fc.Arbitrary<Mutation>[] = [
  fc
    .oneof(
      fc.webUrl({ validSchemes: ["http", "ftp"] }),
      fc.string({ maxLength: 30 }).filter((s) => !s.startsWith("https://")),
      fc.constant(`https://cdn.example/${"a".repeat(2100)}`),
      fc.constant("https://user:pass@cdn.example/logo.png"),
      fc.constant("javascript:alert(1)"),
    )
    .map((v) => (b: Body) => ({ ...b, logoUrl: v })),
  fc
    .string({ maxLength: 12 })
    .filter((s) => !/^#[0-9a-fA-F]{6}$/.test(s))
    .map((v) => (b: Body) => ({ ...b, accentColor: v })),
  badReplyTo.map((v) => (b: Body) => ({ ...b, replyTo: v })),
  fc
    .oneof(
      fc.tuple(words, fc.constantFrom("\u0000", "\u0001", "\u001b", "\t")).map(([w, c]) => `a${w}${c}x`),
      fc.integer({ min: 501, max: 2000 }).map((n) => "f".repeat(n)),
      fc.integer({ min: 7, max: 20 }).map((n) => Array.from({ length: n }, (_, i) => `line ${i}`).join("\n")),
    )
    .map((v) => (b: Body) => ({ ...b, footer: v })),
  fc
    .oneof(
      fc.constantFrom("en_US", "", "x", "fi", "sv-SE", "i-klingon", "de-DE-u-co-phonebk"),
      fc.string({ maxLength: 50 }),
    )
    // Tags are case-insensitive (BCP 47): "Nl" is stored as "nl", a built-in locale, and accepted.
    .filter((v) => !isBuiltInLocale(templateLocale(v) ?? ""))
    .map((v) => (b: Body) => ({ ...b, defaultLocale: v })),
  fc
    .tuple(fc.constantFrom("logoUrl", "accentColor", "replyTo", "footer", "defaultLocale"), notAString)
    .map(([k, v]) => (b: Body) => ({ ...b, [k]: v })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !["defaultLocale", "logoUrl", "accentColor", "replyTo", "footer", "__proto__"].includes(k))
    .map((k) => (b: Body) => ({ ...b, [k]: null })),
];

const validSettings = fc.record(
  {
    logoUrl: fc.constantFrom("https://cdn.acme.example/logo.png", null),
    accentColor: fc.constantFrom("#0f766e", null),
    replyTo: fc.constantFrom("help@acme.example", null),
    footer: fc.constantFrom("Acme Ltd, 2 Side Street", null),
  },
  { requiredKeys: [] },
);

/** Preview: only the shape can be wrong (a template with problems is a 200 with `ok: false`, by design). */
const previewMutations: fc.Arbitrary<Mutation>[] = [
  fc.tuple(fc.constantFrom("subject", "html"), notAString).map(([p, v]) => (b: Body) => ({ ...b, [p]: v })),
  fc
    .oneof(
      fc.record({ code: fc.string({ maxLength: 8 }).filter((c) => !/^\d{6}$/.test(c)) }),
      fc.record({
        expiresInMinutes: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1441 }), fc.constant(2.5)),
      }),
      fc.record({ recipient: badReplyTo }),
      fc.record({ requestIp: fc.constantFrom("not an ip", "", "1.2.3.4\r\n") }),
      fc.record({ surprise: fc.constant(1) }),
    )
    .map((sample) => (b: Body) => ({ ...b, sample })),
  fc
    .constantFrom({ logoUrl: "http://x.example/l.png" }, { accentColor: "blue" }, { nope: true })
    .map((branding) => (b: Body) => ({ ...b, branding })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !["subject", "html", "text", "branding", "sample", "__proto__"].includes(k))
    .map((k) => (b: Body) => ({ ...b, [k]: 0 })),
];

const locales = fc.constantFrom("en", "de", "pt-BR", "sv", "ja");
const badLocale = fc.constantFrom(
  "en_US",
  "x",
  "de-DE-u-co-phonebk",
  "%00",
  "a".repeat(40),
  "..%2F..%2Fetc",
  "en%0D%0A",
);

interface Attempt {
  method: "PUT" | "PATCH" | "POST";
  path: (appId: string) => string;
  body: unknown;
}

const attempts: fc.Arbitrary<Attempt> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(locales, validTemplate, fc.oneof(...templateMutations, ...putMutations))
      .map(([locale, b, mutate]) => ({
        method: "PUT" as const,
        path: (id: string) => `/api/apps/${id}/email-templates/${locale}`,
        body: mutate(b),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(locales, validTemplate, fc.oneof(...templateMutations))
      .map(([locale, b, mutate]) => ({
        method: "POST" as const,
        path: (id: string) => `/api/apps/${id}/email-templates/${locale}/test`,
        body: mutate(b),
      })),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(validSettings, fc.oneof(...settingsMutations)).map(([b, mutate]) => ({
      method: "PATCH" as const,
      path: (id: string) => `/api/apps/${id}/email-settings`,
      body: mutate(b),
    })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(locales, validTemplate, fc.oneof(...previewMutations)).map(([locale, b, mutate]) => ({
      method: "POST" as const,
      path: (id: string) => `/api/apps/${id}/email-templates/${locale}/preview`,
      body: mutate(b),
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(badLocale, validTemplate, fc.constantFrom("", "/preview", "/test"))
      .map(([locale, b, suffix]) => ({
        method: suffix ? ("POST" as const) : ("PUT" as const),
        path: (id: string) => `/api/apps/${id}/email-templates/${locale}${suffix}`,
        body: b,
      })),
  },
);

describe.each(backends)("template API under generated bodies (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string };

  beforeAll(async () => {
    t = await startTestPostern(backend, { POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "100000" });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session);
    // State worth protecting: a saved template and branding that a bad request must not touch.
    const saved = await t.request("PUT", `/api/apps/${app.id}/email-templates/de`, {
      session,
      body: { subject: "Ihr Code: {{code}}", html: "<p>{{code}}</p>", text: null },
    });
    expect(saved.status).toBe(200);
    await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session,
      body: { footer: "Acme GmbH", accentColor: "#123456" },
    });
  });
  afterAll(() => t?.close());

  it(`${RUNS} bodies broken in one way each: every one a 4xx problem naming a field, nothing changed`, {
    timeout: 600_000,
  }, async () => {
    const before = await snapshot(t);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(attempts, async (attempt) => {
        const res = await t.request(attempt.method, attempt.path(app.id), {
          session,
          rawBody: JSON.stringify(attempt.body),
          headers: { "content-type": "application/json" },
        });
        const label = `${attempt.method} ${attempt.path(app.id)} ${JSON.stringify(attempt.body)?.slice(0, 300)}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(res.headers["content-type"], label).toMatch(/application\/problem\+json/);
        expect(res.body.code, label).toEqual(expect.any(String));
        expect(res.body.detail, label).toEqual(expect.any(String));
        expect(res.body.field, label).toEqual(expect.any(String));
        seen.set(String(res.body.code), (seen.get(String(res.body.code)) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    expect(await snapshot(t)).toBe(before);
    // The generator reaches the refusals it means to, not only one generic one.
    for (const code of [
      "unknown_variable",
      "missing_code_and_link",
      "template_syntax",
      "template_too_large",
      "subject_not_one_line",
      "control_character",
      "template_changed",
      "validation_failed",
      "invalid_locale",
      "invalid_logo_url",
      "invalid_color",
      "invalid_email",
      "invalid_footer",
    ]) {
      expect(seen.get(code), `${code} in ${JSON.stringify(Object.fromEntries(seen))}`).toBeGreaterThan(0);
    }
  });

  it("valid generated templates are saved and read back as sent", async () => {
    await fc.assert(
      fc.asyncProperty(validTemplate, async (template) => {
        const res = await t.request("PUT", `/api/apps/${app.id}/email-templates/nl`, {
          session,
          body: template,
        });
        expect(res.status, JSON.stringify(template)).toBe(200);
        expect(res.body).toMatchObject({
          subject: template.subject,
          html: template.html,
          text: template.text,
        });
      }),
      { numRuns: 60 },
    );
    expect((await t.request("DELETE", `/api/apps/${app.id}/email-templates/nl`, { session })).status).toBe(
      204,
    );
  });
});
