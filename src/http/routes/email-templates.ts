import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../../context.ts";
import {
  emailSettingsPatchSchema,
  previewBodySchema,
  templateBodySchema,
  testBodySchema,
} from "../../email-templates/model.ts";
import { previewTemplate } from "../../email-templates/preview.ts";
import {
  getEmailSettings,
  getTemplate,
  listTemplates,
  resetTemplate,
  saveTemplate,
  updateEmailSettings,
} from "../../email-templates/service.ts";
import { sendTemplateTest } from "../../email-templates/test-email.ts";
import { templateLocaleSchema } from "../../i18n/locales.ts";
import { sessionGuard } from "../auth.ts";
import { idSchema, problems } from "../schemas.ts";

const tags = ["email templates"];
const appParams = z.strictObject({ appId: idSchema });
const localeParams = z.strictObject({ appId: idSchema, locale: templateLocaleSchema });
const person = z.object({ id: z.string(), email: z.string() }).nullable();

/** Three parts of up to 100 KB each, JSON-escaped: more than the API's default 64 KB body limit. */
const TEMPLATE_BODY_LIMIT = 1024 * 1024;

const settingsView = z.object({
  defaultLocale: z.string(),
  logoUrl: z.string().nullable(),
  accentColor: z.string().nullable(),
  replyTo: z.string().nullable(),
  footer: z.string().nullable(),
  defaultAccentColor: z.string().describe("The accent colour used while accentColor is null"),
  updatedAt: z.string().nullable(),
  updatedBy: person,
});

const templateView = z.object({
  locale: z.string(),
  name: z.string().describe("The locale's name in its own language"),
  builtIn: z.boolean().describe("Postern has a translation for this locale"),
  customized: z.boolean().describe("The app saved its own template; false: this is the built-in one"),
  version: z.number().describe("0 while the built-in template is used; send it back when saving"),
  subject: z.string(),
  html: z.string(),
  text: z.string().nullable().describe("null: derived from the HTML"),
  updatedAt: z.string().nullable(),
  updatedBy: person,
});

const templateProblem = z.object({
  field: z.enum(["subject", "html", "text"]),
  code: z.string(),
  message: z.string(),
  line: z.number().nullable(),
  column: z.number().nullable(),
});

const renderedEmail = z.object({
  subject: z.string(),
  html: z.string().describe("As sent: CSS inlined"),
  text: z.string(),
  language: z.string().describe("The Content-Language header"),
  replyTo: z.string().nullable(),
});

const templateDescription = `Templates are Mustache, logic-less: only the documented variables (see GET …/email-templates), HTML-escaped; sections only show or hide their content; partials, delimiter changes and {{{unescaped}}} HTML are refused. The HTML and the text part must each contain {{code}} or {{link}}; each part is at most 100 KB. A refused template is a 400 whose \`code\` names the first problem (unknown_variable, template_syntax, template_too_large, missing_code_and_link, …) with \`field\`, \`line\` and \`column\`; \`errors\` lists every problem.`;

