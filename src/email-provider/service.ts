import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { getAccount } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { builtOncePer } from "../db/connection.ts";
import { apps, emailProviders, workspaceFeatures } from "../db/schema.ts";
import { releaseWaitingDeliveries } from "../delivery/schedule.ts";
import { DomainError, invalid } from "../errors.ts";
import type { TestStep } from "../mail/test-steps.ts";
import { randomId } from "../security/tokens.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { healthView, nextInChain } from "./health.ts";
import { kindOfBody, kindOfRow } from "./kinds/index.ts";
import type { KindEnvironment, ProviderKind } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { providerSecretContext, sealSecrets } from "./secrets.ts";
import { validateProviderBody } from "./validation.ts";

type ProviderRow = typeof emailProviders.$inferSelect;

export const FEATURE = "custom-email-provider" as const;

/** Providers one app may chain: enough for a primary and its fallbacks, few enough to try within a login's expiry. */
export const MAX_PROVIDERS_PER_APP = 5;

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

/** How the delivery log and the dashboard name a provider: its kind and sender, e.g. "Amazon SES (login@example.com)". */
export const providerLabel = (row: Pick<ProviderRow, "type" | "settings" | "senderEmail">) =>
  `${kindOfRow(row).form.label} (${row.senderEmail})`;

async function providerView(ctx: Context, row: ProviderRow, chain: readonly ProviderRow[]) {
  const kind = kindOfRow(row);
  const updatedBy = row.updatedBy ? await getAccount(ctx.db, row.updatedBy) : undefined;
  return {
    id: row.id,
    position: row.position,
    label: providerLabel(row),
    type: row.type,
    senderEmail: row.senderEmail,
    senderName: row.senderName,
    effectiveSenderName: effectiveSenderName(row.senderEmail, row.senderName),
    ...kind.view(row.settings, Object.keys(row.sealedSecrets), ctx.now()),
    fallbackToDefault: row.fallbackToDefault,
    enabled: row.enabled,
    health: healthView(ctx.config, row, nextInChain(chain, row, providerLabel)),
    lastTest: (row.lastTest as TestResult | null) ?? null,
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: updatedBy ? { id: updatedBy.id, email: updatedBy.email } : null,
  };
}

/** The app's providers in the order login emails try them; the first is the primary. */
export async function listProviders(ctx: Context, appId: string): Promise<ProviderRow[]> {
  return ctx.db
    .select()
    .from(emailProviders)
    .where(eq(emailProviders.appId, appId))
    .orderBy(asc(emailProviders.position), asc(emailProviders.id));
}

/**
 * What the worker routes an email by, in one statement: the app's providers in order, and whether its
 * workspace has the feature (a workspace whose feature was switched off keeps its providers, unused).
 */
export async function providersForSending(
  ctx: Context,
  appId: string,
): Promise<{ rows: ProviderRow[]; featureEnabled: boolean }> {
  const found = await sendingProviders(ctx.db).execute({ appId });
  return { rows: found.map((f) => f.row), featureEnabled: found[0]?.enabled === true };
}

const sendingProviders = builtOncePer((db) =>
  db
    .select({ row: emailProviders, enabled: workspaceFeatures.enabled })
    .from(emailProviders)
    .innerJoin(apps, eq(apps.id, emailProviders.appId))
    .leftJoin(
      workspaceFeatures,
      and(eq(workspaceFeatures.workspaceId, apps.workspaceId), eq(workspaceFeatures.feature, FEATURE)),
    )
    .where(eq(emailProviders.appId, sql.placeholder("appId")))
    .orderBy(asc(emailProviders.position), asc(emailProviders.id))
    .prepare(""),
);

/** One of the app's providers by id, or without an id its primary (what the single-provider routes address). */
export async function findProvider(
  ctx: Context,
  appId: string,
  providerId?: string,
): Promise<ProviderRow | undefined> {
  if (providerId === undefined) return (await listProviders(ctx, appId))[0];
  const [row] = await ctx.db
    .select()
    .from(emailProviders)
    .where(and(eq(emailProviders.appId, appId), eq(emailProviders.id, providerId)));
  return row;
}

/**
 * The provider a request addresses: by id, which must be this app's (another app's id is as unknown as
 * a made-up one: a 404), or without an id the primary, if the app has one.
 */
export async function addressedProvider(ctx: Context, appId: string, providerId: string | undefined) {
  const row = await findProvider(ctx, appId, providerId);
  if (!row && providerId !== undefined)
    throw new DomainError(
      "not_found",
      "email_provider_not_found",
      "This app has no email provider with that id.",
    );
  return row;
}

