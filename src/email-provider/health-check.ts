import type { Context } from "../context.ts";
import type { emailProviders } from "../db/schema.ts";
import { type HealthChange, recordHealth } from "./health.ts";
import { kindOfRow } from "./kinds/index.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { openSecrets } from "./secrets.ts";
import { runConnectionSteps } from "./test-connection.ts";

/**
 * A health check of a saved provider: its connection test (the kind's own steps, no email), recorded
 * as the health of the version it checked. Used by the scheduled probe and when a provider is switched on.
 */
export async function probeProvider(
  ctx: Context,
  env: KindEnvironment,
  row: typeof emailProviders.$inferSelect,
): Promise<HealthChange> {
  const steps = await runConnectionSteps(
    env,
    row.appId,
    {
      kind: kindOfRow(row),
      settings: row.settings,
      secrets: openSecrets(ctx, row.appId, row.sealedSecrets),
      senderEmail: row.senderEmail,
    },
    undefined,
  );
  const failed = steps.find((s) => s.outcome === "failed");
  ctx.log.info(
    {
      appId: row.appId,
      providerId: row.id,
      version: row.version,
      ok: !failed,
      errorClass: failed?.errorClass,
    },
    "provider health checked",
  );
  return recordHealth(
    ctx,
    row,
    row.version,
    failed
      ? {
          ok: false,
          reason: failed.detail ?? "The connection check failed.",
          cause: failed.errorClass ?? "internal",
        }
      : { ok: true },
  );
}
