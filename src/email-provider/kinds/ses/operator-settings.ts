import { z } from "zod";
import type { OperatorSettings } from "../kind.ts";

/** How this operator reaches Amazon SES and how hard Postern may use each account. */
export interface SesOperatorSettings {
  /** POSTERN_SES_API_URL: one endpoint for every region (a local fake, a VPC endpoint); else SES's regional one. */
  apiUrl: string | undefined;
  /** Sends per second per account and region, held by every Postern process together. */
  messagesPerSecond: number;
  /** Whether providers may use the Postern process's own AWS credentials (its role). */
  environmentCredentials: boolean;
}

const schema = z.object({
  POSTERN_SES_API_URL: z
    .url({
      protocol: /^https$/,
      error: "must be an https:// URL such as https://email.eu-west-1.amazonaws.com",
    })
    .optional(),
  // SES's maximum sending rate is 1 message a second in the sandbox and starts at 14 with production access
  // (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html): the lowest is the safe default.
  POSTERN_SES_MESSAGES_PER_SECOND: z.coerce.number().positive().max(10_000).default(1),
  // Off by default: with it, every unlocked workspace could send from the identities of the operator's own
  // AWS account (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html).
  POSTERN_SES_ALLOW_ENVIRONMENT_CREDENTIALS: z.stringbool().default(false),
});

export const sesOperatorSettings: OperatorSettings<SesOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return {
      apiUrl: e.POSTERN_SES_API_URL?.replace(/\/$/, ""),
      messagesPerSecond: e.POSTERN_SES_MESSAGES_PER_SECOND,
      environmentCredentials: e.POSTERN_SES_ALLOW_ENVIRONMENT_CREDENTIALS,
    };
  },
};
