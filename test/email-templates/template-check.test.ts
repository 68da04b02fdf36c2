// The template check: what a developer's template may contain, and where a refusal points.
import { describe, expect, it } from "vitest";
import { checkTemplate, MAX_TEMPLATE_BYTES, type TemplateSource } from "../../src/mail/templates/check.ts";
import { renderTemplate } from "../../src/mail/templates/render.ts";
import type { TemplateView } from "../../src/mail/templates/variables.ts";

const ok: TemplateSource = {
  subject: "Your {{appName}} code: {{code}}",
  html: '<p>{{code}}</p>\n<p><a href="{{link}}">Sign in</a></p>',
  text: "{{code}}\n{{link}}\n",
};

const first = (source: Partial<TemplateSource>) => checkTemplate({ ...ok, ...source })[0];

describe("a template is refused naming the field and the line", () => {
  it("accepts the documented variables, sections over them, and comments", () => {
    expect(
      checkTemplate({
        ...ok,
        html: '{{! a comment }}<html lang="{{locale}}">{{#logoUrl}}<img src="{{logoUrl}}" alt="">{{/logoUrl}}{{^footer}}no footer{{/footer}}\n{{code}} {{expiresIn}} {{expiresInMinutes}} {{recipient}} {{requestIp}} {{accentColor}} {{accentTextColor}}</html>',
      }),
    ).toEqual([]);
  });

  it("an unknown variable, at its line and column", () => {
    expect(first({ html: "<p>Hello</p>\n<p>{{code}}</p>\n  <p>{{userName}}</p>" })).toMatchObject({
      code: "unknown_variable",
      field: "html",
      line: 3,
      column: 6,
      message: expect.stringMatching(/^html line 3, column 6: \{\{userName\}\} is not a template variable/),
    });
    expect(first({ subject: "Hi {{ first.name }}" })).toMatchObject({
      code: "unknown_variable",
      field: "subject",
      line: 1,
      column: 4,
    });
  });

  it("names that would reach JavaScript (constructor, a lambda section) are unknown variables", () => {
    expect(first({ text: "{{#constructor}}x{{/constructor}} {{code}}" })).toMatchObject({
      code: "unknown_variable",
      field: "text",
    });
    expect(first({ html: "{{code}} {{__proto__}}" })).toMatchObject({ code: "unknown_variable" });
  });

  it("missing both the code and the link, in the HTML or the text part", () => {
    expect(first({ html: "<p>Welcome to {{appName}}</p>" })).toMatchObject({
      code: "missing_code_and_link",
      field: "html",
      line: null,
    });
    expect(first({ text: "Welcome" })).toMatchObject({ code: "missing_code_and_link", field: "text" });
    // A code that shows only when a logo is set does not count.
    expect(first({ html: "{{#logoUrl}}{{code}}{{/logoUrl}}" })).toMatchObject({
      code: "missing_code_and_link",
    });
    // The link alone is enough, and the text part may be left to be derived.
    expect(checkTemplate({ ...ok, html: '<a href="{{link}}">Sign in</a>', text: null })).toEqual([]);
  });

  it("over 100 KB, at the line where it passes the limit", () => {
    const line = `<p>${"x".repeat(1000)}</p>\n`;
    const html = `{{code}}\n${line.repeat(120)}`;
    const problem = first({ html });
    expect(problem).toMatchObject({ code: "template_too_large", field: "html" });
    // 1 line of "{{code}}" (9 bytes), then 1,008-byte lines: the limit falls inside line 102.
    expect(problem!.line).toBe(1 + Math.ceil((MAX_TEMPLATE_BYTES - 9) / 1008));
    expect(problem!.message).toMatch(/^html line \d+: the html part is larger than 100 KB$/);
    // Bytes, not characters: 40,000 three-byte characters are 120 KB.
    expect(first({ text: `{{code}} ${"€".repeat(40_000)}` })).toMatchObject({
      code: "template_too_large",
      field: "text",
      line: 1,
    });
  });

  it("syntax errors, partials, delimiter changes and unescaped HTML", () => {
    expect(first({ html: "{{code}}\n<p>{{appName</p>" })).toMatchObject({ code: "template_syntax", line: 2 });
    expect(first({ html: "{{code}}\n{{#footer}}\n<p>x</p>" })).toMatchObject({
      code: "template_syntax",
      message: expect.stringContaining("{{#footer}} is not closed"),
    });
    expect(first({ html: "{{code}}{{/footer}}" })).toMatchObject({
      code: "template_syntax",
      line: 1,
      column: 9,
    });
    expect(first({ html: "{{code}}{{> header}}" })).toMatchObject({ code: "partial_not_allowed", column: 9 });
    expect(first({ html: "{{code}}{{=<% %>=}}<% link %>" })).toMatchObject({
      code: "delimiter_change_not_allowed",
    });
    expect(first({ html: "{{{appName}}} {{code}}" })).toMatchObject({
      code: "unescaped_variable",
      column: 1,
    });
    expect(first({ html: "{{& appName}} {{code}}" })).toMatchObject({ code: "unescaped_variable" });
    // In the text part there is nothing to escape: triple braces are allowed.
    expect(checkTemplate({ ...ok, text: "{{{link}}} {{code}}" })).toEqual([]);
  });

  it("a variable as an unquoted attribute value (it could add attributes), but not an = in text", () => {
    expect(first({ html: "{{code}} <img alt={{appName}} src=x>" })).toMatchObject({
      code: "unquoted_attribute",
      column: 19,
    });
    expect(checkTemplate({ ...ok, html: "<p>Your code = {{code}}</p>" })).toEqual([]);
  });

  it("a subject of more than one line, control characters, empty parts", () => {
    expect(first({ subject: "Hello\r\nBcc: x@example.com" })).toMatchObject({
      code: "subject_not_one_line",
      column: 6,
    });
    expect(first({ html: "{{code}}\u0000" })).toMatchObject({ code: "control_character", column: 9 });
    expect(first({ subject: "  " })).toMatchObject({ code: "template_empty", field: "subject" });
    expect(first({ html: "" })).toMatchObject({ code: "template_empty", field: "html" });
  });

  it("lists every problem, bounded, and stays fast on a large broken template", () => {
    const html = `{{code}}${"<p>{{nope}}</p>\n".repeat(6000)}`;
    const started = performance.now();
    const problems = checkTemplate({ ...ok, html });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(problems.length).toBe(50);
    expect(problems.every((p) => p.code === "unknown_variable")).toBe(true);
  });
});

describe("rendering never runs anything from the view", () => {
  it("fills only own values: a template cannot reach Object's prototype", () => {
    const view = { code: "123456", link: "https://x.example/?t=1" } as unknown as TemplateView;
    // Unchecked on purpose: even a template that slipped past the check cannot call into the view.
    const email = renderTemplate(
      { subject: "{{constructor}}{{code}}", html: "{{#constructor}}x{{/constructor}}{{code}}", text: null },
      view,
    );
    expect(email.subject).toBe("123456");
    expect(email.html).toBe("123456");
  });
});
