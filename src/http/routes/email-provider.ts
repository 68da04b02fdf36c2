import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { setEmailProviderEnabled } from "../../email-provider/enablement.ts";
import { formFieldSchema } from "../../email-provider/kinds/form.ts";
import { providerBodySchema, providerForms, providerViewFields } from "../../email-provider/kinds/index.ts";
import type { KindEnvironment } from "../../email-provider/kinds/kind.ts";
import {
  deleteEmailProvider,
  getEmailProvider,
  MAX_PROVIDERS_PER_APP,
  reorderEmailProviders,
  saveEmailProvider,
} from "../../email-provider/service.ts";
import { testEmailProvider } from "../../email-provider/test-connection.ts";
import { STEP_NAMES } from "../../mail/test-steps.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

const health = z.object({
  status: z.enum(["unknown", "working", "failing"]),
  reason: z.string().nullable(),
  cause: z
    .string()
    .nullable()
    .describe(
      "While failing: the error class of the failure (auth, network, timeout, tls, token, blocked, …)",
    ),
  at: z.string().nullable().describe("The same as `since` (kept for earlier clients)"),
  since: z.string().nullable().describe("When the current state began"),
  checkedAt: z.string().nullable().describe("The last probe, test or failed send"),
  nextCheckAt: z.string().nullable().describe("While failing: when the next scheduled probe is due"),
  emails: z.string().describe("What happens to login emails in the current state"),
  ifItFails: z.string().describe("What happens to login emails whenever this provider fails"),
});
const step = z.object({
  name: z.enum(STEP_NAMES),
  outcome: z.enum(["ok", "failed", "skipped"]),
  durationMs: z.number(),
  detail: z.string().optional(),
  hint: z.string().optional(),
  errorClass: z.string().optional(),
  smtpReply: z.string().optional(),
});
const testResult = z.object({ ok: z.boolean(), testedAt: z.string(), steps: z.array(step) });
/** Secrets never appear: `passwordSet` / `clientSecretSet` say one is stored. */
const providerView = z.object({
  id: z.string().describe("The provider's id, for the /email-providers/{providerId} routes"),
  position: z
    .number()
    .describe("Its place in the order login emails try the app's providers (0: the primary)"),
  label: z.string().describe("Its kind and sender, as the delivery log names it"),
  type: z.string(),
  senderEmail: z.string(),
  senderName: z.string().nullable(),
  effectiveSenderName: z.string(),
  fallbackToDefault: z.boolean(),
  enabled: z
    .boolean()
    .describe("False: switched off; login emails go through the default sender and nothing probes it"),
  health,
  lastTest: testResult.nullable(),
  version: z.number(),
  updatedAt: z.string(),
  updatedBy: z.object({ id: z.string(), email: z.string() }).nullable(),
  revealedOnce: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      "Only in the answer to the save that created them: values Postern made for you to copy now (a webhook's signingSecret), never shown again",
    ),
  // Each kind's own fields, from the registry (all optional here: which appear depends on `type`).
  ...providerViewFields(),
});
const providerState = z.object({
  locked: z.boolean(),
  defaultSender: z.string(),
  provider: providerView.nullable().describe("The primary provider (null: the default sender)"),
  providers: z
    .array(providerView)
    .describe(
      "Every provider in the order login emails try them; an email moves on only when one cannot send for the provider's sake",
    ),
});
const params = z.strictObject({ appId: idSchema });
const providerParams = z.strictObject({ appId: idSchema, providerId: idSchema });
const saveDescription =
  "Omitting the password (or clientSecret) keeps the stored one only while the destination is unchanged; otherwise it is `secret_required`. Validation is one pass: a 400 lists every invalid field in `errors` (each with `field`, `code` and `message`), schema errors and environment checks such as a private host together; `code` and `field` name the first.";
const testBody = z.strictObject({
  config: providerBodySchema.optional(),
  sendTo: emailAddressSchema
    .optional()
    .describe("The address of a member of the app's workspace (others: 400 send_to_not_member)"),
});
const providerKindForms = z.object({
  kinds: z.array(
    z.object({
      id: z.string(),
      match: z
        .object({ type: z.string(), provider: z.string().optional() })
        .describe("The body's `type` (and `provider`) for this kind"),
      label: z.string(),
      description: z.string(),
      fields: z.array(formFieldSchema),
    }),
  ),
});
const tags = ["email provider"];

