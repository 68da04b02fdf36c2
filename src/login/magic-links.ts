import { and, eq, gt, isNotNull, isNull, type SQL } from "drizzle-orm";
import type { Context } from "../context.ts";
import { loginChallenges } from "../db/schema.ts";
import { DomainError } from "../errors.ts";
import { sameSecret, sha256 } from "../security/tokens.ts";

/**
 * Magic links that survive link scanners (docs/security.md, "Magic links and link scanners").
 * Defender Safe Links and its peers fetch every link of an email before the person does, run its
 * JavaScript, submit its forms and click its buttons. So opening a link never uses it; using it takes
 * either one click in the browser that asked for the login (bound by a cookie when it asked), or,
 * anywhere else, the 6-digit code from the same email. A scanner has neither.
 */

export type LinkScope = "app" | "dashboard";
export type LoginChallenge = typeof loginChallenges.$inferSelect;

const linkInvalid = () =>
  new DomainError(
    "invalid",
    "link_invalid",
    "This login link has expired or was already used; ask for a new one.",
    { field: "token" },
  );

/** The link's challenge while it can still be used: not consumed, superseded or expired, of this scope. */
function usable(scope: LinkScope, token: string, now: Date): SQL {
  return and(
    eq(loginChallenges.linkTokenHash, sha256(token)),
    isNull(loginChallenges.consumedAt),
    isNull(loginChallenges.supersededAt),
    gt(loginChallenges.expiresAt, now),
    scope === "dashboard" ? isNull(loginChallenges.appId) : isNotNull(loginChallenges.appId),
  )!;
}

const boundTo = (challenge: LoginChallenge, browserSecret: string | undefined) =>
  challenge.browserBindingHash !== null &&
  browserSecret !== undefined &&
  sameSecret(challenge.browserBindingHash, sha256(browserSecret));

/** Looks a link up without using it: this is all a GET or HEAD of the link (or a scanner) ever does. */
export async function openLink(
  ctx: Context,
  scope: LinkScope,
  token: string,
  browserSecret: string | undefined,
): Promise<{ challenge: LoginChallenge; boundHere: boolean }> {
  const [challenge] = await ctx.db
    .select()
    .from(loginChallenges)
    .where(usable(scope, token, ctx.now()));
  if (!challenge) throw linkInvalid();
  return { challenge, boundHere: boundTo(challenge, browserSecret) };
}

/**
 * The one click in the browser that asked: uses the link once, and only if this browser holds the
 * secret the login was bound to (the conditional update makes a second use fail). A login of the
 * hosted login page is used only by its own interaction (`interactionUid`), and no other login there.
 */
export async function redeemLinkInBrowser(
  ctx: Context,
  scope: LinkScope,
  token: string,
  browserSecret: string | undefined,
  interactionUid: string | null = null,
): Promise<LoginChallenge> {
  const now = ctx.now();
  if (browserSecret !== undefined) {
    const [challenge] = await ctx.db
      .update(loginChallenges)
      .set({ consumedAt: now })
      .where(
        and(
          usable(scope, token, now),
          eq(loginChallenges.browserBindingHash, sha256(browserSecret)),
          interactionUid === null
            ? isNull(loginChallenges.oidcInteractionUid)
            : eq(loginChallenges.oidcInteractionUid, interactionUid),
        ),
      )
      .returning();
    if (challenge) return challenge;
  }
  await openLink(ctx, scope, token, undefined);
  throw new DomainError(
    "forbidden",
    "link_needs_code",
    "This link was opened in a different browser from the one that asked to sign in; enter the code from the same email.",
    { field: "code" },
  );
}

/**
 * Any other browser: the link names the login, the code proves the person read the email. The
 * caller checks the code with `verifyCode`, so tries count against the same code as everywhere else.
 */
export async function findLinkChallenge(
  ctx: Context,
  scope: LinkScope,
  token: string,
): Promise<LoginChallenge> {
  return (await openLink(ctx, scope, token, undefined)).challenge;
}
