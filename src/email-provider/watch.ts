import { and, eq, isNull, lte, or } from "drizzle-orm";
import type { Context } from "../context.ts";
import { apps, emailProviders } from "../db/schema.ts";
import type { OutgoingEmail } from "../mail/sender.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { sendDueCredentialAlerts } from "./credential-expiry.ts";
import { nextProbeAt } from "./health.ts";
import { sendDueHealthAlerts } from "./health-alerts.ts";
import { probeProvider } from "./health-check.ts";
import type { KindEnvironment } from "./kinds/kind.ts";
import { FEATURE } from "./service.ts";

/** Providers probed at once by one process; a probe is a connection test, bounded by SMTP timeouts. */
const PROBES_AT_ONCE = 4;
const PROBES_PER_TICK = 50;

/**
 * Watches the custom providers from every worker process: probes each failing one on its schedule
 * (one process per provider per interval, by a conditional update of `next_probe_at`), and emails the
 * workspace's owners and admins when a provider turns failing or recovers (src/email-provider/health-alerts.ts).
 * Ticks a few times per probe interval, with jitter, so probes come close to when they are due.
 */
export class ProviderWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: Context,
    private readonly env: KindEnvironment,
    private readonly sendAlert: (email: OutgoingEmail) => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule() {
    if (this.stopped) return;
    const tickMs = Math.max(250, (this.ctx.config.delivery.providerProbeSeconds * 1000) / 4);
    this.timer = setTimeout(
      () => {
        this.running = this.tick().finally(() => {
          this.running = undefined;
          this.schedule();
        });
      },
      Math.round(tickMs * (0.75 + 0.5 * Math.random())),
    );
    this.timer.unref();
  }

  /** One round: the due probes, then the due alerts. Never throws: a bad round waits for the next. */
  async tick(): Promise<void> {
    await probeDueProviders(this.ctx, this.env).catch((err) =>
      this.ctx.log.warn({ err }, "provider probes failed"),
    );
    await sendDueHealthAlerts(this.ctx, this.sendAlert).catch((err) =>
      this.ctx.log.warn({ err }, "provider health alerts failed"),
    );
    await sendDueCredentialAlerts(this.ctx, this.sendAlert).catch((err) =>
      this.ctx.log.warn({ err }, "credential expiry alerts failed"),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

const probeDue = (now: Date) => or(isNull(emailProviders.nextProbeAt), lte(emailProviders.nextProbeAt, now));

/**
 * The scheduled probe: a connection test (no email, through the kind's own steps) of each failing
 * provider that is due. Claiming it moves its next probe on first, so no other process probes it too.
 * A disabled provider is not probed. A pass marks it working, which sends the emails waiting for it at once (see recordHealth).
 */
export async function probeDueProviders(ctx: Context, env: KindEnvironment): Promise<number> {
  const due = await ctx.db
    .select({ id: emailProviders.id, appId: emailProviders.appId, version: emailProviders.version })
    .from(emailProviders)
    .where(and(eq(emailProviders.health, "failing"), eq(emailProviders.enabled, true), probeDue(ctx.now())))
    .limit(PROBES_PER_TICK);
  let probed = 0;
  const queue = [...due];
  const probeNext = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (await probeOne(ctx, env, next)) probed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, queue.length) }, probeNext));
  return probed;
}

async function probeOne(
  ctx: Context,
  env: KindEnvironment,
  { id, appId, version }: { id: string; appId: string; version: number },
) {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(emailProviders)
    .set({ nextProbeAt: nextProbeAt(ctx.config, now) })
    .where(
      and(
        eq(emailProviders.id, id),
        eq(emailProviders.version, version),
        eq(emailProviders.health, "failing"),
        eq(emailProviders.enabled, true),
        probeDue(now),
      ),
    )
    .returning();
  if (!row) return false;
  const [app] = await ctx.db.select({ workspaceId: apps.workspaceId }).from(apps).where(eq(apps.id, appId));
  // A locked workspace's provider is not used, so it is not probed either.
  if (!app || !(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) return false;
  await probeProvider(ctx, env, row);
  return true;
}
