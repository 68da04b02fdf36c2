import { z } from "zod";
import { OutboundBlockedError } from "../../../security/outbound-guard.ts";
import { commonFields } from "../../model.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import { checkEndpoint, endpointOf } from "./endpoint.ts";
import { type WebhookOperatorSettings, webhookOperatorSettings } from "./operator-settings.ts";
import { webhookHint } from "./replies.ts";
import {
  changeSigning,
  ROLLOVER_HOURS,
  type SigningChange,
  type SigningState,
  SLOTS,
} from "./signing-secrets.ts";
import { webhookTransport } from "./transport.ts";

const MAX_URL = 2048;

const urlSchema = z
  .url({ protocol: /^https$/, error: "must be an https:// URL such as https://example.com/postern/webhook" })
  .max(MAX_URL, `must be at most ${MAX_URL} characters`)
  // Zod runs refinements on a value that failed the URL check too: only a parsed URL is looked at.
  .refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.username === "" && url.password === "");
  }, "must not carry a user name or password: the signature proves the request is Postern's")
  .refine((value) => !value.includes("#"), "must not have a #fragment");

export const webhookBodySchema = z.strictObject({
  type: z.literal("webhook"),
  ...commonFields,
  url: urlSchema,
  rotateSigningSecret: z
    .boolean()
    .optional()
    .describe(
      `True: Postern creates a new signing secret, shown once in this response (provider.revealedOnce.signingSecret); the current one keeps signing beside it for ${ROLLOVER_HOURS} hours`,
    ),
});

/**
 * The PUT body, and what `prepare` adds to it: the signing change, and a secret it created (in the slot
 * it goes to). The request itself can never carry a secret: the strict schema has no field for one.
 */
export type WebhookBody = z.infer<typeof webhookBodySchema> & {
  signing?: SigningChange;
} & { [slot in (typeof SLOTS)[number]]?: string };

export interface WebhookSettings {
  url: string;
  signing: SigningState;
}

const viewSchema = z.object({
  url: z.string(),
  signingSecretSet: z.boolean(),
  signingSecretCreatedAt: z.string().describe("When the signing secret in use was created"),
  previousSigningSecretValidUntil: z
    .string()
    .nullable()
    .describe("After a rotation: until when the previous secret signs too (both signatures are sent)"),
});

const fields: FormField[] = [
  {
    name: "url",
    label: "Endpoint URL",
    input: "text",
    required: true,
    placeholder: "https://example.com/postern/webhook",
    autocomplete: "off",
    help: 'Postern POSTs each login email to it as JSON, signed per Standard Webhooks. HTTPS on port 443, on a public address. Test connection sends a signed {"type":"ping"}: verify the signature and answer 2xx. A test email is sent only when you ask for one.',
  },
  {
    name: "rotateSigningSecret",
    label: "Rotate the signing secret",
    input: "checkbox",
    required: false,
    help: `Postern creates a new secret and shows it once, in the answer to this save. Both secrets sign every request for ${ROLLOVER_HOURS} hours, so your endpoint can switch over. The first secret is created and shown when you save the provider.`,
  },
];

const UNPREPARED: SigningState = {
  current: SLOTS[0],
  createdAt: new Date(0).toISOString(),
  previousValidUntil: null,
};

const operatorOf = (env: { operator: Record<string, unknown> }) =>
  env.operator.webhook as WebhookOperatorSettings;

/**
 * OpenProvider carries no app id; routing and Test connection name it first in the version key
 * ("<appId>:<version>", "test:<appId>:<random>").
 */
const appIdOf = (versionKey: string) => versionKey.replace(/^test:/, "").split(":")[0] || undefined;

/** A signed HTTPS POST of each login email to the developer's endpoint, which sends it on. */
export const webhook: ProviderKind<WebhookBody, WebhookSettings> = {
  id: "webhook",
  match: { type: "webhook" },
  bodySchema: webhookBodySchema,
  viewSchema,
  form: {
    label: "Signed webhook",
    description:
      "Postern hands each composed login email to your HTTPS endpoint, signed per Standard Webhooks; your code sends it however you like.",
    fields,
  },
  secretFields: SLOTS,
  // Postern creates the secret (prepare): the developer never enters one.
  requiredSecrets: () => [],
  discardedSecrets: (body) => body.signing?.discarded ?? [],
  async prepare(body, stored, env) {
    const change = changeSigning(stored?.signing, body.rotateSigningSecret === true, env.now());
    const { rotateSigningSecret: _asked, ...rest } = body;
    const created = change.created;
    return {
      body: { ...rest, signing: change, ...(created ? { [created.slot]: created.secret } : {}) },
      ...(created ? { revealOnce: { signingSecret: created.secret } } : {}),
    };
  },
  settingsOf: (body) => ({
    url: new URL(body.url).toString(),
    // Only a body that was not prepared (validation of one that failed elsewhere) lacks it.
    signing: body.signing?.state ?? UNPREPARED,
  }),
  secretsOf: (body) => Object.fromEntries(SLOTS.map((slot) => [slot, body[slot]])),
  // The secret never travels: only HMAC signatures do, which reveal nothing of it. A new URL may keep
  // it, so a receiver that moves keeps verifying; rotate to change it.
  destinationChanged: () => false,
  auditedFields: ["url", "signing"],
  async validate(settings, env) {
    if (settings.url === undefined) return [];
    try {
      await checkEndpoint(endpointOf(settings.url), env.policy);
      return [];
    } catch (err) {
      if (err instanceof OutboundBlockedError)
        return [{ field: "url", code: err.code, message: err.message }];
      throw err;
    }
  },
  view: (settings, storedSecrets, now) => {
    const until = settings.signing.previousValidUntil;
    return {
      url: settings.url,
      signingSecretSet: storedSecrets.includes(settings.signing.current),
      signingSecretCreatedAt: settings.signing.createdAt,
      previousSigningSecretValidUntil: until !== null && Date.parse(until) > now.getTime() ? until : null,
    };
  },
  open: (provider, env) =>
    webhookTransport(
      {
        url: provider.settings.url,
        signing: provider.settings.signing,
        secrets: provider.secrets,
        appId: appIdOf(provider.versionKey),
      },
      {
        policy: env.policy,
        now: env.now,
        timeoutMs: operatorOf(env).timeoutMs,
        explain: webhookHint,
      },
    ),
  explain: (error, step) => webhookHint(error, step),
  operatorSettings: webhookOperatorSettings,
};
