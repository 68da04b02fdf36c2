import { z } from "zod";
import type { OperatorSettings } from "../kind.ts";

/** Mailgun's API hosts: a domain lives in one region and is only known there (https://documentation.mailgun.com/docs/mailgun/api-reference/#base-url). */
export const MAILGUN_REGION_URLS = {
  us: "https://api.mailgun.net",
  eu: "https://api.eu.mailgun.net",
} as const;

export interface MailgunOperatorSettings {
  /** POSTERN_MAILGUN_API_URL: one base URL for both regions (a local fake, a proxy); else Mailgun's per region. */
  apiUrl: string | undefined;
  /** Sends a minute per (API key, domain), held by every Postern process together. */
  messagesPerMinute: number;
}

const schema = z.object({
  POSTERN_MAILGUN_API_URL: z
    .url({ protocol: /^https$/, error: "must be an https:// URL such as https://api.eu.mailgun.net" })
    .optional(),
  // Mailgun publishes no fixed numbers: its limits depend on the plan and the account's history, and it
  // answers 429 when one is reached (https://documentation.mailgun.com/docs/mailgun/api-reference/#api-responses).
  POSTERN_MAILGUN_MESSAGES_PER_MINUTE: z.coerce.number().int().positive().default(300),
});

export const mailgunOperatorSettings: OperatorSettings<MailgunOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return {
      apiUrl: e.POSTERN_MAILGUN_API_URL?.replace(/\/$/, ""),
      messagesPerMinute: e.POSTERN_MAILGUN_MESSAGES_PER_MINUTE,
    };
  },
};
