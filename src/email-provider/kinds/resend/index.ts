import { z } from "zod";
import { commonFields } from "../../model.ts";
import { apiKeyField, keyedApiKind, operatorOf } from "../email-api/kind.ts";
import { emailApiTransport, endpointOf } from "../email-api/transport.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import { resendApi } from "./api.ts";
import { type ResendOperatorSettings, resendOperatorSettings } from "./operator-settings.ts";
import { interpretResendReply } from "./replies.ts";

export const resendBody = z.strictObject({
  type: z.literal("resend"),
  ...commonFields,
  apiKey: z
    .string()
    .trim()
    .max(200, "must be at most 200 characters")
    .regex(/^re_[A-Za-z0-9_-]+$/, "must be a Resend API key: it starts with re_")
    .optional(),
});
/** `laneKey` is never part of a request: `prepare` sets it from the key (see accountFingerprint). */
export type ResendBody = z.infer<typeof resendBody> & { laneKey?: string };

export interface ResendSettings {
  /** The team's lane: a fingerprint of the API key, never the key. */
  laneKey?: string | undefined;
}

const viewSchema = z.object({ apiKeySet: z.boolean() });

const fields: FormField[] = [
  apiKeyField(
    "Resend → API Keys → Create API Key: Sending access, for the sender's domain, is all Postern needs (a Full access key also lets Test connection check that the domain is verified). Resend shows the key once; Postern seals it and never shows it again. Turn off click tracking for the domain: it would rewrite the magic link.",
    "re_…",
  ),
];

/** Resend's Email API (https://resend.com/docs/api-reference/emails/send-email). */
export const resend: ProviderKind<ResendBody, ResendSettings> = {
  ...keyedApiKind<"apiKey", ResendBody, ResendSettings, ResendOperatorSettings>({
    id: "resend",
    vendor: "Resend",
    secret: "apiKey",
    // Resend's limit is per team, all keys together; a team is only known through its key, so the lane is
    // per key (two keys of one team may together exceed it until Resend's 429 pauses each). Concurrency is
    // bounded by the rate: more requests in flight than a second allows only earn 429s.
    laneLimits: ({ requestsPerSecond }) => ({
      maxConnections: requestsPerSecond,
      messagesPerMinute: requestsPerSecond * 60,
      messagesPerSecond: requestsPerSecond,
    }),
    interpret: (reply, _settings, senderEmail) => interpretResendReply(reply, { senderEmail }),
    view: () => ({}),
  }),
  bodySchema: resendBody,
  viewSchema,
  form: {
    label: "Resend",
    description: "Resend's Email API over HTTPS, with an API key and a verified domain.",
    fields,
  },
  settingsOf: (body) => ({ laneKey: body.laneKey }),
  // The key only ever goes to the operator's Resend API.
  destinationChanged: () => false,
  auditedFields: [],
  operatorSettings: resendOperatorSettings,
  operatorEndpoints: (operator) => [endpointOf((operator as ResendOperatorSettings).apiUrl)],
  open(provider, env) {
    const operator = operatorOf<ResendOperatorSettings>(env, "resend");
    return emailApiTransport(
      resendApi({
        baseUrl: operator.apiUrl,
        apiKey: provider.secrets.apiKey!,
        senderEmail: provider.senderEmail,
        requestsPerSecond: operator.requestsPerSecond,
        now: env.now,
      }),
      provider.gate,
    );
  },
};
