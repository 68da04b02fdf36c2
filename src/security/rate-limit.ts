import { lt, type SQL, sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { type Db, queryRows } from "../db/connection.ts";
import { rateLimitCounters, rateLimitWindows } from "../db/schema.ts";
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
export const rateLimited = (rule: RateLimitRule, retryAfterSeconds: number) => {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new DomainError("rate_limited", "rate_limited", rule.message, {
    retryAfterSeconds: retryAfter,
    details: { retryAfter, limit: rule.limit, ...(rule.setting ? { setting: rule.setting } : {}) },
  });
};

/** Postgres arrays of a key's rules, as the window functions of migration 0011 take them. */
function windowRules(rules: RateLimitRule[]): { limits: SQL; windows: SQL } {
  const intArray = (values: number[]) =>
    sql`array[${sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    )}]::int[]`;
  return {
    limits: intArray(rules.map((r) => r.limit)),
    windows: intArray(rules.map((r) => r.windowSeconds)),
  };
}

/**
 * Exact sliding-window limits, for small limits on one key (a few emails per address). Rules that share
 * a key are one row holding the times of its hits: one upsert per key checks them all and records the
 * hit (postern_take_window), its row lock serialising concurrent requests for that key alone. Runs in
 * the caller's transaction: a refusal throws, and the rollback takes back the hits of the keys before it.
 */
export async function consumeSlidingLimits(tx: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  const byKey = new Map<string, RateLimitRule[]>();
  for (const rule of rules) byKey.set(rule.key, [...(byKey.get(rule.key) ?? []), rule]);
  for (const key of [...byKey.keys()].sort()) {
    const keyRules = byKey.get(key)!;
    const { limits, windows } = windowRules(keyRules);
    const [taken] = await queryRows<{ admitted: boolean | null }>(
      tx,
      sql`select postern_take_window(${key}, ${now}::timestamptz, ${limits}, ${windows}) as admitted`,
    );
    if (taken?.admitted) continue;
    const [refusal] = await queryRows<{ rule_index: number; retry_after_seconds: number }>(
      tx,
      sql`select * from postern_window_refusal(${key}, ${now}::timestamptz, ${limits}, ${windows})`,
    );
    throw rateLimited(keyRules[(refusal?.rule_index ?? 1) - 1]!, refusal?.retry_after_seconds ?? 1);
  }
}

/**
 * Budgets with large limits (per IP, per app): a fixed-window counter bumped by one atomic upsert
 * each (postern_take_budget), outside any transaction. Its row lock lasts one statement, so an app's
 * logins never queue behind one another. Takes one unit of every rule or of none: a counter already at
 * its limit is left as it is, and the units taken from the rules before it are given back.
 */
export async function consumeBudgets(db: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  for (const [i, rule] of rules.entries()) {
    const windowStart = windowOf(rule, now);
    const [row] = await queryRows<{ taken: boolean | null }>(
      db,
      sql`select postern_take_budget(${rule.key}, ${windowStart}::timestamptz, ${rule.limit}::int) as taken`,
    );
    if (!row?.taken) {
      await refundBudgets(db, rules.slice(0, i), now);
      throw rateLimited(rule, budgetRetryAfterSeconds(rule, now));
    }
  }
}

/**
 * Gives back the units `consumeBudgets` took at `now` (same windows), for budgets that count only
 * what happened: emails actually queued, codes actually wrong.
 */
export async function refundBudgets(db: Db, rules: RateLimitRule[], now: Date): Promise<void> {
  for (const rule of rules) {
    await db.execute(sql`select postern_give_back_budget(${rule.key}, ${windowOf(rule, now)}::timestamptz)`);
  }
}

/** The start of the fixed window `now` falls in. */
export function windowOf(rule: RateLimitRule, now: Date): Date {
  const windowMs = rule.windowSeconds * 1000;
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs);
}

/** Seconds until a spent fixed-window budget has units again. */
export function budgetRetryAfterSeconds(rule: RateLimitRule, now: Date): number {
  return (windowOf(rule, now).getTime() + rule.windowSeconds * 1000 - now.getTime()) / 1000;
}

/** Drops sliding windows whose newest hit, and counters whose window, is older than the longest window in use. */
export async function pruneRateLimits(db: Db, olderThan: Date): Promise<void> {
  await db.execute(
    sql`delete from ${rateLimitWindows} where (select max(h) from unnest(${rateLimitWindows.hits}) h) < ${olderThan}::timestamptz`,
  );
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, olderThan));
}
