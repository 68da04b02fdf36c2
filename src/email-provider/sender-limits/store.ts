import { eq, sql } from "drizzle-orm";
import { type Db, queryRows, rawSql } from "../../db/connection.ts";
import { senderConnectionLeases, senderHourlyCounts, senderLimits, senderMessages } from "../../db/schema.ts";
import { randomId } from "../../security/tokens.ts";
import type { SenderLimits } from "../kinds/kind.ts";

/** A lease lapses this long after its process last renewed it (a dead worker frees its connections). */
export const LEASE_SECONDS = 60;
/**
 * The per-minute window, plus a second for the gap between Exchange accepting a message and us
 * recording its end, and for clock skew: our count never falls below the server's.
 */
const WINDOW_SECONDS = 61;
/** How long a lowered connection cap (after Exchange's 432) holds before the setting applies again. */
const LOWERED_CAP_SECONDS = 600;
/** How soon to look again when every connection is taken: leases free when connections go idle. */
const CONNECTIONS_BUSY_WAIT_SECONDS = 1;

export type Take =
  | { ok: true; messageId: string | undefined; leaseId: string | undefined }
  | { ok: false; blockedBy: "pause" | "rate" | "day" | "connections"; waitSeconds: number }
  /** The per-second rate: room again within the second, so the sender waits here rather than in the queue. */
  | { ok: false; blockedBy: "second"; waitSeconds: number; waitMs: number };

interface State {
  paused_for: number | null;
  cap: number | null;
  leases: number;
  recent: number;
  window_frees_in: number | null;
  last_second: number;
  second_frees_in: number | null;
  last_day: number;
  day_frees_in: number | null;
}

/**
 * Takes what one send needs from a limited sender, for every Postern process at once: a place in the
 * one-minute message window and, when asked, a connection lease. All times are the database's, the one
 * clock the processes share; an advisory lock per sender serialises takers until the transaction ends.
 */
export async function takeSlot(
  db: Db,
  limits: SenderLimits,
  holder: string,
  want: { message: boolean; lease: boolean },
): Promise<Take> {
  return db.transaction(async (tx) => {
    await tx.execute(rawSql("select pg_advisory_xact_lock(hashtext($1))", [limits.key]));
    await tx.execute(sql`delete from ${senderConnectionLeases}
      where ${senderConnectionLeases.sender} = ${limits.key} and ${senderConnectionLeases.expiresAt} < now()`);
    await tx.execute(sql`delete from ${senderMessages}
      where ${senderMessages.sender} = ${limits.key} and ${senderMessages.at} < now() - interval '2 minutes'`);
    const [state] = await queryRows<State>(
      tx,
      sql`select
        (select extract(epoch from (paused_until - now()))::float8 from sender_limits where sender = ${limits.key}) as paused_for,
        (select connection_cap from sender_limits where sender = ${limits.key} and connection_cap_until > now()) as cap,
        (select count(*)::int from sender_connection_leases where sender = ${limits.key}) as leases,
        (select count(*)::int from sender_messages
          where sender = ${limits.key} and at > now() - make_interval(secs => ${WINDOW_SECONDS})) as recent,
        (select extract(epoch from (min(at) + make_interval(secs => ${WINDOW_SECONDS}) - now()))::float8 from sender_messages
          where sender = ${limits.key} and at > now() - make_interval(secs => ${WINDOW_SECONDS})) as window_frees_in,
        (select count(*)::int from sender_messages
          where sender = ${limits.key} and at > now() - interval '1 second') as last_second,
        (select extract(epoch from (min(at) + interval '1 second' - now()))::float8 from sender_messages
          where sender = ${limits.key} and at > now() - interval '1 second') as second_frees_in,
        (select coalesce(sum(count), 0)::int from sender_hourly_counts
          where sender = ${limits.key} and hour > now() - interval '25 hours') as last_day,
        (select extract(epoch from (min(hour) + interval '25 hours' - now()))::float8 from sender_hourly_counts
          where sender = ${limits.key} and hour > now() - interval '25 hours') as day_frees_in`,
    );
    if (!state) throw new Error("sender limits query returned nothing");
    // A pause stops new sends; a connection for a send already under way may still open.
    if (want.message && state.paused_for !== null && state.paused_for > 0) {
      return { ok: false, blockedBy: "pause", waitSeconds: Math.ceil(state.paused_for) };
    }
    if (want.message && state.recent >= limits.messagesPerMinute) {
      return {
        ok: false,
        blockedBy: "rate",
        waitSeconds: Math.max(1, Math.ceil(state.window_frees_in ?? 1)),
      };
    }
    if (want.message && limits.messagesPerDay !== undefined && state.last_day >= limits.messagesPerDay) {
      // Room again when the oldest hour still counted leaves the window.
      return {
        ok: false,
        blockedBy: "day",
        waitSeconds: Math.max(60, Math.ceil(state.day_frees_in ?? 3600)),
      };
    }
    if (
      want.message &&
      limits.messagesPerSecond !== undefined &&
      state.last_second >= limits.messagesPerSecond
    ) {
      const waitMs = Math.max(10, Math.ceil((state.second_frees_in ?? 0.1) * 1000));
      return { ok: false, blockedBy: "second", waitSeconds: 1, waitMs };
    }
    const cap = Math.min(limits.maxConnections, state.cap ?? limits.maxConnections);
    if (want.lease && state.leases >= cap) {
      return { ok: false, blockedBy: "connections", waitSeconds: CONNECTIONS_BUSY_WAIT_SECONDS };
    }
    const leaseId = want.lease ? randomId("lease") : undefined;
    if (leaseId) {
      await tx.execute(sql`insert into ${senderConnectionLeases} (id, sender, holder, expires_at)
        values (${leaseId}, ${limits.key}, ${holder}, now() + make_interval(secs => ${LEASE_SECONDS}))`);
    }
    const messageId = want.message ? randomId("msg") : undefined;
    if (messageId && limits.messagesPerDay !== undefined) {
      // A row of hour H is counted until H + 25 h, so each of its messages counts for 24 to 25 hours:
      // never fewer than the provider's rolling day. A message taken and then not submitted still counts.
      await tx.execute(sql`insert into ${senderHourlyCounts} (sender, hour, count)
        values (${limits.key}, date_trunc('hour', now()), 1)
        on conflict (sender, hour) do update set count = ${senderHourlyCounts.count} + 1`);
      await tx.execute(sql`delete from ${senderHourlyCounts}
        where ${senderHourlyCounts.sender} = ${limits.key} and ${senderHourlyCounts.hour} < now() - interval '26 hours'`);
    }
    if (messageId) {
      await tx.execute(
        sql`insert into ${senderMessages} (id, sender, at) values (${messageId}, ${limits.key}, now())`,
      );
    }
    return { ok: true, messageId, leaseId };
  });
}

