import type { Config } from "../config/config.ts";
import { escapeHtml } from "../html-escape.ts";
import { messageIdFor, type OutgoingEmail, parseFromAddress } from "../mail/sender.ts";
import { randomId } from "../security/tokens.ts";

/** Sends an email from the operator's default sender (the path provider health alerts take), never a tenant's provider. */
export type OperatorMail = (email: OutgoingEmail) => Promise<void>;

/** The email telling an invitee which workspace they joined, who added them, and where to sign in. */
export function invitationEmail(
  config: Config,
  invite: { to: string; workspaceId: string; workspaceName: string; inviterEmail: string; role: string },
): OutgoingEmail {
  const from = parseFromAddress(config.defaultFrom);
  const next = `/w/${encodeURIComponent(invite.workspaceId)}`;
  const link = `${config.publicUrl}/sign-in?next=${encodeURIComponent(next)}`;
  const subject = `${invite.inviterEmail} invited you to ${invite.workspaceName} on Postern`;
  const text = `${invite.inviterEmail} added you to the workspace ${invite.workspaceName} on Postern, as ${invite.role}.\n\nSign in with this address (${invite.to}) to open it; Postern emails you a one-time code, no password:\n${link}\n\nIf you did not expect this, you can ignore this email.\n`;
  return {
    from,
    to: invite.to,
    subject,
    text,
    html: `<p>${escapeHtml(text).replace(/\n/g, "<br>")}</p>`,
    messageId: messageIdFor(randomId("invite"), from.address),
  };
}
