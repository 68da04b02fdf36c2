import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AppCache } from "./app-cache/app-cache.ts";
import type { Config } from "./config/config.ts";
import type { Context } from "./context.ts";
import { pruneSessions } from "./dashboard-sessions/dashboard-sessions.ts";
import { migrationsApplied, openStorage, type Storage } from "./db/connection.ts";
import { claimDeliveries } from "./delivery/claim.ts";
import type { DeliveryRoute, RouteResolver } from "./delivery/routes.ts";
import { deliverLoginEmail } from "./delivery/worker.ts";
import { seedDemo } from "./demo.ts";
import { DevMailbox } from "./dev-mailbox/dev-mailbox.ts";
import { countCredentialsByState } from "./email-provider/credential-expiry.ts";
import { countProvidersByHealth } from "./email-provider/health.ts";
import { operatorEndpoints, readOperatorSettings } from "./email-provider/kinds/index.ts";
import { ProviderRouting } from "./email-provider/routing.ts";
import { ProviderWatch } from "./email-provider/watch.ts";
import { buildHttpServer } from "./http/server.ts";
import { createLogger } from "./logging.ts";
import {
  defaultSenderOptions,
  type MailSender,
  type OutgoingEmail,
  parseFromAddress,
  poolSender,
} from "./mail/sender.ts";
import { Metrics } from "./metrics/metrics.ts";
import { pruneOidcPayloads } from "./oidc/adapter.ts";
import { type Queue, startQueue } from "./queue/queue.ts";
import { loadOrCreateOperatorToken } from "./security/operator-token.ts";
import { parseAllowlist } from "./security/outbound-guard.ts";
import { pruneRateLimits } from "./security/rate-limit.ts";
import { loadOrCreateKeyFile, parseKeyring, SecretBox } from "./security/secret-box.ts";

export interface PosternOptions {
  config: Config;
  /** An open PGlite to use instead of the data dir's (tests pass an in-memory one). */
  pglite?: PGlite;
  logger?: Logger;
  now?: () => Date;
}

export interface Postern {
  ctx: Context;
  storage: Storage;
  http: FastifyInstance;
  metrics: Metrics;
  devMailbox: DevMailbox | undefined;
  demo: { appId: string; publishableKey: string; accountEmail: string } | undefined;
  /** Starts the workers (roles worker and all) and listens (every role). */
  start(): Promise<{ url: string }>;
  /** Starts only the workers, without listening: tests drive HTTP with inject(). */
  startWorkers(): Promise<void>;
  /**
   * One round of the provider watch now (due probes, then due alerts), as its timer runs them; a
   * no-op until the workers start. Tests move the injected clock and run rounds instead of waiting.
   */
  watchRound(): Promise<void>;
  /** Stops taking requests and jobs, drains in-flight sends, then closes everything. */
  stop(): Promise<void>;
}

async function loadSecretBox(config: Config): Promise<SecretBox> {
  if (config.secretKey) return new SecretBox(parseKeyring(config.secretKey));
  return new SecretBox(await loadOrCreateKeyFile(path.join(config.dataDir, "secret.key")));
}

