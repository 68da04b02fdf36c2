import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  createApp,
  deleteApp,
  getAppOverview,
  listApps,
  rotateSecretKey,
  updateApp,
} from "../../apps/apps.ts";
import type { Context } from "../../context.ts";
import { issuerOf, TOKEN_ENDPOINT_AUTH_METHODS } from "../../oidc/provider.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems, textSchema } from "../schemas.ts";

const appView = z.object({
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  publishableKey: z.string(),
  secretKeyHint: z.string(),
  redirectUrls: z.array(z.string()),
  issuer: z
    .string()
    .describe(
      "The app's OpenID Connect issuer; its discovery document is at {issuer}/.well-known/openid-configuration",
    ),
  oidc: z.object({
    tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
    refreshTokens: z.boolean(),
  }),
  branding: z.object({ logoUrl: z.string().nullable(), accentColor: z.string().nullable() }),
  createdAt: z.string(),
  updatedAt: z.string(),
  emailProviderHealth: z
    .object({
      status: z.enum(["unknown", "working", "failing"]),
      reason: z.string().nullable(),
      since: z.string().nullable(),
      enabled: z.boolean().describe("False: switched off, login emails go through the default sender"),
    })
    .nullable()
    .optional()
    .describe("The custom email provider's health (null: none; details at /api/apps/{appId}/email-provider)"),
});
const oidcSettings = z.strictObject({
  tokenEndpointAuthMethod: z
    .enum(TOKEN_ENDPOINT_AUTH_METHODS)
    .optional()
    .describe(
      "none: a public client (browser or mobile app, PKCE alone); otherwise the secret key, sent as this method says",
    ),
  refreshTokens: z.boolean().optional().describe("Grant refresh tokens for the offline_access scope"),
});
const appWithSecret = appView.extend({ secretKey: z.string().describe("Shown once; only a hash is kept.") });
const appParams = z.strictObject({ appId: idSchema });
const redirectUrls = z.array(z.string().max(2048)).max(20);
const appName = textSchema(100);
const tags = ["apps"];

export function appRoutes(ctx: Context): FastifyPluginAsyncZod {
  const withIssuer = <T extends { id: string }>(view: T) => ({
    ...view,
    issuer: issuerOf(ctx.config.publicUrl, view.id),
  });
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/workspaces/:workspaceId/apps",
      {
        schema: {
          tags,
          summary: "Apps in a workspace",
          params: z.strictObject({ workspaceId: idSchema }),
          response: { 200: z.object({ apps: z.array(appView) }), ...problems },
        },
      },
      async (request) => ({
        apps: (await listApps(ctx.db, request.account.id, request.params.workspaceId)).map(withIssuer),
      }),
    );

    app.post(
      "/api/workspaces/:workspaceId/apps",
      {
        schema: {
          tags,
          summary: "Create an app (owners and admins); the secret key is in this response only",
          params: z.strictObject({ workspaceId: idSchema }),
          body: z.strictObject({ name: appName, redirectUrls: redirectUrls.optional() }),
          response: { 201: appWithSecret, ...problems },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            withIssuer(await createApp(ctx, request.account.id, request.params.workspaceId, request.body)),
          ),
    );

    app.get(
      "/api/apps/:appId",
      { schema: { tags, summary: "One app", params: appParams, response: { 200: appView, ...problems } } },
      async (request) => withIssuer(await getAppOverview(ctx.db, request.account.id, request.params.appId)),
    );

    app.patch(
      "/api/apps/:appId",
      {
        schema: {
          tags,
          summary:
            "Change an app: name, allowed redirect URLs, OpenID Connect client settings, hosted page branding",
          params: appParams,
          body: z.strictObject({
            name: appName.optional(),
            redirectUrls: redirectUrls.optional(),
            oidc: oidcSettings.optional(),
            branding: z
              .strictObject({
                logoUrl: z.string().max(2048).nullable().optional().describe("An https URL; null removes it"),
                accentColor: z
                  .string()
                  .max(7)
                  .nullable()
                  .optional()
                  .describe("#rrggbb; null for the default"),
              })
              .optional()
              .describe("How the hosted login page shows the app"),
          }),
          response: { 200: appView, ...problems },
        },
      },
      async (request) =>
        withIssuer(await updateApp(ctx, request.account.id, request.params.appId, request.body)),
    );

    app.delete(
      "/api/apps/:appId",
      {
        schema: {
          tags,
          summary: "Delete an app and everything it owns",
          params: appParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await deleteApp(ctx, request.account.id, request.params.appId);
        return reply.status(204).send(null);
      },
    );

    app.post(
      "/api/apps/:appId/secret-key",
      {
        schema: {
          tags,
          summary: "Rotate the secret key; the old one stops working at once",
          params: appParams,
          response: { 200: appWithSecret, ...problems },
        },
      },
      async (request) => withIssuer(await rotateSecretKey(ctx, request.account.id, request.params.appId)),
    );
  };
}
