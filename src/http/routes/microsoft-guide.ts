import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { microsoftGuideForApp } from "../../email-provider/guides.ts";
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

/** The Microsoft 365 setup guide, filled in with the form's values (or the saved provider's). */
export function microsoftGuideRoutes(ctx: Context): FastifyPluginAsyncZod {
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
          params: z.strictObject({ appId: idSchema }),
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
  };
}
