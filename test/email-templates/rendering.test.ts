// Every built-in locale of every built-in template, rendered and put on the wire by the same nodemailer
// mapping the senders use, then read back with mailparser: variables filled, HTML escaped, headers
// intact, text part present, the code and the link right, plurals right.
import fc from "fast-check";
import juice from "juice";
import { type ParsedMail, simpleParser } from "mailparser";
import Mustache from "mustache";
import nodemailer from "nodemailer";
import { describe, expect, it } from "vitest";
import { escapeHtml } from "../../src/html-escape.ts";
import { catalogueFor } from "../../src/i18n/catalogue.ts";
import { BUILT_IN_LOCALES } from "../../src/i18n/locales.ts";
import { formatMessage, plural } from "../../src/i18n/messages.ts";
import {
  type ComposedEmail,
  composeLoginEmail,
  type EmailBranding,
  templateView,
} from "../../src/mail/login-email.ts";
import { messageIdFor, nodemailerMessage } from "../../src/mail/sender.ts";
import { type BuiltInKind, builtInTemplate } from "../../src/mail/templates/built-in.ts";
import { checkTemplate } from "../../src/mail/templates/check.ts";
import { renderTemplate } from "../../src/mail/templates/render.ts";
import type { TemplateView } from "../../src/mail/templates/variables.ts";

const HOSTILE_APP = `Acme <script>alert(1)</script> "Shop" & 'Co' <img src=x onerror=alert(2)>`;
const LINK = "https://postern.test/v1/login/email/link?token=Zm9vYmFy_token-0123456789";
const CODE = "482913";

async function onTheWire(email: ComposedEmail & { replyTo?: string }): Promise<ParsedMail> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const info = await transport.sendMail(
    nodemailerMessage({
      ...email,
      from: { name: "Acme Login", address: "login@acme.example" },
      to: "user@example.com",
      messageId: messageIdFor("dlv_test123", "login@acme.example"),
    }),
  );
  return simpleParser(info.message as Buffer);
}

function render(kind: BuiltInKind, locale: string, minutes = 10, branding?: EmailBranding) {
  return composeLoginEmail(
    builtInTemplate(kind, locale),
    {
      appName: kind === "dashboard" ? "Postern" : HOSTILE_APP,
      code: CODE,
      link: LINK,
      recipient: "user@example.com",
      requestIp: "198.51.100.23",
      ttlMinutes: minutes,
      locale,
    },
    branding,
  );
}

/** The expiry sentence's ending, written out per locale for 1 and 10 minutes. */
const expiry: Record<string, [string, string]> = {
  en: ["expire in 1 minute.", "expire in 10 minutes."],
  de: ["laufen in 1 Minute ab.", "laufen in 10 Minuten ab."],
  fr: ["expirent dans 1 minute.", "expirent dans 10 minutes."],
  es: ["caducan en 1 minuto.", "caducan en 10 minutos."],
  pt: ["expiram em 1 minuto.", "expiram em 10 minutos."],
  it: ["scadono tra 1 minuto.", "scadono tra 10 minuti."],
  nl: ["verlopen over 1 minuut.", "verlopen over 10 minuten."],
  pl: ["wygasają za 1 minutę.", "wygasają za 10 minut."],
  ja: ["1分後に期限切れになります。", "10分後に期限切れになります。"],
  "zh-Hans": ["将在 1 分钟后失效。", "将在 10 分钟后失效。"],
};

