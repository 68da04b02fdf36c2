import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { googleGuideForApp, microsoftGuideForApp } from "../../email-provider/guides.ts";
import {
  CLIENT_EMAIL_PATTERN,
  CLIENT_ID_PATTERN,
} from "../../email-provider/kinds/google/service-account-key.ts";
import {
  clientIdSchema,
  objectIdSchema,
  tenantIdSchema,
} from "../../email-provider/kinds/microsoft/index.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

const guide = z.object({
  steps: z.array(
    z.object({
      title: z.string(),
      text: z.string(),
      commands: z.array(z.object({ label: z.string(), command: z.string() })).optional(),
      links: z.array(z.object({ label: z.string(), url: z.string() })).optional(),
    }),
  ),
});
const params = z.strictObject({ appId: idSchema });

/**
 * The setup guides of the kinds whose set-up happens in the vendor's console, filled in with the form's
 * values (or the saved provider's). Members may read them.
 */
export function setupGuideRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/apps/:appId/email-provider/microsoft-guide",
      {
        schema: {
          tags: ["email provider"],
          summary: "Microsoft 365 setup steps (Entra portal and Exchange Online PowerShell), pre-filled",
          description:
            "Query values are the ones typed in the unsaved form; each one missing is taken from the saved Microsoft provider, else left as a placeholder. Members may read it.",
          params,
          querystring: z.strictObject({
            clientId: clientIdSchema.optional(),
            tenantId: tenantIdSchema.optional(),
            senderEmail: emailAddressSchema.optional(),
            objectId: objectIdSchema
              .optional()
              .describe("The Enterprise application's Object ID, filled into New-ServicePrincipal"),
            transport: z
              .enum(["smtp", "graph"])
              .optional()
              .describe(
                "The guide for SMTP (XOAUTH2) or for Microsoft Graph; default: the saved provider's, else smtp",
              ),
          }),
          response: { 200: guide, ...problems },
        },
      },
      async (request) => microsoftGuideForApp(ctx, request.account.id, request.params.appId, request.query),
    );

    app.get(
      "/api/apps/:appId/email-provider/google-guide",
      {
        schema: {
          tags: ["email provider"],
          summary:
            "Google Workspace setup steps (service account, JSON key, domain-wide delegation), pre-filled",
          description:
            "Query values are the ones in the unsaved form (the dashboard reads them from the chosen key file); each one missing is taken from the saved Google provider, else left as a placeholder. Members may read it.",
          params,
          querystring: z.strictObject({
            clientId: z
              .string()
              .regex(CLIENT_ID_PATTERN, "must be the service account's numeric client ID (client_id)")
              .optional(),
            clientEmail: z
              .string()
              .toLowerCase()
              .regex(CLIENT_EMAIL_PATTERN, "must be a service account's email (client_email)")
              .optional(),
            senderEmail: emailAddressSchema.optional(),
          }),
          response: { 200: guide, ...problems },
        },
      },
      async (request) => googleGuideForApp(ctx, request.account.id, request.params.appId, request.query),
    );
  };
}
