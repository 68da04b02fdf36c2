import type { PGlite } from "@electric-sql/pglite";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openStorage, queryRows, type Storage } from "../../src/db/connection.ts";
import { senderConnectionLeases } from "../../src/db/schema.ts";
import type { SenderLimits } from "../../src/email-provider/kinds/kind.ts";
import { SenderLane } from "../../src/email-provider/sender-limits/lane.ts";
import { newPglite } from "../support/database-templates.ts";
import { waitFor } from "../support/harness.ts";

type Slot = Awaited<ReturnType<SenderLane["acquireSlot"]>>;
type Granted = Extract<Slot, { release: unknown }>;

let pglite: PGlite;
let storage: Storage;
let db: Db;
beforeAll(async () => {
  pglite = await newPglite();
  storage = await openStorage({ pglite });
  db = storage.db;
});
afterAll(async () => {
  await storage.close();
  await pglite.close();
});

let senders = 0;
/** Each test its own sender, so the rows of one never count against another. */
const limitsFor = (maxConnections: number, messagesPerMinute: number): SenderLimits => ({
  key: `microsoft:tenant:sender-${++senders}@contoso.example`,
  maxConnections,
  messagesPerMinute,
});

const frozen = () => new Date("2030-01-01T00:00:00Z");
/**
 * Every reading two seconds after the one before: a send that would wait here for one of this process's
 * connections (up to three seconds) sees its local wait run out on the second refusal, without sleeping.
 */
function stepping(stepMs = 2_000): () => Date {
  let at = Date.parse("2030-01-01T00:00:00Z");
  return () => {
    at += stepMs;
    return new Date(at);
  };
}

const errors: unknown[] = [];
let processes = 0;
/** One process's lane for the sender; two lanes with the same limits are two Postern processes. */
const laneOf = (limits: SenderLimits, now: () => Date = frozen) =>
  new SenderLane(db, limits, `proc_${++processes}`, (err) => errors.push(err), now);

function granted(slot: Slot): Granted {
  if (!("release" in slot)) throw new Error(`expected a slot, got a wait of ${slot.waitSeconds} s`);
  return slot;
}

async function leasesOf(limits: SenderLimits): Promise<number> {
  const rows = await db
    .select({ id: senderConnectionLeases.id })
    .from(senderConnectionLeases)
    .where(eq(senderConnectionLeases.sender, limits.key));
  return rows.length;
}

/** What happens to each earlier send: it ends submitted, ends refused by the provider, or is still under way. */
type Send = "submitted" | "refused" | "held";

