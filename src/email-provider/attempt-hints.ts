import type { Context } from "../context.ts";
import type { Explainer } from "../delivery/delivery-log.ts";
import { kindOfRow } from "./kinds/index.ts";
import { findProvider } from "./service.ts";

/**
 * The app's provider kind as the delivery log's explainer (the kind's hints need its settings), or
 * undefined when the app has none: stored attempts get the same fix as Test connection gives.
 */
export async function attemptExplainer(ctx: Context, appId: string): Promise<Explainer | undefined> {
  const provider = await findProvider(ctx, appId);
  if (!provider) return undefined;
  const kind = kindOfRow(provider);
  return (error, step) => kind.explain(error, step, provider.settings, provider.senderEmail);
}
