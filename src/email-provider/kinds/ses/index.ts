import { z } from "zod";
import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import { commonFields } from "../../model.ts";
import { endpointOf, explainHttpsFailure } from "../email-api/transport.ts";
import type { FormField } from "../form.ts";
import type { FieldProblem, ProviderKind } from "../kind.ts";
import { type SesOperatorSettings, sesOperatorSettings } from "./operator-settings.ts";
import { interpretSesReply, replyFromLine, type SesFixValues } from "./replies.ts";
import { sesTransport } from "./transport.ts";

/** SES's regions: "us-east-1", "ap-southeast-2", "us-gov-west-1" (https://docs.aws.amazon.com/general/latest/gr/ses.html). */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export const sesBody = z.strictObject({
  type: z.literal("ses"),
  ...commonFields,
  region: z
    .string()
    .trim()
    .toLowerCase()
    .regex(REGION, "must be an AWS region such as us-east-1 or eu-west-1"),
  credentials: z
    .enum(["keys", "environment"])
    .optional()
    .describe("keys (default): an IAM access key; environment: the Postern process's own AWS credentials"),
  // IAM access key IDs: AKIA… (long-term) or ASIA… (temporary), 16–128 characters (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html).
  accessKeyId: z
    .string()
    .trim()
    .regex(/^[A-Z0-9]{16,128}$/, "must be an access key ID such as AKIAIOSFODNN7EXAMPLE")
    .optional(),
  secretAccessKey: z
    .string()
    .min(1, "must not be empty")
    .max(1024, "must be at most 1024 characters")
    .regex(/^[^\s\0]*$/, "must not contain spaces, line breaks or NUL")
    .optional(),
  configurationSet: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a configuration set name: letters, digits, - and _, at most 64")
    .nullable()
    .optional(),
});
export type SesBody = z.infer<typeof sesBody>;

export interface SesSettings {
  region: string;
  credentials: "keys" | "environment";
  accessKeyId: string | null;
  configurationSet: string | null;
}

const viewSchema = z.object({
  region: z.string(),
  credentials: z.enum(["keys", "environment"]),
  accessKeyId: z.string().nullable(),
  configurationSet: z.string().nullable(),
  secretAccessKeySet: z.boolean(),
});

const keysOnly = { field: "credentials", in: ["keys"] };

const fields: FormField[] = [
  {
    name: "region",
    label: "AWS region",
    input: "text",
    required: true,
    placeholder: "us-east-1",
    autocomplete: "off",
    lowercase: true,
    help: "The region where the sender's identity is verified (SES console → the region menu, top right). Identities and quotas are per region.",
  },
  {
    name: "credentials",
    label: "Credentials",
    input: "choice",
    required: true,
    default: "keys",
    destination: true,
    options: [
      {
        value: "keys",
        label: "Access key",
        help: "An IAM user's access key with ses:SendEmail and ses:SendRawEmail (IAM console → Users → Security credentials → Create access key).",
      },
      {
        value: "environment",
        label: "Postern's own AWS role",
        help: "For operators who run Postern on AWS: the role or credentials the Postern process already has (instance or task role, AWS_* variables). Nothing is stored. Only when the operator allows it (POSTERN_SES_ALLOW_ENVIRONMENT_CREDENTIALS).",
      },
    ],
  },
  {
    name: "accessKeyId",
    label: "Access key ID",
    input: "text",
    required: true,
    placeholder: "AKIAIOSFODNN7EXAMPLE",
    autocomplete: "off",
    destination: true,
    when: keysOnly,
  },
  {
    name: "secretAccessKey",
    label: "Secret access key",
    input: "password",
    secret: true,
    required: true,
    autocomplete: "new-password",
    setFlag: "secretAccessKeySet",
    when: keysOnly,
    help: "Shown once by IAM when the key is created. Write-only: Postern seals it and never shows it again.",
  },
  {
    name: "configurationSet",
    label: "Configuration set",
    input: "text",
    required: false,
    autocomplete: "off",
    help: "SES console → Configuration sets: for event publishing (bounces, complaints, opens) and a dedicated IP pool.",
  },
];

/** Requests at once per account and region from one process: SES's limit is a rate, not connections. */
const MAX_CONCURRENT = 8;

const operatorOf = (env: { operator: Record<string, unknown> }) => env.operator.ses as SesOperatorSettings;

const fixValues = (settings: SesSettings, senderEmail: string): SesFixValues => ({
  senderEmail,
  region: settings.region,
  credentials: settings.credentials,
  configurationSet: settings.configurationSet,
});

