import { z } from "zod";
import { httpsBaseUrl, positiveInt } from "../email-api/account.ts";
import type { OperatorSettings } from "../kind.ts";

/** Where Resend is for this operator (the local fakes in tests) and its team's request rate. */
export interface ResendOperatorSettings {
  apiUrl: string;
  requestsPerSecond: number;
}

const schema = z.object({
  POSTERN_RESEND_API_URL: httpsBaseUrl("https://api.resend.com").default("https://api.resend.com"),
  // Resend allows 2 requests a second per team, all of its keys together, unless support raised it
  // (https://resend.com/docs/api-reference/introduction#rate-limit).
  POSTERN_RESEND_REQUESTS_PER_SECOND: positiveInt.default(2),
});

export const resendOperatorSettings: OperatorSettings<ResendOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return { apiUrl: e.POSTERN_RESEND_API_URL, requestsPerSecond: e.POSTERN_RESEND_REQUESTS_PER_SECOND };
  },
};
