import { createHash } from "node:crypto";
import { z } from "zod";
import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import { commonFields } from "../../model.ts";
import { apiKeyField } from "../email-api/kind.ts";
import { endpointOf, explainHttpsFailure } from "../email-api/transport.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import {
  MAILGUN_REGION_URLS,
  type MailgunOperatorSettings,
  mailgunOperatorSettings,
} from "./operator-settings.ts";
import { interpretMailgunReply, type MailgunFixValues, replyFromLine } from "./replies.ts";
import { mailgunTransport } from "./transport.ts";

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const mailgunBody = z.strictObject({
  type: z.literal("mailgun"),
  ...commonFields,
  domain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(DOMAIN, "must be a sending domain such as mg.example.com, as Mailgun lists it"),
  region: z.enum(["us", "eu"]),
  apiKey: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(256, "must be at most 256 characters")
    .regex(/^[\x21-\x7e]+$/, "must be a Mailgun API key: no spaces or line breaks")
    .optional(),
});

/** The body, and the stored key's lane fingerprint that `prepare` carries over when the key is kept. */
export type MailgunBody = z.infer<typeof mailgunBody> & { apiKeyFingerprint?: string | undefined };

export interface MailgunSettings {
  domain: string;
  region: "us" | "eu";
  /** Names the key's lane without the key: a truncated SHA-256 of it (keys are random, ~32 bytes). */
  apiKeyFingerprint: string | null;
}

const viewSchema = z.object({
  domain: z.string(),
  // "us" or "eu". A plain string: the registry merges every kind's view fields by name, and SES's `region`
  // (an AWS region) is one too.
  region: z.string(),
  apiKeySet: z.boolean(),
});

const fields: FormField[] = [
  {
    name: "domain",
    label: "Sending domain",
    input: "text",
    required: true,
    placeholder: "mg.example.com",
    autocomplete: "off",
    lowercase: true,
    help: "As Mailgun → Send → Sending → Domains lists it. The sender email should be an address of this domain.",
  },
  {
    name: "region",
    label: "Region",
    input: "select",
    required: true,
    default: "us",
    destination: true,
    options: [
      { value: "us", label: "US (api.mailgun.net)" },
      { value: "eu", label: "EU (api.eu.mailgun.net)" },
    ],
    help: "The region the domain was created in: Mailgun knows each domain in one region only.",
  },
  apiKeyField(
    "Mailgun → API Security: a private API key, or a sending key of this domain. Write-only: Postern seals it and never shows it again.",
  ),
];

/** Requests at once per key and domain from one process. */
const MAX_CONCURRENT = 8;

const operatorOf = (env: { operator: Record<string, unknown> }) =>
  env.operator.mailgun as MailgunOperatorSettings;

const fingerprintOf = (apiKey: string) =>
  createHash("sha256").update(`postern mailgun lane\0${apiKey}`).digest("hex").slice(0, 16);

const fixValues = (settings: MailgunSettings, senderEmail: string): MailgunFixValues => ({
  senderEmail,
  domain: settings.domain,
  region: settings.region,
});

/** Mailgun's messages API with the raw MIME message, US or EU. */
export const mailgun: ProviderKind<MailgunBody, MailgunSettings> = {
  id: "mailgun",
  match: { type: "mailgun" },
  bodySchema: mailgunBody,
  viewSchema,
  form: {
    label: "Mailgun",
    description: "Mailgun's HTTP API with an API key, in the US or EU region: no SMTP port needed.",
    fields,
  },
  secretFields: ["apiKey"],
  requiredSecrets: () => ["apiKey"],
  // A kept key keeps its lane: the fingerprint is only computed where the key is given.
  prepare: async (body, stored) =>
    body.apiKey === undefined && stored?.apiKeyFingerprint && stored.region === body.region
      ? { body: { ...body, apiKeyFingerprint: stored.apiKeyFingerprint } }
      : { body },
  settingsOf: (body) => ({
    domain: body.domain,
    region: body.region,
    apiKeyFingerprint:
      body.apiKey !== undefined ? fingerprintOf(body.apiKey) : (body.apiKeyFingerprint ?? null),
  }),
  secretsOf: (body) => ({ apiKey: body.apiKey }),
  // The key goes to the region's host; the domain is only a path on it, of the same account.
  destinationChanged: (before, after) => before.region !== after.region,
  auditedFields: ["domain", "region"],
  // The hosts are Mailgun's or the operator's (operatorEndpoints); the domain is checked by the schema.
  validate: async () => [],
  view: (settings, storedSecrets) => ({
    domain: settings.domain,
    region: settings.region,
    apiKeySet: storedSecrets.includes("apiKey"),
  }),
  operatorSettings: mailgunOperatorSettings,
  operatorEndpoints: (operator) => {
    const { apiUrl } = operator as MailgunOperatorSettings;
    return (apiUrl ? [apiUrl] : Object.values(MAILGUN_REGION_URLS)).map(endpointOf);
  },

  open(provider, env) {
    const operator = operatorOf(env);
    return mailgunTransport({
      ...fixValues(provider.settings, provider.senderEmail),
      baseUrl: operator.apiUrl ?? MAILGUN_REGION_URLS[provider.settings.region],
      apiKey: provider.secrets.apiKey ?? "",
      policy: env.policy,
      maxConcurrent: MAX_CONCURRENT,
      onConnection: provider.onConnection,
      now: env.now,
      explain: (error) => mailgunHint(error, fixValues(provider.settings, provider.senderEmail)),
    });
  },

  // Mailgun's limits are per account (and plan); the key names the account only to Mailgun, so the lane is
  // per (key, domain): another tenant naming the same domain with another key gets a lane of its own.
  senderLimits: (settings, _senderEmail, env) => ({
    key: `mailgun:${settings.region}:${settings.domain}:${settings.apiKeyFingerprint ?? "unknown"}`,
    maxConnections: MAX_CONCURRENT,
    messagesPerMinute: operatorOf(env).messagesPerMinute,
  }),
  explain: (error, _step, settings, senderEmail) => mailgunHint(error, fixValues(settings, senderEmail)),
};

function mailgunHint(error: ClassifiedError, values: MailgunFixValues): string | undefined {
  return explainHttpsFailure(error, {
    readReply: replyFromLine,
    interpret: (reply) => interpretMailgunReply(reply, values),
    untrustedHint:
      "Postern does not trust the certificate Mailgun presented. If a TLS-inspecting proxy sits in between, the operator must add its CA (NODE_EXTRA_CA_CERTS) or let Mailgun through untouched.",
    unreachableHint:
      "Postern could not reach Mailgun: outbound HTTPS (port 443) to the region's API host (or the operator's POSTERN_MAILGUN_API_URL) must be allowed.",
  });
}