export async function getEmailProvider(ctx: Context, accountId: string, appId: string) {
  const app = await requireApp(ctx.db, accountId, appId);
  const rows = await listProviders(ctx, appId);
  const providers = await Promise.all(rows.map((row) => providerView(ctx, row, rows)));
  return {
    locked: !(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE)),
    defaultSender: ctx.config.defaultFrom,
    provider: providers[0] ?? null,
    providers,
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

/**
 * Saves a provider; `raw` is the request body, validated here in one pass (see validateProviderBody).
 * `target`: an id saves that provider, "new" adds one after the others, none saves the primary
 * (creating it when the app has none).
 */
export async function saveEmailProvider(
  ctx: Context,
  env: KindEnvironment,
  accountId: string,
  appId: string,
  raw: unknown,
  target?: { providerId: string } | "new",
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  if (!(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) throw featureLocked();
  const all = await listProviders(ctx, appId);
  const existing =
    target === "new" ? undefined : target ? await addressedProvider(ctx, appId, target.providerId) : all[0];
  if (target === "new" && all.length >= MAX_PROVIDERS_PER_APP)
    throw invalid(
      "too_many_providers",
      `An app can chain at most ${MAX_PROVIDERS_PER_APP} email providers; remove one before adding another.`,
      "type",
    );
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
    id: existing?.id ?? randomId("prov"),
    appId,
    position: existing?.position ?? (all.length === 0 ? 0 : Math.max(...all.map((r) => r.position)) + 1),
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
    if (existing) {
      const { id, appId: _app, position: _position, ...update } = next;
      await tx
        .update(emailProviders)
        .set({ ...update, updatedAt: now })
        .where(eq(emailProviders.id, id));
    } else await tx.insert(emailProviders).values({ ...next, updatedAt: now });
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: existing ? "email_provider.updated" : "email_provider.created",
        targetType: "app",
        targetId: appId,
        changes: { ...changes, providerId: next.id, position: next.position },
      },
      now,
    );
  });
  ctx.log.info(
    { appId, providerId: next.id, type: body.type, version: next.version, changed: Object.keys(changes) },
    "email provider saved",
  );
  // A saved change may be the fix: the emails waiting for the old version try the new one now.
  await releaseWaitingDeliveries(ctx, appId);
  const saved = await getEmailProvider(ctx, accountId, appId);
  // What the kind created for the developer to see once (a signing secret): in this response only.
  if (!revealOnce) return saved;
  const reveal = <T extends { id: string }>(view: T) =>
    view.id === next.id ? { ...view, revealedOnce: revealOnce } : view;
  return {
    ...saved,
    provider: saved.provider ? reveal(saved.provider) : null,
    providers: saved.providers.map(reveal),
  };
}

/** Removes one provider (without an id: the primary; the next one becomes the primary). */
export async function deleteEmailProvider(
  ctx: Context,
  accountId: string,
  appId: string,
  providerId?: string,
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  const existing = await addressedProvider(ctx, appId, providerId);
  if (!existing) return;
  await ctx.db.transaction(async (tx) => {
    await tx.delete(emailProviders).where(eq(emailProviders.id, existing.id));
    // The ones after it move up: the next becomes the primary, positions stay 0, 1, ….
    const rest = await tx
      .select({ id: emailProviders.id })
      .from(emailProviders)
      .where(eq(emailProviders.appId, appId))
      .orderBy(asc(emailProviders.position), asc(emailProviders.id));
    await writeOrder(
      tx,
      appId,
      rest.map((r) => r.id),
    );
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_provider.deleted",
        targetType: "app",
        targetId: appId,
        changes: { providerId: existing.id, type: existing.type, senderEmail: existing.senderEmail },
      },
      ctx.now(),
    );
  });
  // Emails waiting for the deleted provider go out through the next one (or the default sender) now.
  await releaseWaitingDeliveries(ctx, appId);
}

/** Numbers the app's providers 0, 1, … in the order given, in one statement. */
async function writeOrder(tx: Pick<Context["db"], "update">, appId: string, order: string[]) {
  if (order.length === 0) return;
  await tx
    .update(emailProviders)
    .set({ position: sql`array_position(${sql.param(order)}::text[], ${emailProviders.id}) - 1` })
    .where(and(eq(emailProviders.appId, appId), inArray(emailProviders.id, order)));
}

/** Puts the app's providers in a new order; `order` must name each of them exactly once. */
export async function reorderEmailProviders(ctx: Context, accountId: string, appId: string, order: string[]) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  if (!(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) throw featureLocked();
  const rows = await listProviders(ctx, appId);
  const ids = new Set(rows.map((r) => r.id));
  if (order.length !== ids.size || new Set(order).size !== order.length || !order.every((id) => ids.has(id)))
    throw invalid(
      "order_mismatch",
      `order must list each of this app's ${ids.size} provider ids exactly once (as GET /api/apps/${appId}/email-providers returns them).`,
      "order",
    );
  const before = rows.map((r) => r.id);
  if (before.every((id, i) => id === order[i])) return getEmailProvider(ctx, accountId, appId);
  await ctx.db.transaction(async (tx) => {
    await writeOrder(tx, appId, order);
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_provider.reordered",
        targetType: "app",
        targetId: appId,
        changes: { order: { from: before, to: order } },
      },
      ctx.now(),
    );
  });
  ctx.log.info({ appId, order }, "email providers reordered");
  // A provider now ahead of a failing one may take the waiting emails at once.
  await releaseWaitingDeliveries(ctx, appId);
  return getEmailProvider(ctx, accountId, appId);
}

export async function recordLastTest(ctx: Context, providerId: string, version: number, result: TestResult) {
  await ctx.db
    .update(emailProviders)
    .set({ lastTest: result })
    .where(and(eq(emailProviders.id, providerId), eq(emailProviders.version, version)));
}
