import { and, eq, isNull, lte, or } from "drizzle-orm";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { emailProviders } from "../db/schema.ts";
import type { OutgoingEmail } from "../mail/sender.ts";
import { emailWorkspaceAdmins } from "./admin-alerts.ts";
import { kindOfRow } from "./kinds/index.ts";
import type { CredentialExpiry } from "./kinds/kind.ts";

/** From 30 days before a credential expires, its workspace's owners and admins get one email a week. */
export const CREDENTIAL_ALERT_INTERVAL_MS = 7 * 24 * 3_600_000;

type ProviderRow = Pick<typeof emailProviders.$inferSelect, "appId" | "type" | "settings" | "sealedSecrets">;

const expiriesOf = (row: ProviderRow, now: Date): CredentialExpiry[] =>
  kindOfRow(row).credentialExpiries?.(row.settings as never, Object.keys(row.sealedSecrets), now) ?? [];

/** Credentials of every provider by state, and the fewest days any has left (for /metrics). */
export async function countCredentialsByState(db: Db, now: Date) {
  const rows = await db
    .select({
      appId: emailProviders.appId,
      type: emailProviders.type,
      settings: emailProviders.settings,
      sealedSecrets: emailProviders.sealedSecrets,
    })
    .from(emailProviders);
  const counts = { ok: 0, expiring: 0, expired: 0, unknown: 0 };
  let minDaysLeft: number | undefined;
  for (const row of rows) {
    for (const expiry of expiriesOf(row, now)) {
      counts[expiry.state]++;
      if (expiry.daysLeft !== null) minDaysLeft = Math.min(minDaysLeft ?? expiry.daysLeft, expiry.daysLeft);
    }
  }
  return { counts, minDaysLeft };
}

const alertDue = (now: Date) =>
  or(
    isNull(emailProviders.credentialAlertedAt),
    lte(emailProviders.credentialAlertedAt, new Date(now.getTime() - CREDENTIAL_ALERT_INTERVAL_MS)),
  );

/**
 * Emails the owners and admins of each workspace whose provider has a credential expiring within 30
 * days (or expired), at most once a week per provider, through the default sender. Claimed by a
 * conditional update, so one process sends each, and a restart neither repeats nor loses one.
 */
export async function sendDueCredentialAlerts(
  ctx: Context,
  send: (email: OutgoingEmail) => Promise<void>,
): Promise<number> {
  const now = ctx.now();
  const candidates = await ctx.db
    .select({
      id: emailProviders.id,
      appId: emailProviders.appId,
      type: emailProviders.type,
      settings: emailProviders.settings,
      sealedSecrets: emailProviders.sealedSecrets,
      senderEmail: emailProviders.senderEmail,
      credentialAlertedAt: emailProviders.credentialAlertedAt,
    })
    .from(emailProviders)
    .where(and(eq(emailProviders.enabled, true), alertDue(now)));
  let sent = 0;
  for (const row of candidates) {
    const due = expiriesOf(row, now).filter((e) => e.state === "expiring" || e.state === "expired");
    if (due.length === 0) continue;
    const [claimed] = await ctx.db
      .update(emailProviders)
      .set({ credentialAlertedAt: now })
      .where(and(eq(emailProviders.id, row.id), alertDue(now)))
      .returning({ appId: emailProviders.appId });
    if (!claimed) continue;
    try {
      await alert(ctx, row.appId, row.senderEmail, due, send);
      sent++;
    } catch (err) {
      // Not told: give the claim back, so the next round tries again.
      await ctx.db
        .update(emailProviders)
        .set({ credentialAlertedAt: row.credentialAlertedAt })
        .where(and(eq(emailProviders.id, row.id), eq(emailProviders.credentialAlertedAt, now)));
      ctx.log.warn({ err, appId: row.appId }, "credential expiry alert not sent");
    }
  }
  return sent;
}

async function alert(
  ctx: Context,
  appId: string,
  senderEmail: string,
  due: CredentialExpiry[],
  send: (email: OutgoingEmail) => Promise<void>,
) {
  const lines = due.map((e) =>
    e.state === "expired"
      ? `- The ${e.name} expired on ${e.expiresAt?.slice(0, 10)}: Microsoft refuses it.`
      : `- The ${e.name} expires on ${e.expiresAt?.slice(0, 10)}, in ${e.daysLeft} day${e.daysLeft === 1 ? "" : "s"}.`,
  );
  const expired = due.some((e) => e.state === "expired");
  const recipients = await emailWorkspaceAdmins(
    ctx,
    appId,
    (app, link) => ({
      subject: expired
        ? `A credential of ${app.name}'s email provider has expired`
        : `A credential of ${app.name}'s email provider expires soon`,
      text: `The custom email provider of ${app.name} (${senderEmail}):\n\n${lines.join("\n")}\n\nAdd the new credential before the old one stops working: while both are stored, Postern tries the new one first and the old one after it, so login emails keep going out. Then remove the old one.\n\nProvider settings: ${link}\n`,
    }),
    send,
  );
  ctx.log.info({ appId, recipients }, "credential expiry alert sent");
}
