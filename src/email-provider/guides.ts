import { requireApp } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { type GuideValues, microsoftGuide } from "./kinds/microsoft/guide.ts";
import { findProvider } from "./service.ts";

/** The guide for an app: values entered in the (unsaved) form win over the saved Microsoft provider's. */
export async function microsoftGuideForApp(
  ctx: Context,
  accountId: string,
  appId: string,
  entered: GuideValues,
) {
  await requireApp(ctx.db, accountId, appId);
  const saved = await findProvider(ctx, appId);
  const settings =
    saved?.type === "smtp_oauth" && saved.settings.provider === "microsoft"
      ? (saved.settings as { clientId?: string; tenantId?: string; transport?: "smtp" | "graph" })
      : undefined;
  return microsoftGuide({
    clientId: entered.clientId ?? settings?.clientId,
    tenantId: entered.tenantId ?? settings?.tenantId,
    senderEmail: entered.senderEmail ?? (settings ? saved?.senderEmail : undefined),
    objectId: entered.objectId,
    transport: entered.transport ?? settings?.transport,
  });
}
