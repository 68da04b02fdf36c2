import { and, desc, eq } from "drizzle-orm";
import type { App } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { loginChallenges } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError } from "../errors.ts";
import { verifyCode } from "../login/challenges.ts";
import { requestAppLogin, signInEndUser } from "../login/end-user-login.ts";
import { type LoginChallenge, redeemLinkInBrowser } from "../login/magic-links.ts";

/**
 * The hosted login page's logins: the same challenges, limits and canonical addresses as the
 * `/v1/login/email` API, tied to the OpenID Connect interaction they finish and bound to the browser
 * that asked. Each returns the app's end user once the person has proved they read the email.
 */

export async function startInteractionLogin(
  ctx: Context,
  app: App,
  interactionUid: string,
  input: {
    email: EmailAddress;
    ip: string;
    browserSecret: string;
    uiLocales?: unknown;
    acceptLanguage?: string | undefined;
  },
) {
  const { uiLocales, acceptLanguage, ...login } = input;
  // OpenID Connect's `ui_locales` (Core §3.1.2.1) is a space-separated preference list; it goes
  // before the browser's Accept-Language, with the same weight, so the first one Postern has wins.
  const preferred = typeof uiLocales === "string" ? uiLocales.trim().split(/\s+/).filter(Boolean) : [];
  const ranges = [...preferred, ...(acceptLanguage ? [acceptLanguage] : [])].join(",");
  return requestAppLogin(ctx, app, {
    ...login,
    acceptLanguage: ranges || undefined,
    oidcInteractionUid: interactionUid,
  });
}

/**
 * The interaction's newest login, if one was asked for: the one whose code the page asks for, even
 * once it cannot be used any more (expired, superseded by a newer email), so the page can say so.
 */
export async function pendingInteractionLogin(
  ctx: Context,
  app: App,
  interactionUid: string,
): Promise<LoginChallenge | undefined> {
  const [challenge] = await ctx.db
    .select()
    .from(loginChallenges)
    .where(and(eq(loginChallenges.appId, app.id), eq(loginChallenges.oidcInteractionUid, interactionUid)))
    .orderBy(desc(loginChallenges.createdAt))
    .limit(1);
  return challenge;
}

const noPendingLogin = () =>
  new DomainError(
    "invalid",
    "login_expired",
    "This login has expired or was already used; ask for a new code.",
    {
      field: "code",
    },
  );

export async function verifyInteractionCode(
  ctx: Context,
  app: App,
  input: { interactionUid: string; code: string; ip: string },
) {
  const pending = await pendingInteractionLogin(ctx, app, input.interactionUid);
  if (!pending) throw noPendingLogin();
  const challenge = await verifyCode(ctx, { kind: "app", app }, pending.id, input.code, input.ip);
  return signInEndUser(ctx, app, challenge.email as EmailAddress);
}

/** The magic link's one click, in the browser that asked, for this interaction's own login only. */
export async function redeemInteractionLink(
  ctx: Context,
  app: App,
  interactionUid: string,
  token: string,
  browserSecret: string | undefined,
) {
  const challenge = await redeemLinkInBrowser(ctx, "app", token, browserSecret, interactionUid);
  if (challenge.appId !== app.id) throw noPendingLogin();
  return signInEndUser(ctx, app, challenge.email as EmailAddress);
}
