import { z } from "zod";
import { emailAddressSchema } from "../email-address/email-address.ts";

/**
 * Fields every provider kind has. The sender name is the display name on the From line; header
 * injection is impossible because CR, LF and NUL are refused here and nodemailer builds the header.
 */
export const commonFields = {
  senderEmail: emailAddressSchema,
  senderName: z
    .string()
    // Checked before trimming: a leading CR/LF is refused, not silently cut off.
    .regex(/^[^\r\n\0\p{Cc}]*$/u, "must not contain line breaks, NUL or other control characters")
    .trim()
    .max(100, "must be at most 100 characters")
    .nullable()
    .optional(),
  fallbackToDefault: z.boolean().optional(),
};

export type Health = { status: "unknown" | "working" | "failing"; reason: string | null; at: string | null };

/** The display name on the From line: the sender name, or the sender email when there is none. */
export const effectiveSenderName = (senderEmail: string, senderName: string | null | undefined) =>
  senderName && senderName.length > 0 ? senderName : senderEmail;
