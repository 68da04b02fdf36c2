import { and, desc, eq, lt, or } from "drizzle-orm";
import { requireApp } from "../apps/apps.ts";
import type { Db } from "../db/connection.ts";
import { deliveries } from "../db/schema.ts";
import { invalid, notFound } from "../errors.ts";

type Delivery = typeof deliveries.$inferSelect;
/** What an app's delivery can be; "suppressed" is only ever a decoy dashboard sign-in's, which has no app. */
export type DeliveryStatus = Exclude<Delivery["status"], "suppressed">;

/** The developer's view of one delivery. The sealed code is never part of it. */
export function deliveryView(d: Delivery) {
  return {
    id: d.id,
    appId: d.appId,
    recipient: d.recipient,
    sender: d.sender,
    route: d.route,
    status: d.status as DeliveryStatus,
    attemptCount: d.attemptCount,
    attempts: d.attempts,
    lastError: d.lastError,
    messageId: d.messageId,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    sentAt: d.sentAt?.toISOString() ?? null,
    /** When the next try is due, while the email is queued or retrying. */
    nextAttemptAt:
      d.status === "retrying" || d.status === "queued" ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    expiresAt: d.expiresAt.toISOString(),
    locale: d.locale,
    purpose: d.purpose,
  };
}

/** Cursor pagination, newest first: the cursor is the last row's `createdAt|id`. */
export async function listDeliveries(
  db: Db,
  accountId: string,
  appId: string,
  options: { status?: DeliveryStatus | undefined; limit: number; cursor?: string | undefined },
) {
  await requireApp(db, accountId, appId);
  const conditions = [eq(deliveries.appId, appId)];
  if (options.status) conditions.push(eq(deliveries.status, options.status));
  if (options.cursor) {
    const [at, id] = options.cursor.split("|");
    const when = new Date(at ?? "");
    if (!id || Number.isNaN(when.getTime()))
      throw invalid("invalid_cursor", "cursor is not one this API returned.", "cursor");
    conditions.push(
      or(lt(deliveries.createdAt, when), and(eq(deliveries.createdAt, when), lt(deliveries.id, id)))!,
    );
  }
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...conditions))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(options.limit + 1);
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(deliveryView),
    nextCursor: rows.length > options.limit && last ? `${last.createdAt.toISOString()}|${last.id}` : null,
  };
}

export async function getDelivery(db: Db, accountId: string, appId: string, deliveryId: string) {
  await requireApp(db, accountId, appId);
  const [row] = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.id, deliveryId), eq(deliveries.appId, appId)));
  if (!row) throw notFound("delivery");
  return deliveryView(row);
}
