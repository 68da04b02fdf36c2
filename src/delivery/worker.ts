import { and, eq, Param, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Context } from "../context.ts";
import { builtOncePer } from "../db/connection.ts";
import { type DeliveryAttempt, deliveries } from "../db/schema.ts";
import { composeDeliveryEmail, type DeliveryEmail } from "../email-templates/compose.ts";
import { messageIdFor } from "../mail/sender.ts";
import type { ClassifiedError } from "../mail/smtp-errors.ts";
import { deliveryErrorOf } from "../mail/transport.ts";
import type { Job } from "../queue/queue.ts";
import type { Delivery } from "./claim.ts";
import type { DeliveryRoute, RouteResolver } from "./routes.ts";
import { releasedDuringAttempt, retryDelayMs, scheduleDelivery } from "./schedule.ts";

/**
 * Sends one login email and records the attempt. The worker decides when, the route's sender
 * how, and the delivery row keeps what happened. Retries are scheduled here (a new job with the
 * delivery's next time, see schedule.ts), so "retry" — pg-boss's own retry — is left for errors of
 * Postern itself (a database hiccup), which throw.
 */
export async function deliverLoginEmail(
  ctx: Context,
  resolveRoute: RouteResolver,
  job: Job,
  /** The delivery this job's fetch claimed (claim.ts), or undefined: nothing to send. */
  delivery: Delivery | undefined,
): Promise<"done" | "retry"> {
  if (!delivery) return "done";
  try {
    return await attempt(ctx, resolveRoute, job, delivery);
  } catch (err) {
    // Postern's own failure (a database hiccup): hand the claim back, so pg-boss's retry of this
    // same job (same schedule) can take it again.
    await ctx.db
      .update(deliveries)
      .set({ status: "retrying", updatedAt: ctx.now() })
      .where(and(eq(deliveries.id, delivery.id), eq(deliveries.status, "sending")))
      .catch(() => undefined);
    throw err;
  }
}

async function attempt(
  ctx: Context,
  resolveRoute: RouteResolver,
  job: Job,
  delivery: Delivery,
): Promise<"done" | "retry"> {
  const now = ctx.now();
  if (delivery.expiresAt <= now || !delivery.sealedPayload) {
    await finish(ctx, delivery, {
      status: "expired",
      lastError: delivery.lastError
        ? `The login expired before its email could be delivered. Last error: ${delivery.lastError}`
        : "The login expired before its email could be delivered.",
    });
    return "done";
  }

  const tries = job.data.tries ?? 0;
  const resolved = await resolveRoute(delivery.appId);
  if ("held" in resolved) {
    // Not an attempt: nothing was sent. The email waits for the provider, within its login's expiry.
    await waitOrExpire(ctx, delivery, tries, {
      lastError: waitingMessage(resolved.held.reason, ctx.config.delivery.providerProbeSeconds),
    });
    return "done";
  }
  const email = await composeDeliveryEmail(ctx, delivery);
  return sendThrough(ctx, tries, delivery, email, resolved);
}

/** What the delivery log says while an email waits for a failing provider. */
function waitingMessage(reason: string, probeSeconds: number) {
  return `Waiting for the custom provider, which is failing: ${reason} Postern checks it every ${probeSeconds} s and sends this email as soon as it works again, until the login expires.`;
}

/**
 * Schedules the next try with backoff (the last one at the login's expiry), or ends the delivery as
 * expired once its login has. Every outcome but a recipient's refusal comes here: nothing else fails
 * an email.
 */
async function waitOrExpire(
  ctx: Context,
  delivery: Delivery,
  tries: number,
  outcome: Omit<Outcome, "status"> & { lastError: string; retryAfterSeconds?: number },
): Promise<void> {
  const now = ctx.now().getTime();
  // The provider's Retry-After, when it gave one, is the earliest next try; the last try is at the
  // expiry itself: until then a recovered provider can still release the email.
  const backoff = retryDelayMs(
    ctx.config.delivery.retryBaseSeconds,
    tries,
    ctx.config.delivery.retryMaxSeconds,
  );
  // Released while this attempt ran (its provider saved or found working meanwhile): again at once.
  const waitMs = (await releasedDuringAttempt(ctx, delivery.id, delivery.updatedAt))
    ? 0
    : Math.max(backoff, (outcome.retryAfterSeconds ?? 0) * 1000);
  const next = new Date(Math.min(now + waitMs, delivery.expiresAt.getTime()));
  if (now >= delivery.expiresAt.getTime()) {
    await finish(ctx, delivery, {
      ...outcome,
      status: "expired",
      lastError: `The login expired before its email could be delivered. Last error: ${outcome.lastError}`,
      ...(outcome.attempt ? { attempt: { ...outcome.attempt, outcome: "failed" } } : {}),
    });
    ctx.log.warn({ deliveryId: delivery.id }, "login email expired while retrying");
    return;
  }
  // A wait without an attempt (the provider is known to fail) is not counted: nothing happened.
  if (outcome.attempt) countOutcome(ctx, delivery, { ...outcome, status: "retrying" });
  const attempts = outcome.attempt ? [...delivery.attempts, outcome.attempt] : delivery.attempts;
  await scheduleDelivery(ctx, delivery.id, next, tries + 1, {
    status: "retrying",
    attempts,
    attemptCount: attempts.length,
    lastError: outcome.lastError,
    ...(outcome.route ? { route: outcome.route } : {}),
    ...(outcome.sender ? { sender: outcome.sender } : {}),
  });
}

