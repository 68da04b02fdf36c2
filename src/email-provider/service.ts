import { and, eq } from "drizzle-orm";
import { getAccount } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { emailProviders } from "../db/schema.ts";
import { releaseWaitingDeliveries } from "../delivery/schedule.ts";
import { DomainError } from "../errors.ts";
import type { TestStep } from "../mail/test-steps.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { healthView } from "./health.ts";
import { kindOfBody, kindOfRow } from "./kinds/index.ts";
import type { KindEnvironment, ProviderKind } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { providerSecretContext, sealSecrets } from "./secrets.ts";
import { validateProviderBody } from "./validation.ts";

type ProviderRow = typeof emailProviders.$inferSelect;

export const FEATURE = "custom-email-provider" as const;

export const featureLocked = () =>
  new DomainError(
    "forbidden",
    "feature_locked",
    "Custom Email Provider is a premium feature that is not unlocked for this workspace; login emails go out from the default sender. Ask your Postern operator to unlock it.",
  );

export interface TestResult {
  ok: boolean;
  testedAt: string;
  steps: TestStep[];
  [key: string]: unknown;
}

async function providerView(ctx: Context, row: ProviderRow) {
  const kind = kindOfRow(row);
  const updatedBy = row.updatedBy ? await getAccount(ctx.db, row.updatedBy) : undefined;
  return {
    type: row.type,
    senderEmail: row.senderEmail,
    senderName: row.senderName,
    effectiveSenderName: effectiveSenderName(row.senderEmail, row.senderName),
    ...kind.view(row.settings, Object.keys(row.sealedSecrets), ctx.now()),
    fallbackToDefault: row.fallbackToDefault,
    enabled: row.enabled,
    health: healthView(ctx.config, row),
    lastTest: (row.lastTest as TestResult | null) ?? null,
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: updatedBy ? { id: updatedBy.id, email: updatedBy.email } : null,
  };
}

export async function findProvider(ctx: Context, appId: string): Promise<ProviderRow | undefined> {
  const [row] = await ctx.db.select().from(emailProviders).where(eq(emailProviders.appId, appId));
  return row;
}

export async function getEmailProvider(ctx: Context, accountId: string, appId: string) {
  const app = await requireApp(ctx.db, accountId, appId);
  const row = await findProvider(ctx, appId);
  return {
    locked: !(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE)),
    defaultSender: ctx.config.defaultFrom,
    provider: row ? await providerView(ctx, row) : null,
  };
}

function changedFields(
  kind: ProviderKind,
  before: ProviderRow | undefined,
  after: Omit<ProviderRow, "updatedAt" | "alertedAt" | "alertedHealth" | "enabled">,
  secretsChanged: readonly string[],
) {
  const changes: Record<string, unknown> = {};
  const pairs: [string, unknown, unknown][] = [
    ["type", before?.type, after.type],
    ["senderEmail", before?.senderEmail, after.senderEmail],
    ["senderName", before?.senderName, after.senderName],
    ["fallbackToDefault", before?.fallbackToDefault, after.fallbackToDefault],
    ...kind.auditedFields.map((f): [string, unknown, unknown] => [
      f,
      (before?.settings as Record<string, unknown> | undefined)?.[f],
      (after.settings as Record<string, unknown>)[f],
    ]),
  ];
  for (const [field, from, to] of pairs)
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from: from ?? null, to: to ?? null };
  for (const field of secretsChanged) changes[field] = "(changed)";
  return changes;
}

/** Saves the provider; `raw` is the request body, validated here in one pass (see validateProviderBody). */
export async function saveEmailProvider(
  ctx: Context,
  env: KindEnvironment,
  accountId: string,
  appId: string,
  raw: unknown,
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  if (!(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) throw featureLocked();
  const existing = await findProvider(ctx, appId);
  const { body, secrets, revealOnce } = await validateProviderBody(
    ctx,
    env,
    app.workspaceId,
    existing,
    raw,
    (field, sealed) => ctx.secrets.open(sealed, providerSecretContext(appId, field)),
  );
  const kind = kindOfBody(body)!;
  const { senderEmail } = body;
  const settings = kind.settingsOf(body);
  const given = kind.secretsOf(body);
  const secretsChanged = kind.secretFields.filter((field) => given[field] !== undefined);
  const now = ctx.now();
  const next = {
    appId,
    type: body.type,
    version: (existing?.version ?? 0) + 1,
    senderEmail,
    senderName: body.senderName ? body.senderName : null,
    settings: settings as Record<string, unknown>,
    sealedSecrets: sealSecrets(ctx, appId, secrets),
    fallbackToDefault: body.fallbackToDefault ?? false,
    health: "unknown" as const,
    healthReason: null,
    healthAt: null,
    healthCause: null,
    healthCheckedAt: null,
    nextProbeAt: null,
    lastTest: null,
    // A saved change may bring a new credential: its expiry is told afresh.
    credentialAlertedAt: null,
    updatedBy: accountId,
  };
  const changes = changedFields(kind, existing, next, secretsChanged);
  if (existing && Object.keys(changes).length === 0) return getEmailProvider(ctx, accountId, appId);
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(emailProviders)
      .values({ ...next, updatedAt: now })
      .onConflictDoUpdate({ target: emailProviders.appId, set: { ...next, updatedAt: now } });
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: existing ? "email_provider.updated" : "email_provider.created",
        targetType: "app",
        targetId: appId,
        changes,
      },
      now,
    );
  });
  ctx.log.info(
    { appId, type: body.type, version: next.version, changed: Object.keys(changes) },
    "email provider saved",
  );
  // A saved change may be the fix: the emails waiting for the old version try the new one now.
  await releaseWaitingDeliveries(ctx, appId);
  const saved = await getEmailProvider(ctx, accountId, appId);
  // What the kind created for the developer to see once (a signing secret): in this response only.
  return revealOnce && saved.provider
    ? { ...saved, provider: { ...saved.provider, revealedOnce: revealOnce } }
    : saved;
}

export async function deleteEmailProvider(ctx: Context, accountId: string, appId: string) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  const existing = await findProvider(ctx, appId);
  if (!existing) return;
  await ctx.db.transaction(async (tx) => {
    await tx.delete(emailProviders).where(eq(emailProviders.appId, appId));
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_provider.deleted",
        targetType: "app",
        targetId: appId,
        changes: { type: existing.type, senderEmail: existing.senderEmail },
      },
      ctx.now(),
    );
  });
  // Emails waiting for the deleted provider go out through the default sender now.
  await releaseWaitingDeliveries(ctx, appId);
}

export async function recordLastTest(ctx: Context, appId: string, version: number, result: TestResult) {
  await ctx.db
    .update(emailProviders)
    .set({ lastTest: result })
    .where(and(eq(emailProviders.appId, appId), eq(emailProviders.version, version)));
}
