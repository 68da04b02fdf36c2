import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import type { Context } from "../context.ts";
import { accounts, type emailProviders, workspaceMembers } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError, invalid } from "../errors.ts";
import { kindOfBody, kindOfRow, type ProviderBody, providerBodySchema } from "./kinds/index.ts";
import type { FieldProblem, KindEnvironment, ProviderKind } from "./kinds/kind.ts";

type ProviderRow = typeof emailProviders.$inferSelect;

/**
 * Resolves the secrets for a save or a test: those in the request, or the stored ones — but stored ones
 * only while the destination is unchanged, so they cannot be replayed to another server.
 */
export function resolveSecrets(
  kind: ProviderKind,
  body: ProviderBody,
  existing: ProviderRow | undefined,
  open: (field: string, sealed: string) => string,
): Record<string, string> {
  const given = kind.secretsOf(body);
  const discarded = kind.discardedSecrets?.(body) ?? [];
  const sameKind = existing !== undefined && kindOfRow(existing) === kind;
  const moved = sameKind && kind.destinationChanged(existing.settings, kind.settingsOf(body));
  const secrets: Record<string, string> = {};
  for (const field of kind.secretFields) {
    const value = given[field];
    if (value !== undefined) {
      secrets[field] = value;
      continue;
    }
    const sealed = sameKind && !discarded.includes(field) ? existing.sealedSecrets[field] : undefined;
    if (!sealed) {
      if (kind.requiredSecrets(body).includes(field))
        throw invalid("secret_required", `${field} is required for a new ${body.type} provider.`, field);
      continue;
    }
    if (moved) {
      throw invalid(
        "secret_required",
        `The destination changed, so the stored ${field} is not sent there: enter ${field} again.`,
        field,
      );
    }
    secrets[field] = open(field, sealed);
  }
  return secrets;
}

/** The kind's own work on a valid body before it is saved or tested (see ProviderKind.prepare). */
export async function prepareBody(
  kind: ProviderKind,
  body: ProviderBody,
  existing: ProviderRow | undefined,
  env: KindEnvironment,
): Promise<{ body: ProviderBody; revealOnce?: Record<string, string> } | { problems: FieldProblem[] }> {
  if (!kind.prepare) return { body };
  const stored = existing && kindOfRow(existing) === kind ? existing.settings : undefined;
  return (await kind.prepare(body, stored, env)) as
    | { body: ProviderBody; revealOnce?: Record<string, string> }
    | { problems: FieldProblem[] };
}

/**
 * The sender email must not be the dashboard account of a member of the app's workspace (invitations
 * make members at once, so this covers invitees too). Accounts elsewhere are not this workspace's
 * business: whether an address has an account in another workspace is neither checked nor revealed.
 */
export async function checkSender(ctx: Context, workspaceId: string, senderEmail: EmailAddress) {
  const [member] = await ctx.db
    .select({ accountId: accounts.id })
    .from(accounts)
    .innerJoin(workspaceMembers, eq(workspaceMembers.accountId, accounts.id))
    .where(and(eq(accounts.email, senderEmail), eq(workspaceMembers.workspaceId, workspaceId)))
    .limit(1);
  if (member) {
    throw invalid(
      "sender_is_dashboard_account",
      "The sender email is the dashboard account of a member of this workspace. Use a dedicated sending address: nobody can log in to this app with its sender email.",
      "senderEmail",
    );
  }
}

/** "config.host", "redirectUrls[1]": the spelling the HTTP layer uses for schema errors too. */
const fieldOf = (path: readonly PropertyKey[]) =>
  path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join("");

/** Problems found by the schema: their messages ("must be …") need the field in front to read as a sentence. */
const fromSchema = new WeakSet<FieldProblem>();

const problemsOf = (error: z.ZodError, where: string): FieldProblem[] =>
  error.issues.map((issue) => {
    const problem = {
      field: fieldOf(issue.path) || where,
      code: (issue as { params?: { problemCode?: string } }).params?.problemCode ?? "validation_failed",
      message: issue.message,
    };
    fromSchema.add(problem);
    return problem;
  });

