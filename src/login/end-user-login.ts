import { and, eq } from "drizzle-orm";
import { type App, getAppById } from "../apps/apps.ts";
import { matchRedirectUrl } from "../apps/redirect-urls.ts";
import { signSessionToken } from "../apps/signing-keys.ts";
import type { Context } from "../context.ts";
import { emailProviders, endUsers, type loginChallenges } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { appLocales } from "../email-templates/store.ts";
import { DomainError, invalid } from "../errors.ts";
import { negotiateLocale } from "../i18n/negotiate.ts";
import { randomId } from "../security/tokens.ts";
import { redeemLink, startLogin, verifyCode } from "./challenges.ts";

export const SESSION_TOKEN_TTL_SECONDS = 60 * 60;

/**
 * Nobody logs in to an app with the address its custom provider sends from (the feature description's
 * rule), and only to that app: another workspace's provider settings never refuse anyone here.
 */
async function refuseAppSender(ctx: Context, app: App, email: EmailAddress): Promise<void> {
  const [row] = await ctx.db
    .select({ appId: emailProviders.appId })
    .from(emailProviders)
    .where(and(eq(emailProviders.appId, app.id), eq(emailProviders.senderEmail, email)));
  if (row) {
    throw new DomainError(
      "forbidden",
      "sender_email_login_refused",
      "This address sends this app's login emails and cannot be used to log in to it.",
      { field: "email" },
    );
  }
}

export async function requestAppLogin(
  ctx: Context,
  app: App,
  input: {
    email: EmailAddress;
    redirectUrl?: string | undefined;
    ip: string;
    /** The `locale` the app passed, and the end user's Accept-Language: see negotiateLocale. */
    locale?: string | undefined;
    acceptLanguage?: string | undefined;
  },
) {
  const { email } = input;
  await refuseAppSender(ctx, app, email);
  let redirectUrl: string | undefined;
  if (input.redirectUrl !== undefined) {
    redirectUrl = matchRedirectUrl(app.redirectUrls, input.redirectUrl);
    if (!redirectUrl) {
      throw invalid(
        "redirect_url_not_allowed",
        "redirectUrl is not one of this app's allowed redirect URLs.",
        "redirectUrl",
      );
    }
  }
  const { defaultLocale, supported } = await appLocales(ctx.db, app.id);
  const { locale } = negotiateLocale(input.locale, input.acceptLanguage, defaultLocale, supported);
  return startLogin(ctx, {
    audience: { kind: "app", app },
    email,
    redirectUrl,
    ip: input.ip,
    sender: ctx.config.defaultFrom,
    locale,
  });
}

async function issueSession(ctx: Context, app: App, email: EmailAddress) {
  // The provider may have been changed to send from this address since the login was requested.
  await refuseAppSender(ctx, app, email);
  const now = ctx.now();
  const [user] = await ctx.db
    .insert(endUsers)
    .values({ id: randomId("usr"), appId: app.id, email, lastSignInAt: now })
    .onConflictDoUpdate({ target: [endUsers.appId, endUsers.email], set: { lastSignInAt: now } })
    .returning();
  const token = await signSessionToken(ctx.db, ctx.secrets, {
    issuer: ctx.config.publicUrl,
    appId: app.id,
    userId: user!.id,
    email,
    ttlSeconds: SESSION_TOKEN_TTL_SECONDS,
  });
  return { token, user: { id: user!.id, email } };
}

export async function verifyAppLoginCode(
  ctx: Context,
  app: App,
  input: { loginId: string; code: string; ip: string },
) {
  const challenge = await verifyCode(ctx, { kind: "app", app }, input.loginId, input.code, input.ip);
  return issueSession(ctx, app, challenge.email as EmailAddress);
}

/** The magic link: returns the session and where to send the browser (if the login asked for it). */
export async function redeemAppLoginLink(ctx: Context, token: string) {
  const challenge: typeof loginChallenges.$inferSelect = await redeemLink(ctx, "app", token);
  const app = await getAppById(ctx.db, challenge.appId!);
  if (!app)
    throw invalid("link_invalid", "This login link belongs to an app that no longer exists.", "token");
  const session = await issueSession(ctx, app, challenge.email as EmailAddress);
  return { ...session, app, redirectUrl: challenge.redirectUrl };
}
