import type { Context } from "../context.ts";
import type { Explainer } from "../delivery/delivery-log.ts";
import { kindOfRow } from "./kinds/index.ts";
import { listProviders } from "./service.ts";

/**
 * The app's providers as the delivery log's explainer (a kind's hints need its settings), or undefined
 * when the app has none: stored attempts get the same fix as Test connection gives. An attempt names
 * the provider it went through; older attempts (and a removed provider's) get the primary's.
 */
export async function attemptExplainer(ctx: Context, appId: string): Promise<Explainer | undefined> {
  const providers = await listProviders(ctx, appId);
  const [primary] = providers;
  if (!primary) return undefined;
  return (error, step, providerId) => {
    const provider = providers.find((p) => p.id === providerId) ?? primary;
    return kindOfRow(provider).explain(error, step, provider.settings, provider.senderEmail);
  };
}
