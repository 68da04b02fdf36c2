import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import Mustache from "mustache";
import { boundedCache } from "../../bounded-cache.ts";
import { escapeHtml } from "../../html-escape.ts";
import type { TemplateSource } from "./check.ts";
import type { TemplateVariable, TemplateView } from "./variables.ts";

/**
 * juice and html-to-text (with the HTML parsers under them) load with the first email rendered rather
 * than at start, where they were a tenth of every start-up; rendering stays synchronous.
 */
const require = createRequire(import.meta.url);
let libraries: { juice: typeof import("juice"); htmlToText: typeof import("html-to-text") } | undefined;
function renderLibraries() {
  libraries ??= { juice: require("juice"), htmlToText: require("html-to-text") };
  return libraries;
}

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

/** Parsed templates kept by source text, a bounded few: parsing is most of what filling one costs. */
const writer = new Mustache.Writer();
// mustache's own cache (Writer.templateCache, missing from its types) never forgets a template.
(writer as unknown as { templateCache: ReturnType<typeof boundedCache> }).templateCache = boundedCache(128);

function fill(source: string, view: TemplateView, escapeValue: (value: unknown) => string): string {
  // A view without a prototype resolves only the documented names, never `constructor` or the like
  // (which mustache would call as a lambda); no partials are passed, so none can be included.
  const values = Object.assign(Object.create(null) as object, view);
  return writer.render(source, values, {}, { escape: escapeValue });
}

/**
 * The variables that change from one email to the next; the rest (the app's name and branding, the
 * locale and its words) repeat for every email of an app, and so does everything juice does with them.
 */
const PER_EMAIL = ["code", "link", "recipient", "requestIp"] as const satisfies readonly TemplateVariable[];
/** Stands in for a per-email value while the HTML is inlined: letters and digits, which juice leaves as they are. */
const MARK = `pstrn${randomBytes(8).toString("hex")}`;
const MARKS = new RegExp(`${MARK}(\\d)z`, "g");

/**
 * Inlined HTML with marks where the per-email values go, by a digest of the template, the app-level
 * values and which values are empty: one entry per app and language in use, bounded in number and size.
 */
const inlined = boundedCache<string>(2048, { maxWeight: 8 * 2 ** 20, weigh: (html) => html.length });

/**
 * The HTML with its `<style>` rules inlined. juice parses the whole document, which costs milliseconds,
 * so it runs once per template and app: on the HTML filled with marks for the per-email values (an
 * empty value stays empty, so sections behave as with the real one), and each email only replaces
 * the marks with its escaped values.
 */
function inlinedHtml(source: string, view: TemplateView): string {
  const marked = { ...view };
  PER_EMAIL.forEach((name, i) => {
    if (view[name] !== "") marked[name] = `${MARK}${i}z`;
  });
  const key = createHash("sha256")
    .update(JSON.stringify([source, marked]))
    .digest("base64");
  let html = inlined.get(key);
  if (html === undefined) {
    html = renderLibraries().juice(fill(source, marked, escapeVariable));
    inlined.set(key, html);
  }
  return html.replace(MARKS, (_, i: string) => escapeVariable(view[PER_EMAIL[Number(i)]!]));
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
  return renderLibraries().htmlToText.convert(html, {
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
  const html = inlinedHtml(source.html, view);
  const text = source.text === null ? textFromHtml(html) : fill(source.text, view, asIs);
  return {
    subject: oneLine(fill(source.subject, view, asIs)),
    html,
    text: text.replace(/\r\n?/g, "\n"),
  };
}
