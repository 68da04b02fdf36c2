import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../../db/connection.ts";
import type { ConnectionGate } from "../../mail/smtp-pool.ts";
import type { ReplyMeaning, SenderLimits } from "../kinds/kind.ts";
import {
  finishMessage,
  forgetMessage,
  lowerConnectionCap,
  pauseSender,
  releaseLease,
  type SenderWait,
  type Take,
  takeSlot,
} from "./store.ts";

/** A place in the sender's window (released when the send ends), or how long to wait for one and why. */
type Slot = { release(submitted: boolean): Promise<void> } | SenderWait;

/** How long a send may wait in this process for one of its own connections before going back to the queue. */
const LOCAL_WAIT_MS = 3_000;
/** How long a new connection may wait for a lease (e.g. while one of ours finishes closing). */
const CONNECT_WAIT_MS = 10_000;
/** Idle connections close soon, so their leases go to whichever process has mail for this sender. */
const IDLE_TIMEOUT_MS = 2_000;

/**
 * This process's share of one limited sender. Every open connection holds a lease (a row shared by all
 * processes, capped at the sender's connection limit), and every send first takes a place in the sender's
 * one-minute window. A send needs a new lease only when this process's sends outnumber its leases;
 * otherwise one of its open connections will carry it.
 */
export class SenderLane implements ConnectionGate {
  readonly idleTimeoutMs = IDLE_TIMEOUT_MS;
  /** Leases this process holds, and those tied to an open connection. */
  private readonly held: string[] = [];
  private readonly bound = new Set<string>();
  /** Sends with a slot, including one being taken. */
  private inFlight = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  /** After shutdown the leases are gone already: closing sockets have nothing left to give back. */
  private stopped = false;

  constructor(
    private readonly db: Db,
    public limits: SenderLimits,
    private readonly holder: string,
    private readonly onError: (err: unknown) => void,
    /** The process's clock (Context.now), for how long a send waits here; the window itself runs on the database's. */
    private readonly now: () => Date,
  ) {}

  /** The route's acquireSlot: a slot, or how long the email should wait in the queue. */
  acquireSlot(): Promise<Slot> {
    const run = this.queue.then(() => this.take());
    this.queue = run.catch(() => {});
    return run;
  }

  private async take(): Promise<Slot> {
    const deadline = this.now().getTime() + LOCAL_WAIT_MS;
    for (;;) {
      this.inFlight++;
      const lease = this.inFlight > this.held.length;
      const taken = await takeSlot(this.db, this.limits, this.holder, { message: true, lease }).catch(
        (err: unknown) => {
          this.inFlight--;
          throw err;
        },
      );
      if (taken.ok) {
        if (taken.leaseId) this.held.push(taken.leaseId);
        const messageId = taken.messageId!;
        return { release: (submitted) => this.finish(messageId, submitted) };
      }
      this.inFlight--;
      if (this.now().getTime() >= deadline) return waitFor(taken);
      // The per-second rate frees within the second: wait for it here rather than go back to the queue.
      if (taken.blockedBy === "second") {
        await sleep(Math.min(taken.waitMs, deadline - this.now().getTime()));
        continue;
      }
      // Of the rest, only a limit on connections can clear within this process: one of its own sends finishing.
      const ownSendsMayFree = taken.blockedBy === "connections" && this.inFlight > 0;
      if (!ownSendsMayFree) return waitFor(taken);
      await this.changed(deadline - this.now().getTime());
    }
  }

  /**
   * A submitted message counts until a minute after its send ended. One the provider never submitted
   * (refused for its own credentials or configuration) gives its place back: a provider that only names
   * a mailbox must not use up the window of the mailbox's real senders.
   */
  private async finish(messageId: string, submitted: boolean): Promise<void> {
    this.inFlight--;
    this.notify();
    this.trim();
    // If this fails, the message still counts from when its send began.
    if (!this.stopped) {
      await (submitted ? finishMessage : forgetMessage)(this.db, messageId).catch(this.onError);
    }
  }

  /** The pool's hook before each new connection: binds a lease to it until the socket closes. */
  async open(): Promise<{ release(): void }> {
    const deadline = this.now().getTime() + CONNECT_WAIT_MS;
    for (;;) {
      const free = this.held.find((id) => !this.bound.has(id));
      if (free) {
        this.bound.add(free);
        return {
          release: () => {
            this.bound.delete(free);
            this.notify();
            this.trim();
          },
        };
      }
      // More connections than sends, e.g. a new one while another is still closing: ask for one more.
      const taken = await takeSlot(this.db, this.limits, this.holder, { message: false, lease: true });
      if (taken.ok && taken.leaseId) {
        this.held.push(taken.leaseId);
        continue;
      }
      if (this.now().getTime() >= deadline) {
        throw Object.assign(new Error("Every connection this sender may open is in use; Postern retries."), {
          errorClass: "transient" as const,
        });
      }
      await this.changed(Math.min(250, deadline - this.now().getTime()));
    }
  }

  /** Applies what the provider's reply asked of this sender, for every process. */
  async react(request: NonNullable<ReplyMeaning["sender"]>, reason: string): Promise<void> {
    const applied =
      "slowDown" in request
        ? lowerConnectionCap(this.db, this.limits)
        : pauseSender(this.db, this.limits.key, request.pauseSeconds, reason);
    await applied.catch(this.onError);
  }

  /** Shutdown: the owner has given back every lease of this process at once. */
  stop(): void {
    this.stopped = true;
  }

  /** Gives back leases neither a send nor a connection needs any more. */
  private trim(): void {
    if (this.stopped) return;
    while (this.held.length > Math.max(this.inFlight, this.bound.size)) {
      const index = this.held.findIndex((id) => !this.bound.has(id));
      if (index < 0) return;
      const [leaseId] = this.held.splice(index, 1);
      releaseLease(this.db, leaseId!).catch(this.onError);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves when a send finishes or a connection closes here, or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.listeners.add(done);
    });
  }
}

function waitFor(taken: Extract<Take, { ok: false }>): SenderWait {
  return { waitSeconds: taken.waitSeconds, blockedBy: taken.blockedBy };
}
