import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { listAudit } from "../../audit/audit.ts";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import type { OperatorMail } from "../../workspaces/invitation-email.ts";
import {
  changeMemberRole,
  createWorkspace,
  deleteWorkspace,
  getWorkspace,
  inviteMember,
  listMembers,
  listWorkspaces,
  removeMember,
  renameWorkspace,
  requireRole,
} from "../../workspaces/workspaces.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems, textSchema } from "../schemas.ts";

const role = z.enum(["owner", "admin", "member"]);
const workspaceView = z.object({
  id: z.string(),
  name: z.string(),
  role,
  features: z.record(z.string(), z.boolean()),
  createdAt: z.string(),
});
const memberView = z.object({
  accountId: z.string(),
  email: z.string(),
  role,
  joinedAt: z.string(),
});
const workspaceParams = z.strictObject({ workspaceId: idSchema });
const memberParams = z.strictObject({
  workspaceId: idSchema,
  accountId: idSchema,
});
const tags = ["workspaces"];

export function workspaceRoutes(ctx: Context, mail: OperatorMail | undefined): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/workspaces",
      {
        schema: {
          tags,
          summary: "Workspaces you belong to",
          response: { 200: z.object({ workspaces: z.array(workspaceView) }), ...problems },
        },
      },
      async (request) => ({ workspaces: await listWorkspaces(ctx.db, request.account.id) }),
    );

    app.post(
      "/api/workspaces",
      {
        schema: {
          tags,
          summary: "Create a workspace (you become its owner)",
          body: z.strictObject({ name: textSchema(100) }),
          response: { 201: workspaceView, ...problems },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await createWorkspace(ctx, request.account.id, request.body.name)),
    );

    app.get(
      "/api/workspaces/:workspaceId",
      {
        schema: {
          tags,
          summary: "One workspace, with its unlocked features",
          params: workspaceParams,
          response: { 200: workspaceView, ...problems },
        },
      },
      async (request) => getWorkspace(ctx.db, request.account.id, request.params.workspaceId),
    );

    app.patch(
      "/api/workspaces/:workspaceId",
      {
        schema: {
          tags,
          summary: "Rename a workspace (owners)",
          params: workspaceParams,
          body: z.strictObject({ name: textSchema(100) }),
          response: { 200: workspaceView, ...problems },
        },
      },
      async (request) =>
        renameWorkspace(ctx, request.account.id, request.params.workspaceId, request.body.name),
    );

    app.delete(
      "/api/workspaces/:workspaceId",
      {
        schema: {
          tags,
          summary: "Delete a workspace and everything in it (owners)",
          description:
            "Removes its apps (keys, email providers, templates, end users, logins, deliveries), memberships, features and audit log. Accounts remain.",
          params: workspaceParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await deleteWorkspace(ctx, request.account.id, request.params.workspaceId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      "/api/workspaces/:workspaceId/members",
      {
        schema: {
          tags,
          summary: "Members and their roles",
          params: workspaceParams,
          response: { 200: z.object({ members: z.array(memberView) }), ...problems },
        },
      },
      async (request) => ({
        members: await listMembers(ctx.db, request.account.id, request.params.workspaceId),
      }),
    );

    app.post(
      "/api/workspaces/:workspaceId/members",
      {
        schema: {
          tags,
          summary: "Invite by email (owners and admins); the invitee is emailed from the default sender",
          description:
            "The email names the workspace, who invited them and the dashboard sign-in link; it never goes through a custom provider. Limited per workspace (POSTERN_LIMIT_INVITATIONS_PER_HOUR, 429 `rate_limited` with Retry-After).",
          params: workspaceParams,
          body: z.strictObject({ email: emailAddressSchema, role: role.default("member") }),
          response: { 201: z.object({ members: z.array(memberView) }), ...problems },
        },
      },
      async (request, reply) =>
        reply.status(201).send({
          members: await inviteMember(
            ctx,
            request.account.id,
            request.params.workspaceId,
            request.body.email,
            request.body.role,
            mail,
          ),
        }),
    );

    app.patch(
      "/api/workspaces/:workspaceId/members/:accountId",
      {
        schema: {
          tags,
          summary: "Change a member's role",
          params: memberParams,
          body: z.strictObject({ role }),
          response: { 200: z.object({ members: z.array(memberView) }), ...problems },
        },
      },
      async (request) => ({
        members: await changeMemberRole(
          ctx,
          request.account.id,
          request.params.workspaceId,
          request.params.accountId,
          request.body.role,
        ),
      }),
    );

    app.delete(
      "/api/workspaces/:workspaceId/members/:accountId",
      {
        schema: {
          tags,
          summary: "Remove a member (or leave)",
          params: memberParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await removeMember(ctx, request.account.id, request.params.workspaceId, request.params.accountId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      "/api/workspaces/:workspaceId/audit",
      {
        schema: {
          tags,
          summary: "Audit log, newest first",
          params: workspaceParams,
          querystring: z.strictObject({
            limit: z.coerce.number().int().min(1).max(200).default(50),
            before: z.iso.datetime().optional(),
          }),
          response: {
            200: z.object({
              events: z.array(
                z.object({
                  id: z.string(),
                  action: z.string(),
                  summary: z
                    .string()
                    .describe(
                      "What happened, in words, to follow the actor's address (src/audit/describe.ts)",
                    ),
                  actorAccountId: z.string().nullable(),
                  actor: z.object({ id: z.string(), email: z.string().nullable() }).nullable(),
                  targetType: z.string(),
                  targetId: z.string(),
                  changes: z.record(z.string(), z.unknown()),
                  createdAt: z.string(),
                }),
              ),
            }),
            ...problems,
          },
        },
      },
      async (request) => {
        await requireRole(ctx.db, request.account.id, request.params.workspaceId, "member");
        const before = request.query.before ? new Date(request.query.before) : undefined;
        return {
          events: await listAudit(ctx.db, request.params.workspaceId, { limit: request.query.limit, before }),
        };
      },
    );
  };
}