async function problemOf(check: () => Promise<unknown>): Promise<FieldProblem[]> {
  try {
    await check();
    return [];
  } catch (err) {
    if (err instanceof DomainError && err.kind === "invalid" && err.field)
      return [{ field: err.field, code: err.code, message: err.message }];
    throw err;
  }
}

/**
 * The fields of a provider body that are valid on their own, so the checks that need the environment
 * (the outbound guard, the sender rule) run even while another field is wrong.
 */
function validFields(raw: Record<string, unknown>, kind: ProviderKind): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(kind.bodySchema.shape as Shape)) {
    const parsed = field.safeParse(raw[name]);
    if (parsed.success && parsed.data !== undefined) fields[name] = parsed.data;
  }
  return fields;
}

type Shape = Record<string, z.ZodType>;

/**
 * One validation pass over a provider body: the schema, the sender rule, the stored-secret rule and
 * the kind's environment checks (e.g. a private host) all run, and every invalid field is named in
 * one answer (`errors`), so a form never learns of a second error only after fixing the first.
 */
export async function validateProviderBody(
  ctx: Context,
  env: KindEnvironment,
  workspaceId: string,
  existing: ProviderRow | undefined,
  raw: unknown,
  openSealed: (field: string, sealed: string) => string,
): Promise<{ body: ProviderBody; secrets: Record<string, string>; revealOnce?: Record<string, string> }> {
  const parsed = providerBodySchema.safeParse(raw);
  const problems: FieldProblem[] = parsed.success ? [] : problemsOf(parsed.error, "body");
  const object =
    typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const kind = kindOfBody(object);
  let secrets: Record<string, string> | undefined;
  let body = parsed.data;
  let revealOnce: Record<string, string> | undefined;
  if (kind) {
    const fields = parsed.success ? (parsed.data as Record<string, unknown>) : validFields(object, kind);
    if (typeof fields.senderEmail === "string") {
      const senderEmail = fields.senderEmail as ProviderBody["senderEmail"];
      problems.push(...(await problemOf(() => checkSender(ctx, workspaceId, senderEmail))));
    }
    if (parsed.success) {
      const prepared = await prepareBody(kind, parsed.data, existing, env);
      if ("problems" in prepared) problems.push(...prepared.problems);
      else {
        body = prepared.body;
        revealOnce = prepared.revealOnce;
        problems.push(
          ...(await problemOf(async () => {
            secrets = resolveSecrets(kind, prepared.body, existing, openSealed);
          })),
        );
      }
    } else if (!existing || kindOfRow(existing) !== kind) {
      for (const field of kind.requiredSecrets(fields as ProviderBody)) {
        if (fields[field] !== undefined || problems.some((p) => p.field === field)) continue;
        problems.push({
          field,
          code: "secret_required",
          message: `${field} is required for a new ${kind.match.type} provider.`,
        });
      }
    }
    problems.push(...(await kind.validate(body ? kind.settingsOf(body) : fields, env)));
  }
  if (problems.length > 0 || !body || secrets === undefined) throw fieldsInvalid(problems);
  return { body, secrets, ...(revealOnce ? { revealOnce } : {}) };
}

function fieldsInvalid(problems: FieldProblem[]): DomainError {
  const seen = new Set<string>();
  const errors = problems.filter(
    (p) => !seen.has(`${p.field}:${p.code}`) && seen.add(`${p.field}:${p.code}`),
  );
  const first = errors[0] ?? { field: "body", code: "validation_failed", message: "is not valid" };
  const detail =
    errors.length > 1
      ? `${errors.length} fields need fixing: ${errors.map((e) => e.field).join(", ")}.`
      : fromSchema.has(first) || first.code === "validation_failed"
        ? `${first.field}: ${first.message}`
        : first.message;
  return new DomainError("invalid", first.code, detail, { field: first.field, details: { errors } });
}
