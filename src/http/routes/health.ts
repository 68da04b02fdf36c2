import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Metrics } from "../../metrics/metrics.ts";

export interface Readiness {
  ok: boolean;
  checks: Record<string, boolean>;
}

/** Liveness, readiness and Prometheus metrics, on every role. */
export function healthRoutes(deps: { ready(): Promise<Readiness>; metrics: Metrics }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      "/healthz",
      {
        schema: {
          tags: ["operations"],
          summary: "Liveness: the process is up",
          response: { 200: z.object({ ok: z.boolean() }) },
        },
      },
      async () => ({ ok: true }),
    );
    app.get(
      "/readyz",
      {
        schema: {
          tags: ["operations"],
          summary: "Readiness: database reachable, migrations applied, queue running",
          response: {
            200: z.object({ ok: z.boolean(), checks: z.record(z.string(), z.boolean()) }),
            503: z.object({ ok: z.boolean(), checks: z.record(z.string(), z.boolean()) }),
          },
        },
      },
      async (_request, reply) => {
        const result = await deps.ready();
        if (!result.ok) reply.header("retry-after", "5");
        return reply.status(result.ok ? 200 : 503).send(result);
      },
    );
    app.get(
      "/metrics",
      { schema: { tags: ["operations"], summary: "Prometheus metrics" } },
      async (_request, reply) => {
        reply.type(deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
      },
    );
  };
}
