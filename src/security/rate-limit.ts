import { and, count, eq, gt, lt } from "drizzle-orm";
import { type Db, rawSql } from "../db/connection.ts";
import { rateLimitEvents } from "../db/schema.ts";
import { DomainError } from "../errors.ts";

export interface RateLimitRule {
  key: string;
  limit: number;
  windowSeconds: number;
  /** What the caller is told when this rule trips. */
  message: string;
}

/**
 * Sliding-window limits kept in the database, so they hold across every API process.
 * Must run inside a transaction: the advisory locks serialise concurrent requests for the same key
 * until the transaction ends, so two requests cannot both see "under the limit".
 */
export async function consumeRateLimits(tx: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  const keys = [...new Set(rules.map((r) => r.key))].sort();
  for (const key of keys) await tx.execute(rawSql("select pg_advisory_xact_lock(hashtext($1))", [key]));
  for (const rule of rules) {
    const since = new Date(now.getTime() - rule.windowSeconds * 1000);
    const [row] = await tx
      .select({ n: count() })
      .from(rateLimitEvents)
      .where(and(eq(rateLimitEvents.key, rule.key), gt(rateLimitEvents.at, since)));
    if ((row?.n ?? 0) >= rule.limit) {
      const [oldest] = await tx
        .select({ at: rateLimitEvents.at })
        .from(rateLimitEvents)
        .where(and(eq(rateLimitEvents.key, rule.key), gt(rateLimitEvents.at, since)))
        .orderBy(rateLimitEvents.at)
        .limit(1);
      const freeAt = (oldest?.at.getTime() ?? now.getTime()) + rule.windowSeconds * 1000;
      throw new DomainError("rate_limited", "rate_limited", rule.message, {
        retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)),
      });
    }
  }
  const uniqueKeys = [...new Set(rules.map((r) => r.key))];
  await tx.insert(rateLimitEvents).values(uniqueKeys.map((key) => ({ key, at: now })));
}

/** Drops events older than the longest window in use. */
export async function pruneRateLimitEvents(db: Db, olderThan: Date): Promise<void> {
  await db.delete(rateLimitEvents).where(lt(rateLimitEvents.at, olderThan));
}
