import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { type App, invalidAppKey } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import { queryText } from "../db/connection.ts";
import { loginChallenges } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError } from "../errors.ts";
import { CODE_TTL_SECONDS, type LoginEmailPayload, payloadContext } from "../mail/login-email.ts";
import { LOGIN_EMAIL_QUEUE, type LoginEmailJob } from "../queue/queue.ts";
import {
  budgetRetryAfterSeconds,
  clientKey,
  consumeBudgets,
  type RateLimitRule,
  rateLimited,
  refundBudgets,
  windowOf,
} from "../security/rate-limit.ts";
import { randomCode, randomId, randomToken, sameSecret, sha256 } from "../security/tokens.ts";

export const MAX_CODE_ATTEMPTS = 5;

/** Who the login is for: an app's end user, or a developer signing in to the dashboard. */
export type Audience = { kind: "app"; app: App } | { kind: "dashboard" };

const codeHash = (challengeId: string, code: string) => sha256(`${challengeId}:${code}`);
const audienceAppId = (audience: Audience) => (audience.kind === "app" ? audience.app.id : null);
const sameAudience = (audience: Audience) => {
  const appId = audienceAppId(audience);
  return appId === null ? isNull(loginChallenges.appId) : eq(loginChallenges.appId, appId);
};

/**
 * Per address: a few emails, exact (one sliding window holding both rules). Dashboard sign-in has limits
 * of its own: a developer trying things signs in far more often than an end user.
 */
function addressRules(ctx: Context, audience: Audience, email: string): RateLimitRule[] {
  const appId = audienceAppId(audience);
  const scope = appId ?? "dashboard";
  const { limits } = ctx.config;
  const perMinute =
    appId === null
      ? { limit: limits.dashboardAddressPerMinute, setting: "POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE" }
      : { limit: limits.addressPerMinute, setting: "POSTERN_LIMIT_ADDRESS_PER_MINUTE" };
  const perHour =
    appId === null
      ? { limit: limits.dashboardAddressPerHour, setting: "POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_HOUR" }
      : { limit: limits.addressPerHour, setting: "POSTERN_LIMIT_ADDRESS_PER_HOUR" };
  return [
    {
      key: `addr:${scope}:${email}`,
      ...perMinute,
      windowSeconds: 60,
      message: "A login email was just sent to this address; wait a minute before asking again.",
    },
    {
      key: `addr:${scope}:${email}`,
      ...perHour,
      windowSeconds: 3600,
      message: "Too many login emails for this address in the last hour.",
    },
  ];
}

/** Per IP: every login request counts, refused ones too, so one network cannot make us do unbounded work. */
function requestRules(ctx: Context, ip: string): RateLimitRule[] {
  return [
    {
      key: `ip:${clientKey(ip)}`,
      limit: ctx.config.limits.ipPerHour,
      setting: "POSTERN_LIMIT_IP_PER_HOUR",
      windowSeconds: 3600,
      message: "Too many login requests from this network in the last hour.",
    },
  ];
}

/**
 * Per app: only emails actually queued count. Anyone holding the public publishable key can send
 * requests that get refused (an address asked for too often); were those charged, they would use
 * up the app's budget and switch its logins off for everyone.
 */
function emailBudgetRules(ctx: Context, audience: Audience): RateLimitRule[] {
  if (audience.kind !== "app") return [];
  return [
    {
      key: `app:${audience.app.id}`,
      limit: ctx.config.limits.appPerHour,
      setting: "POSTERN_LIMIT_APP_PER_HOUR",
      windowSeconds: 3600,
      message: "This application has reached its hourly login email budget.",
    },
  ];
}

/**
 * Wrong codes per IP (across apps and the dashboard): each login allows a few tries, so without this a
 * guesser starting many logins would get many guesses. Past it, that network gets 429 for every code.
 */
function failedCodeIpRules(ctx: Context, ip: string): RateLimitRule[] {
  return [
    {
      key: `failed-code-ip:${clientKey(ip)}`,
      limit: ctx.config.limits.failedCodesPerIpPerHour,
      setting: "POSTERN_LIMIT_FAILED_CODES_PER_IP_PER_HOUR",
      windowSeconds: 3600,
      message: "Too many wrong codes from this network in the last hour.",
    },
  ];
}

/**
 * Wrong codes per app, against guessing spread over many networks. Past it the app's logins are not
 * refused (anyone with the public key could then switch them off): each login gets one try instead
 * of five, so a correct code still signs in and a wrong one spends the login (429).
 */
function failedCodeAppRules(ctx: Context, audience: Audience): RateLimitRule[] {
  if (audience.kind !== "app") return [];
  return [
    {
      key: `failed-code-app:${audience.app.id}`,
      limit: ctx.config.limits.failedCodesPerAppPerHour,
      setting: "POSTERN_LIMIT_FAILED_CODES_PER_APP_PER_HOUR",
      windowSeconds: 3600,
      message:
        "Too many wrong codes for this application in the last hour, so a wrong code ends the login: ask for a new code.",
    },
  ];
}

