import { z } from "zod";

/**
 * How the dashboard renders one field of a kind's form, in the way Logto's connector `formItems` drive
 * its console: the form component knows inputs, not kinds. Field names are the PUT body's.
 */
export const formFieldSchema = z.object({
  name: z.string(),
  label: z.string(),
  help: z.string().optional(),
  input: z
    .enum(["text", "number", "select", "choice", "password", "checkbox", "date", "pem", "certificate"])
    .describe(
      "select: a drop-down; choice: radio buttons with help per option; password: a one-line secret; pem: " +
        "PEM text, pasted or from a file; date: YYYY-MM-DD; certificate: nothing to enter — shows the view's " +
        "`certificate` (PEM to download, thumbprints, expiry)",
    ),
  /** Required when creating (secrets: unless stored and kept). */
  required: z.boolean(),
  secret: z
    .boolean()
    .optional()
    .describe(
      "Write-only: never in a response; left empty, the stored one is kept while no destination changed",
    ),
  placeholder: z.string().optional(),
  autocomplete: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  options: z
    .array(z.object({ value: z.string(), label: z.string(), help: z.string().optional() }))
    .optional(),
  destination: z
    .boolean()
    .optional()
    .describe("A change to this field means the stored secrets must be entered again"),
  setFlag: z
    .string()
    .optional()
    .describe("Secret fields: the view's boolean that says one is stored, e.g. passwordSet"),
  when: z
    .object({ field: z.string(), in: z.array(z.string()) })
    .optional()
    .describe("Shown (and sent) only while another field has one of these values"),
  lowercase: z.boolean().optional().describe("The server stores it lower-cased (compare that way)"),
});
export type FormField = z.infer<typeof formFieldSchema>;
