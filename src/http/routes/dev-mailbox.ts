import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { DevMailbox } from "../../dev-mailbox/dev-mailbox.ts";

/**
 * The dev mailbox's contents. Only registered when it runs (no POSTERN_DEFAULT_SMTP_URL), which is
 * the embedded development default, so a newcomer can finish signing in without an SMTP server.
 */
export function devMailboxRoutes(mailbox: DevMailbox): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      "/api/dev/inbox",
      {
        schema: {
          tags: ["dev mailbox"],
          summary: "Emails received by the built-in dev mailbox, newest first",
          response: {
            200: z.object({
              messages: z.array(
                z.object({
                  id: z.string(),
                  from: z.string(),
                  to: z.array(z.string()),
                  subject: z.string(),
                  text: z.string(),
                  html: z.string(),
                  receivedAt: z.string(),
                }),
              ),
            }),
          },
        },
      },
      async () => ({ messages: mailbox.list() }),
    );
  };
}