/** Takes the budget's unit, or reports the error that says it is spent (without taking anything). */
async function tryBudgets(ctx: Context, rules: RateLimitRule[], now: Date): Promise<DomainError | undefined> {
  try {
    await consumeBudgets(ctx.db, rules, now);
    return undefined;
  } catch (err) {
    if (err instanceof DomainError && err.kind === "rate_limited") return err;
    throw err;
  }
}

/** Nobody logs in to an app with the address its custom provider sends from (the feature description's rule). */
export const senderEmailLoginRefused = () =>
  new DomainError(
    "forbidden",
    "sender_email_login_refused",
    "This address sends this app's login emails and cannot be used to log in to it.",
    { field: "email" },
  );

// The login's two statements (migrations 0016 and 0018), their text constant.
const TAKE_LOGIN_BUDGETS = `select postern_take_login_budgets($1::text, $2::timestamptz, $3::int,
  $4::text, $5::timestamptz, $6::int) as outcome`;
const START_LOGIN = `select * from postern_start_login($1::timestamptz, $2::text, $3::text,
  $4::text, $5::int[], $6::int[], $7::text, $8::text, $9::text, $10::text, $11::text, $12::text,
  $13::timestamptz, $14::text, $15::text, $16::text, $17::text, $18::text, $19::text, $20::jsonb)`;

type StartOutcome = "queued" | "app_gone" | "sender_refused" | "address_limited";

/**
 * Starts a passwordless login: the challenge, its delivery row and the queue job are written in
 * one transaction, so there is never a challenge without its email, nor an email lost on a crash.
 * Two statements (migration 0016): first the per-IP and per-app budgets, in a transaction of their own
 * that commits asynchronously (the rows every login of an app updates: their locks must not wait for a
 * disk flush); then postern_start_login, the one durable transaction: the sender rule, the per-address
 * limit, the supersede, the challenge, the delivery row and the pg-boss job. A refused request keeps
 * only what its rules count: its IP's unit, never the app's, which is given back.
 */
export async function startLogin(
  ctx: Context,
  input: {
    audience: Audience;
    email: EmailAddress;
    redirectUrl?: string | undefined;
    /** The asking browser's binding secret (its `postern_browser` cookie), if a browser asked. */
    browserSecret?: string | undefined;
    /** The hosted login page's OpenID Connect interaction this login finishes. */
    oidcInteractionUid?: string | undefined;
    ip: string;
    sender: string;
    /** The email's locale, negotiated by the caller; the delivery log records it. */
    locale: string;
    /**
     * A decoy goes through every step of a real login (limits, supersede, challenge, delivery row,
     * job) except that its delivery is suppressed and its code is never sent: the answer and the work
     * are the same as for a real one, so a caller cannot tell which addresses have accounts.
     */
    decoy?: boolean;
  },
): Promise<{ loginId: string; expiresAt: string }> {
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + CODE_TTL_SECONDS * 1000);
  const loginId = randomId("lgn");
  const deliveryId = randomId("dlv");
  const payload: LoginEmailPayload = { code: randomCode(), linkToken: randomToken(32), requestIp: input.ip };
  const appId = audienceAppId(input.audience);
  const [requestRule] = requestRules(ctx, input.ip) as [RateLimitRule];
  const [budgetRule] = emailBudgetRules(ctx, input.audience);
  const addressLimits = addressRules(ctx, input.audience, input.email);
  const job: LoginEmailJob = { deliveryId };

  const budgetWindow = budgetRule ? windowOf(budgetRule, now) : null;
  const [budgets] = await queryText<{ outcome: "taken" | "request_limited" | "budget_spent" }>(
    ctx.db,
    TAKE_LOGIN_BUDGETS,
    [
      requestRule.key,
      windowOf(requestRule, now),
      requestRule.limit,
      budgetRule?.key ?? null,
      budgetWindow,
      budgetRule?.limit ?? null,
    ],
  );
  if (budgets?.outcome === "request_limited")
    throw rateLimited(requestRule, budgetRetryAfterSeconds(requestRule, now));
  if (budgets?.outcome === "budget_spent")
    throw rateLimited(budgetRule!, budgetRetryAfterSeconds(budgetRule!, now));
  if (budgets?.outcome !== "taken")
    throw new Error(`postern_take_login_budgets answered ${String(budgets?.outcome)}`);

  const [result] = await queryText<{
    outcome: StartOutcome;
    address_rule: number | null;
    retry_after_seconds: number | null;
  }>(ctx.db, START_LOGIN, [
    now,
    appId,
    input.email,
    addressLimits[0]!.key,
    addressLimits.map((rule) => rule.limit),
    addressLimits.map((rule) => rule.windowSeconds),
    loginId,
    codeHash(loginId, payload.code),
    sha256(payload.linkToken),
    input.redirectUrl ?? null,
    input.browserSecret ? sha256(input.browserSecret) : null,
    input.oidcInteractionUid ?? null,
    expiresAt,
    deliveryId,
    input.sender,
    input.decoy ? "suppressed" : "queued",
    input.locale,
    input.decoy ? null : ctx.secrets.seal(JSON.stringify(payload), payloadContext(deliveryId)),
    LOGIN_EMAIL_QUEUE,
    JSON.stringify(job),
  ]);
  if (result?.outcome === "queued") {
    ctx.queue.wakeLocalWorkers();
    return { loginId, expiresAt: expiresAt.toISOString() };
  }
  // The app's unit counts only emails queued.
  if (budgetRule) {
    await ctx.db.execute(
      sql`select postern_give_back_login_budget(${budgetRule.key}::text, ${budgetWindow}::timestamptz)`,
    );
  }
  switch (result?.outcome) {
    case "app_gone":
      if (appId) ctx.appCache.forget(appId);
      throw invalidAppKey();
    case "sender_refused":
      throw senderEmailLoginRefused();
    case "address_limited":
      throw rateLimited(
        addressLimits[(result.address_rule ?? 1) - 1]!,
        result.retry_after_seconds ?? addressLimits[0]!.windowSeconds,
      );
    default:
      throw new Error(`postern_start_login answered ${String(result?.outcome)}`);
  }
}

