import { and, count, eq, gt, lt, sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { type Db, queryRows, rawSql } from "../db/connection.ts";
import { rateLimitCounters, rateLimitEvents } from "../db/schema.ts";
import { DomainError } from "../errors.ts";

export interface RateLimitRule {
  key: string;
  limit: number;
  windowSeconds: number;
  /** What the caller is told when this rule trips. */
  message: string;
  /** The operator setting (environment variable) that sets `limit`, named in the refusal. */
  setting?: string;
}

/**
 * The address a client is counted under. An IPv6 subscriber is given a whole /64 at the least
 * (RFC 6177, RFC 7934) and picks interface ids at will, so per-address counting would hand one
 * client 2^64 budgets: IPv6 is counted per /64. An IPv4-mapped IPv6 address is the IPv4 client.
 */
export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * The refusal says when to try again (`retryAfter`, seconds, also the Retry-After header) and which
 * setting controls the limit, so a developer who trips it on their own machine knows what to change.
 */
const limited = (rule: RateLimitRule, retryAfterSeconds: number) => {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new DomainError("rate_limited", "rate_limited", rule.message, {
    retryAfterSeconds: retryAfter,
    details: { retryAfter, limit: rule.limit, ...(rule.setting ? { setting: rule.setting } : {}) },
  });
};

/**
 * Exact sliding-window limits, for small limits on one key (a few emails per address). Runs inside
 * the caller's transaction: an advisory lock on the key serialises concurrent requests for that key
 * until the transaction ends, so two requests cannot both see "under the limit". Only requests for
 * the same key ever wait on each other.
 */
export async function consumeSlidingLimits(tx: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  const keys = [...new Set(rules.map((r) => r.key))].sort();
  for (const key of keys) await tx.execute(rawSql("select pg_advisory_xact_lock(hashtext($1))", [key]));
  for (const rule of rules) {
    const since = new Date(now.getTime() - rule.windowSeconds * 1000);
    const inWindow = and(eq(rateLimitEvents.key, rule.key), gt(rateLimitEvents.at, since));
    const [row] = await tx.select({ n: count() }).from(rateLimitEvents).where(inWindow);
    if ((row?.n ?? 0) >= rule.limit) {
      const [oldest] = await tx
        .select({ at: rateLimitEvents.at })
        .from(rateLimitEvents)
        .where(inWindow)
        .orderBy(rateLimitEvents.at)
        .limit(1);
      const freeAt = (oldest?.at.getTime() ?? now.getTime()) + rule.windowSeconds * 1000;
      throw limited(rule, (freeAt - now.getTime()) / 1000);
    }
  }
  await tx.insert(rateLimitEvents).values(keys.map((key) => ({ key, at: now })));
}

/**
 * Budgets with large limits (per IP, per app): a fixed-window counter bumped by one atomic upsert
 * each, outside any transaction. Its row lock lasts one statement, so an app's logins never queue
 * behind one another (a lock held to commit made them run one at a time). Takes one unit of every
 * rule or of none: a counter already at its limit is left as it is, and the units taken from the
 * rules before it are given back.
 */
export async function consumeBudgets(db: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  for (const [i, rule] of rules.entries()) {
    const windowStart = windowOf(rule, now);
    const [row] = await queryRows<{ count: number }>(
      db,
      sql`insert into ${rateLimitCounters} (key, window_start, count) values (${rule.key}, ${windowStart}, 1)
          on conflict (key, window_start) do update set count = ${rateLimitCounters.count} + 1
          where ${rateLimitCounters.count} < ${rule.limit}
          returning count`,
    );
    if (!row) {
      await refundBudgets(db, rules.slice(0, i), now);
      throw limited(rule, (windowStart.getTime() + rule.windowSeconds * 1000 - now.getTime()) / 1000);
    }
  }
}

/**
 * Gives back the units `consumeBudgets` took at `now` (same windows), for budgets that count only
 * what happened: emails actually queued, codes actually wrong.
 */
export async function refundBudgets(db: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  for (const rule of rules) {
    await db.execute(
      sql`update ${rateLimitCounters} set count = ${rateLimitCounters.count} - 1
          where key = ${rule.key} and window_start = ${windowOf(rule, now)} and ${rateLimitCounters.count} > 0`,
    );
  }
}

function windowOf(rule: RateLimitRule, now: Date): Date {
  const windowMs = rule.windowSeconds * 1000;
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs);
}

/** Drops events and counters older than the longest window in use. */
export async function pruneRateLimits(db: Db, olderThan: Date): Promise<void> {
  await db.delete(rateLimitEvents).where(lt(rateLimitEvents.at, olderThan));
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, olderThan));
}
