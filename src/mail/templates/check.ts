import Mustache from "mustache";
import { CREDENTIAL_VARIABLES, isTemplateVariable, TEMPLATE_VARIABLES } from "./variables.ts";

/** The parts of a login email template, as a developer writes them; `text: null` derives it from the HTML. */
export interface TemplateSource {
  subject: string;
  html: string;
  text: string | null;
}

export type TemplatePart = keyof TemplateSource;

/** What is wrong with a template, and where: `line` and `column` count from 1. */
export interface TemplateProblem {
  code: string;
  field: TemplatePart;
  line: number | null;
  column: number | null;
  message: string;
}

/** Per part, in UTF-8 bytes. */
export const MAX_TEMPLATE_BYTES = 100 * 1024;

const VARIABLE_LIST = Object.keys(TEMPLATE_VARIABLES).join(", ");

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

/** Reports at most this many problems per part: enough to fix, bounded however broken the input. */
const MAX_PROBLEMS = 50;

/**
 * Positions in one part, computed in one pass so that checking stays linear in the template's size:
 * line starts (for line and column) and, per offset, whether it is inside an HTML tag and what the
 * previous non-space character is (for unquoted attributes).
 */
class SourceIndex {
  private readonly lineStarts: number[] = [0];
  private readonly insideTag: Uint8Array;
  private readonly previousChar: Int32Array;

  constructor(private readonly source: string) {
    this.insideTag = new Uint8Array(source.length + 1);
    this.previousChar = new Int32Array(source.length + 1).fill(-1);
    let inside = 0;
    let previous = -1;
    for (let i = 0; i < source.length; i++) {
      this.insideTag[i] = inside;
      this.previousChar[i] = previous;
      const c = source.charCodeAt(i);
      if (c === 10) this.lineStarts.push(i + 1);
      if (c === 60)
        inside = 1; // <
      else if (c === 62) inside = 0; // >
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) previous = c;
    }
    this.insideTag[source.length] = inside;
    this.previousChar[source.length] = previous;
  }

  position(index: number): { line: number; column: number } {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= index) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: index - this.lineStarts[low]! + 1 };
  }

  /** Inside a tag (after "<", before ">") and right after "=": an attribute value without quotes. */
  inUnquotedAttribute(index: number): boolean {
    return this.insideTag[index] === 1 && this.previousChar[index] === 61; // =
  }

  get length(): number {
    return this.source.length;
  }
}

/** The line on which the part grows past MAX_TEMPLATE_BYTES. */
function lineOverLimit(source: string): number {
  let bytes = 0;
  const lines = source.split("\n");
  for (const [i, line] of lines.entries()) {
    bytes += Buffer.byteLength(line, "utf8") + 1;
    if (bytes > MAX_TEMPLATE_BYTES) return i + 1;
  }
  return lines.length;
}

/** mustache.js reports "Unclosed tag at 17": the same in words, at the offset it gives. */
function syntaxProblem(field: TemplatePart, index: SourceIndex, error: Error): TemplateProblem {
  const at = Number(/ at (\d+)\s*$/.exec(error.message)?.[1] ?? 0);
  const { line, column } = index.position(Math.min(at, index.length));
  const section = /section "([^"]*)"/.exec(error.message)?.[1];
  let message = "the template cannot be read";
  if (error.message.startsWith("Unclosed tag")) message = "a {{ tag is not closed with }}";
  else if (error.message.startsWith("Unopened section"))
    message = `{{/${section}}} closes a section that was not opened`;
  else if (error.message.startsWith("Unclosed section"))
    message = `the section {{#${section}}} is not closed with {{/${section}}}`;
  return problem("template_syntax", field, line, column, message);
}

function problem(
  code: string,
  field: TemplatePart,
  line: number | null,
  column: number | null,
  message: string,
): TemplateProblem {
  const where = line === null ? field : `${field} line ${line}${column === null ? "" : `, column ${column}`}`;
  return { code, field, line, column, message: `${where}: ${message}` };
}

function checkPart(field: TemplatePart, source: string): TemplateProblem[] {
  if (Buffer.byteLength(source, "utf8") > MAX_TEMPLATE_BYTES) {
    return [
      problem(
        "template_too_large",
        field,
        lineOverLimit(source),
        null,
        `the ${field} part is larger than ${MAX_TEMPLATE_BYTES / 1024} KB`,
      ),
    ];
  }
  const problems: TemplateProblem[] = [];
  const index = new SourceIndex(source);
  const at = (code: string, offset: number, message: string) => {
    if (problems.length >= MAX_PROBLEMS) return;
    const { line, column } = index.position(offset);
    problems.push(problem(code, field, line, column, message));
  };
  // The first control character is enough to point at: the part cannot be stored as it is.
  const control = /[\p{Cc}]/u.exec(source.replace(/[\n\t\r]/g, " "));
  if (control) at("control_character", control.index, "contains a control character (such as NUL)");
  if (source.trim() === "") return [problem("template_empty", field, 1, 1, "is empty")];
  if (field === "subject") {
    const newline = /[\r\n]/.exec(source);
    if (newline) at("subject_not_one_line", newline.index, "the subject must be one line");
  }

  let tokens: Token[];
  try {
    // A writer of its own: the shared one caches every template it ever parsed, without bound.
    tokens = new Mustache.Writer().parse(source) as Token[];
  } catch (err) {
    return [...problems, syntaxProblem(field, index, err as Error)];
  }

  let credential = false;
  const walk = (list: Token[], depth: number) => {
    for (const [type, value, start, , children] of list) {
      if (type === "text" || type === "!") continue;
      if (type === ">") {
        at(
          "partial_not_allowed",
          start,
          `{{> ${value}}} includes a partial; templates cannot include others`,
        );
        continue;
      }
      if (type === "=") {
        at("delimiter_change_not_allowed", start, "changing the {{ }} delimiters is not supported");
        continue;
      }
      if (!isTemplateVariable(value)) {
        at(
          "unknown_variable",
          start,
          `{{${value}}} is not a template variable. The variables are: ${VARIABLE_LIST}`,
        );
      } else if (type === "&" && field === "html") {
        at(
          "unescaped_variable",
          start,
          `{{{${value}}}} (or {{& ${value}}}) would put ${value} into the HTML unescaped; write {{${value}}}`,
        );
      } else if (type === "name" && field === "html" && index.inUnquotedAttribute(start)) {
        at("unquoted_attribute", start, `put {{${value}}} inside quotes: attribute="{{${value}}}"`);
      }
      if ((type === "name" || type === "&") && depth === 0 && CREDENTIAL_VARIABLES.includes(value as never))
        credential = true;
      if (children) walk(children, depth + 1);
    }
  };
  walk(tokens, 0);
  if (field !== "subject" && !credential) {
    problems.push(
      problem(
        "missing_code_and_link",
        field,
        null,
        null,
        "must contain {{code}} or {{link}} (outside any section), or nobody could sign in with this email",
      ),
    );
  }
  return problems;
}

/** Every problem of a template, part by part; an empty list means it can be saved and sent. */
export function checkTemplate(source: TemplateSource): TemplateProblem[] {
  return [
    ...checkPart("subject", source.subject),
    ...checkPart("html", source.html),
    ...(source.text === null ? [] : checkPart("text", source.text)),
  ];
}
