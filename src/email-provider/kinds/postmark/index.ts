import { z } from "zod";
import { commonFields } from "../../model.ts";
import { keyedApiKind, operatorOf } from "../email-api/kind.ts";
import { emailApiTransport, endpointOf } from "../email-api/transport.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import { postmarkApi } from "./api.ts";
import { type PostmarkOperatorSettings, postmarkOperatorSettings } from "./operator-settings.ts";
import { interpretPostmarkReply } from "./replies.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const postmarkBody = z.strictObject({
  type: z.literal("postmark"),
  ...commonFields,
  serverToken: z
    .string()
    .trim()
    // POSTMARK_API_TEST is Postmark's test token: requests are checked, nothing is sent (https://postmarkapp.com/developer/api/overview#authentication).
    .refine((token) => GUID.test(token) || token === "POSTMARK_API_TEST", {
      message: "must be a Postmark Server API token, a GUID such as 0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f",
    })
    .optional(),
  messageStream: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a message stream's ID, such as outbound")
    .optional(),
});
/** `laneKey` is never part of a request: `prepare` sets it from the token (see accountFingerprint). */
export type PostmarkBody = z.infer<typeof postmarkBody> & { laneKey?: string };

export interface PostmarkSettings {
  messageStream: string;
  /** The server's lane: a fingerprint of the server token, never the token. */
  laneKey?: string | undefined;
}

const viewSchema = z.object({ messageStream: z.string(), serverTokenSet: z.boolean() });

const fields: FormField[] = [
  {
    name: "serverToken",
    label: "Server API token",
    input: "password",
    secret: true,
    required: true,
    autocomplete: "new-password",
    setFlag: "serverTokenSet",
    placeholder: "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f",
    help: "Postmark → Servers → your server → API Tokens: the Server API token (an account token is not needed and is refused). The sender email must be a confirmed sender signature or on a verified domain of the account. Postern seals the token and never shows it again.",
  },
  {
    name: "messageStream",
    label: "Message stream",
    input: "text",
    required: false,
    default: "outbound",
    placeholder: "outbound",
    autocomplete: "off",
    help: "The ID of a transactional stream of that server (Servers → your server → Message Streams); outbound is the default one.",
  },
];

/** Postmark's Email API (https://postmarkapp.com/developer/api/email-api). */
export const postmark: ProviderKind<PostmarkBody, PostmarkSettings> = {
  ...keyedApiKind<"serverToken", PostmarkBody, PostmarkSettings, PostmarkOperatorSettings>({
    id: "postmark",
    vendor: "Postmark",
    secret: "serverToken",
    laneLimits: (operator) => ({
      maxConnections: operator.maxConcurrent,
      messagesPerMinute: operator.messagesPerMinute,
    }),
    interpret: (reply, settings, senderEmail) =>
      interpretPostmarkReply(reply, { senderEmail, messageStream: settings.messageStream }),
    view: (settings) => ({ messageStream: settings.messageStream }),
  }),
  bodySchema: postmarkBody,
  viewSchema,
  form: {
    label: "Postmark",
    description: "Postmark's Email API over HTTPS, with a server token and a transactional message stream.",
    fields,
  },
  settingsOf: (body) => ({ messageStream: body.messageStream ?? "outbound", laneKey: body.laneKey }),
  // The token only ever goes to the operator's Postmark API; the stream is a field of each request.
  destinationChanged: () => false,
  auditedFields: ["messageStream"],
  operatorSettings: postmarkOperatorSettings,
  operatorEndpoints: (operator) => [endpointOf((operator as PostmarkOperatorSettings).apiUrl)],
  open(provider, env) {
    return emailApiTransport(
      postmarkApi({
        baseUrl: operatorOf<PostmarkOperatorSettings>(env, "postmark").apiUrl,
        serverToken: provider.secrets.serverToken!,
        senderEmail: provider.senderEmail,
        messageStream: provider.settings.messageStream,
        now: env.now,
      }),
      provider.gate,
    );
  },
};