export function emailProviderRoutes(ctx: Context, env: KindEnvironment): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/email-provider-kinds",
      {
        schema: {
          tags,
          summary:
            "Every provider kind with its form: fields, labels, help, which are secret or destinations",
          description:
            "The dashboard renders provider forms from this. Common fields (senderEmail, senderName, fallbackToDefault) belong to every kind and are not listed.",
          response: { 200: providerKindForms, ...problems },
        },
      },
      async () => ({ kinds: providerForms() }),
    );

    app.get(
      "/api/apps/:appId/email-provider",
      {
        schema: {
          tags,
          summary:
            "The app's custom email provider (null: the default sender) and whether the feature is unlocked",
          params,
          response: { 200: providerState, ...problems },
        },
      },
      async (request) => getEmailProvider(ctx, request.account.id, request.params.appId),
    );

    app.put(
      "/api/apps/:appId/email-provider",
      {
        schema: {
          tags,
          summary: "Configure the custom email provider (owners and admins; the feature must be unlocked)",
          description: `Saves the primary provider (the first the app's login emails try). ${saveDescription}`,
          params,
          body: providerBodySchema,
          response: { 200: providerState, ...problems },
        },
        // The body is validated by the domain in one pass with the checks that need the environment
        // (private host, sender rule, stored secret): every invalid field comes back in `errors` at once.
        validatorCompiler: () => (data) => ({ value: data }),
      },
      async (request) =>
        saveEmailProvider(ctx, env, request.account.id, request.params.appId, request.body as unknown),
    );

    app.patch(
      "/api/apps/:appId/email-provider",
      {
        schema: {
          tags,
          summary: "Disable or re-enable the saved provider without deleting it (owners and admins)",
          description:
            "`enabled: false` keeps the provider but sends login emails (the waiting ones at once) through the default sender, and stops its health probes; the delivery log's route note says so. `enabled: true` returns to the provider after checking its connection again: the answer carries the fresh health. Audited as `email_provider.disabled` / `email_provider.enabled`.",
          params,
          body: z.strictObject({ enabled: z.boolean() }),
          response: { 200: providerState, ...problems },
        },
      },
      async (request) =>
        setEmailProviderEnabled(ctx, env, request.account.id, request.params.appId, request.body.enabled),
    );

    app.delete(
      "/api/apps/:appId/email-provider",
      {
        schema: {
          tags,
          summary:
            "Remove the primary provider: the next one becomes the primary, or without one login emails go back to the default sender",
          params,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await deleteEmailProvider(ctx, request.account.id, request.params.appId);
        return reply.status(204).send(null);
      },
    );

    app.post(
      "/api/apps/:appId/email-provider/test",
      {
        schema: {
          tags,
          summary:
            "Test the saved provider, or an unsaved config; optionally send a test email to a member of the workspace",
          description:
            "A failed test is still 200, with `ok: false` and the failing step's hint. Rate-limited per app.",
          params,
          body: testBody,
          response: { 200: testResult, ...problems },
        },
      },
      async (request) => testEmailProvider(ctx, env, request.account, request.params.appId, request.body),
    );

    // The ordered chain: each provider by id. The routes above address the primary.
    app.get(
      "/api/apps/:appId/email-providers",
      {
        schema: {
          tags,
          summary:
            "The app's providers in the order login emails try them (the same answer as GET /email-provider)",
          params,
          response: { 200: providerState, ...problems },
        },
      },
      async (request) => getEmailProvider(ctx, request.account.id, request.params.appId),
    );

    app.post(
      "/api/apps/:appId/email-providers",
      {
        schema: {
          tags,
          summary: `Add a provider after the others (owners and admins; at most ${MAX_PROVIDERS_PER_APP} per app)`,
          description: `A login email moves to the next provider only when one cannot send for the provider's sake (credentials, connection, TLS, an outage or HTTP 5xx, quota or throttling, a sending limit with no room), never for the recipient's, and within its login's expiry. ${saveDescription}`,
          params,
          body: providerBodySchema,
          response: { 200: providerState, ...problems },
        },
        validatorCompiler: () => (data) => ({ value: data }),
      },
      async (request) =>
        saveEmailProvider(ctx, env, request.account.id, request.params.appId, request.body as unknown, "new"),
    );

    app.put(
      "/api/apps/:appId/email-providers/order",
      {
        schema: {
          tags,
          summary:
            "Put the app's providers in a new order (owners and admins); the first becomes the primary",
          params,
          body: z.strictObject({
            order: z
              .array(idSchema)
              .max(MAX_PROVIDERS_PER_APP)
              .describe("Every provider id of the app, each once, first to last"),
          }),
          response: { 200: providerState, ...problems },
        },
      },
      async (request) =>
        reorderEmailProviders(ctx, request.account.id, request.params.appId, request.body.order),
    );

    app.put(
      "/api/apps/:appId/email-providers/:providerId",
      {
        schema: {
          tags,
          summary: "Change one of the app's providers (owners and admins)",
          description: saveDescription,
          params: providerParams,
          body: providerBodySchema,
          response: { 200: providerState, ...problems },
        },
        // As for PUT /email-provider: the domain validates the body in one pass; an unknown id is a 404.
        validatorCompiler: () => (data) => ({ value: data }),
      },
      async (request) =>
        saveEmailProvider(ctx, env, request.account.id, request.params.appId, request.body as unknown, {
          providerId: request.params.providerId,
        }),
    );

    app.patch(
      "/api/apps/:appId/email-providers/:providerId",
      {
        schema: {
          tags,
          summary: "Disable or re-enable one provider without deleting it (owners and admins)",
          description:
            "A disabled provider is passed over: login emails go to the next one (or, with none left, the default sender).",
          params: providerParams,
          body: z.strictObject({ enabled: z.boolean() }),
          response: { 200: providerState, ...problems },
        },
      },
      async (request) =>
        setEmailProviderEnabled(
          ctx,
          env,
          request.account.id,
          request.params.appId,
          request.body.enabled,
          request.params.providerId,
        ),
    );

    app.delete(
      "/api/apps/:appId/email-providers/:providerId",
      {
        schema: {
          tags,
          summary: "Remove one provider; the ones after it move up",
          params: providerParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await deleteEmailProvider(ctx, request.account.id, request.params.appId, request.params.providerId);
        return reply.status(204).send(null);
      },
    );

    app.post(
      "/api/apps/:appId/email-providers/:providerId/test",
      {
        schema: {
          tags,
          summary: "Test one saved provider, or unsaved changes to it; optionally send a test email",
          description:
            "A failed test is still 200, with `ok: false` and the failing step's hint. Rate-limited per app.",
          params: providerParams,
          body: testBody,
          response: { 200: testResult, ...problems },
        },
      },
      async (request) =>
        testEmailProvider(ctx, env, request.account, request.params.appId, {
          ...request.body,
          providerId: request.params.providerId,
        }),
    );
  };
}
