import type { FormField } from "../form.ts";
import type { CommonFields, KindEnvironment, ProviderKind, SenderLimits } from "../kind.ts";
import { accountFingerprint } from "./account.ts";
import type { ApiMeaning, ApiReply } from "./replies.ts";
import { explainApiFailure } from "./transport.ts";

/** The write-only "API key" field of the HTTP email-API kinds: the vendor's words say where to create it. */
export const apiKeyField = (help: string, placeholder?: string): FormField => ({
  name: "apiKey",
  label: "API key",
  input: "password",
  secret: true,
  required: true,
  autocomplete: "new-password",
  setFlag: "apiKeySet",
  ...(placeholder ? { placeholder } : {}),
  help,
});

/** The body of a kind with one API key: `laneKey` is never part of a request, `prepare` sets it. */
export type KeyedApiBody<Secret extends string> = CommonFields & { type: string; laneKey?: string } & {
  [K in Secret]?: string | undefined;
};

/** The settings of a kind with one API key: the account's lane, a fingerprint of the key, never the key. */
export interface KeyedApiSettings {
  laneKey?: string | undefined;
}

/** What is the vendor's own in an HTTP email-API kind with one API key (Postmark, Resend, SendGrid). */
export interface KeyedApiFacts<Secret extends string, Settings, Operator> {
  /** The registry key, the body's `type` and the lane's prefix: "postmark". */
  id: string;
  /** The vendor's name in messages: "Postmark". */
  vendor: string;
  /** The one write-only field, whose value names the account's lane: "serverToken". */
  secret: Secret;
  /** Connections and sends a minute of one account's lane, from the operator's settings. */
  laneLimits(operator: Operator): Omit<SenderLimits, "key">;
  /** The vendor's meaning of a reply, with the fix in this provider's values. */
  interpret(reply: ApiReply, settings: Settings, senderEmail: string): ApiMeaning;
  /** The kind's own fields of the view; `<secret>Set` is added (a saved provider always has its key). */
  view(settings: Settings): Record<string, unknown>;
}

/** The kind's operator settings (POSTERN_<KIND>_*), as `operatorSettings` read them at start. */
export const operatorOf = <Operator>(env: Pick<KindEnvironment, "operator">, id: string) =>
  env.operator[id] as Operator;

/**
 * The parts every keyed HTTP email-API kind has alike: its one secret, the lane that secret's fingerprint
 * names (carried over while the key is kept), the view, and failures explained from the stored reply line
 * through the vendor's interpretation. Each kind spreads it and adds its schemas, form and transport.
 */
export function keyedApiKind<
  Secret extends string,
  Body extends KeyedApiBody<Secret>,
  Settings extends KeyedApiSettings,
  Operator,
>(
  facts: KeyedApiFacts<Secret, Settings, Operator>,
): Pick<
  ProviderKind<Body, Settings>,
  | "id"
  | "match"
  | "secretFields"
  | "requiredSecrets"
  | "prepare"
  | "secretsOf"
  | "validate"
  | "view"
  | "senderLimits"
  | "explain"
> {
  const { id, vendor, secret } = facts;
  return {
    id,
    match: { type: id },
    secretFields: [secret],
    requiredSecrets: () => [secret],
    prepare: async (body, stored) => {
      const key = body[secret];
      return { body: { ...body, laneKey: key ? accountFingerprint(id, key) : stored?.laneKey } };
    },
    secretsOf: (body) => ({ [secret]: body[secret] }),
    // The API's URL is the operator's (POSTERN_<KIND>_*), trusted as configured: nothing to check.
    validate: async () => [],
    view: (settings) => ({ ...facts.view(settings), [`${secret}Set`]: true }),
    senderLimits: (settings, _senderEmail, env) => {
      if (!settings.laneKey) return undefined;
      return { key: `${id}:${settings.laneKey}`, ...facts.laneLimits(operatorOf<Operator>(env, id)) };
    },
    explain: (error, _step, settings, senderEmail) =>
      explainApiFailure(
        error,
        (reply) => facts.interpret(reply, settings, senderEmail),
        `Postern could not reach ${vendor}'s API: outbound HTTPS (port 443) to it must be allowed.`,
      ),
  };
}
