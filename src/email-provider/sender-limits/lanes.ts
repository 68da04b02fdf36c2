import type { Db } from "../../db/connection.ts";
import { randomId } from "../../security/tokens.ts";
import type { SenderLimits } from "../kinds/kind.ts";
import { SenderLane } from "./lane.ts";
import { LEASE_SECONDS, releaseAllLeases, renewLeases } from "./store.ts";

/** This process's lanes, one per limited sender, and the renewal that keeps their leases alive. */
export class SenderLanes {
  private readonly lanes = new Map<string, SenderLane>();
  /** Names this process's leases: renewed together, given back together at shutdown. */
  private readonly holder = randomId("proc");
  private renewal: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => Date,
  ) {}

  lane(limits: SenderLimits): SenderLane {
    let lane = this.lanes.get(limits.key);
    if (!lane) {
      lane = new SenderLane(this.db, limits, this.holder, this.onError, this.now);
      this.lanes.set(limits.key, lane);
    }
    lane.limits = limits;
    if (!this.renewal) {
      this.renewal = setInterval(
        () => renewLeases(this.db, this.holder).catch(this.onError),
        (LEASE_SECONDS * 1000) / 3,
      );
      this.renewal.unref();
    }
    return lane;
  }

  async close(): Promise<void> {
    clearInterval(this.renewal);
    for (const lane of this.lanes.values()) lane.stop();
    await releaseAllLeases(this.db, this.holder).catch(this.onError);
  }
}
