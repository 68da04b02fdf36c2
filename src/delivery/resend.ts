import { and, eq } from "drizzle-orm";
import type { Account } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { matchRedirectUrl } from "../apps/redirect-urls.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { deliveries, loginChallenges } from "../db/schema.ts";
import { canonicalEmail } from "../email-address/email-address.ts";
import { DomainError, notFound } from "../errors.ts";
import { requestAppLogin } from "../login/end-user-login.ts";
import { deliveryView } from "./delivery-log.ts";

/**
 * Resend for a login email that failed or expired: a NEW login for the same recipient and app, through
 * the normal login path (its per-address, per-network and per-app budgets apply), so the old code is
 * never sent again; the new code supersedes it. Audited; returns the new delivery.
 */
export async function resendDelivery(
  ctx: Context,
  account: Account,
  appId: string,
  deliveryId: string,
  ip: string,
) {
  const app = await requireApp(ctx.db, account.id, appId, "admin");
  const [old] = await ctx.db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.id, deliveryId), eq(deliveries.appId, appId)));
  if (!old) throw notFound("delivery");
  if (old.purpose !== "login") {
    throw new DomainError(
      "conflict",
      "delivery_not_resendable",
      "Only login emails can be resent; send a template test again from the template editor.",
    );
  }
  if (old.status !== "failed" && old.status !== "expired") {
    throw new DomainError(
      "conflict",
      "delivery_not_resendable",
      `Only a failed or expired login email can be resent; this one is ${old.status}.`,
    );
  }
  const [challenge] = old.challengeId
    ? await ctx.db
        .select({ redirectUrl: loginChallenges.redirectUrl })
        .from(loginChallenges)
        .where(eq(loginChallenges.id, old.challengeId))
    : [];
  // The magic link returns where the first one would have, if the app still allows that URL.
  const redirectUrl = challenge?.redirectUrl
    ? matchRedirectUrl(app.redirectUrls, challenge.redirectUrl)
    : undefined;
  const { loginId } = await requestAppLogin(ctx, app, {
    email: canonicalEmail(old.recipient),
    redirectUrl,
    ip,
    locale: old.locale ?? undefined,
  });
  const [created] = await ctx.db.select().from(deliveries).where(eq(deliveries.challengeId, loginId));
  await recordAudit(
    ctx.db,
    {
      workspaceId: app.workspaceId,
      actorAccountId: account.id,
      action: "delivery.resent",
      targetType: "app",
      targetId: appId,
      changes: { resentDelivery: old.id, newDelivery: created!.id, recipient: old.recipient },
    },
    ctx.now(),
  );
  // A new delivery: no attempt to explain yet.
  const view = deliveryView(created!);
  return view!;
}