/**
 * Sends through the route, and on through its fallbacks (the app's next providers, then the default
 * sender where allowed) while a route cannot send for the provider's sake: a provider-level failure,
 * a reply that pauses its sender (quota, throttling), or a sending limit that makes the email wait.
 * A recipient's refusal ends the email; anything else waits for the next try, from the first route.
 */
async function sendThrough(
  ctx: Context,
  tries: number,
  delivery: Delivery,
  email: DeliveryEmail,
  firstRoute: DeliveryRoute,
): Promise<"done" | "retry"> {
  const deliveryId = delivery.id;
  let route = firstRoute;
  let earlier: DeliveryAttempt[] = [];
  const withEarlier = () => ({ ...delivery, attempts: [...delivery.attempts, ...earlier] });
  for (;;) {
    const slot = route.acquireSlot ? await route.acquireSlot() : undefined;
    if (slot && "waitSeconds" in slot) {
      ctx.metrics.senderLimitWaits.inc({ limit: slot.blockedBy });
      if (route.fallback) {
        earlier = [...earlier, laneMovedOn(ctx.now(), route, slot.waitSeconds)];
        route = route.fallback;
        continue;
      }
      // Over the sender's limit: not an attempt, and not a failure. The email waits its turn.
      const attempts = withEarlier().attempts;
      await scheduleDelivery(
        ctx,
        deliveryId,
        // Never past the login's expiry (a daily limit may be hours away): then it ends as expired.
        new Date(Math.min(ctx.now().getTime() + slot.waitSeconds * 1000, delivery.expiresAt.getTime())),
        tries,
        earlier.length > 0
          ? { status: "queued", attempts, attemptCount: attempts.length }
          : { status: "queued" },
      );
      return "done";
    }
    // When the attempt began on the injected clock (what the delivery log shows), and how long it took
    // on a monotonic one (durations do not jump with the wall clock).
    const at = ctx.now();
    const started = performance.now();
    const elapsedMs = () => Math.round(performance.now() - started);
    try {
      const result = await route.sender.send({
        ...email,
        from: route.from,
        to: delivery.recipient,
        messageId: messageIdFor(delivery.id, route.from.address),
      });
      await route.reportOutcome?.({ ok: true });
      ctx.log.debug(
        { deliveryId, route: route.route, durationMs: elapsedMs(), smtpReply: result.smtpReply },
        "login email sent",
      );
      await finish(ctx, withEarlier(), {
        status: "sent",
        route: route.route,
        sender: formatFrom(route.from),
        messageId: result.messageId,
        sentAt: ctx.now(),
        attempt: {
          at: at.toISOString(),
          durationMs: elapsedMs(),
          route: route.route,
          ...(route.provider ? { provider: route.provider } : {}),
          outcome: "sent",
          smtpReply: result.smtpReply,
          ...(route.note || result.note
            ? { message: [route.note, result.note].filter(Boolean).join(" ") }
            : {}),
        },
      });
      return "done";
    } catch (err) {
      // Classified by the transport that spoke the protocol (SMTP, an HTTPS API): used as it is.
      const failure = deliveryErrorOf(err);
      const error = failure.classified;
      await route.reportOutcome?.({ ok: false, error });
      const durationMs = elapsedMs();
      const providerLevel =
        error.blame === "provider" || (failure.sender !== undefined && "pauseSeconds" in failure.sender);
      if (providerLevel && route.fallback) {
        earlier = [...earlier, failedAttempt(at, durationMs, route, error, "moved-on")];
        route = route.fallback;
        continue;
      }
      if (error.blame === "recipient") {
        await finish(ctx, withEarlier(), {
          status: "failed",
          route: route.route,
          sender: formatFrom(route.from),
          lastError: error.message,
          attempt: failedAttempt(at, durationMs, route, error, "failed"),
        });
        ctx.log.warn({ deliveryId, errorClass: error.errorClass }, "login email failed");
        return "done";
      }
      await waitOrExpire(ctx, withEarlier(), tries, {
        route: route.route,
        sender: formatFrom(route.from),
        lastError: error.message,
        attempt: failedAttempt(at, durationMs, route, error, "retry"),
        ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
      });
      ctx.log.info({ deliveryId, errorClass: error.errorClass, tries }, "login email will be retried");
      return "done";
    } finally {
      if (slot) await slot.release();
    }
  }
}

