import { and, eq, gt } from "drizzle-orm";
import type { Context } from "../context.ts";
import { transactionExecutor } from "../db/connection.ts";
import { deliveries } from "../db/schema.ts";

/**
 * Exponential backoff with jitter, capped: base · 2^tries, between half and all of it, at most
 * `maxSeconds` (so a long outage is still retried every few minutes). There is no retry count: an
 * email is retried until its login expires (the caller checks the expiry).
 */
export function retryDelayMs(
  baseSeconds: number,
  tries: number,
  maxSeconds: number,
  random = Math.random,
): number {
  const full = Math.min(maxSeconds * 1000, baseSeconds * 1000 * 2 ** Math.min(tries, 16));
  return Math.round(full / 2 + (full / 2) * random());
}

/**
 * Records the next try of a delivery and enqueues its job in one transaction, so a crash cannot leave
 * a delivery waiting with no job, and the job carries the schedule it belongs to.
 */
export async function scheduleDelivery(
  ctx: Context,
  deliveryId: string,
  at: Date,
  tries: number,
  set: Partial<typeof deliveries.$inferInsert>,
): Promise<void> {
  const startAfterSeconds = Math.max(0, Math.ceil((at.getTime() - ctx.now().getTime()) / 1000));
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(deliveries)
      .set({ ...set, nextAttemptAt: at, updatedAt: ctx.now() })
      .where(eq(deliveries.id, deliveryId));
    await ctx.queue.enqueue(
      { deliveryId, scheduledFor: at.toISOString(), tries },
      { within: transactionExecutor(tx), ...(startAfterSeconds > 0 ? { startAfterSeconds } : {}) },
    );
  });
}

/**
 * Sends an app's waiting emails now instead of after their backoff: called when its provider was
 * found working (a send, a probe, a test) or was saved anew. Each gets a new schedule, so the job
 * of its old one does nothing when it comes due.
 */
export async function releaseWaitingDeliveries(ctx: Context, appId: string): Promise<number> {
  const now = ctx.now();
  const released = await ctx.db.transaction(async (tx) => {
    // An email being sent right now is not waiting yet: marked, so that if this attempt fails it goes
    // again at once rather than after its backoff (`releasedDuringAttempt`).
    await tx
      .update(deliveries)
      .set({ updatedAt: now })
      .where(and(eq(deliveries.appId, appId), eq(deliveries.status, "sending")));
    const rows = await tx
      .update(deliveries)
      .set({ nextAttemptAt: now, updatedAt: now })
      .where(
        and(eq(deliveries.appId, appId), eq(deliveries.status, "retrying"), gt(deliveries.expiresAt, now)),
      )
      .returning({ id: deliveries.id });
    for (const { id } of rows)
      await ctx.queue.enqueue(
        { deliveryId: id, scheduledFor: now.toISOString(), tries: 0 },
        { within: transactionExecutor(tx) },
      );
    return rows.length;
  });
  if (released > 0) {
    ctx.queue.wakeLocalWorkers();
    ctx.log.info({ appId, released }, "waiting login emails released");
  }
  return released;
}

/**
 * Whether the app's waiting emails were released while this delivery's attempt ran (claimed at
 * `claimedAt`): then its provider was saved or found working meanwhile, and the attempt's failure
 * belongs to what the provider was before.
 */
export async function releasedDuringAttempt(
  ctx: Context,
  deliveryId: string,
  claimedAt: Date,
): Promise<boolean> {
  const [row] = await ctx.db
    .select({ updatedAt: deliveries.updatedAt })
    .from(deliveries)
    .where(eq(deliveries.id, deliveryId));
  return row !== undefined && row.updatedAt.getTime() > claimedAt.getTime();
}
