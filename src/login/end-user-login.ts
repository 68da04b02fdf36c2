import { and, eq } from "drizzle-orm";
import { type App, getAppById } from "../apps/apps.ts";
import { matchRedirectUrl } from "../apps/redirect-urls.ts";
import { signSessionToken } from "../apps/signing-keys.ts";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { emailProviders, endUsers } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError, invalid } from "../errors.ts";
import { negotiateLocale } from "../i18n/negotiate.ts";
import { randomId } from "../security/tokens.ts";
import { senderEmailLoginRefused, startLogin, verifyCode } from "./challenges.ts";
import { findLinkChallenge, type LoginChallenge, openLink, redeemLinkInBrowser } from "./magic-links.ts";

export const SESSION_TOKEN_TTL_SECONDS = 60 * 60;

/**
 * Nobody logs in to an app with the address its custom provider sends from (the feature description's
 * rule), and only to that app: another workspace's provider settings never refuse anyone here. A login
 * request checks it in its own statement (startLogin); signing in checks it again here.
 */
async function refuseAppSender(ctx: Context, app: App, email: EmailAddress): Promise<void> {
  const [row] = await ctx.db
    .select({ appId: emailProviders.appId })
    .from(emailProviders)
    .where(and(eq(emailProviders.appId, app.id), eq(emailProviders.senderEmail, email)));
  if (row) throw senderEmailLoginRefused();
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
    /** The asking browser's binding secret, when a browser asked (see src/login/magic-links.ts). */
    browserSecret?: string | undefined;
    oidcInteractionUid?: string | undefined;
  },
) {
  const { email } = input;
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
  const { defaultLocale, supported } = await ctx.appCache.localesOf(app.id);
  const { locale } = negotiateLocale(input.locale, input.acceptLanguage, defaultLocale, supported);
  return startLogin(ctx, {
    audience: { kind: "app", app },
    email,
    redirectUrl,
    browserSecret: input.browserSecret,
    oidcInteractionUid: input.oidcInteractionUid,
    ip: input.ip,
    sender: ctx.config.defaultFrom,
    locale,
  });
}

/** The app's end user for a verified address, created on their first login; their `sub` is its id. */
export async function signInEndUser(ctx: Context, app: App, email: EmailAddress) {
  // The provider may have been changed to send from this address since the login was requested.
  await refuseAppSender(ctx, app, email);
  const now = ctx.now();
  const [user] = await ctx.db
    .insert(endUsers)
    .values({ id: randomId("usr"), appId: app.id, email, lastSignInAt: now })
    .onConflictDoUpdate({ target: [endUsers.appId, endUsers.email], set: { lastSignInAt: now } })
    .returning();
  return user!;
}

export async function findEndUser(db: Db, appId: string, userId: string) {
  const [user] = await db
    .select()
    .from(endUsers)
    .where(and(eq(endUsers.appId, appId), eq(endUsers.id, userId)));
  return user;
}

async function issueSession(ctx: Context, app: App, email: EmailAddress) {
  const user = await signInEndUser(ctx, app, email);
  const token = await signSessionToken(ctx.db, ctx.secrets, {
    issuer: ctx.config.publicUrl,
    appId: app.id,
    userId: user.id,
    email,
    ttlSeconds: SESSION_TOKEN_TTL_SECONDS,
  });
  return { token, user: { id: user.id, email } };
}

export async function verifyAppLoginCode(
  ctx: Context,
  app: App,
  input: { loginId: string; code: string; ip: string },
) {
  const challenge = await verifyCode(ctx, { kind: "app", app }, input.loginId, input.code, input.ip);
  return issueSession(ctx, app, challenge.email as EmailAddress);
}

/** A hosted-page login finishes only in its browser (docs/security.md: the app's state is there). */
const onlyWhereStarted = () =>
  new DomainError(
    "forbidden",
    "link_only_where_started",
    "This sign-in was started in another browser; finish it there with the link or the code.",
    { field: "token" },
  );

async function appOf(ctx: Context, challenge: LoginChallenge): Promise<App> {
  const app = challenge.appId ? await getAppById(ctx.db, challenge.appId) : undefined;
  if (!app)
    throw invalid("link_invalid", "This login link belongs to an app that no longer exists.", "token");
  return app;
}

/** Opening a magic link: what the page shows, never a use of the link. */
export async function openAppLoginLink(ctx: Context, token: string, browserSecret: string | undefined) {
  const { challenge, boundHere } = await openLink(ctx, "app", token, browserSecret);
  return { challenge, boundHere, app: await appOf(ctx, challenge) };
}

async function linkSession(ctx: Context, challenge: LoginChallenge, app: App) {
  const session = await issueSession(ctx, app, challenge.email as EmailAddress);
  return { ...session, app, redirectUrl: challenge.redirectUrl };
}

/** The magic link, one click in the browser that asked: the session and where to send the browser. */
export async function redeemAppLinkInBrowser(ctx: Context, token: string, browserSecret: string | undefined) {
  const challenge = await redeemLinkInBrowser(ctx, "app", token, browserSecret);
  return linkSession(ctx, challenge, await appOf(ctx, challenge));
}

/** The magic link in any other browser, with the code from the same email. */
export async function redeemAppLinkWithCode(ctx: Context, token: string, code: string, ip: string) {
  const found = await findLinkChallenge(ctx, "app", token);
  if (found.oidcInteractionUid !== null) throw onlyWhereStarted();
  const app = await appOf(ctx, found);
  const challenge = await verifyCode(ctx, { kind: "app", app }, found.id, code, ip);
  return linkSession(ctx, challenge, app);
}