export function emailTemplateRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook("preHandler", sessionGuard(ctx));

    app.get(
      "/api/apps/:appId/email-settings",
      {
        schema: {
          tags,
          summary:
            "The app's login email branding (logo, accent colour, reply-to, footer) and default locale",
          params: appParams,
          response: { 200: settingsView, ...problems },
        },
      },
      async (request) => getEmailSettings(ctx, request.account.id, request.params.appId),
    );

    app.patch(
      "/api/apps/:appId/email-settings",
      {
        schema: {
          tags,
          summary: "Change the branding or the default locale (owners and admins)",
          description:
            "Fields left out are kept; null clears one. logoUrl must be https://; accentColor #rrggbb; replyTo one plain address; footer up to 500 characters on up to 6 lines. defaultLocale must be a built-in locale or one the app has a template for.",
          params: appParams,
          body: emailSettingsPatchSchema,
          response: { 200: settingsView, ...problems },
        },
      },
      async (request) => updateEmailSettings(ctx, request.account.id, request.params.appId, request.body),
    );

    app.get(
      "/api/apps/:appId/email-templates",
      {
        schema: {
          tags,
          summary: "The locales of the app's login email, which are customized, and the template variables",
          params: appParams,
          response: {
            200: z.object({
              defaultLocale: z.string(),
              locales: z.array(
                z.object({
                  locale: z.string(),
                  name: z.string(),
                  builtIn: z.boolean(),
                  customized: z.boolean(),
                  updatedAt: z.string().nullable(),
                }),
              ),
              variables: z.array(z.object({ name: z.string(), description: z.string() })),
              maxBytes: z.number(),
            }),
            ...problems,
          },
        },
      },
      async (request) => listTemplates(ctx, request.account.id, request.params.appId),
    );

    app.get(
      "/api/apps/:appId/email-templates/:locale",
      {
        schema: {
          tags,
          summary: "The app's template for a locale, or the built-in one it sends until it saves its own",
          params: localeParams,
          response: { 200: templateView, ...problems },
        },
      },
      async (request) => getTemplate(ctx, request.account.id, request.params.appId, request.params.locale),
    );

    app.put(
      "/api/apps/:appId/email-templates/:locale",
      {
        bodyLimit: TEMPLATE_BODY_LIMIT,
        schema: {
          tags,
          summary: "Save the app's template for a locale (owners and admins); adds the locale if it is new",
          description: `${templateDescription} Send the \`version\` you loaded: if someone saved since, the answer is 409 template_changed and nothing is overwritten. Leave \`text\` out (or null) to derive it from the HTML.`,
          params: localeParams,
          body: templateBodySchema,
          response: { 200: templateView, ...problems },
        },
      },
      async (request) =>
        saveTemplate(ctx, request.account.id, request.params.appId, request.params.locale, request.body),
    );

    app.delete(
      "/api/apps/:appId/email-templates/:locale",
      {
        schema: {
          tags,
          summary: "Reset to the built-in template (a locale without one is removed)",
          params: localeParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await resetTemplate(ctx, request.account.id, request.params.appId, request.params.locale);
        return reply.status(204).send(null);
      },
    );

    app.post(
      "/api/apps/:appId/email-templates/:locale/preview",
      {
        bodyLimit: TEMPLATE_BODY_LIMIT,
        schema: {
          tags,
          summary: "Render a template with sample values, as the app's users would get it",
          description: `Parts and branding left out are the saved ones. A template with problems is not an error here: the answer is ok: false with every problem and its line, so an editor can check as someone types. ${templateDescription}`,
          params: localeParams,
          body: previewBodySchema,
          response: {
            200: z.object({
              ok: z.boolean(),
              errors: z.array(templateProblem),
              email: renderedEmail.nullable(),
            }),
            ...problems,
          },
        },
      },
      async (request) =>
        previewTemplate(ctx, request.account, request.params.appId, request.params.locale, request.body),
    );

    app.post(
      "/api/apps/:appId/email-templates/:locale/test",
      {
        bodyLimit: TEMPLATE_BODY_LIMIT,
        schema: {
          tags,
          summary: "Send the template (saved, or as edited) to yourself through the app's real route",
          description:
            "Queued like a login email, so it goes out through the app's custom provider or the default sender, and the delivery log shows it (purpose template_test) with every attempt. Sample code and a link that signs nobody in; the subject starts with [Test]. Owners and admins; rate-limited per app.",
          params: localeParams,
          body: testBodySchema,
          response: {
            202: z.object({ deliveryId: z.string(), recipient: z.string(), locale: z.string() }),
            ...problems,
          },
        },
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(
            await sendTemplateTest(
              ctx,
              request.account,
              request.params.appId,
              request.params.locale,
              request.body,
            ),
          ),
    );
  };
}