/** Amazon SES v2's SendEmail with the raw MIME message, signed with an access key or the process's own role. */
export const ses: ProviderKind<SesBody, SesSettings> = {
  id: "ses",
  match: { type: "ses" },
  bodySchema: sesBody,
  viewSchema,
  form: {
    label: "Amazon SES",
    description:
      "Amazon Simple Email Service's API (v2) over HTTPS, with an IAM access key: no SMTP port needed.",
    fields,
  },
  secretFields: ["secretAccessKey"],
  requiredSecrets: (body) => (body.credentials === "environment" ? [] : ["secretAccessKey"]),
  discardedSecrets: (body) => (body.credentials === "environment" ? ["secretAccessKey"] : []),
  settingsOf: (body) => {
    const credentials = body.credentials ?? "keys";
    return {
      region: body.region,
      credentials,
      accessKeyId: credentials === "keys" ? (body.accessKeyId ?? null) : null,
      configurationSet: body.configurationSet ?? null,
    };
  },
  secretsOf: (body) => ({
    secretAccessKey: body.credentials === "environment" ? undefined : body.secretAccessKey,
  }),
  // The secret belongs to its access key ID. SigV4 never sends it anywhere (it signs), and every region is
  // AWS's own, so a region change keeps it.
  destinationChanged: (before, after) =>
    before.credentials !== after.credentials || before.accessKeyId !== after.accessKeyId,
  auditedFields: ["region", "credentials", "accessKeyId", "configurationSet"],
  async validate(settings, env) {
    const problems: FieldProblem[] = [];
    if (settings.credentials === "keys" && settings.accessKeyId === null) {
      problems.push({ field: "accessKeyId", code: "required", message: "is required with an access key" });
    }
    if (settings.credentials === "environment" && !operatorOf(env).environmentCredentials) {
      problems.push({
        field: "credentials",
        code: "environment_credentials_off",
        message:
          "This Postern does not lend its own AWS credentials to providers (the operator's POSTERN_SES_ALLOW_ENVIRONMENT_CREDENTIALS): enter an access key.",
      });
    }
    return problems;
  },
  view: (settings, storedSecrets) => ({
    region: settings.region,
    credentials: settings.credentials,
    accessKeyId: settings.accessKeyId,
    configurationSet: settings.configurationSet,
    secretAccessKeySet: storedSecrets.includes("secretAccessKey"),
  }),
  operatorSettings: sesOperatorSettings,
  operatorEndpoints: (operator) => {
    const { apiUrl } = operator as SesOperatorSettings;
    return apiUrl ? [endpointOf(apiUrl)] : [];
  },

  open(provider, env) {
    const { settings, secrets } = provider;
    return sesTransport({
      ...fixValues(settings, provider.senderEmail),
      apiUrl: operatorOf(env).apiUrl,
      keys:
        settings.credentials === "keys"
          ? { accessKeyId: settings.accessKeyId ?? "", secretAccessKey: secrets.secretAccessKey ?? "" }
          : undefined,
      policy: env.policy,
      maxConcurrent: MAX_CONCURRENT,
      onConnection: provider.onConnection,
      now: env.now,
      explain: (error) => sesHint(error, fixValues(settings, provider.senderEmail)),
    });
  },

  // SES's sending rate is per account and region (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html).
  // An access key names its account only to AWS, so the lane is per key: two keys of one account make two
  // lanes, which together may exceed the rate until SES's 429 pauses each — safe, where a guessed shared
  // key would let one tenant use up another's rate. Providers on the process's own role all share its
  // account: one lane per region.
  senderLimits: (settings, _senderEmail, env) => ({
    key: `ses:${settings.credentials === "keys" ? settings.accessKeyId : "environment"}:${settings.region}`,
    maxConnections: MAX_CONCURRENT,
    messagesPerMinute: Math.max(1, Math.round(operatorOf(env).messagesPerSecond * 60)),
    // SES's rate is a per-second one: a minute's worth in one burst would be throttled.
    messagesPerSecond: Math.max(1, Math.floor(operatorOf(env).messagesPerSecond)),
  }),
  explain: (error, _step, settings, senderEmail) => sesHint(error, fixValues(settings, senderEmail)),
};

function sesHint(error: ClassifiedError, values: SesFixValues): string | undefined {
  return explainHttpsFailure(error, {
    readReply: replyFromLine,
    interpret: (reply) => interpretSesReply(reply, values),
    untrustedHint:
      "Postern does not trust the certificate the SES endpoint presented. If a TLS-inspecting proxy sits in between, the operator must add its CA (NODE_EXTRA_CA_CERTS) or let SES through untouched.",
    unreachableHint:
      "Postern could not reach Amazon SES: outbound HTTPS (port 443) to email.<region>.amazonaws.com (or the operator's POSTERN_SES_API_URL) must be allowed.",
  });
}
