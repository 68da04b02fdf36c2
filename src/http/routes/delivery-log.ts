import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { getDelivery, listDeliveries } from "../../delivery/delivery-log.ts";
import { resendDelivery } from "../../delivery/resend.ts";
import { attemptExplainer } from "../../email-provider/attempt-hints.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

const tags = ["delivery log"];
const statuses = ["queued", "sending", "sent", "retrying", "failed", "expired"] as const;
const routes = ["default", "custom"] as const;

/**
 * A query-string field whose refusal carries its own problem code (read by src/http/problem.ts), so a
 * client can tell `invalid_status` from `invalid_cursor` without parsing the sentence.
 */
function coded<T extends z.ZodType>(schema: T, problemCode: string, description: string) {
  return z
    .string()
    .transform((value, ctx): z.output<T> => {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      ctx.addIssue({
        code: "custom",
        message: parsed.error.issues[0]?.message ?? "is not valid",
        params: { problemCode },
      });
      return z.NEVER;
    })
    .optional()
    .describe(description);
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** An ISO 8601 time with its offset, or a date (UTC); a date as `to` means through the end of that day. */
const instant = (endOfDay: boolean) =>
  z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], "must be an ISO 8601 date or time")
    .transform((value) => {
      const at = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
      return value.length === 10 && endOfDay ? new Date(at.getTime() + DAY_MS) : at;
    });

const listQuery = z.strictObject({
  recipient: coded(
    z
      .string()
      .max(254, "must be at most 254 characters")
      .regex(/^[^\p{Cc}]*$/u, "must not contain control characters"),
    "invalid_recipient",
    "Search by recipient: the beginning of the canonical address (lower case), or with match=exact the whole address",
  ),
  match: coded(
    z.enum(["prefix", "exact"], "must be prefix or exact"),
    "invalid_match",
    "prefix (default) or exact",
  ),
  status: coded(
    z.enum(statuses, `must be one of ${statuses.join(", ")}`),
    "invalid_status",
    `Only emails with this status: ${statuses.join(", ")}`,
  ),
  route: coded(
    z.enum(routes, "must be default or custom"),
    "invalid_route",
    "Only emails whose last attempt went this way: default (the operator's sender) or custom (the app's provider)",
  ),
  from: coded(instant(false), "invalid_from", "Created at or after this ISO 8601 time (or date, UTC)"),
  to: coded(
    instant(true),
    "invalid_to",
    "Created before this ISO 8601 time; a date includes that whole day (UTC)",
  ),
  limit: coded(
    z.coerce
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(100, "must be at most 100"),
    "invalid_limit",
    "Page size, 1 to 100 (default 25)",
  ),
  cursor: coded(
    z.string().max(512, "is not a cursor this API returned"),
    "invalid_cursor",
    "nextCursor from the previous page; opaque, and valid only for this app",
  ),
});

const attempt = z.object({
  at: z.string(),
  durationMs: z.number(),
  route: z.enum(routes),
  provider: z
    .object({ id: z.string(), type: z.string(), label: z.string() })
    .optional()
    .describe("The custom provider this attempt went through (absent: the default sender)"),
  outcome: z
    .enum(["sent", "retry", "failed", "moved-on"])
    .describe(
      "moved-on: this provider could not send (a provider-level failure or a paused sending limit), so the email went on to the next provider at once",
    ),
  errorClass: z.string().optional(),
  smtpReply: z.string().optional().describe("The server's reply line; never contains credentials"),
  message: z.string().optional(),
  cause: z
    .object({
      host: z.string().optional(),
      port: z.number().optional(),
      reason: z.enum(["refused", "timeout", "dns", "unreachable", "reset", "tls", "blocked", "other"]),
    })
    .optional()
    .describe(
      "For a failure on the way to the server: the host and port as configured and what happened (refused, timeout, dns …)",
    ),
  hint: z
    .string()
    .nullable()
    .describe("How to fix a failed attempt: the same hint Test connection gives for this failure"),
});

const deliveryView = z.object({
  id: z.string(),
  appId: z.string().nullable(),
  recipient: z.string(),
  sender: z.string().nullable(),
  route: z.enum(routes),
  status: z.enum(statuses),
  attemptCount: z.number(),
  attempts: z.array(attempt),
  lastError: z.string().nullable().describe("Why the last attempt failed, in a sentence"),
  messageId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().nullable(),
  expiresAt: z.string(),
  nextAttemptAt: z
    .string()
    .nullable()
    .describe("When a retrying or queued email is tried next (null when nothing is scheduled)"),
  resendable: z.boolean().describe("A failed or expired login email: POST …/resend starts a new login"),
  locale: z
    .string()
    .nullable()
    .describe("The email's locale (Content-Language); null for emails sent before locales"),
  purpose: z
    .enum(["login", "template_test"])
    .describe("template_test: a test email sent from the template editor to a developer"),
});

const deliveryParams = z.strictObject({ appId: idSchema, deliveryId: idSchema });

/** The delivery log: every login email of an app, searchable, with each attempt's cause and hint. */
export function deliveryLogRoutes(ctx: Context): FastifyPluginAsyncZod {
  const explainerFor = (appId: string) => attemptExplainer(ctx, appId);
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/apps/:appId/deliveries",
      {
        schema: {
          tags,
          summary: "Login emails of this app, newest first, searchable",
          description:
            "Ordered by creation time then id, newest first; pages follow `nextCursor`. Filters combine. Each bad parameter is a 400 whose `code` names it (invalid_status, invalid_from, invalid_cursor …); `from` after `to` is invalid_date_range.",
          params: z.strictObject({ appId: idSchema }),
          querystring: listQuery,
          response: {
            200: z.object({ deliveries: z.array(deliveryView), nextCursor: z.string().nullable() }),
            ...problems,
          },
        },
      },
      async (request) =>
        listDeliveries(ctx, explainerFor, request.account.id, request.params.appId, {
          ...request.query,
          limit: request.query.limit ?? 25,
        }),
    );

    app.get(
      "/api/apps/:appId/deliveries/:deliveryId",
      {
        schema: {
          tags,
          summary: "One login email with every attempt, its cause and how to fix it",
          params: deliveryParams,
          response: { 200: deliveryView, ...problems },
        },
      },
      async (request) =>
        getDelivery(ctx, explainerFor, request.account.id, request.params.appId, request.params.deliveryId),
    );

    app.post(
      "/api/apps/:appId/deliveries/:deliveryId/resend",
      {
        schema: {
          tags,
          summary: "Resend a failed or expired login email (owners and admins)",
          description:
            "Starts a new login for the same recipient and app, with a new code: the old code is never sent again, and the new one replaces it. The login email limits apply as for POST /v1/login/email (429 with Retry-After). Audited as delivery.resent. 409 delivery_not_resendable for any other status.",
          params: deliveryParams,
          response: { 201: deliveryView, ...problems },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await resendDelivery(
              ctx,
              request.account,
              request.params.appId,
              request.params.deliveryId,
              request.clientIp,
            ),
          ),
    );
  };
}