const invalidCode = (attemptsRemaining: number) =>
  new DomainError("invalid", "invalid_code", "The code is not correct.", {
    field: "code",
    details: { attemptsRemaining },
  });
const loginUnusable = () =>
  new DomainError(
    "invalid",
    "login_expired",
    "This login has expired or was already used; ask for a new code.",
    { field: "loginId" },
  );

/**
 * Checks a code with an atomic attempt counter; returns the verified email. Every attempt first
 * takes a unit of the failed-code budgets and a right code gives it back: counting only after the
 * check would let concurrent guesses all pass a ceiling that has one unit left. An attempt refused
 * here never reaches the code, so a right guess past the ceiling is not told apart from a wrong one.
 */
export async function verifyCode(
  ctx: Context,
  audience: Audience,
  loginId: string,
  code: string,
  ip: string,
) {
  const now = ctx.now();
  // A unit of each wrong-code budget is taken before the check, so concurrent guesses cannot overshoot,
  // and given back when the code was right.
  const ipRules = failedCodeIpRules(ctx, ip);
  await consumeBudgets(ctx.db, ipRules, now);
  const appRules = failedCodeAppRules(ctx, audience);
  const appSpent = await tryBudgets(ctx, appRules, now);
  const verified = await ctx.db
    .transaction(async (tx) => {
      const [challenge] = await tx
        .update(loginChallenges)
        .set({ attempts: sql`${loginChallenges.attempts} + 1` })
        .where(
          and(
            eq(loginChallenges.id, loginId),
            sameAudience(audience),
            isNull(loginChallenges.consumedAt),
            isNull(loginChallenges.supersededAt),
            gt(loginChallenges.expiresAt, now),
            sql`${loginChallenges.attempts} < ${MAX_CODE_ATTEMPTS}`,
          ),
        )
        .returning();
      if (!challenge) {
        const [existing] = await tx
          .select()
          .from(loginChallenges)
          .where(and(eq(loginChallenges.id, loginId), sameAudience(audience)));
        if (existing && existing.attempts >= MAX_CODE_ATTEMPTS && !existing.consumedAt) {
          throw new DomainError("invalid", "too_many_attempts", "Too many wrong codes; ask for a new one.", {
            field: "code",
          });
        }
        throw loginUnusable();
      }
      if (!sameSecret(challenge.codeHash, codeHash(challenge.id, code))) {
        if (appSpent) {
          await tx
            .update(loginChallenges)
            .set({ attempts: MAX_CODE_ATTEMPTS })
            .where(eq(loginChallenges.id, challenge.id));
          return { ok: false as const, error: appSpent };
        }
        return { ok: false as const, error: invalidCode(MAX_CODE_ATTEMPTS - challenge.attempts) };
      }
      await tx.update(loginChallenges).set({ consumedAt: now }).where(eq(loginChallenges.id, challenge.id));
      return { ok: true as const, challenge };
    })
    .then((result) => {
      // The failed attempt is committed before the error is thrown, so the counter holds.
      if (!result.ok) throw result.error;
      return result.challenge;
    });
  await refundBudgets(ctx.db, appSpent ? ipRules : [...ipRules, ...appRules], now);
  return verified;
}