describe("a sender's lane: the one-minute window and the connection leases", () => {
  const rows: {
    rule: string;
    limits: [maxConnections: number, messagesPerMinute: number];
    sends: Send[];
    next: "granted" | { waitSeconds: [min: number, max: number]; blockedBy: string };
  }[] = [
    {
      rule: "under the rate, every send gets a slot",
      limits: [2, 3],
      sends: ["submitted", "submitted"],
      next: "granted",
    },
    {
      rule: "a full window waits until its oldest message is a minute (and a second) old",
      limits: [2, 3],
      sends: ["submitted", "submitted", "submitted"],
      next: { waitSeconds: [59, 61], blockedBy: "rate" },
    },
    {
      rule: "a send the provider refused gives its place in the window back",
      limits: [2, 3],
      sends: ["submitted", "submitted", "refused"],
      next: "granted",
    },
    {
      rule: "every refused send gives its place back, so a sender that never submits never fills its window",
      limits: [1, 2],
      sends: ["refused", "refused", "refused", "refused"],
      next: "granted",
    },
    {
      rule: "sends still under way count in the window",
      limits: [5, 2],
      sends: ["held", "held"],
      next: { waitSeconds: [59, 61], blockedBy: "rate" },
    },
    {
      rule: "sends under way hold every connection: the next waits here, then goes back to the queue for a second",
      limits: [2, 10],
      sends: ["held", "held"],
      next: { waitSeconds: [1, 1], blockedBy: "connections" },
    },
    {
      rule: "a finished send's connection lease is given back, so the next send may take one",
      limits: [1, 10],
      sends: ["submitted", "submitted", "submitted"],
      next: "granted",
    },
  ];

  it.each(rows)("$rule", async ({ limits: [maxConnections, messagesPerMinute], sends, next }) => {
    const limits = limitsFor(maxConnections, messagesPerMinute);
    const lane = laneOf(limits, stepping());
    const underWay: Granted[] = [];
    for (const send of sends) {
      const slot = granted(await lane.acquireSlot());
      if (send === "held") underWay.push(slot);
      else await slot.release(send === "submitted");
      // A lease given back is deleted in the background; the next take must not race it.
      await waitFor(
        async () => (await leasesOf(limits)) <= underWay.length || undefined,
        2_000,
        "leases freed",
      );
    }
    const slot = await lane.acquireSlot();
    if (next === "granted") {
      expect(slot).toHaveProperty("release");
      await granted(slot).release(true);
    } else {
      expect("waitSeconds" in slot && slot.waitSeconds).toBeGreaterThanOrEqual(next.waitSeconds[0]);
      expect("waitSeconds" in slot && slot.waitSeconds).toBeLessThanOrEqual(next.waitSeconds[1]);
      expect(slot).toHaveProperty("blockedBy", next.blockedBy);
    }
    expect(await leasesOf(limits)).toBeLessThanOrEqual(maxConnections);
    for (const held of underWay) await held.release(true);
    expect(errors).toEqual([]);
  });

  it("a send waiting here for a connection takes the one this process's own finishing send frees", async () => {
    const limits = limitsFor(1, 10);
    // A frozen clock: the local wait never runs out, so only the first send's end can free the second.
    const lane = laneOf(limits, frozen);
    const first = granted(await lane.acquireSlot());
    // The pool's hook before it opens the first send's connection: the lease stays with the open socket.
    const connection = await lane.open();
    const second = lane.acquireSlot();
    let settled = false;
    void second.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    await first.release(true);
    const slot = granted(await second);
    expect(await leasesOf(limits)).toBe(1);
    await slot.release(true);
    connection.release();
    await waitFor(
      async () => (await leasesOf(limits)) === 0 || undefined,
      2_000,
      "the idle connection's lease back",
    );
  });

  it("two processes sharing a database never hold more leases than the sender's connection limit", async () => {
    const limits = limitsFor(2, 100);
    const a = laneOf(limits, stepping());
    const b = laneOf(limits, stepping());
    const heldByA = [granted(await a.acquireSlot()), granted(await a.acquireSlot())];
    expect(await leasesOf(limits)).toBe(2);
    // b has no send of its own that could free a connection: straight back to the queue.
    expect(await b.acquireSlot()).toEqual({ waitSeconds: 1, blockedBy: "connections" });
    await heldByA[0]!.release(true);
    await waitFor(async () => (await leasesOf(limits)) === 1 || undefined, 2_000, "a's lease given back");
    const heldByB = granted(await b.acquireSlot());
    expect(await leasesOf(limits)).toBe(2);
    expect(await a.acquireSlot()).toEqual({ waitSeconds: 1, blockedBy: "connections" });
    await heldByA[1]!.release(true);
    await heldByB.release(true);
    await waitFor(async () => (await leasesOf(limits)) === 0 || undefined, 2_000, "every lease given back");
  });

  it("a pause (Exchange's quota reply) stops every process's sends for its length", async () => {
    const limits = limitsFor(3, 30);
    const a = laneOf(limits);
    const b = laneOf(limits);
    await a.react({ pauseSeconds: 30 }, "554 5.2.0 quota exceeded");
    for (const lane of [a, b]) {
      const slot = await lane.acquireSlot();
      expect("waitSeconds" in slot && slot.waitSeconds).toBeGreaterThanOrEqual(29);
      expect("waitSeconds" in slot && slot.waitSeconds).toBeLessThanOrEqual(30);
      expect(slot).toHaveProperty("blockedBy", "pause");
    }
    // A shorter pause later does not cut the longer one short.
    await b.react({ pauseSeconds: 5 }, "432 4.3.2 concurrent connections");
    const slot = await a.acquireSlot();
    expect("waitSeconds" in slot && slot.waitSeconds).toBeGreaterThanOrEqual(29);
  });

  it("a 432 (too many connections) leaves every process one connection fewer", async () => {
    const limits = limitsFor(3, 30);
    const a = laneOf(limits, stepping());
    const b = laneOf(limits, stepping());
    await a.react({ slowDown: true }, "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded");
    const held = [granted(await a.acquireSlot()), granted(await b.acquireSlot())];
    expect(await b.acquireSlot()).toEqual({ waitSeconds: 1, blockedBy: "connections" });
    expect(await leasesOf(limits)).toBe(2);
    // A second 432 lowers it again, never below one.
    await b.react({ slowDown: true }, "432 4.3.2");
    await b.react({ slowDown: true }, "432 4.3.2");
    for (const slot of held) await slot.release(true);
    await waitFor(async () => (await leasesOf(limits)) === 0 || undefined, 2_000, "leases given back");
    const only = granted(await a.acquireSlot());
    expect(await b.acquireSlot()).toEqual({ waitSeconds: 1, blockedBy: "connections" });
    await only.release(true);
  });
});

describe("a per-second rate (Resend's, SES's)", () => {
  it("grants at most that many sends in any second, across two processes, waiting here rather than in the queue", async () => {
    const limits = { ...limitsFor(10, 600), messagesPerSecond: 2 };
    // Real clock: the window runs on the database's time, and a wait within the second is a real one.
    const processesOf = [laneOf(limits, () => new Date()), laneOf(limits, () => new Date())];
    const grantedAt: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const slot = granted(await processesOf[i % 2]!.acquireSlot());
        grantedAt.push(performance.now());
        await slot.release(true);
      }),
    );
    grantedAt.sort((a, b) => a - b);
    expect(grantedAt).toHaveLength(6);
    // Any three grants span a full second: the third of a second waited for the first to leave it.
    for (let i = 2; i < grantedAt.length; i++)
      expect(grantedAt[i]! - grantedAt[i - 2]!).toBeGreaterThanOrEqual(950);
    expect(errors).toEqual([]);
  });
});

describe("a daily limit (Gmail's 2,000, Exchange's 10,000)", () => {
  it("grants that many sends in a rolling day across processes, then says to wait for the oldest hour to leave it", async () => {
    const limits = { ...limitsFor(10, 10_000), messagesPerDay: 5 };
    const [a, b] = [laneOf(limits), laneOf(limits)];
    for (let i = 0; i < 5; i++) {
      const slot = granted(await (i % 2 ? a : b).acquireSlot());
      // Refused before submitting or not, a taken send counts against the day.
      await slot.release(i !== 3);
    }
    const refused = await a.acquireSlot();
    expect(refused).toEqual({ waitSeconds: expect.any(Number), blockedBy: "day" });
    const wait = (refused as { waitSeconds: number }).waitSeconds;
    // The oldest hour leaves the window 24 to 25 hours after it began.
    expect(wait).toBeGreaterThan(23 * 3600);
    expect(wait).toBeLessThanOrEqual(25 * 3600);
    // A day's counts are rows of hours, not one row per message.
    const [hours] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from sender_hourly_counts where sender = ${limits.key}`,
    );
    expect(hours!.n).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });
});
