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
import { getDelivery, listDeliveries } from "../../delivery/delivery-log.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems, textSchema } from "../schemas.ts";

const appView = z.object({
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  publishableKey: z.string(),
  secretKeyHint: z.string(),
  redirectUrls: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  emailProviderHealth: z
    .object({
      status: z.enum(["unknown", "working", "failing"]),
      reason: z.string().nullable(),
      since: z.string().nullable(),
    })
    .nullable()
    .optional()
    .describe("The custom email provider's health (null: none; details at /api/apps/{appId}/email-provider)"),
});
const appWithSecret = appView.extend({ secretKey: z.string().describe("Shown once; only a hash is kept.") });
const appParams = z.strictObject({ appId: idSchema });
const redirectUrls = z.array(z.string().max(2048)).max(20);
const appName = textSchema(100);
const deliveryStatus = z.enum(["queued", "sending", "sent", "retrying", "failed", "expired"]);
const attempt = z.object({
  at: z.string(),
  durationMs: z.number(),
  route: z.enum(["default", "custom"]),
  outcome: z.enum(["sent", "retry", "failed"]),
  errorClass: z.string().optional(),
  smtpReply: z.string().optional(),
  message: z.string().optional(),
});
const deliveryView = z.object({
  id: z.string(),
  appId: z.string().nullable(),
  recipient: z.string(),
  sender: z.string().nullable(),
  route: z.enum(["default", "custom"]),
  status: deliveryStatus,
  attemptCount: z.number(),
  attempts: z.array(attempt),
  lastError: z.string().nullable(),
  messageId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe("When the next try is due, while the email waits or retries"),
  expiresAt: z.string(),
  locale: z
    .string()
    .nullable()
    .describe("The email's locale (Content-Language); null for emails sent before locales"),
  purpose: z
    .enum(["login", "template_test"])
    .describe("template_test: a test email sent from the template editor to a developer"),
});
const tags = ["apps"];

export function appRoutes(ctx: Context): FastifyPluginAsyncZod {
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
      async (request) => ({ apps: await listApps(ctx.db, request.account.id, request.params.workspaceId) }),
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
          .send(await createApp(ctx, request.account.id, request.params.workspaceId, request.body)),
    );

    app.get(
      "/api/apps/:appId",
      { schema: { tags, summary: "One app", params: appParams, response: { 200: appView, ...problems } } },
      async (request) => getAppOverview(ctx.db, request.account.id, request.params.appId),
    );

    app.patch(
      "/api/apps/:appId",
      {
        schema: {
          tags,
          summary: "Rename an app or change its allowed redirect URLs",
          params: appParams,
          body: z.strictObject({ name: appName.optional(), redirectUrls: redirectUrls.optional() }),
          response: { 200: appView, ...problems },
        },
      },
      async (request) => updateApp(ctx, request.account.id, request.params.appId, request.body),
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
      async (request) => rotateSecretKey(ctx, request.account.id, request.params.appId),
    );

    app.get(
      "/api/apps/:appId/deliveries",
      {
        schema: {
          tags: ["delivery log"],
          summary: "Login emails of this app, newest first",
          params: appParams,
          querystring: z.strictObject({
            status: deliveryStatus.optional(),
            limit: z.coerce.number().int().min(1).max(100).default(25),
            cursor: z.string().max(200).optional(),
          }),
          response: {
            200: z.object({ deliveries: z.array(deliveryView), nextCursor: z.string().nullable() }),
            ...problems,
          },
        },
      },
      async (request) => listDeliveries(ctx.db, request.account.id, request.params.appId, request.query),
    );

    app.get(
      "/api/apps/:appId/deliveries/:deliveryId",
      {
        schema: {
          tags: ["delivery log"],
          summary: "One login email with every attempt",
          params: z.strictObject({ appId: idSchema, deliveryId: idSchema }),
          response: { 200: deliveryView, ...problems },
        },
      },
      async (request) =>
        getDelivery(ctx.db, request.account.id, request.params.appId, request.params.deliveryId),
    );
  };
}
