import { forwardRef, type ReactNode, useId, useImperativeHandle, useRef } from "react";
import type { TemplateProblem } from "../../api/types.ts";
import "./code-editor.css";

export interface CodeEditorHandle {
  /** Focuses the editor with the caret at the start of `line` (and `column`), scrolled into view. */
  goTo(line: number, column?: number | null): void;
}

/**
 * A plain textarea (so the browser's own editing, undo and accessibility work) with line numbers
 * beside it; lines with a problem are marked in the gutter, and the problems are listed under it
 * with a button that puts the caret on their line. Tab leaves the field, as in any form.
 */
export const CodeEditor = forwardRef<
  CodeEditorHandle,
  {
    label: ReactNode;
    hint?: ReactNode;
    value: string;
    onChange(value: string): void;
    problems: TemplateProblem[];
    disabled?: boolean;
    rows?: number;
  }
>(function CodeEditor({ label, hint, value, onChange, problems, disabled, rows = 18 }, ref) {
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = value.split("\n").length;
  const problemLines = new Set(problems.flatMap((p) => (p.line ? [p.line] : [])));

  const goTo = (line: number, column?: number | null) => {
    const el = textarea.current;
    if (!el) return;
    const lines = el.value.split("\n");
    const start =
      lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + Math.max(0, (column ?? 1) - 1);
    el.focus();
    el.setSelectionRange(start, start);
    // Put the line near the top of the box, where a reader looks.
    const lineHeight = Number.parseFloat(getComputedStyle(el).lineHeight) || 20;
    el.scrollTop = Math.max(0, (line - 3) * lineHeight);
  };
  useImperativeHandle(ref, () => ({ goTo }));

  return (
    <div className={`field code-field${problems.length > 0 ? " field-invalid" : ""}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <div className="code-editor">
        <div className="code-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, i) => i + 1).map((line) => (
            <div
              key={line}
              className={problemLines.has(line) ? "code-gutter-line code-gutter-error" : "code-gutter-line"}
            >
              {line}
            </div>
          ))}
        </div>
        <textarea
          ref={textarea}
          id={id}
          className="code-input"
          value={value}
          rows={rows}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          disabled={disabled}
          aria-invalid={problems.length > 0 ? true : undefined}
          aria-describedby={
            [hint ? `${id}-hint` : "", problems.length > 0 ? `${id}-problems` : ""]
              .filter(Boolean)
              .join(" ") || undefined
          }
          onChange={(event) => onChange(event.target.value)}
          onScroll={(event) => {
            if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
          }}
        />
      </div>
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <ProblemList id={`${id}-problems`} problems={problems} onGoTo={goTo} />
    </div>
  );
});

/** The problems of one part, each with the way to its line. */
export function ProblemList({
  id,
  problems,
  onGoTo,
}: {
  id: string;
  problems: TemplateProblem[];
  onGoTo?: (line: number, column?: number | null) => void;
}) {
  if (problems.length === 0) return null;
  return (
    // The alert wraps the list: role="alert" on the <ul> itself would take away its list semantics.
    <div id={id} role="alert">
      <ul className="template-problems">
        {problems.map((problem, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: problems are a fresh list on every check.
          <li key={i} className="template-problem">
            <span>{withoutPlace(problem)}</span>
            {problem.line && onGoTo && (
              <button
                type="button"
                className="btn btn-link"
                onClick={() => onGoTo(problem.line!, problem.column)}
              >
                Line {problem.line}
                {problem.column ? `, column ${problem.column}` : ""}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** "html line 3, column 5: {{x}} is not…" → "{{x}} is not…": the place is the button beside it. */
function withoutPlace(problem: TemplateProblem): string {
  const text = problem.message.replace(/^(subject|html|text)( line \d+(, column \d+)?)?: /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
