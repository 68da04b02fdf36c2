import { z } from "zod";
import { httpsBaseUrl, positiveInt } from "../email-api/account.ts";
import type { OperatorSettings } from "../kind.ts";

/** Where SendGrid is for this operator (the local fakes in tests) and how hard one API account is used. */
export interface SendgridOperatorSettings {
  apiUrl: string;
  /** Data residency in the EU: the subuser's API lives on another host (https://www.twilio.com/docs/sendgrid/for-developers/sending-email/data-residency-eu). */
  euApiUrl: string;
  maxConcurrent: number;
  messagesPerMinute: number;
}

const schema = z.object({
  POSTERN_SENDGRID_API_URL: httpsBaseUrl("https://api.sendgrid.com").default("https://api.sendgrid.com"),
  POSTERN_SENDGRID_EU_API_URL: httpsBaseUrl("https://api.eu.sendgrid.com").default(
    "https://api.eu.sendgrid.com",
  ),
  // SendGrid publishes no number for /v3/mail/send: it answers 429 with X-RateLimit-Reset when one is
  // reached (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits),
  // which pauses the account's lane. These are Postern's own bounds per API key, across all processes.
  POSTERN_SENDGRID_MAX_CONCURRENT: positiveInt.default(10),
  POSTERN_SENDGRID_MESSAGES_PER_MINUTE: positiveInt.default(3000),
});

export const sendgridOperatorSettings: OperatorSettings<SendgridOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return {
      apiUrl: e.POSTERN_SENDGRID_API_URL,
      euApiUrl: e.POSTERN_SENDGRID_EU_API_URL,
      maxConcurrent: e.POSTERN_SENDGRID_MAX_CONCURRENT,
      messagesPerMinute: e.POSTERN_SENDGRID_MESSAGES_PER_MINUTE,
    };
  },
};
