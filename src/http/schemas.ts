import { z } from "zod";
import { LOGIN_CODE_PATTERN } from "../login/code-format.ts";

/** Identifiers as this API issues them (`app_…`, `lgn_…`): anything else is refused before it reaches SQL. */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "is not a valid id");

/** Human text such as names: trimmed, bounded, without control characters (which also keeps NUL out of PostgreSQL). */
export const textSchema = (max: number) =>
  z
    .string()
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`);

/** Problem details keep their extension members (errors[], attemptsRemaining, …) in responses. */
export const problemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  code: z.string(),
  detail: z.string(),
  field: z.string().optional(),
});

/** Error responses every route may give, for the OpenAPI document. */
export const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  429: problemSchema,
};

/** The emailed code, with any spaces or dashes a paste brings; routes pass it through `normalizeCode`. */
export const loginCodeSchema = z
  .string()
  .max(64)
  .regex(LOGIN_CODE_PATTERN, "must be the 6-digit code from the email");
