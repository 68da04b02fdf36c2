import { z } from "zod";
import { commonFields } from "../../model.ts";
import { apiKeyField, keyedApiKind, operatorOf } from "../email-api/kind.ts";
import { emailApiTransport, endpointOf } from "../email-api/transport.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import { sendgridApi } from "./api.ts";
import { type SendgridOperatorSettings, sendgridOperatorSettings } from "./operator-settings.ts";
import { interpretSendgridReply } from "./replies.ts";

export const sendgridBody = z.strictObject({
  type: z.literal("sendgrid"),
  ...commonFields,
  apiKey: z
    .string()
    .trim()
    .max(200, "must be at most 200 characters")
    .regex(/^SG\.[A-Za-z0-9_.-]+$/, "must be a SendGrid API key: it starts with SG.")
    .optional(),
  euDataResidency: z.boolean().optional(),
});
/** `laneKey` is never part of a request: `prepare` sets it from the key (see accountFingerprint). */
export type SendgridBody = z.infer<typeof sendgridBody> & { laneKey?: string };

export interface SendgridSettings {
  euDataResidency: boolean;
  /** The account's lane: a fingerprint of the API key, never the key. */
  laneKey?: string | undefined;
}

const viewSchema = z.object({ euDataResidency: z.boolean(), apiKeySet: z.boolean() });

const fields: FormField[] = [
  apiKeyField(
    "SendGrid console → Settings → API Keys → Create API Key: Restricted Access with Mail Send: Full Access is all Postern needs (add Sender Authentication: Read Access to let Test connection check the sender). SendGrid shows the key once; Postern seals it and never shows it again.",
    "SG.…",
  ),
  {
    name: "euDataResidency",
    label: "EU data residency",
    input: "checkbox",
    required: false,
    default: false,
    destination: true,
    help: "On for an EU subuser (its data stays in the EU, its API is api.eu.sendgrid.com): its key works only there.",
  },
];

const baseUrlOf = (operator: SendgridOperatorSettings, settings: SendgridSettings) =>
  settings.euDataResidency ? operator.euApiUrl : operator.apiUrl;

/** Twilio SendGrid's v3 Mail Send API (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send). */
export const sendgrid: ProviderKind<SendgridBody, SendgridSettings> = {
  ...keyedApiKind<"apiKey", SendgridBody, SendgridSettings, SendgridOperatorSettings>({
    id: "sendgrid",
    vendor: "SendGrid",
    secret: "apiKey",
    laneLimits: (operator) => ({
      maxConnections: operator.maxConcurrent,
      messagesPerMinute: operator.messagesPerMinute,
    }),
    interpret: (reply, settings, senderEmail) =>
      interpretSendgridReply(reply, { senderEmail, euDataResidency: settings.euDataResidency }),
    view: (settings) => ({ euDataResidency: settings.euDataResidency }),
  }),
  bodySchema: sendgridBody,
  viewSchema,
  form: {
    label: "SendGrid",
    description:
      "Twilio SendGrid's Mail Send API over HTTPS, with an API key: for hosts that block outbound SMTP.",
    fields,
  },
  settingsOf: (body) => ({ euDataResidency: body.euDataResidency ?? false, laneKey: body.laneKey }),
  // The key goes to another host (the EU API) when residency changes.
  destinationChanged: (before, after) => before.euDataResidency !== after.euDataResidency,
  auditedFields: ["euDataResidency"],
  operatorSettings: sendgridOperatorSettings,
  operatorEndpoints: (operator) => {
    const { apiUrl, euApiUrl } = operator as SendgridOperatorSettings;
    return [endpointOf(apiUrl), endpointOf(euApiUrl)];
  },
  open(provider, env) {
    const operator = operatorOf<SendgridOperatorSettings>(env, "sendgrid");
    return emailApiTransport(
      sendgridApi({
        baseUrl: baseUrlOf(operator, provider.settings),
        apiKey: provider.secrets.apiKey!,
        senderEmail: provider.senderEmail,
        euDataResidency: provider.settings.euDataResidency,
        maxConcurrent: operator.maxConcurrent,
        now: env.now,
      }),
      provider.gate,
    );
  },
};