/** A provider skipped because its sending limit would make the email wait: nothing was sent. */
function laneMovedOn(at: Date, route: DeliveryRoute, waitSeconds: number): DeliveryAttempt {
  return {
    at: at.toISOString(),
    durationMs: 0,
    route: route.route,
    ...(route.provider ? { provider: route.provider } : {}),
    outcome: "moved-on",
    message: `Not sent: this provider's sending limit has no room for ${waitSeconds} s, so the email went on to the next provider.`,
  };
}

function formatFrom(from: { name: string; address: string }) {
  return from.name && from.name !== from.address ? `${from.name} <${from.address}>` : from.address;
}

function failedAttempt(
  at: Date,
  durationMs: number,
  route: DeliveryRoute,
  error: ClassifiedError,
  outcome: "retry" | "failed" | "moved-on",
): DeliveryAttempt {
  return {
    at: at.toISOString(),
    durationMs,
    route: route.route,
    ...(route.provider ? { provider: route.provider } : {}),
    outcome,
    errorClass: error.errorClass,
    message: error.message,
    ...(error.smtpReply ? { smtpReply: error.smtpReply } : {}),
    ...(error.cause ? { cause: error.cause } : {}),
  };
}

interface Outcome {
  status: Delivery["status"];
  route?: Delivery["route"];
  sender?: string;
  messageId?: string;
  sentAt?: Date;
  lastError?: string;
  attempt?: DeliveryAttempt;
}

function countOutcome(ctx: Context, delivery: Delivery, outcome: Outcome) {
  ctx.metrics.deliveries.inc({ status: outcome.status, route: outcome.route ?? delivery.route });
  if (outcome.attempt) {
    ctx.metrics.sendDuration.observe(
      { route: outcome.attempt.route, outcome: outcome.attempt.outcome },
      outcome.attempt.durationMs / 1000,
    );
  }
}

/** Records how a delivery ended; it no longer needs its code, so the sealed payload is dropped. */
async function finish(ctx: Context, delivery: Delivery, outcome: Outcome) {
  countOutcome(ctx, delivery, outcome);
  const attempts = outcome.attempt ? [...delivery.attempts, outcome.attempt] : delivery.attempts;
  await recordOutcome(ctx.db).execute({
    id: delivery.id,
    status: outcome.status,
    updatedAt: ctx.now(),
    attempts,
    attemptCount: attempts.length,
    route: outcome.route ?? null,
    sender: outcome.sender ?? null,
    messageId: outcome.messageId ?? null,
    sentAt: outcome.sentAt ?? null,
    setsLastError: outcome.lastError !== undefined,
    lastError: outcome.lastError ?? null,
  });
}

/** One statement for every ending: what an outcome leaves out (null here) keeps the row's value. */
const recordOutcome = builtOncePer((db) => {
  // A placeholder encoded as its column encodes values (the attempts as JSON, times as timestamps);
  // null stays null (the columns' encoders do not take it).
  const value = (name: string, column: AnyPgColumn) =>
    sql`${new Param(sql.placeholder(name), {
      mapToDriverValue: (v: unknown) => (v === null ? null : column.mapToDriverValue(v)),
    })}`;
  const unlessNull = (name: string, column: AnyPgColumn) => sql`coalesce(${value(name, column)}, ${column})`;
  return db
    .update(deliveries)
    .set({
      status: value("status", deliveries.status),
      updatedAt: value("updatedAt", deliveries.updatedAt),
      attempts: value("attempts", deliveries.attempts),
      attemptCount: value("attemptCount", deliveries.attemptCount),
      route: unlessNull("route", deliveries.route),
      sender: unlessNull("sender", deliveries.sender),
      messageId: unlessNull("messageId", deliveries.messageId),
      sentAt: unlessNull("sentAt", deliveries.sentAt),
      lastError: sql`case when ${sql.placeholder("setsLastError")}::boolean then ${value("lastError", deliveries.lastError)} else ${deliveries.lastError} end`,
      sealedPayload: sql`null`,
      nextAttemptAt: sql`null`,
    })
    .where(eq(deliveries.id, sql.placeholder("id")))
    .prepare("");
});
