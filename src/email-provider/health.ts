import { and, eq, ne, sql } from "drizzle-orm";
import type { Config } from "../config/config.ts";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { emailProviders } from "../db/schema.ts";
import { releaseWaitingDeliveries } from "../delivery/schedule.ts";
import { CODE_TTL_SECONDS } from "../mail/login-email.ts";
import type { ErrorClass } from "../mail/smtp-errors.ts";

type ProviderRow = typeof emailProviders.$inferSelect;
export type HealthStatus = ProviderRow["health"];
export type HealthOutcome = { ok: true } | { ok: false; reason: string; cause: ErrorClass };
export type HealthChange = "turned-failing" | "recovered" | "unchanged";

/** A probe interval with jitter (±20 %), so providers that failed together are not all probed together. */
export function nextProbeAt(config: Config, from: Date, random = Math.random): Date {
  const base = config.delivery.providerProbeSeconds * 1000;
  return new Date(from.getTime() + Math.round(base * (0.8 + 0.4 * random())));
}

/**
 * Records what a real send, a probe or a test showed; only the version it concerns is touched.
 * `healthAt` is when the current state began ("failing since"), so a repeated failure updates only
 * the cause. The transition is one conditional update, so among many processes one sees it happen.
 * Found working, the provider's waiting emails go out at once.
 */
export async function recordHealth(
  ctx: Context,
  provider: Pick<ProviderRow, "id" | "appId">,
  version: number,
  outcome: HealthOutcome,
): Promise<HealthChange> {
  const now = ctx.now();
  const { appId } = provider;
  const thisVersion = and(eq(emailProviders.id, provider.id), eq(emailProviders.version, version));
  const health = outcome.ok ? ("working" as const) : ("failing" as const);
  const changed = await ctx.db
    .update(emailProviders)
    .set({
      health,
      healthReason: outcome.ok ? null : outcome.reason,
      healthCause: outcome.ok ? null : outcome.cause,
      healthAt: now,
      healthCheckedAt: now,
      nextProbeAt: outcome.ok ? null : nextProbeAt(ctx.config, now),
    })
    .where(and(thisVersion, ne(emailProviders.health, health)))
    .returning({ appId: emailProviders.appId });
  if (changed.length === 0) {
    await ctx.db
      .update(emailProviders)
      .set(
        outcome.ok
          ? { healthCheckedAt: now }
          : { healthCheckedAt: now, healthReason: outcome.reason, healthCause: outcome.cause },
      )
      .where(and(thisVersion, eq(emailProviders.health, health)));
    return "unchanged";
  }
  ctx.log.info(
    { appId, providerId: provider.id, version, health, cause: outcome.ok ? undefined : outcome.cause },
    "email provider health changed",
  );
  if (!outcome.ok) return "turned-failing";
  await releaseWaitingDeliveries(ctx, appId);
  return "recovered";
}

function every(seconds: number): string {
  if (seconds % 60 === 0 && seconds >= 120) return `${seconds / 60} minutes`;
  if (seconds === 60) return "minute";
  if (seconds === 1) return "second";
  return `${seconds} seconds`;
}

/**
 * Failures of the provider's configuration (credentials, TLS, a refused destination, the OAuth token):
 * every email would fail the same way, so emails wait for a check that works instead of each trying.
 * A network failure or a timeout may be one connection's bad luck: each email keeps its own backoff.
 */
const CONFIGURATION_CAUSES: ReadonlySet<string> = new Set<ErrorClass>(["auth", "tls", "blocked", "token"]);

export const holdsEmails = (cause: string | null): boolean =>
  cause === null || CONFIGURATION_CAUSES.has(cause);

/**
 * What happens to login emails while the provider fails — the router's and the worker's rules
 * (src/email-provider/routing.ts, src/delivery/worker.ts) in words. `next`: what takes the emails
 * instead (the next provider in the chain, or the default sender), if anything does. The dashboard
 * shows this text as it is, so it cannot drift from the code. Without a cause: both cases, for the
 * summary shown before anything failed.
 */
export function whileFailing(config: Config, next: string | undefined, cause?: string | null): string {
  const probe = every(config.delivery.providerProbeSeconds);
  if (next)
    return `Login emails go out through ${next} while it fails. Postern checks the provider every ${probe} and uses it again as soon as it works.`;
  const held = `login emails wait and nothing is sent through it; Postern checks it every ${probe}, and the waiting emails go out as soon as a check, a send, a test or a saved change works.`;
  const retried = `each login email tries again with growing pauses (at most ${every(config.delivery.retryMaxSeconds)} apart), and all go out at once when a check or a send works again.`;
  const expiry = `An email still waiting when its login expires (${CODE_TTL_SECONDS / 60} minutes after it was asked for) is marked expired.`;
  if (cause === undefined)
    return `If it refuses the credentials or the connection's security, ${held} If it cannot be reached, ${retried} ${expiry}`;
  const rule = holdsEmails(cause) ? held : retried;
  return `${rule[0]!.toUpperCase()}${rule.slice(1)} ${expiry}`;
}

/**
 * What takes a provider's login emails while it fails: the next enabled provider of its app, or the
 * default sender when any enabled provider allows it (the router's chain, src/email-provider/routing.ts).
 */
export function nextInChain(
  chain: readonly ProviderRow[],
  row: Pick<ProviderRow, "id">,
  labelOf: (row: ProviderRow) => string,
): string | undefined {
  const enabled = chain.filter((r) => r.enabled);
  const at = enabled.findIndex((r) => r.id === row.id);
  const after = at >= 0 ? enabled[at + 1] : undefined;
  if (after) return `the next provider, ${labelOf(after)}`;
  return enabled.some((r) => r.fallbackToDefault) ? "the default sender" : undefined;
}

/** A provider's health for people: its state, the cause, since when, and what happens to login emails. */
export function healthView(config: Config, row: ProviderRow, next: string | undefined) {
  const since = row.healthAt?.toISOString() ?? null;
  const ifItFails = whileFailing(config, next);
  const emails = !row.enabled
    ? "The provider is disabled: login emails go out through the default sender, and nothing checks the provider until it is enabled again."
    : row.health === "failing"
      ? whileFailing(config, next, row.healthCause)
      : row.health === "working"
        ? "Login emails go out through this provider."
        : "Login emails go out through this provider; its health is known after the first send or test.";
  return {
    status: row.health,
    reason: row.healthReason,
    cause: row.health === "failing" ? row.healthCause : null,
    /** Kept for clients of the first API: the same as `since`. */
    at: since,
    since,
    checkedAt: row.healthCheckedAt?.toISOString() ?? null,
    nextCheckAt: row.health === "failing" ? (row.nextProbeAt?.toISOString() ?? null) : null,
    emails,
    ifItFails,
  };
}

/** How many providers are in each state, for the `/metrics` gauge (no per-tenant labels). */
export async function countProvidersByHealth(db: Db): Promise<Record<HealthStatus, number>> {
  const rows = await db
    .select({ health: emailProviders.health, count: sql<number>`count(*)::int` })
    .from(emailProviders)
    .groupBy(emailProviders.health);
  const counts: Record<HealthStatus, number> = { unknown: 0, working: 0, failing: 0 };
  for (const row of rows) counts[row.health] = Number(row.count);
  return counts;
}
