import { and, eq, gt, lt } from "drizzle-orm";
import { createAccount, findAccountByEmail, getAccount, touchAccountSignIn } from "../accounts/accounts.ts";
import type { Context } from "../context.ts";
import { dashboardSessions } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError } from "../errors.ts";
import { FALLBACK_LOCALE } from "../i18n/locales.ts";
import { negotiateLocale } from "../i18n/negotiate.ts";
import { startLogin, verifyCode } from "../login/challenges.ts";
import { findLinkChallenge, openLink, redeemLinkInBrowser } from "../login/magic-links.ts";
import { randomToken, sha256 } from "../security/tokens.ts";

export const SESSION_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Dashboard sign-in uses the same passwordless challenge as end users, always through the default
 * sender, in the developer's language (the request's `locale`, else the browser's Accept-Language). With invite-only sign-up an unknown address gets a decoy login: the same limits, the same
 * answers (202, then `invalid_code` with tries left) and the same work, but no email, so nothing a
 * caller sees tells whether an account exists.
 */
export async function requestDashboardSignIn(
  ctx: Context,
  email: EmailAddress,
  ip: string,
  browserSecret: string | undefined,
  language: { locale?: string | undefined; acceptLanguage?: string | undefined } = {},
) {
  const decoy = ctx.config.signup === "invite" && !(await findAccountByEmail(ctx.db, email));
  const { locale } = negotiateLocale(language.locale, language.acceptLanguage, FALLBACK_LOCALE);
  return startLogin(ctx, {
    audience: { kind: "dashboard" },
    email,
    browserSecret,
    ip,
    sender: ctx.config.defaultFrom,
    locale,
    decoy,
  });
}

async function openSession(ctx: Context, email: EmailAddress) {
  const existing = await findAccountByEmail(ctx.db, email);
  if (!existing && ctx.config.signup === "invite") {
    // Only a decoy login has no account behind it, and its code was never sent: answer as for a used login.
    throw new DomainError(
      "invalid",
      "login_expired",
      "This login has expired or was already used; ask for a new code.",
      { field: "loginId" },
    );
  }
  const account = existing ?? (await ctx.db.transaction((tx) => createAccount(tx, email)));
  await touchAccountSignIn(ctx, account.id);
  const token = randomToken(32);
  const csrfToken = randomToken(24);
  const expiresAt = new Date(ctx.now().getTime() + SESSION_TTL_SECONDS * 1000);
  await ctx.db
    .insert(dashboardSessions)
    .values({ tokenHash: sha256(token), accountId: account.id, csrfToken, expiresAt });
  return { token, csrfToken, expiresAt, account };
}

export async function verifyDashboardCode(ctx: Context, loginId: string, code: string, ip: string) {
  const challenge = await verifyCode(ctx, { kind: "dashboard" }, loginId, code, ip);
  return openSession(ctx, challenge.email as EmailAddress);
}

/** Opening a sign-in link: what the page shows, never a use of the link. */
export async function openDashboardLink(ctx: Context, token: string, browserSecret: string | undefined) {
  return openLink(ctx, "dashboard", token, browserSecret);
}

/** One click in the browser that asked for the sign-in. */
export async function redeemDashboardLinkInBrowser(
  ctx: Context,
  token: string,
  browserSecret: string | undefined,
) {
  const challenge = await redeemLinkInBrowser(ctx, "dashboard", token, browserSecret);
  return openSession(ctx, challenge.email as EmailAddress);
}

/** The sign-in link in any other browser, with the code from the same email. */
export async function redeemDashboardLinkWithCode(ctx: Context, token: string, code: string, ip: string) {
  const found = await findLinkChallenge(ctx, "dashboard", token);
  const challenge = await verifyCode(ctx, { kind: "dashboard" }, found.id, code, ip);
  return openSession(ctx, challenge.email as EmailAddress);
}

export async function findSession(ctx: Context, token: string) {
  const [session] = await ctx.db
    .select()
    .from(dashboardSessions)
    .where(and(eq(dashboardSessions.tokenHash, sha256(token)), gt(dashboardSessions.expiresAt, ctx.now())));
  if (!session) return undefined;
  const account = await getAccount(ctx.db, session.accountId);
  return account ? { account, csrfToken: session.csrfToken, expiresAt: session.expiresAt } : undefined;
}

export async function closeSession(ctx: Context, token: string) {
  await ctx.db.delete(dashboardSessions).where(eq(dashboardSessions.tokenHash, sha256(token)));
}

export async function pruneSessions(ctx: Context) {
  await ctx.db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, ctx.now()));
}
