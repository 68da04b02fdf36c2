import { eq } from "drizzle-orm";
import type { Context } from "../context.ts";
import { apps } from "../db/schema.ts";
import type { DeliveryRoute, RouteResolver } from "../delivery/routes.ts";
import type { TokenSource } from "../mail/smtp-pool.ts";
import { deliveryErrorOf, type Transport } from "../mail/transport.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { holdsEmails, recordHealth } from "./health.ts";
import { kindOfRow } from "./kinds/index.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { openSecrets } from "./secrets.ts";
import { SenderLanes } from "./sender-limits/lanes.ts";
import { FEATURE, findProvider } from "./service.ts";

const MAX_TRANSPORTS = 500;
/** Transports keep their own token source, so dropping the oldest entries (each connection test adds one) breaks nothing. */
const MAX_TOKEN_SOURCES = 1_000;

interface OpenTransport {
  version: number;
  transport: Transport;
  inFlight: number;
  retired: boolean;
}

/**
 * Chooses each login email's route, and keeps one open transport (an SMTP pool, an HTTPS client) per
 * (app, provider version). A saved change makes a new version: new sends get a new transport while the
 * old one drains and closes.
 */
export class ProviderRouting {
  private readonly transports = new Map<string, OpenTransport>();
  private readonly tokenSources = new Map<string, TokenSource>();
  private readonly lanes: SenderLanes;
  readonly env: KindEnvironment;

  constructor(
    private readonly ctx: Context,
    private readonly defaultRoute: () => DeliveryRoute,
    private readonly metrics: Metrics,
    policy: KindEnvironment["policy"],
    operator: KindEnvironment["operator"],
  ) {
    this.lanes = new SenderLanes(ctx.db, (err) => ctx.log.warn({ err }, "sender limits"), ctx.now);
    this.env = {
      config: ctx.config,
      policy,
      metrics,
      operator,
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

    const kind = kindOfRow(row);
    // Kinds whose provider limits each sender (Exchange: per mailbox) send through a lane shared by all processes.
    const limits = kind.senderLimits?.(row.settings, row.senderEmail, this.env);
    const lane = limits ? this.lanes.lane(limits) : undefined;
    const open = this.transportFor(appId, row.version, () =>
      kind.open(
        {
          settings: row.settings,
          secrets: openSecrets(this.ctx, appId, row.sealedSecrets),
          senderEmail: row.senderEmail,
          versionKey: `${appId}:${row.version}`,
          gate: lane,
          onConnection: (socket) => {
            const connections = this.metrics.smtpConnections;
            connections.inc({ kind: kind.id });
            socket.once("close", () => connections.dec({ kind: kind.id }));
          },
        },
        this.env,
      ),
    );
    const tracked = this.tracked(appId, open);
    // Set when this route's send failed for the provider's sake (token, credentials, TLS, destination,
    // connection). A route serves one delivery (the worker resolves one per job), so this is that send's.
    let refusedForConfig = false;
    return {
      route: "custom",
      from,
      sender: {
        send: async (email) => {
          try {
            return await tracked.send(email);
          } catch (err) {
            // What the reply asks of the sender (fewer connections, a pause) is heard by every process.
            const error = deliveryErrorOf(err);
            if (lane && error.sender) await lane.react(error.sender, error.message);
            throw error;
          }
        },
        close: tracked.close,
      },
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

  private transportFor(appId: string, version: number, open: () => Transport): OpenTransport {
    const current = this.transports.get(appId);
    if (current && current.version === version) {
      this.transports.delete(appId);
      this.transports.set(appId, current); // most recently used last
      return current;
    }
    if (current) this.retire(appId, current);
    const opened: OpenTransport = { version, transport: open(), inFlight: 0, retired: false };
    this.transports.set(appId, opened);
    while (this.transports.size > MAX_TRANSPORTS) {
      const [oldestApp, oldest] = this.transports.entries().next().value as [string, OpenTransport];
      this.retire(oldestApp, oldest);
    }
    this.metrics.smtpPools.set(this.transports.size);
    return opened;
  }

  /** An old transport takes no new sends; it closes once the sends it has in hand are done. */
  private retire(appId: string, open: OpenTransport) {
    open.retired = true;
    if (this.transports.get(appId) === open) this.transports.delete(appId);
    this.tokenSources.delete(`${appId}:${open.version}`);
    if (open.inFlight === 0) void open.transport.close();
    this.metrics.smtpPools.set(this.transports.size);
  }

  private tracked(appId: string, open: OpenTransport) {
    return {
      send: async (email: Parameters<Transport["send"]>[0]) => {
        open.inFlight++;
        try {
          return await open.transport.send(email);
        } finally {
          open.inFlight--;
          if (open.retired && open.inFlight === 0) void open.transport.close();
        }
      },
      close: async () => this.retire(appId, open),
    };
  }

  async close(): Promise<void> {
    for (const [appId, open] of [...this.transports]) this.retire(appId, open);
    await this.lanes.close();
  }
}
