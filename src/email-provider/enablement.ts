import { and, eq } from "drizzle-orm";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { emailProviders } from "../db/schema.ts";
import { releaseWaitingDeliveries } from "../delivery/schedule.ts";
import { invalid } from "../errors.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { probeProvider } from "./health-check.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { addressedProvider, FEATURE, featureLocked, getEmailProvider } from "./service.ts";

/**
 * Switches the saved provider off or on without deleting it (owners and admins). Off: login emails go
 * through the default sender — the ones waiting for it at once — and nothing probes it. On: its health
 * is checked again right away (a connection check, no email), so the card never shows a state from
 * before the pause.
 */
export async function setEmailProviderEnabled(
  ctx: Context,
  env: KindEnvironment,
  accountId: string,
  appId: string,
  enabled: boolean,
  providerId?: string,
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  if (!(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) throw featureLocked();
  const existing = await addressedProvider(ctx, appId, providerId);
  if (!existing)
    throw invalid(
      "no_email_provider",
      "There is no saved provider to switch on or off; save one first.",
      "enabled",
    );
  if (existing.enabled === enabled) return getEmailProvider(ctx, accountId, appId);
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(emailProviders)
      .set({
        enabled,
        // A paused provider's health is stale when it comes back: unknown until the check below.
        ...(enabled
          ? {
              health: "unknown" as const,
              healthReason: null,
              healthCause: null,
              healthAt: null,
              nextProbeAt: null,
            }
          : {}),
        updatedAt: now,
        updatedBy: accountId,
      })
      .where(and(eq(emailProviders.id, existing.id), eq(emailProviders.version, existing.version)));
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: enabled ? "email_provider.enabled" : "email_provider.disabled",
        targetType: "app",
        targetId: appId,
        changes: { providerId: existing.id, enabled: { from: existing.enabled, to: enabled } },
      },
      now,
    );
  });
  ctx.log.info(
    { appId, providerId: existing.id, version: existing.version, enabled },
    "email provider switched",
  );
  if (enabled) await probeProvider(ctx, env, { ...existing, enabled });
  // Off: the emails waiting for the provider go out through the next one (or the default sender) now.
  else await releaseWaitingDeliveries(ctx, appId);
  return getEmailProvider(ctx, accountId, appId);
}
