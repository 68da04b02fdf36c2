import { boundedCache } from "../bounded-cache.ts";
import type { Context } from "../context.ts";
import type { emailProviders } from "../db/schema.ts";
import type { DeliveryRoute, RouteResolver } from "../delivery/routes.ts";
import type { TokenSource } from "../mail/smtp-pool.ts";
import { deliveryErrorOf, type Transport } from "../mail/transport.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { holdsEmails, recordHealth } from "./health.ts";
import { kindOfRow } from "./kinds/index.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { openSecrets } from "./secrets.ts";
import { SenderLanes } from "./sender-limits/lanes.ts";
import { providerLabel, providersForSending } from "./service.ts";

const MAX_TRANSPORTS = 500;
/** Transports keep their own token source, so dropping the oldest entries (each connection test adds one) breaks nothing. */
const MAX_TOKEN_SOURCES = 1_000;

type ProviderRow = typeof emailProviders.$inferSelect;

interface OpenTransport {
  version: number;
  versionKey: string;
  transport: Transport;
  inFlight: number;
  retired: boolean;
}

/**
 * Chooses each login email's route, and keeps one open transport (an SMTP pool, an HTTPS client) per
 * (provider, version). A saved change makes a new version: new sends get a new transport while the
 * old one drains and closes.
 */
export class ProviderRouting {
  private readonly transports = new Map<string, OpenTransport>();
  private readonly tokenSources = boundedCache<TokenSource>(MAX_TOKEN_SOURCES);
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
        }
        return source;
      },
    };
  }

  /**
   * The app's chain of routes: its enabled providers in order, then the default sender where a
   * provider allows it (fallbackToDefault). A failing provider goes out of the chain while another
   * can take the email (its probe brings it back); when none can, one that could not be reached is
   * still tried, and one whose configuration fails holds the email (see holdsEmails).
   */
  readonly resolve: RouteResolver = async (appId) => {
    if (appId === null) return this.defaultRoute();
    const { rows, featureEnabled } = await providersForSending(this.ctx, appId);
    if (rows.length === 0 || !featureEnabled) return this.defaultRoute();
    const enabled = rows.filter((row) => row.enabled);
    if (enabled.length === 0)
      return {
        ...this.defaultRoute(),
        note: "The custom provider is disabled, so this email went out through the default sender.",
      };

    const working = enabled.filter((row) => row.health !== "failing");
    const failing = enabled.filter((row) => row.health === "failing");
    const reasonOf = (row: ProviderRow) => row.healthReason ?? "the last send failed";
    const toDefault = enabled.some((row) => row.fallbackToDefault);
    const single = enabled.length === 1;
    const defaultNote =
      working.length === 0
        ? single
          ? `The custom provider is failing (${reasonOf(failing[0]!)}), so this email went out through the default sender.`
          : "Every custom provider is failing, so this email went out through the default sender."
        : single
          ? "The custom provider failed, so this email went out through the default sender."
          : "The custom providers failed, so this email went out through the default sender.";

    let chain: DeliveryRoute[] = working.map((row) => this.customRoute(appId, row));
    if (toDefault) chain.push({ ...this.defaultRoute(), note: defaultNote });
    if (chain.length === 0) {
      // Nothing else can take the email: a provider that could not be reached is tried again by each
      // email on its own backoff; one whose configuration fails gets nothing until a check works.
      const reachable = failing.filter((row) => !holdsEmails(row.healthCause));
      if (reachable.length === 0) {
        const primary = failing[0]!;
        return { route: "custom", held: { reason: reasonOf(primary), since: primary.healthAt } };
      }
      chain = reachable.map((row) => this.customRoute(appId, row));
    } else if (failing.length > 0 && chain[0]!.route === "custom") {
      const skipped = failing.map((row) => `${providerLabel(row)} is failing (${reasonOf(row)})`).join("; ");
      chain[0] = { ...chain[0]!, note: `Skipped while failing: ${skipped}.` };
    }
    // Each route hands a provider-level failure on to the next.
    for (let i = chain.length - 2; i >= 0; i--) chain[i] = { ...chain[i]!, fallback: chain[i + 1]! };
    return chain[0]!;
  };

  /** The route through one provider: its transport, its lane, and its health from each outcome. */
  private customRoute(appId: string, row: ProviderRow): DeliveryRoute {
    const from = { name: effectiveSenderName(row.senderEmail, row.senderName), address: row.senderEmail };
    const kind = kindOfRow(row);
    // Kinds whose provider limits each sender (Exchange: per mailbox) send through a lane shared by all processes.
    const limits = kind.senderLimits?.(row.settings, row.senderEmail, this.env);
    const lane = limits ? this.lanes.lane(limits) : undefined;
    const versionKey = `${appId}:${row.id}:${row.version}`;
    const open = this.transportFor(row.id, row.version, versionKey, () =>
      kind.open(
        {
          settings: row.settings,
          secrets: openSecrets(this.ctx, appId, row.sealedSecrets),
          senderEmail: row.senderEmail,
          versionKey,
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
    const tracked = this.tracked(row.id, open);
    // Set when this route's send failed for the provider's sake (token, credentials, TLS, destination,
    // connection). A route serves one delivery (the worker resolves one per job), so this is that send's.
    let refusedForConfig = false;
    return {
      route: "custom",
      provider: { id: row.id, type: row.type, label: providerLabel(row) },
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
      reportOutcome: async (outcome) => {
        if (outcome.ok) {
          if (row.health !== "working") await recordHealth(this.ctx, row, row.version, { ok: true });
        } else if (outcome.error.blame === "provider") {
          // Nothing was submitted, so its place in the lane's window goes back.
          refusedForConfig = true;
          await recordHealth(this.ctx, row, row.version, {
            ok: false,
            reason: outcome.error.message,
            cause: outcome.error.errorClass,
          });
        }
      },
    };
  }

  private transportFor(
    providerId: string,
    version: number,
    versionKey: string,
    open: () => Transport,
  ): OpenTransport {
    const current = this.transports.get(providerId);
    if (current && current.version === version) {
      this.transports.delete(providerId);
      this.transports.set(providerId, current); // most recently used last
      return current;
    }
    if (current) this.retire(providerId, current);
    const opened: OpenTransport = { version, versionKey, transport: open(), inFlight: 0, retired: false };
    this.transports.set(providerId, opened);
    while (this.transports.size > MAX_TRANSPORTS) {
      const [oldestProvider, oldest] = this.transports.entries().next().value as [string, OpenTransport];
      this.retire(oldestProvider, oldest);
    }
    this.metrics.smtpPools.set(this.transports.size);
    return opened;
  }

  /** An old transport takes no new sends; it closes once the sends it has in hand are done. */
  private retire(providerId: string, open: OpenTransport) {
    open.retired = true;
    if (this.transports.get(providerId) === open) this.transports.delete(providerId);
    this.tokenSources.delete(open.versionKey);
    if (open.inFlight === 0) void open.transport.close();
    this.metrics.smtpPools.set(this.transports.size);
  }

  private tracked(providerId: string, open: OpenTransport) {
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
      close: async () => this.retire(providerId, open),
    };
  }

  async close(): Promise<void> {
    for (const [providerId, open] of [...this.transports]) this.retire(providerId, open);
    await this.lanes.close();
  }
}
