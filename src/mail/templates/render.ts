import { convert } from "html-to-text";
import juice from "juice";
import Mustache from "mustache";
import { escapeHtml } from "../../html-escape.ts";
import type { TemplateSource } from "./check.ts";
import type { TemplateView } from "./variables.ts";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * Quotes and angle brackets are enough because every variable sits in text or in a quoted attribute
 * (templates with an unquoted attribute are refused, see check.ts).
 */
const escapeVariable = (value: unknown) => escapeHtml(String(value));
const asIs = (value: unknown) => String(value);

/** The longest subject a mail client shows in full is far shorter; this only bounds the header. */
const MAX_SUBJECT = 500;

function fill(source: string, view: TemplateView, escapeValue: (value: unknown) => string): string {
  // A view without a prototype resolves only the documented names, never `constructor` or the like
  // (which mustache would call as a lambda); no partials are passed, so none can be included.
  const values = Object.assign(Object.create(null) as object, view);
  return new Mustache.Writer().render(source, values, {}, { escape: escapeValue });
}

/** A header is one line: control characters (CR, LF, NUL, tabs) and line separators become spaces. */
function oneLine(subject: string): string {
  return subject
    .replace(/[\p{Cc}\u2028\u2029]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, MAX_SUBJECT);
}

/** The plain-text part of an HTML email, for templates that give only the HTML. */
export function textFromHtml(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: "img", format: "skip" },
      { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
      { selector: "table", format: "block" },
      { selector: "tr", format: "block" },
      { selector: "td", format: "block" },
      // Headings as written: shouting them in capitals is html-to-text's default, not the developer's.
      ...(["h1", "h2", "h3", "h4", "h5", "h6"] as const).map((selector) => ({
        selector,
        options: { uppercase: false },
      })),
    ],
  });
}

/**
 * Renders a checked template (see check.ts): the subject and the text part as they are, the HTML
 * escaped, then with its `<style>` rules inlined for mail clients that ignore style sheets (media
 * queries stay in a `<style>` block for those that read them). No link is rewritten and nothing is added.
 */
export function renderTemplate(source: TemplateSource, view: TemplateView): RenderedEmail {
  const html = juice(fill(source.html, view, escapeVariable));
  const text = source.text === null ? textFromHtml(html) : fill(source.text, view, asIs);
  return {
    subject: oneLine(fill(source.subject, view, asIs)),
    html,
    text: text.replace(/\r\n?/g, "\n"),
  };
}