describe.each(["login", "dashboard"] as const)("the built-in %s email", (kind) => {
  it.each([...BUILT_IN_LOCALES])(
    "in %s: filled, escaped, both parts, right code and link",
    async (locale) => {
      const mail = await onTheWire(render(kind, locale));
      const words =
        kind === "login"
          ? catalogueFor(locale).catalogue.loginEmail
          : catalogueFor(locale).catalogue.dashboardEmail;

      // Headers: one subject line with the code, the language, an automatic message on the sender's domain.
      expect(mail.subject).toContain(CODE);
      expect(mail.subject).not.toMatch(/[\r\n]/);
      expect(mail.headers.get("content-language")).toBe(locale);
      expect(mail.headers.get("auto-submitted")).toBe("auto-generated");
      expect(mail.messageId).toBe("<dlv_test123@acme.example>");
      expect(mail.headers.has("bcc")).toBe(false);

      // Text part: the code, the link exactly, the words of the locale, no variable left unfilled.
      expect(mail.text).toBeTruthy();
      expect(mail.text).toContain(CODE);
      expect(mail.text).toContain(LINK);
      expect(mail.text).toContain(formatMessage(words.instruction, {}));
      expect(mail.text).not.toMatch(/\{\{|\}\}/);

      // HTML part: the link as the button's target, the code, the locale, every variable filled.
      const html = typeof mail.html === "string" ? mail.html : "";
      expect(html).toContain(`href="${LINK}"`);
      expect(html).toContain(`>${CODE}<`);
      expect(html).toContain(`<html lang="${locale}">`);
      expect(html).not.toMatch(/\{\{|\}\}/);
      // Styles are inlined for mail clients that drop <style> blocks.
      expect(html).toMatch(/<a class="button" href="[^"]+" style="[^"]*background-color: #1d4ed8/);

      if (kind === "login") {
        // The hostile app name is text, not markup: no script, no extra image, no broken attribute.
        expect(html).not.toContain("<script>");
        expect(html).not.toContain("<img src=x");
        expect(html).toContain(
          "Acme &lt;script&gt;alert(1)&lt;/script&gt; &quot;Shop&quot; &amp; &#39;Co&#39;",
        );
        expect((html.match(/<img/g) ?? []).length).toBe(0);
        expect((html.match(/<a /g) ?? []).length).toBe(2);
        // …and the subject and text carry it verbatim.
        expect(mail.subject).toContain(HOSTILE_APP);
        expect(mail.text).toContain(HOSTILE_APP);
      }
    },
  );

  it.each([...BUILT_IN_LOCALES])(
    "in %s: “expires in 1 minute” and “in 10 minutes” in the right plural",
    async (locale) => {
      const [one, ten] = expiry[locale]!;
      const mailOne = await onTheWire(render(kind, locale, 1));
      const mailTen = await onTheWire(render(kind, locale, 10));
      expect(mailOne.text).toContain(one);
      expect(mailOne.html).toContain(one);
      expect(mailTen.text).toContain(ten);
      expect(mailTen.html).toContain(ten);
    },
  );
});

describe("plurals beyond one and ten", () => {
  it("Polish: few (2–4, 22–24) and many (5–21, 25…)", () => {
    const { minutes } = catalogueFor("pl").catalogue;
    expect([1, 2, 4, 5, 12, 21, 22, 25].map((n) => plural("pl", minutes, n))).toEqual([
      "1 minutę",
      "2 minuty",
      "4 minuty",
      "5 minut",
      "12 minut",
      "21 minut",
      "22 minuty",
      "25 minut",
    ]);
  });

  it("the hosted login page's tries-left message agrees with its number", () => {
    const pl = catalogueFor("pl").catalogue.hostedLogin.attemptsLeft;
    expect([1, 2, 5].map((n) => plural("pl", pl, n))).toEqual([
      "Została 1 próba.",
      "Zostały 2 próby.",
      "Zostało 5 prób.",
    ]);
    const en = catalogueFor("en").catalogue.hostedLogin.attemptsLeft;
    expect([1, 4].map((n) => plural("en", en, n))).toEqual(["1 try left.", "4 tries left."]);
  });

  it("a locale without a built-in translation gets the platform's words for minutes", () => {
    const mail = composeLoginEmail(
      { subject: "Din kod: {{code}}", html: "<p>{{code}} gäller i {{expiresIn}}</p>", text: null },
      {
        appName: "Acme",
        code: CODE,
        link: LINK,
        recipient: "a@example.com",
        requestIp: "::1",
        ttlMinutes: 10,
        locale: "sv",
      },
    );
    expect(mail.text).toContain("gäller i 10 minuter");
  });
});

describe("every translation is complete and its own", () => {
  it.each([...BUILT_IN_LOCALES.filter((l) => l !== "en")])("%s differs from English everywhere", (locale) => {
    const { catalogue } = catalogueFor(locale);
    const english = catalogueFor("en").catalogue;
    for (const group of ["loginEmail", "dashboardEmail", "hostedLogin"] as const) {
      for (const [key, value] of Object.entries(catalogue[group])) {
        const text = typeof value === "string" ? value : value.other;
        expect(text.trim(), `${locale} ${group}.${key}`).not.toBe("");
        const englishValue = (english[group] as unknown as Record<string, unknown>)[key];
        expect(text, `${locale} ${group}.${key}`).not.toBe(
          typeof englishValue === "string" ? englishValue : (englishValue as { other: string }).other,
        );
      }
    }
  });

  it.each([...BUILT_IN_LOCALES])("the built-in templates in %s pass the template check", (locale) => {
    expect(checkTemplate(builtInTemplate("login", locale))).toEqual([]);
    expect(checkTemplate(builtInTemplate("dashboard", locale))).toEqual([]);
  });
});

describe("branding and hostile values", () => {
  it("logo, accent colour with readable text, and footer appear; an unset logo leaves no image", async () => {
    const branded = await onTheWire(
      render("login", "en", 10, {
        logoUrl: "https://cdn.acme.example/logo.png?v=2&size=2x",
        accentColor: "#fde047",
        footer: "Acme Inc.\n1 Main Street, Springfield",
      }),
    );
    const html = String(branded.html);
    expect(html).toContain('src="https://cdn.acme.example/logo.png?v=2&amp;size=2x"');
    // A light accent gets dark text on the button (WCAG contrast), a dark one white.
    expect(html).toMatch(/background-color: #fde047; color: #111111/);
    expect(html).toContain("Acme Inc.\n1 Main Street, Springfield");
    expect(branded.text).toContain("-- \nAcme Inc.\n1 Main Street, Springfield");
    const plain = String((await onTheWire(render("login", "en"))).html);
    expect(plain).not.toContain("<img");
    expect(plain).toMatch(/background-color: #1d4ed8; color: #ffffff/);
  });

  it("a variable with CR LF cannot add a header, and markup in it stays text", async () => {
    const email = composeLoginEmail(
      {
        subject: "{{appName}} {{footer}} {{code}}",
        html: "<p>{{footer}}</p><p>{{code}}</p>",
        text: "{{footer}} {{code}}",
      },
      {
        appName: "Acme",
        code: CODE,
        link: LINK,
        recipient: "a@example.com",
        requestIp: "::1",
        ttlMinutes: 10,
        locale: "en",
      },
      { logoUrl: null, accentColor: null, footer: "Hi\r\nBcc: victim@example.com\r\n\r\n<b>bold</b>" },
    );
    const mail = await onTheWire(email);
    expect(mail.headers.has("bcc")).toBe(false);
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).toBe(`Acme Hi Bcc: victim@example.com <b>bold</b> ${CODE}`);
    expect(String(mail.html)).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(String(mail.html)).not.toContain("<b>");
  });

  it("an HTML-only template gets a text part derived from it, with the code and the link", async () => {
    const mail = await onTheWire(
      composeLoginEmail(
        {
          subject: "Sign in",
          html: '<style>p { color: #333333; }</style><h1>Welcome</h1><p>Code: <strong>{{code}}</strong></p><p><a href="{{link}}">Sign in</a></p><img src="https://x.example/pixel.png" alt="">',
          text: null,
        },
        {
          appName: "Acme",
          code: CODE,
          link: LINK,
          recipient: "a@example.com",
          requestIp: "::1",
          ttlMinutes: 10,
          locale: "en",
        },
      ),
    );
    expect(mail.text).toContain(`Code: ${CODE}`);
    expect(mail.text).toMatch(/^Welcome$/m);
    expect(mail.text).toContain(`[${LINK}]`);
    expect(mail.text).not.toContain("pixel.png");
    expect(String(mail.html)).toContain('<p style="color: #333333;">Code:');
    expect(String(mail.html)).not.toContain("<style>");
  });
});

describe("inlining once per template and app", () => {
  // The reference: what rendering was before the inlined HTML was kept, juice over the filled template.
  const reference = (html: string, view: TemplateView) =>
    juice(
      new Mustache.Writer().render(
        html,
        Object.assign(Object.create(null), view),
        {},
        { escape: escapeHtml },
      ),
    );
  const value = fc.oneof(
    fc.constant(""),
    fc.string({ maxLength: 12 }),
    fc.constantFrom("a&b", `"quoted"`, "<b>x</b>", "it's", "0", "198.51.100.23", "pstrn0z"),
  );
  const view = (fixed: TemplateView) =>
    fc
      .record({ code: value, link: value, recipient: value, requestIp: value })
      .map((perEmail) => ({ ...fixed, ...perEmail }));
  const piece = fc.constantFrom(
    "<p>{{code}}</p>",
    '<a href="{{link}}" class="b">{{link}}</a>',
    "{{#requestIp}}<p class='ip'>from {{requestIp}}</p>{{/requestIp}}",
    "{{^requestIp}}<p>no address</p>{{/requestIp}}",
    "{{#code}}<b>{{.}}</b>{{/code}}",
    '<td title="{{recipient}} {{appName}}">{{recipient}}</td>',
    "<style>.b { color: {{accentColor}}; } .ip { font-size: 12px }</style>",
    '<p style="margin: 0">{{expiresIn}} {{footer}}</p>',
  );
  const template = fc
    .array(piece, { minLength: 1, maxLength: 6 })
    .map((p) => `<html><body>${p.join("\n")}</body></html>`);

  it("gives every email the HTML juice gives its filled template, whatever its values and in any order", () => {
    const fixed = templateView(
      {
        appName: HOSTILE_APP,
        code: "",
        link: "",
        recipient: "",
        requestIp: "",
        ttlMinutes: 10,
        locale: "de",
      },
      { logoUrl: null, accentColor: "#ff0000", footer: "Acme & Co" },
    );
    fc.assert(
      fc.property(template, fc.array(view(fixed), { minLength: 1, maxLength: 4 }), (html, views) => {
        for (const v of views) {
          expect(renderTemplate({ subject: "{{code}}", html, text: "{{code}}" }, v).html).toBe(
            reference(html, v),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
