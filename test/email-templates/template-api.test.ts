// The template API end to end: what a developer saves is what their users receive (read back from a
// real SMTP server with mailparser), in the negotiated locale, with the app's branding; refusals name
// the field and the line and change nothing; tests go through the app's real route.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import type { ReceivedMessage } from "../fakes/mail.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

const CUSTOM_HTML = `<!doctype html>
<html lang="{{locale}}">
<head><style>.code { font-size: 28px; color: {{accentColor}}; } @media (max-width: 480px) { .code { font-size: 22px; } }</style></head>
<body>
{{#logoUrl}}<img src="{{logoUrl}}" alt="{{appName}}">{{/logoUrl}}
<h1>Welcome back to {{appName}}</h1>
<p class="code">{{code}}</p>
<p><a href="{{link}}">Continue</a> within {{expiresIn}}.</p>
{{#footer}}<p class="footer">{{footer}}</p>{{/footer}}
</body>
</html>`;

describe.each(backends)("login email templates through the API (%s)", (backend) => {
  let smtp: SmtpServerFake;
  let custom: SmtpServerFake;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  /** Signs in through the SMTP fake that stands in for the default sender. */
  async function signIn(email: string, headers: Record<string, string> = {}): Promise<Session> {
    const seen = smtp.messages.length;
    const start = await t.request("POST", "/api/auth/email", { body: { email }, headers });
    expect(start.status).toBe(202);
    const mail = await waitFor(() => smtp.messages.slice(seen).find((m) => m.to.includes(email)));
    const code = /(\d{6})/.exec(mail.subject ?? "")![1];
    const verified = await t.request("POST", "/api/auth/email/verify", {
      body: { loginId: start.body.loginId, code },
    });
    const session: Session = {
      cookie: String(verified.headers["set-cookie"]).split(";")[0]!,
      csrf: String(verified.body.csrfToken),
      accountId: (verified.body.account as { id: string }).id,
      email,
      workspaceId: "",
    };
    const me = await t.request("GET", "/api/me", { session });
    session.workspaceId = (me.body.workspaces as { id: string }[])[0]!.id;
    return session;
  }

  /** Requests a login and returns the email as received, with its delivery row. */
  async function login(email: string, options: { locale?: string; acceptLanguage?: string } = {}) {
    const res = await t.request("POST", "/v1/login/email", {
      headers: {
        authorization: `Bearer ${app.publishableKey}`,
        ...(options.acceptLanguage ? { "accept-language": options.acceptLanguage } : {}),
      },
      body: { email, ...(options.locale ? { locale: options.locale } : {}) },
    });
    expect(res.status, res.text).toBe(202);
    const mail = await waitFor(
      () => smtp.messages.find((m) => m.to.includes(email)),
      20_000,
      `mail to ${email}`,
    );
    const [row] = await t.postern.ctx.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.challengeId, String(res.body.loginId)));
    return { mail, delivery: row! };
  }

  const templateUrl = (locale: string) => `/api/apps/${app.id}/email-templates/${locale}`;
  const html = (m: ReceivedMessage) => m.html ?? "";

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls" });
    custom = await startSmtpServer({ security: "starttls", users: { acme: "s3cret-Passw0rd!" } });
    t = await startTestPostern(backend, {
      POSTERN_DEFAULT_SMTP_URL: `smtp://localhost:${smtp.port}`,
      POSTERN_DEFAULT_FROM: "Postern <login@postern.test>",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100",
      POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "4",
      ...ALLOWLIST,
    });
    owner = await signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme <Shop>" });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await custom?.close();
  });

  it("without templates, a login is in the end user's language, recorded in the delivery log", async () => {
    const german = await login("de@example.com", { acceptLanguage: "fr-CH;q=0.2, de-DE;q=0.9, en;q=0.5" });
    expect(german.mail.subject).toMatch(/^Ihr Anmeldecode für Acme <Shop>: \d{6}$/);
    expect(german.mail.headers.get("content-language")).toBe("de");
    expect(german.mail.headers.get("auto-submitted")).toBe("auto-generated");
    expect(german.mail.headers.get("message-id")).toBe(`<${german.delivery.id}@postern.test>`);
    expect(german.delivery.locale).toBe("de");
    const logged = await t.request("GET", `/api/apps/${app.id}/deliveries/${german.delivery.id}`, {
      session: owner,
    });
    expect(logged.body).toMatchObject({ locale: "de", purpose: "login" });

    const explicit = await login("pl@example.com", { locale: "pl", acceptLanguage: "de" });
    expect(explicit.mail.text).toContain("wygasają za 10 minut.");
    expect(explicit.delivery.locale).toBe("pl");

    expect((await login("br@example.com", { acceptLanguage: "pt-BR" })).delivery.locale).toBe("pt");
    expect((await login("none@example.com")).delivery.locale).toBe("en");
  });

  it("the app's default locale applies when neither the request nor the browser names one it has", async () => {
    const patched = await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: { defaultLocale: "ja" },
    });
    expect(patched.status).toBe(200);
    const { mail, delivery } = await login("ja@example.com", {
      locale: "tlh",
      acceptLanguage: "sv, fi;q=0.8",
    });
    expect(delivery.locale).toBe("ja");
    expect(mail.subject).toContain("のログインコード");
    await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: { defaultLocale: "en" },
    });
  });

  it("a saved template and the branding are what users get", async () => {
    const before = await t.request("GET", templateUrl("en"), { session: owner });
    expect(before.body).toMatchObject({ customized: false, version: 0, builtIn: true });
    const saved = await t.request("PUT", templateUrl("en"), {
      session: owner,
      body: { subject: "{{code}} is your {{appName}} code", html: CUSTOM_HTML, version: 0 },
    });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({ customized: true, version: 1, text: null });
    const branded = await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: {
        logoUrl: "https://cdn.acme.example/logo.png",
        accentColor: "#B91C1C",
        replyTo: "Support@ACME.example",
        footer: "Acme Inc.\r\n1 Main Street",
      },
    });
    expect(branded.body).toMatchObject({
      accentColor: "#b91c1c",
      replyTo: "support@acme.example",
      footer: "Acme Inc.\n1 Main Street",
    });

    const { mail } = await login("custom@example.com");
    expect(mail.subject).toMatch(/^\d{6} is your Acme <Shop> code$/);
    expect(mail.headers.get("reply-to")).toMatchObject({ value: [{ address: "support@acme.example" }] });
    const body = html(mail);
    expect(body).toContain('<img src="https://cdn.acme.example/logo.png" alt="Acme &lt;Shop&gt;">');
    expect(body).toContain("<h1>Welcome back to Acme &lt;Shop&gt;</h1>");
    // The <style> rule is inlined; the media query stays for clients that read it.
    expect(body).toMatch(/<p class="code" style="font-size: 28px; color: #b91c1c;">\d{6}<\/p>/);
    expect(body).toMatch(/@media \(max-width: 480px\)/);
    expect(body).toContain("Acme Inc.\n1 Main Street");
    // The text part was derived from the HTML: the code and the link are in it.
    const code = /^(\d{6})/.exec(mail.subject!)![1]!;
    expect(mail.text).toContain(code);
    expect(mail.text).toMatch(/\[http:\/\/postern\.localhost\/v1\/login\/email\/link\?token=[\w-]+\]/);
    expect(mail.text).toContain("within 10 minutes.");
    // Other locales still send the built-in translation, with the same branding.
    const french = await login("fr@example.com", { acceptLanguage: "fr" });
    expect(french.mail.subject).toMatch(/^Votre code de connexion/);
    expect(html(french.mail)).toContain("https://cdn.acme.example/logo.png");
  });

  it("refuses templates naming the field and the line, and keeps the saved one", async () => {
    const unknown = await t.request("PUT", templateUrl("en"), {
      session: owner,
      body: { subject: "Hi", html: "<p>{{code}}</p>\n<p>Hello {{firstName}}</p>" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(unknown.body).toMatchObject({
      code: "unknown_variable",
      field: "html",
      line: 2,
      column: 10,
      errors: [{ field: "html", code: "unknown_variable", line: 2, column: 10, message: expect.any(String) }],
    });

    const missing = await t.request("PUT", templateUrl("en"), {
      session: owner,
      body: { subject: "Hi", html: "<p>Welcome</p>", text: "Welcome to {{appName}}" },
    });
    expect(missing.body).toMatchObject({ code: "missing_code_and_link", field: "html" });
    expect((missing.body.errors as { field: string }[]).map((e) => e.field)).toEqual(["html", "text"]);

    const big = `<p>{{code}}</p>\n${`<p>${"lorem ipsum ".repeat(10)}</p>\n`.repeat(1200)}`;
    const tooLarge = await t.request("PUT", templateUrl("en"), {
      session: owner,
      body: { subject: "Hi", html: big },
    });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body).toMatchObject({
      code: "template_too_large",
      field: "html",
      line: expect.any(Number),
    });
    expect(tooLarge.body.detail).toMatch(/^html line \d+: the html part is larger than 100 KB$/);

    const still = await t.request("GET", templateUrl("en"), { session: owner });
    expect(still.body).toMatchObject({ version: 1, subject: "{{code}} is your {{appName}} code" });
  });

  it("two editors: the second save of an old version is a conflict, not a silent overwrite", async () => {
    const loaded = await t.request("GET", templateUrl("de"), { session: owner });
    const draft = {
      subject: loaded.body.subject,
      html: loaded.body.html,
      text: loaded.body.text,
      version: 0,
    };
    const first = await t.request("PUT", templateUrl("de"), {
      session: owner,
      body: { ...draft, subject: "Erster: {{code}}" },
    });
    expect(first.body).toMatchObject({ version: 1 });
    const second = await t.request("PUT", templateUrl("de"), {
      session: owner,
      body: { ...draft, subject: "Zweiter: {{code}}" },
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "template_changed", field: "version" });
    expect((await t.request("GET", templateUrl("de"), { session: owner })).body.subject).toBe(
      "Erster: {{code}}",
    );
  });

  it("resets to the built-in template; an added locale is served, and guarded while it is the default", async () => {
    expect((await t.request("DELETE", templateUrl("de"), { session: owner })).status).toBe(204);
    expect((await t.request("GET", templateUrl("de"), { session: owner })).body).toMatchObject({
      customized: false,
      version: 0,
    });

    expect((await t.request("GET", templateUrl("sv"), { session: owner })).body).toMatchObject({
      code: "template_not_found",
    });
    const notYet = await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: { defaultLocale: "sv" },
    });
    expect(notYet.body).toMatchObject({ code: "locale_not_available", field: "defaultLocale" });
    const swedish = await t.request("PUT", templateUrl("sv"), {
      session: owner,
      body: {
        subject: "Din inloggningskod: {{code}}",
        html: "<p>Din kod är {{code}}. Den gäller i {{expiresIn}}.</p>",
        text: "Din kod är {{code}}.\n{{link}}",
      },
    });
    expect(swedish.status).toBe(200);
    const list = await t.request("GET", `/api/apps/${app.id}/email-templates`, { session: owner });
    expect(list.body.locales).toContainEqual(
      expect.objectContaining({ locale: "sv", name: "Svenska", builtIn: false, customized: true }),
    );
    const { mail, delivery } = await login("sv@example.com", { acceptLanguage: "sv-SE, en;q=0.5" });
    expect(delivery.locale).toBe("sv");
    expect(mail.headers.get("content-language")).toBe("sv");
    expect(html(mail)).toContain("Den gäller i 10 minuter.");

    await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: { defaultLocale: "sv" },
    });
    const guarded = await t.request("DELETE", templateUrl("sv"), { session: owner });
    expect(guarded.status).toBe(409);
    expect(guarded.body).toMatchObject({ code: "default_locale_in_use" });
    await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session: owner,
      body: { defaultLocale: "en" },
    });
    expect((await t.request("DELETE", templateUrl("sv"), { session: owner })).status).toBe(204);
  });

  it("refuses branding that breaks the rules, naming the field", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ logoUrl: "http://cdn.acme.example/logo.png" }, "invalid_logo_url", "logoUrl"],
      [{ logoUrl: "javascript:alert(1)" }, "invalid_logo_url", "logoUrl"],
      [{ logoUrl: "https://user:pw@cdn.acme.example/l.png" }, "invalid_logo_url", "logoUrl"],
      [{ accentColor: "red" }, "invalid_color", "accentColor"],
      [{ replyTo: "a@example.com, b@example.com" }, "invalid_email", "replyTo"],
      [{ replyTo: "Support <support@acme.example>" }, "invalid_email", "replyTo"],
      [{ footer: "Acme\u0000" }, "invalid_footer", "footer"],
      [{ footer: "x".repeat(501) }, "invalid_footer", "footer"],
      [{ defaultLocale: "en_US" }, "invalid_locale", "defaultLocale"],
      [{ surprise: 1 }, "validation_failed", "body"],
    ];
    const before = await t.request("GET", `/api/apps/${app.id}/email-settings`, { session: owner });
    for (const [body, code, field] of cases) {
      const res = await t.request("PATCH", `/api/apps/${app.id}/email-settings`, { session: owner, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ code, field });
    }
    expect((await t.request("GET", `/api/apps/${app.id}/email-settings`, { session: owner })).body).toEqual(
      before.body,
    );
  });

  it("previews a draft with sample values and unsaved branding, and saves nothing", async () => {
    const bad = await t.request("POST", `${templateUrl("en")}/preview`, {
      session: owner,
      body: { html: "<p>{{code}}\n{{nope}}</p>" },
    });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({
      ok: false,
      email: null,
      errors: [{ code: "unknown_variable", line: 2, column: 1 }],
    });
    const good = await t.request("POST", `${templateUrl("pl")}/preview`, {
      session: owner,
      body: { branding: { footer: "Nowy stopka", accentColor: "#fde047" }, sample: { expiresInMinutes: 2 } },
    });
    expect(good.status).toBe(200);
    const email = good.body.email as { subject: string; html: string; text: string; language: string };
    expect(good.body.ok).toBe(true);
    expect(email.language).toBe("pl");
    expect(email.subject).toBe("Kod logowania do aplikacji Acme <Shop>: 123456");
    expect(email.text).toContain("wygasają za 2 minuty.");
    expect(email.html).toContain("Nowy stopka");
    expect(email.html).toContain("background-color: #fde047; color: #111111");
    expect(email.text).toContain("owner@example.com");
    expect(
      (await t.request("GET", `/api/apps/${app.id}/email-settings`, { session: owner })).body.footer,
    ).toBe("Acme Inc.\n1 Main Street");
  });

  it("sends a test of the draft to the signed-in developer through the default sender, then the custom provider", async () => {
    const seen = smtp.messages.length;
    const sent = await t.request("POST", `${templateUrl("de")}/test`, {
      session: owner,
      body: { subject: "Entwurf für {{appName}}: {{code}}" },
    });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.body).toMatchObject({ recipient: "owner@example.com", locale: "de" });
    const mail = await waitFor(() =>
      smtp.messages.slice(seen).find((m) => m.to.includes("owner@example.com")),
    );
    expect(mail.subject).toBe("[Test] Entwurf für Acme <Shop>: 123456");
    expect(mail.headers.get("content-language")).toBe("de");
    expect(mail.text).toContain("laufen in 10 Minuten ab.");
    const logged = await waitFor(async () => {
      const res = await t.request("GET", `/api/apps/${app.id}/deliveries/${sent.body.deliveryId}`, {
        session: owner,
      });
      return res.body.status === "sent" ? res.body : undefined;
    });
    expect(logged).toMatchObject({
      purpose: "template_test",
      locale: "de",
      route: "default",
      recipient: "owner@example.com",
    });
    // The draft was not saved.
    expect((await t.request("GET", templateUrl("de"), { session: owner })).body.customized).toBe(false);

    await t.unlock(owner.workspaceId);
    const provider = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(custom.port),
    });
    expect(provider.status, provider.text).toBe(200);
    const viaCustom = await t.request("POST", `${templateUrl("en")}/test`, { session: owner, body: {} });
    expect(viaCustom.status).toBe(202);
    const [customMail] = await custom.waitForMessages(1, 20_000);
    expect(customMail!.from).toEqual({ name: "Acme Login", address: "login@acme.example" });
    expect(customMail!.headers.get("message-id")).toBe(`<${viaCustom.body.deliveryId}@acme.example>`);
    expect(customMail!.subject).toBe("[Test] 123456 is your Acme <Shop> code");
    await t.request("DELETE", `/api/apps/${app.id}/email-provider`, { session: owner });
  });

  it("test emails are rate-limited per app, and a broken draft is refused before anything is queued", async () => {
    const broken = await t.request("POST", `${templateUrl("en")}/test`, {
      session: owner,
      body: { html: "{{nope}}" },
    });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: "unknown_variable", field: "html" });
    let limited: Awaited<ReturnType<TestPostern["request"]>> | undefined;
    for (let i = 0; i < 6 && !limited; i++) {
      const res = await t.request("POST", `${templateUrl("en")}/test`, { session: owner, body: {} });
      if (res.status === 429) limited = res;
    }
    expect(limited?.body).toMatchObject({ code: "rate_limited" });
    expect(limited?.headers["retry-after"]).toBeDefined();
  });

  it("members read templates; only owners and admins change them; other workspaces see nothing", async () => {
    await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "member@example.com", role: "member" },
    });
    const member = await signIn("member@example.com");
    member.workspaceId = owner.workspaceId;
    expect((await t.request("GET", templateUrl("en"), { session: member })).status).toBe(200);
    const put = await t.request("PUT", templateUrl("en"), {
      session: member,
      body: { subject: "x {{code}}", html: "{{code}}" },
    });
    expect(put.status).toBe(403);
    expect((await t.request("DELETE", templateUrl("en"), { session: member })).status).toBe(403);
    expect((await t.request("POST", `${templateUrl("en")}/test`, { session: member, body: {} })).status).toBe(
      403,
    );

    const stranger = await signIn("stranger@example.com");
    for (const [method, url] of [
      ["GET", templateUrl("en")],
      ["GET", `/api/apps/${app.id}/email-settings`],
      ["POST", `${templateUrl("en")}/preview`],
    ] as const) {
      const res = await t.request(method, url, {
        session: stranger,
        ...(method === "POST" ? { body: {} } : {}),
      });
      expect(res.status, `${method} ${url}`).toBe(404);
    }
  });

  it("the dashboard's own sign-in email is in the developer's language", async () => {
    const seen = smtp.messages.length;
    await t.request("POST", "/api/auth/email", {
      body: { email: "entwickler@example.com" },
      headers: { "accept-language": "de-CH, de;q=0.9" },
    });
    const german = await waitFor(() =>
      smtp.messages.slice(seen).find((m) => m.to.includes("entwickler@example.com")),
    );
    expect(german.subject).toMatch(/^Ihr Anmeldecode für das Postern-Dashboard: \d{6}$/);
    expect(german.headers.get("content-language")).toBe("de");
    expect(german.text).toContain("/api/auth/email/link?token=");

    await t.request("POST", "/api/auth/email", { body: { email: "dev-fr@example.com", locale: "fr-CA" } });
    const french = await waitFor(() =>
      smtp.messages.slice(seen).find((m) => m.to.includes("dev-fr@example.com")),
    );
    expect(french.subject).toMatch(/^Votre code de connexion au tableau de bord Postern/);
  });
});
