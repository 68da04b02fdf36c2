import { z } from "zod";

/** An email address as people type it: trimmed, at most 254 characters, IDN domains allowed. */
export const emailSchema = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email({ pattern: z.regexes.unicodeEmail, message: "must be a valid email address" }));

export const idParam = (name: string) => z.strictObject({ [name]: z.string().min(1).max(64) });

export const problemSchema = z.object({
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
