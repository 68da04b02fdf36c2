import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { FEATURES, setFeature } from "../../workspaces/workspaces.ts";
import { operatorGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

/** Operator-only: unlock premium features per workspace. */
export function operatorRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", operatorGuard(ctx));
    app.post(
      "/api/operator/workspaces/:workspaceId/features",
      {
        schema: {
          tags: ["operator"],
          summary: "Unlock or lock a premium feature for a workspace",
          security: [{ operatorToken: [] }],
          params: z.strictObject({ workspaceId: idSchema }),
          body: z.strictObject({ feature: z.enum(FEATURES), enabled: z.boolean() }),
          response: {
            200: z.object({ workspaceId: z.string(), features: z.record(z.string(), z.boolean()) }),
            ...problems,
          },
        },
      },
      async (request) =>
        setFeature(ctx, request.params.workspaceId, request.body.feature, request.body.enabled),
    );
  };
}
