import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { emailAddressSchema } from "../../email-address/email-address.ts";
import { googleGuideForApp } from "../../email-provider/guides.ts";
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

/** The Google Workspace setup guide, filled in with the form's values (or the saved provider's). */
export function googleGuideRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/apps/:appId/email-provider/google-guide",
      {
        schema: {
          tags: ["email provider"],
          summary:
            "Google Workspace setup steps (service account, JSON key, domain-wide delegation), pre-filled",
          description:
            "Query values are the ones in the unsaved form (the dashboard reads them from the chosen key file); each one missing is taken from the saved Google provider, else left as a placeholder. Members may read it.",
          params: z.strictObject({ appId: idSchema }),
          querystring: z.strictObject({
            clientId: z
              .string()
              .regex(/^\d{10,30}$/, "must be the service account's numeric client ID (client_id)")
              .optional(),
            clientEmail: z
              .string()
              .toLowerCase()
              .regex(
                /^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9.-]+\.gserviceaccount\.com$/,
                "must be a service account's email (client_email)",
              )
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
