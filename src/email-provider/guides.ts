import { requireApp } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { type GoogleGuideValues, googleGuide } from "./kinds/google/guide.ts";
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

/** The Google Workspace guide for an app: values entered in the (unsaved) form win over the saved Google provider's. */
export async function googleGuideForApp(
  ctx: Context,
  accountId: string,
  appId: string,
  entered: GoogleGuideValues,
) {
  await requireApp(ctx.db, accountId, appId);
  const saved = await findProvider(ctx, appId);
  const settings =
    saved?.type === "smtp_oauth" && saved.settings.provider === "google"
      ? (saved.settings as { clientId?: string; clientEmail?: string })
      : undefined;
  return googleGuide({
    clientId: entered.clientId ?? settings?.clientId,
    clientEmail: entered.clientEmail ?? settings?.clientEmail,
    senderEmail: entered.senderEmail ?? (settings ? saved?.senderEmail : undefined),
  });
}
