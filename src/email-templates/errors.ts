import { DomainError } from "../errors.ts";
import type { TemplateProblem } from "../mail/templates/check.ts";

/** Every problem of a template as the API lists it, for an editor to mark each line. */
export const templateProblemList = (problems: TemplateProblem[]) =>
  problems.map((p) => ({ field: p.field, message: p.message, code: p.code, line: p.line, column: p.column }));

/**
 * A template that cannot be saved: the first problem is the error (its code, field, line and column),
 * and `errors` lists every problem so an editor can mark each line.
 */
export function templateInvalid(problems: TemplateProblem[]): DomainError {
  const first = problems[0]!;
  return new DomainError("invalid", first.code, first.message, {
    field: first.field,
    details: {
      line: first.line,
      column: first.column,
      errors: templateProblemList(problems),
    },
  });
}
