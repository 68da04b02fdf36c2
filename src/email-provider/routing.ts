import { eq } from "drizzle-orm";
import type { Context } from "../context.ts";
import { apps } from "../db/schema.ts";
import type { DeliveryRoute, RouteResolver } from "../delivery/routes.ts";
import type { MailSender } from "../mail/sender.ts";
import { openSmtpPool, type TokenSource } from "../mail/smtp-target.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { holdsEmails, recordHealth } from "./health.ts";
import { interpretedSender } from "./interpreted-sender.ts";
import { kindOf } from "./kinds/index.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { providerSecretContext } from "./secrets.ts";
import { SenderLanes } from "./sender-limits/lanes.ts";
import { FEATURE, findProvider } from "./service.ts";

const MAX_POOLS = 500;
/** Pools keep their own token source, so dropping the oldest entries (each connection test adds one) breaks nothing. */
const MAX_TOKEN_SOURCES = 1_000;

interface Pool {
  version: number;
  sender: MailSender;
  inFlight: number;
  retired: boolean;
}

/**
 * Chooses each login email's route, and keeps one pooled transport per (app, provider version).
 * A saved change makes a new version: new sends get a new pool while the old one drains and closes.
 */
export class ProviderRouting {
  private readonly pools = new Map<string, Pool>();
  private readonly tokenSources = new Map<string, TokenSource>();
  private readonly lanes: SenderLanes;
  readonly env: KindEnvironment;

  constructor(
    private readonly ctx: Context,
    private readonly defaultRoute: () => DeliveryRoute,
    private readonly metrics: Metrics,
    policy: KindEnvironment["policy"],
  ) {
    this.lanes = new SenderLanes(ctx.db, (err) => ctx.log.warn({ err }, "sender limits"), ctx.now);
    this.env = {
      config: ctx.config,
      policy,
      metrics,
      now: ctx.now,
      tokenSource: (key, create) => {
        let source = this.tokenSources.get(key);
        if (!source) {
          source = create();
          this.tokenSources.set(key, source);
          const [oldest] = this.tokenSources.keys();
          if (this.tokenSources.size > MAX_TOKEN_SOURCES && oldest) this.tokenSources.delete(oldest);
        }
        return source;
      },
    };
  }

  readonly resolve: RouteResolver = async (appId) => {
    if (appId === null) return this.defaultRoute();
    const row = await findProvider(this.ctx, appId);
    if (!row) return this.defaultRoute();
    const [app] = await this.ctx.db
      .select({ workspaceId: apps.workspaceId })
      .from(apps)
      .where(eq(apps.id, appId));
    // A workspace whose feature was switched off keeps its stored provider, unused.
    if (!app || !(await isFeatureEnabled(this.ctx.db, app.workspaceId, FEATURE))) return this.defaultRoute();
    if (!row.enabled)
      return {
        ...this.defaultRoute(),
        note: "The custom provider is disabled, so this email went out through the default sender.",
      };

    const from = { name: effectiveSenderName(row.senderEmail, row.senderName), address: row.senderEmail };
    const fallback = row.fallbackToDefault
      ? {
          ...this.defaultRoute(),
          note: "The custom provider failed, so this email went out through the default sender.",
        }
      : undefined;
    if (row.health === "failing") {
      const reason = row.healthReason ?? "the last send failed";
      if (fallback)
        return {
          ...fallback,
          note: `The custom provider is failing (${reason}), so this email went out through the default sender.`,
        };
      // A provider whose configuration fails gets nothing until a probe, a test or a saved change works;
      // one that could not be reached is tried again by each email on its own backoff (see holdsEmails).
      if (holdsEmails(row.healthCause)) return { route: "custom", held: { reason, since: row.healthAt } };
    }

    const kind = kindOf(row.type);
    // Kinds whose provider limits each sender (Exchange: per mailbox) send through a lane shared by all processes.
    const limits = kind.senderLimits?.(row.settings, row.senderEmail, this.env);
    const lane = limits ? this.lanes.lane(limits) : undefined;
    const pool = this.poolFor(appId, row.version, () => {
      const secret = this.ctx.secrets.open(
        row.sealedSecrets[kind.secretField]!,
        providerSecretContext(appId, kind.secretField),
      );
      const target = kind.smtpTarget(
        row.settings,
        secret,
        row.senderEmail,
        this.env,
        `${appId}:${row.version}`,
      );
      const connections = this.metrics.smtpConnections;
      return openSmtpPool(lane ? { ...target, connectionGate: lane } : target, this.env.policy, (socket) => {
        connections.inc({ kind: row.type });
        socket.once("close", () => connections.dec({ kind: row.type }));
      });
    });
    const interpret = kind.interpret;
    const sender = this.tracked(appId, pool);
    // Set when this route's send failed for the provider's sake (token, credentials, TLS, destination,
    // connection). A route serves one delivery (the worker resolves one per job), so this is that send's.
    let refusedForConfig = false;
    return {
      route: "custom",
      from,
      sender: interpret
        ? interpretedSender(sender, (error) => interpret(error, row.settings, row.senderEmail), lane)
        : sender,
      ...(lane
        ? {
            acquireSlot: async () => {
              const slot = await lane.acquireSlot();
              return "release" in slot ? { release: () => slot.release(!refusedForConfig) } : slot;
            },
          }
        : {}),
      ...(fallback ? { fallback } : {}),
      reportOutcome: async (outcome) => {
        if (outcome.ok) {
          if (row.health !== "working") await recordHealth(this.ctx, appId, row.version, { ok: true });
        } else if (outcome.error.blame === "provider") {
          // Nothing was submitted, so its place in the lane's window goes back.
          refusedForConfig = true;
          await recordHealth(this.ctx, appId, row.version, {
            ok: false,
            reason: outcome.error.message,
            cause: outcome.error.errorClass,
          });
        }
      },
    };
  };

  private poolFor(appId: string, version: number, open: () => MailSender): Pool {
    const current = this.pools.get(appId);
    if (current && current.version === version) {
      this.pools.delete(appId);
      this.pools.set(appId, current); // most recently used last
      return current;
    }
    if (current) this.retire(appId, current);
    const pool: Pool = { version, sender: open(), inFlight: 0, retired: false };
    this.pools.set(appId, pool);
    while (this.pools.size > MAX_POOLS) {
      const [oldestApp, oldest] = this.pools.entries().next().value as [string, Pool];
      this.retire(oldestApp, oldest);
    }
    this.metrics.smtpPools.set(this.pools.size);
    return pool;
  }

  /** An old pool takes no new sends; it closes once the sends it has in hand are done. */
  private retire(appId: string, pool: Pool) {
    pool.retired = true;
    if (this.pools.get(appId) === pool) this.pools.delete(appId);
    for (const key of this.tokenSources.keys())
      if (key === `${appId}:${pool.version}`) this.tokenSources.delete(key);
    if (pool.inFlight === 0) void pool.sender.close();
    this.metrics.smtpPools.set(this.pools.size);
  }

  private tracked(appId: string, pool: Pool): MailSender {
    return {
      send: async (email) => {
        pool.inFlight++;
        try {
          return await pool.sender.send(email);
        } finally {
          pool.inFlight--;
          if (pool.retired && pool.inFlight === 0) void pool.sender.close();
        }
      },
      close: async () => this.retire(appId, pool),
    };
  }

  async close(): Promise<void> {
    for (const [appId, pool] of [...this.pools]) this.retire(appId, pool);
    await this.lanes.close();
  }
}
