import { z } from "zod";
import { ConfigError } from "../../config/config.ts";
import type { FormField } from "./form.ts";
import { type GoogleBody, google } from "./google/index.ts";
import type { OperatorEndpoint, ProviderKind } from "./kind.ts";
import { type MailgunBody, mailgun } from "./mailgun/index.ts";
import { type MicrosoftBody, microsoft } from "./microsoft/index.ts";
import { type PostmarkBody, postmark } from "./postmark/index.ts";
import { type ResendBody, resend } from "./resend/index.ts";
import { type SendgridBody, sendgrid } from "./sendgrid/index.ts";
import { type SesBody, ses } from "./ses/index.ts";
import { type SmtpBasicBody, smtpBasic } from "./smtp-basic/index.ts";
import { type WebhookBody, webhook } from "./webhook/index.ts";

/** Every provider kind Postern knows, in the order the dashboard offers them. One line per kind. */
const registry = [
  smtpBasic,
  microsoft,
  google,
  ses,
  mailgun,
  sendgrid,
  postmark,
  resend,
  webhook,
] as unknown as ProviderKind[];

/** The PUT body of any kind. */
export type ProviderBody =
  | SmtpBasicBody
  | MicrosoftBody
  | GoogleBody
  | SesBody
  | MailgunBody
  | SendgridBody
  | PostmarkBody
  | ResendBody
  | WebhookBody;

/**
 * The PUT body, told apart by `type` and, for kinds that share a type (the OAuth SMTP providers), by
 * `provider`: built from the registry, so a new kind needs no edit here.
 */
export const providerBodySchema = z.discriminatedUnion(
  "type",
  [...new Set(registry.map((kind) => kind.match.type))].map((type) => {
    const kinds = registry.filter((kind) => kind.match.type === type);
    return kinds.length === 1
      ? kinds[0]!.bodySchema
      : z.discriminatedUnion(
          "provider",
          kinds.map((kind) => kind.bodySchema) as [z.ZodObject, ...z.ZodObject[]],
        );
  }) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<ProviderBody>;

/** Every body `type` (for a request naming none or an unknown one). */
export const providerTypes: readonly string[] = [...new Set(registry.map((kind) => kind.match.type))];

/** The kind a stored row or a body belongs to: by type, then by `provider` where a type has several. */
export function kindOf(type: string, provider?: unknown): ProviderKind {
  const kind = registry.find(
    (k) => k.match.type === type && (k.match.provider === undefined || k.match.provider === provider),
  );
  if (!kind) throw new Error(`unknown provider kind ${type}${provider ? `/${String(provider)}` : ""}`);
  return kind;
}

/** The kind of a request body, or undefined while its `type`/`provider` name none. */
export function kindOfBody(raw: Record<string, unknown>): ProviderKind | undefined {
  return registry.find(
    (k) => k.match.type === raw.type && (k.match.provider === undefined || k.match.provider === raw.provider),
  );
}

/** The kind of a saved provider row (its settings carry the `provider` of a shared type). */
export const kindOfRow = (row: { type: string; settings: Record<string, unknown> }) =>
  kindOf(row.type, row.settings.provider);

/** The registry's forms, for the dashboard (GET /api/email-provider-kinds). */
export const providerForms = () =>
  registry.map((kind) => ({
    id: kind.id,
    match: kind.match,
    label: kind.form.label,
    description: kind.form.description,
    fields: kind.form.fields satisfies FormField[],
  }));

/**
 * The union of every kind's view fields: the HTTP response schema lists each, so none is stripped. A
 * name two kinds use differently (a region of SES and of Mailgun) accepts either kind's schema.
 */
export const providerViewFields = (): z.ZodRawShape => {
  const byName = new Map<string, z.ZodType[]>();
  for (const kind of registry)
    for (const [name, schema] of Object.entries(kind.viewSchema.shape))
      byName.set(name, [...(byName.get(name) ?? []), schema as z.ZodType]);
  return Object.fromEntries(
    [...byName].map(([name, schemas]) => [
      name,
      (schemas.length === 1
        ? schemas[0]!
        : z.union(schemas as [z.ZodType, z.ZodType, ...z.ZodType[]])
      ).optional(),
    ]),
  );
};

/** Reads every kind's operator settings once; a bad variable is named like any other configuration error. */
export function readOperatorSettings(operatorEnv: Record<string, string>): Record<string, unknown> {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const kind of registry) {
    if (!kind.operatorSettings) continue;
    const parsed = kind.operatorSettings.schema.safeParse(operatorEnv);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
      continue;
    }
    settings[kind.id] = kind.operatorSettings.read(parsed.data);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/** The operator's own endpoints of every kind, trusted by the outbound guard as configured (over TLS only). */
export const operatorEndpoints = (operator: Record<string, unknown>): OperatorEndpoint[] =>
  registry.flatMap((kind) => kind.operatorEndpoints?.(operator[kind.id]) ?? []);
