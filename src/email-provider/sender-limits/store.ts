import { eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/connection.ts";
import { senderConnectionLeases, senderLimits, senderMessages } from "../../db/schema.ts";
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

/** A send the sender's limits hold back: how long the email waits in the queue, and which limit it was. */
export type SenderWait = { waitSeconds: number; blockedBy: Exclude<Take, { ok: true }>["blockedBy"] };

/**
 * Takes what one send needs from a limited sender, for every Postern process at once: a place in the
 * one-minute message window and, when asked, a connection lease. One statement (postern_take_slot,
 * migration 0015) decides under an advisory lock per sender, on the database's clock; how long a
 * blocked send waits is decided here.
 */
export async function takeSlot(
  db: Db,
  limits: SenderLimits,
  holder: string,
  want: { message: boolean; lease: boolean },
): Promise<Take> {
  const messageId = want.message ? randomId("msg") : null;
  const leaseId = want.lease ? randomId("lease") : null;
  const [row] = await queryRows<{
    blocked_by: Exclude<Take, { ok: true }>["blockedBy"] | null;
    frees_in: number | null;
  }>(
    db,
    sql`select blocked_by, frees_in from postern_take_slot(${limits.key}, ${holder}, ${messageId}, ${leaseId},
      ${limits.messagesPerMinute}, ${limits.messagesPerSecond ?? null}, ${limits.messagesPerDay ?? null},
      ${limits.maxConnections}, ${WINDOW_SECONDS}, ${LEASE_SECONDS})`,
  );
  if (!row) throw new Error("postern_take_slot returned nothing");
  const freesIn = row.frees_in === null ? undefined : Number(row.frees_in);
  switch (row.blocked_by) {
    case null:
      return { ok: true, messageId: messageId ?? undefined, leaseId: leaseId ?? undefined };
    case "pause":
      return { ok: false, blockedBy: "pause", waitSeconds: Math.ceil(freesIn ?? 1) };
    case "rate":
      return { ok: false, blockedBy: "rate", waitSeconds: Math.max(1, Math.ceil(freesIn ?? 1)) };
    case "day":
      // Room again when the oldest hour still counted leaves the window.
      return { ok: false, blockedBy: "day", waitSeconds: Math.max(60, Math.ceil(freesIn ?? 3600)) };
    case "second":
      return {
        ok: false,
        blockedBy: "second",
        waitSeconds: 1,
        waitMs: Math.max(10, Math.ceil((freesIn ?? 0.1) * 1000)),
      };
    case "connections":
      return { ok: false, blockedBy: "connections", waitSeconds: CONNECTIONS_BUSY_WAIT_SECONDS };
  }
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