/** A message's window starts again when its send ends, so it counts until a minute after Exchange saw it. */
export async function finishMessage(db: Db, messageId: string): Promise<void> {
  await db.execute(sql`update ${senderMessages} set at = now() where ${senderMessages.id} = ${messageId}`);
}

/** A message that was never submitted does not count against the window. */
export async function forgetMessage(db: Db, messageId: string): Promise<void> {
  await db.delete(senderMessages).where(eq(senderMessages.id, messageId));
}

export async function releaseLease(db: Db, leaseId: string): Promise<void> {
  await db.delete(senderConnectionLeases).where(eq(senderConnectionLeases.id, leaseId));
}

export async function renewLeases(db: Db, holder: string): Promise<void> {
  await db.execute(sql`update ${senderConnectionLeases}
    set expires_at = now() + make_interval(secs => ${LEASE_SECONDS}) where ${senderConnectionLeases.holder} = ${holder}`);
}

export async function releaseAllLeases(db: Db, holder: string): Promise<void> {
  await db.delete(senderConnectionLeases).where(eq(senderConnectionLeases.holder, holder));
}

/** Stops every process from sending through this sender for `seconds` (an earlier, longer pause stays). */
export async function pauseSender(db: Db, key: string, seconds: number, reason: string): Promise<void> {
  await db.execute(sql`insert into ${senderLimits} (sender, paused_until, pause_reason)
    values (${key}, now() + make_interval(secs => ${seconds}), ${reason})
    on conflict (sender) do update set
      paused_until = greatest(${senderLimits.pausedUntil}, excluded.paused_until),
      pause_reason = excluded.pause_reason`);
}

/** One connection fewer for a while (never below one), after the server refused one more. */
export async function lowerConnectionCap(db: Db, limits: SenderLimits): Promise<void> {
  await db.execute(sql`insert into ${senderLimits} (sender, connection_cap, connection_cap_until)
    values (${limits.key}, ${Math.max(1, limits.maxConnections - 1)}, now() + make_interval(secs => ${LOWERED_CAP_SECONDS}))
    on conflict (sender) do update set
      connection_cap = greatest(1, case when ${senderLimits.connectionCapUntil} > now()
        then ${senderLimits.connectionCap} else ${limits.maxConnections} end - 1),
      connection_cap_until = excluded.connection_cap_until`);
}