export async function createPostern(options: PosternOptions): Promise<Postern> {
  // Each provider kind's POSTERN_<KIND>_* settings, checked before anything opens.
  const operator = readOperatorSettings(options.config.operatorEnv);
  const config =
    options.config.operatorToken || options.config.databaseUrl
      ? options.config
      : { ...options.config, operatorToken: await loadOrCreateOperatorToken(options.config.dataDir) };
  const log = options.logger ?? createLogger(config.logLevel);
  const secrets = await loadSecretBox(config);
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    ...(options.pglite ? { pglite: options.pglite } : {}),
    vacuum: { onError: (err) => log.warn({ err }, "vacuuming the embedded database failed") },
  });
  // What start-up has opened, closed in reverse if a later step fails: a process whose start failed
  // (a queue that will not start, a demo seed that fails) holds no pool, timer or port.
  const opened: (() => Promise<unknown>)[] = [() => storage.close()];
  try {
    return await assemble();
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw err;
  }

  async function assemble(): Promise<Postern> {
    // The queue and the app cache read the clock through ctx, where a test may replace it; neither
    // reads it before ctx exists.
    const now = () => ctx.now();
    const queue: Queue = await storage.exclusively(() =>
      startQueue(
        storage,
        {
          // pg-boss's own retries are for a worker that died or threw (src/delivery/worker.ts schedules
          // every email's retries itself, until its login expires).
          retryLimit: 8,
          retryDelaySeconds: config.delivery.retryBaseSeconds,
          jobTimeoutSeconds: config.delivery.jobTimeoutSeconds,
          maintenanceSeconds: config.delivery.maintenanceSeconds,
        },
        (err) => log.error({ err }, "queue error"),
        now,
      ),
    );
    opened.push(() => queue.stop());
    const metrics = new Metrics(
      () => queue.depth(),
      () => countProvidersByHealth(storage.db),
      () => countCredentialsByState(storage.db, (options.now ?? (() => new Date()))()),
    );
    const ctx: Context = {
      db: storage.db,
      config,
      secrets,
      queue,
      log,
      metrics,
      appCache: new AppCache(storage.db, now),
      now: options.now ?? (() => new Date()),
    };
    const sends = config.role !== "api";

    let devMailbox: DevMailbox | undefined;
    let defaultSender: MailSender | undefined;
    // An API-only process has the operator's SMTP server too, when one is configured, for invitation emails.
    if (sends || config.defaultSmtpUrl) {
      if (config.defaultSmtpUrl) {
        defaultSender = poolSender(defaultSenderOptions(config.defaultSmtpUrl));
      } else {
        devMailbox = new DevMailbox();
        await devMailbox.start();
        opened.push(() => devMailbox!.stop());
        // Loopback, in-process, operator-owned: the one SMTP destination that needs no TLS.
        defaultSender = poolSender({
          host: "127.0.0.1",
          port: devMailbox.port,
          secure: false,
          ignoreTLS: true,
          maxConnections: 5,
        });
      }
      opened.push(() => defaultSender!.close());
    }
    const defaultRoute = (): DeliveryRoute => ({
      route: "default",
      sender: defaultSender!,
      from: parseFromAddress(config.defaultFrom),
    });
    const routing = new ProviderRouting(
      ctx,
      defaultRoute,
      metrics,
      {
        allowlist: parseAllowlist(config.smtpAllowlist),
        // The operator's provider endpoints (Microsoft's SMTP and Graph hosts) are trusted as configured — they
        // may be a national cloud or a fake — for the kinds' TLS connections only; a developer's host naming
        // one gets the usual checks.
        trustedEndpoints: operatorEndpoints(operator),
      },
      operator,
    );
    opened.push(() => routing.close());
    const resolveRoute: RouteResolver = routing.resolve;

    const demo = config.seedDemo ? await seedDemo(ctx) : undefined;
    const ready = async () => {
      const database = await storage.ping().catch(() => false);
      const migrations = database && (await migrationsApplied(storage.db).catch(() => false));
      const queueRunning =
        database &&
        (await queue
          .depth()
          .then(() => true)
          .catch(() => false));
      return {
        ok: database && migrations && queueRunning,
        checks: { database, migrations, queue: queueRunning },
      };
    };
    /** The default sender's own path, for what Postern itself tells people: health alerts and invitations. */
    const operatorMail = defaultSender
      ? async (email: OutgoingEmail) => {
          await defaultSender!.send(email);
        }
      : undefined;
    const http = await buildHttpServer({
      operatorMail,
      ctx,
      logger: log,
      metrics,
      devMailbox,
      ready,
      providerEnv: routing.env,
      routes: config.role === "worker" ? "operations" : "all",
    });

    let maintenance: NodeJS.Timeout | undefined;
    let watch: ProviderWatch | undefined;
    let workersStarted = false;
    const startWorkers = async () => {
      if (!sends || workersStarted) return;
      workersStarted = true;
      await queue.work(config.delivery.workerConcurrency, claimDeliveries(ctx), (job, delivery) =>
        deliverLoginEmail(ctx, resolveRoute, job, delivery),
      );
      watch = new ProviderWatch(ctx, routing.env, operatorMail!);
      watch.start();
      maintenance = setInterval(() => {
        const hourAgo = new Date(ctx.now().getTime() - 3_600_000);
        Promise.all([pruneRateLimits(ctx.db, hourAgo), pruneSessions(ctx), pruneOidcPayloads(ctx)]).catch(
          (err) => log.warn({ err }, "maintenance failed"),
        );
      }, 600_000);
      maintenance.unref();
    };

    return {
      ctx,
      storage,
      http,
      metrics,
      devMailbox,
      demo,
      startWorkers,
      watchRound: async () => {
        await watch?.tick();
      },
      async start() {
        await startWorkers();
        const address = await http.listen({ port: config.port, host: config.host });
        return { url: address };
      },
      async stop() {
        if (maintenance) clearInterval(maintenance);
        await watch?.stop();
        await http.close();
        await queue.stop();
        await routing.close();
        await defaultSender?.close();
        await devMailbox?.stop();
        await storage.close();
      },
    };
  }
}
