import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "../context.ts";
import { accounts, apps, workspaceMembers } from "../db/schema.ts";
import { escapeHtml } from "../html-escape.ts";
import { messageIdFor, type OutgoingEmail, parseFromAddress } from "../mail/sender.ts";
import { randomId } from "../security/tokens.ts";

/**
 * Emails the owners and admins of an app's workspace about its provider, from the default sender, with
 * a link to the provider's settings. Answers how many were told (none when the app is gone).
 */
export async function emailWorkspaceAdmins(
  ctx: Context,
  appId: string,
  compose: (app: { name: string }, settingsLink: string) => { subject: string; text: string },
  send: (email: OutgoingEmail) => Promise<void>,
): Promise<number> {
  const [app] = await ctx.db
    .select({ name: apps.name, workspaceId: apps.workspaceId })
    .from(apps)
    .where(eq(apps.id, appId));
  if (!app) return 0;
  const recipients = await ctx.db
    .select({ email: accounts.email })
    .from(workspaceMembers)
    .innerJoin(accounts, eq(accounts.id, workspaceMembers.accountId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, app.workspaceId),
        inArray(workspaceMembers.role, ["owner", "admin"]),
      ),
    );
  const link = `${ctx.config.publicUrl}/w/${encodeURIComponent(app.workspaceId)}/apps/${encodeURIComponent(appId)}/email-provider`;
  const { subject, text } = compose(app, link);
  const from = parseFromAddress(ctx.config.defaultFrom);
  for (const { email } of recipients) {
    await send({
      from,
      to: email,
      subject,
      text,
      html: `<p>${escapeHtml(text).replace(/\n/g, "<br>")}</p>`,
      messageId: messageIdFor(randomId("alert"), from.address),
    });
  }
  return recipients.length;
}
