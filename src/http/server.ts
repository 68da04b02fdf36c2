import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import cookie from "@fastify/cookie";
import fastifyStatic, { type SetHeadersResponse } from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { usesDevMailbox } from "../config/config.ts";
import type { Context } from "../context.ts";
import type { DevMailbox } from "../dev-mailbox/dev-mailbox.ts";
import type { KindEnvironment } from "../email-provider/kinds/kind.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { OperatorMail } from "../workspaces/invitation-email.ts";
import { refuseForeignHosts } from "./host-guard.ts";
import { registerProblemHandlers, sendFrameworkProblem } from "./problem.ts";
import { appRoutes } from "./routes/apps.ts";
import { dashboardAuthRoutes } from "./routes/dashboard-auth.ts";
import { deliveryLogRoutes } from "./routes/delivery-log.ts";
import { devMailboxRoutes } from "./routes/dev-mailbox.ts";
import { emailProviderRoutes } from "./routes/email-provider.ts";
import { emailTemplateRoutes } from "./routes/email-templates.ts";
import { healthRoutes, type Readiness } from "./routes/health.ts";
import { oidcRoutes } from "./routes/oidc.ts";
import { operatorRoutes } from "./routes/operator.ts";
import { publicLoginRoutes } from "./routes/public-login.ts";
import { setupGuideRoutes } from "./routes/setup-guides.ts";
import { workspaceRoutes } from "./routes/workspaces.ts";

const dashboardDir = fileURLToPath(new URL("../../web/dist", import.meta.url));

export interface HttpDependencies {
  ctx: Context;
  logger: Logger;
  metrics: Metrics;
  devMailbox: DevMailbox | undefined;
  ready(): Promise<Readiness>;
  providerEnv: KindEnvironment;
  /** The operator's default sender, where this process has one (invitation emails). */
  operatorMail?: OperatorMail | undefined;
  /** A worker process serves only health and metrics. */
  routes: "all" | "operations";
}

/** A hop count becomes "trust the nearest n proxies" (Fastify's types only take a function for it). */
function trustProxyOption(setting: boolean | number | string[]) {
  return typeof setting === "number" ? (_address: string, hop: number) => hop < setting : setting;
}

/** The Fastify app: plugins for cross-cutting concerns, then one route file per module. */
/**
 * Vite names the files under assets/ after their content, so they never change and may be cached for
 * a year; index.html names the current ones, so the browser must revalidate it on every visit.
 * @fastify/static does not add Vary itself when it picks a precompressed file.
 */
function setDashboardCaching(res: SetHeadersResponse, path: string): void {
  res.setHeader("vary", "Accept-Encoding");
  res.setHeader(
    "cache-control",
    path.startsWith(join(dashboardDir, "assets")) ? "public, max-age=31536000, immutable" : "no-cache",
  );
}

/** The dashboard's mark (web/src/shell.tsx) with the name beside it, for the API docs' top bar. */
const POSTERN_MARK = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 132 32" width="132" height="32" role="img" aria-label="Postern"><rect width="32" height="32" rx="8" fill="#4f46e5"/><path d="M11 23V9h6.5a5 5 0 0 1 0 10H14" stroke="white" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/><text x="42" y="23" font-family="system-ui, sans-serif" font-size="20" font-weight="650" fill="white">Postern</text></svg>`;

export async function buildHttpServer(deps: HttpDependencies): Promise<FastifyInstance> {
  const { ctx } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    trustProxy: trustProxyOption(ctx.config.trustProxy),
    // Per-request lines would dominate the log; latency goes to /metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: sendFrameworkProblem,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const dashboard = deps.routes === "all" && existsSync(dashboardDir);
  registerProblemHandlers(app, { dashboard });
  // Before any route, so it guards all of them: the dashboard, its API, the inbox, the 404s.
  if (usesDevMailbox(ctx.config)) refuseForeignHosts(app, ctx.config.publicUrl);
  deps.metrics.instrumentHttp(app);

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Postern API",
        version: "0.1.0",
        description:
          "Passwordless login (public API, authenticated with an app's publishable key) and the management API used by the dashboard (session cookie + x-csrf-token). Every error is RFC 9457 application/problem+json with a stable `code`.",
      },
      components: {
        securitySchemes: {
          publishableKey: { type: "http", scheme: "bearer", description: "The app's publishable key, pk_…" },
          operatorToken: { type: "http", scheme: "bearer", description: "POSTERN_OPERATOR_TOKEN" },
          session: { type: "apiKey", in: "cookie", name: "postern_session" },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  // /docs says whose API it is: Postern's name in the tab and its mark (linking home) in the bar.
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    theme: { title: "Postern API" },
    logo: { type: "image/svg+xml", content: POSTERN_MARK, href: "/", target: "_self" },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes(deps));
  if (deps.routes === "operations") return app;
  await app.register(publicLoginRoutes(ctx));
  await app.register(oidcRoutes(ctx));
  await app.register(dashboardAuthRoutes(ctx, { devMailbox: deps.devMailbox !== undefined }));
  await app.register(workspaceRoutes(ctx, deps.operatorMail));
  await app.register(appRoutes(ctx));
  await app.register(deliveryLogRoutes(ctx));
  await app.register(emailProviderRoutes(ctx, deps.providerEnv));
  await app.register(emailTemplateRoutes(ctx));
  await app.register(setupGuideRoutes(ctx));
  await app.register(operatorRoutes(ctx));
  if (deps.devMailbox) await app.register(devMailboxRoutes(deps.devMailbox));

  if (dashboard)
    await app.register(fastifyStatic, {
      root: dashboardDir,
      prefix: "/",
      wildcard: false,
      // The build writes .br and .gz beside each asset (web/vite.config.ts).
      preCompressed: true,
      cacheControl: false,
      setHeaders: setDashboardCaching,
    });
  return app;
}
