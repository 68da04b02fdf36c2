import { and, eq, inArray, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { Context } from "../context.ts";
import { emailProviders } from "../db/schema.ts";
import type { OutgoingEmail } from "../mail/sender.ts";
import { emailWorkspaceAdmins } from "./admin-alerts.ts";
import { nextInChain, whileFailing } from "./health.ts";
import { listProviders, providerLabel } from "./service.ts";

/** At most one alert per provider in this window; a state that changed meanwhile is told after it. */
export const ALERT_INTERVAL_MS = 3_600_000;

/**
 * Which providers owe their workspace an alert: the health differs from the one last told (a provider
 * that never failed owes no "works again"), and the last alert is an hour old. The same condition
 * guards the claim, so one process sends each alert, and a restart neither repeats nor loses one.
 */
function owed(now: Date) {
  return and(
    eq(emailProviders.enabled, true),
    inArray(emailProviders.health, ["working", "failing"]),
    or(isNull(emailProviders.alertedHealth), ne(emailProviders.alertedHealth, emailProviders.health)),
    or(eq(emailProviders.health, "failing"), eq(emailProviders.alertedHealth, "failing")),
    or(
      isNull(emailProviders.alertedAt),
      lte(emailProviders.alertedAt, new Date(now.getTime() - ALERT_INTERVAL_MS)),
    ),
  );
}

/** Emails the owners and admins of each workspace whose provider owes an alert, through the default sender. */
export async function sendDueHealthAlerts(
  ctx: Context,
  send: (email: OutgoingEmail) => Promise<void>,
): Promise<number> {
  const now = ctx.now();
  const candidates = await ctx.db
    .select({ id: emailProviders.id, appId: emailProviders.appId })
    .from(emailProviders)
    .where(owed(now))
    .limit(100);
  let sent = 0;
  for (const { id, appId } of candidates) {
    const before = await ctx.db
      .select({ alertedHealth: emailProviders.alertedHealth, alertedAt: emailProviders.alertedAt })
      .from(emailProviders)
      .where(eq(emailProviders.id, id));
    const [claimed] = await ctx.db
      .update(emailProviders)
      .set({ alertedHealth: sql`${emailProviders.health}`, alertedAt: now })
      .where(and(eq(emailProviders.id, id), owed(now)))
      .returning();
    if (!claimed) continue;
    try {
      await alert(ctx, claimed, send);
      sent++;
    } catch (err) {
      // Not told: give the claim back, so the next round tries again.
      const previous = before[0];
      await ctx.db
        .update(emailProviders)
        .set({ alertedHealth: previous?.alertedHealth ?? null, alertedAt: previous?.alertedAt ?? null })
        .where(and(eq(emailProviders.id, id), eq(emailProviders.alertedAt, now)));
      ctx.log.warn({ err, appId }, "provider health alert not sent");
    }
  }
  return sent;
}

async function alert(
  ctx: Context,
  provider: typeof emailProviders.$inferSelect,
  send: (email: OutgoingEmail) => Promise<void>,
) {
  const since = provider.healthAt?.toISOString() ?? ctx.now().toISOString();
  const failing = provider.health === "failing";
  const next = nextInChain(await listProviders(ctx, provider.appId), provider, providerLabel);
  const recipients = await emailWorkspaceAdmins(
    ctx,
    provider.appId,
    (app, link) => ({
      subject: failing
        ? `The email provider of ${app.name} is failing`
        : `The email provider of ${app.name} works again`,
      text: failing
        ? `The custom email provider of ${app.name} (${provider.senderEmail}) is failing since ${since}.\n\nCause: ${provider.healthReason ?? "the last send failed"}\n\n${whileFailing(ctx.config, next, provider.healthCause)}\n\nProvider settings: ${link}\n`
        : `The custom email provider of ${app.name} (${provider.senderEmail}) works again since ${since}. Login emails go out through it, and the ones that were waiting have been sent.\n\nProvider settings: ${link}\n`,
    }),
    send,
  );
  ctx.log.info({ appId: provider.appId, health: provider.health, recipients }, "provider health alert sent");
}
