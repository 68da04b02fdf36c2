import { z } from "zod";
import { httpsBaseUrl, positiveInt } from "../email-api/account.ts";
import type { OperatorSettings } from "../kind.ts";

/** Where Postmark is for this operator (the local fakes in tests) and how hard one server token is used. */
export interface PostmarkOperatorSettings {
  apiUrl: string;
  maxConcurrent: number;
  messagesPerMinute: number;
}

const schema = z.object({
  POSTERN_POSTMARK_API_URL: httpsBaseUrl("https://api.postmarkapp.com").default(
    "https://api.postmarkapp.com",
  ),
  // Postmark publishes no request rate for its API, only that it answers 429 when one is exceeded
  // (https://postmarkapp.com/developer/api/overview#response-codes): that pauses the token's lane. These are
  // Postern's own bounds per server token, across all processes.
  POSTERN_POSTMARK_MAX_CONCURRENT: positiveInt.default(10),
  POSTERN_POSTMARK_MESSAGES_PER_MINUTE: positiveInt.default(3000),
});

export const postmarkOperatorSettings: OperatorSettings<PostmarkOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return {
      apiUrl: e.POSTERN_POSTMARK_API_URL,
      maxConcurrent: e.POSTERN_POSTMARK_MAX_CONCURRENT,
      messagesPerMinute: e.POSTERN_POSTMARK_MESSAGES_PER_MINUTE,
    };
  },
};
