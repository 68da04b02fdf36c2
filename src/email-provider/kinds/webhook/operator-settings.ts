import { z } from "zod";
import type { OperatorSettings } from "../kind.ts";

/** How long Postern waits for a developer's webhook endpoint. */
export interface WebhookOperatorSettings {
  timeoutMs: number;
}

const schema = z.object({
  // An endpoint only has to accept the email (and send it from its own queue): 10 s keeps a stuck one
  // from holding a worker's slot for long, as SMTP_TIMEOUTS does for a greeting.
  POSTERN_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
});

export const webhookOperatorSettings: OperatorSettings<WebhookOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    return { timeoutMs: e.POSTERN_WEBHOOK_TIMEOUT_SECONDS * 1000 };
  },
};
