import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "../context.ts";
import { type DeliveryAttempt, deliveries } from "../db/schema.ts";
import { composeDeliveryEmail, type DeliveryEmail } from "../email-templates/compose.ts";
import { messageIdFor } from "../mail/sender.ts";
import { type ClassifiedError, classifySmtpError } from "../mail/smtp-errors.ts";
import type { Job } from "../queue/queue.ts";
import type { DeliveryRoute, RouteResolver } from "./routes.ts";

type Delivery = typeof deliveries.$inferSelect;

/**
 * Sends one login email and records the attempt. The worker decides when, the route's sender
 * how, and the delivery row keeps what happened. Returns "retry" to hand the job back to pg-boss.
 */
export async function deliverLoginEmail(
  ctx: Context,
  resolveRoute: RouteResolver,
  job: Job,
): Promise<"done" | "retry"> {
  const { deliveryId } = job.data;
  const now = ctx.now();
  // Claiming is a conditional update, so a duplicate job for the same delivery does nothing.
  const [delivery] = await ctx.db
    .update(deliveries)
    .set({ status: "sending", updatedAt: now })
    .where(and(eq(deliveries.id, deliveryId), inArray(deliveries.status, ["queued", "retrying", "sending"])))
    .returning();
  if (!delivery) return "done";
  if (delivery.expiresAt <= now || !delivery.sealedPayload) {
    await finish(ctx, delivery, {
      status: "expired",
      lastError: "The login expired before its email could be delivered.",
    });
    return "done";
  }

  const email = await composeDeliveryEmail(ctx, delivery);
  const route = await resolveRoute(delivery.appId);
  const slot = route.acquireSlot ? await route.acquireSlot() : undefined;
  if (slot && "waitSeconds" in slot) {
    // Over the sender's limit: not an attempt, and not a failure. The email waits its turn.
    await ctx.db
      .update(deliveries)
      .set({ status: "queued", updatedAt: ctx.now() })
      .where(eq(deliveries.id, delivery.id));
    await ctx.queue.enqueue({ deliveryId }, { startAfterSeconds: slot.waitSeconds });
    return "done";
  }
  try {
    return await sendThrough(ctx, job, delivery, email, route);
  } finally {
    if (slot) await slot.release();
  }
}

async function sendThrough(
  ctx: Context,
  job: Job,
  delivery: Delivery,
  email: DeliveryEmail,
  firstRoute: DeliveryRoute,
): Promise<"done" | "retry"> {
  const deliveryId = delivery.id;
  let route = firstRoute;
  let started = Date.now();
  let earlier: DeliveryAttempt[] = [];
  for (;;) {
    try {
      const result = await route.sender.send({
        ...email,
        from: route.from,
        to: delivery.recipient,
        messageId: messageIdFor(delivery.id, route.from.address),
      });
      await route.reportOutcome?.({ ok: true });
      ctx.log.debug(
        { deliveryId, route: route.route, durationMs: Date.now() - started, smtpReply: result.smtpReply },
        "login email sent",
      );
      await finish(
        ctx,
        { ...delivery, attempts: [...delivery.attempts, ...earlier] },
        {
          status: "sent",
          route: route.route,
          sender: formatFrom(route.from),
          messageId: result.messageId,
          sentAt: ctx.now(),
          attempt: {
            at: new Date(started).toISOString(),
            durationMs: Date.now() - started,
            route: route.route,
            outcome: "sent",
            smtpReply: result.smtpReply,
            ...(route.note ? { message: route.note } : {}),
          },
        },
      );
      return "done";
    } catch (err) {
      const error = classifySmtpError(err);
      await route.reportOutcome?.({ ok: false, error });
      // fallbackToDefault: a provider whose configuration fails hands the email to the default sender now.
      if (error.configProblem && route.fallback) {
        earlier = [
          ...earlier,
          failedAttempt(new Date(started), Date.now() - started, route.route, error, true),
        ];
        route = route.fallback;
        started = Date.now();
        continue;
      }
      const lastTry = job.retryCount >= job.retryLimit;
      const retry = error.retryable && !lastTry && nextTryFitsBefore(ctx, job, delivery.expiresAt);
      const attempt = failedAttempt(new Date(started), Date.now() - started, route.route, error, retry);
      const withEarlier = { ...delivery, attempts: [...delivery.attempts, ...earlier] };
      if (retry) {
        await record(ctx, withEarlier, {
          status: "retrying",
          route: route.route,
          sender: formatFrom(route.from),
          lastError: error.message,
          attempt,
        });
        ctx.log.info(
          { deliveryId, errorClass: error.errorClass, retryCount: job.retryCount },
          "login email will be retried",
        );
        return "retry";
      }
      const reason =
        error.retryable && !lastTry
          ? `${error.message} The login expires before another try.`
          : error.message;
      await finish(ctx, withEarlier, {
        status: "failed",
        route: route.route,
        sender: formatFrom(route.from),
        lastError: reason,
        attempt,
      });
      ctx.log.warn({ deliveryId, errorClass: error.errorClass }, "login email failed");
      return "done";
    }
  }
}

function formatFrom(from: { name: string; address: string }) {
  return from.name && from.name !== from.address ? `${from.name} <${from.address}>` : from.address;
}

/** pg-boss doubles the delay each retry (with jitter up to 2×); stop when even the shortest wait would pass expiry. */
function nextTryFitsBefore(ctx: Context, job: Job, expiresAt: Date): boolean {
  const minimumWaitMs = ((job.retryDelay * 2 ** Math.min(16, job.retryCount + 1)) / 2) * 1000;
  return ctx.now().getTime() + minimumWaitMs < expiresAt.getTime();
}

function failedAttempt(
  at: Date,
  durationMs: number,
  route: "default" | "custom",
  error: ClassifiedError,
  retry: boolean,
): DeliveryAttempt {
  return {
    at: at.toISOString(),
    durationMs,
    route,
    outcome: retry ? "retry" : "failed",
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

async function record(ctx: Context, delivery: Delivery, outcome: Outcome, clearPayload = false) {
  const route = outcome.route ?? delivery.route;
  ctx.metrics.deliveries.inc({ status: outcome.status, route });
  if (outcome.attempt) {
    ctx.metrics.sendDuration.observe(
      { route: outcome.attempt.route, outcome: outcome.attempt.outcome },
      outcome.attempt.durationMs / 1000,
    );
  }
  const attempts = outcome.attempt ? [...delivery.attempts, outcome.attempt] : delivery.attempts;
  await ctx.db
    .update(deliveries)
    .set({
      status: outcome.status,
      updatedAt: ctx.now(),
      attempts,
      attemptCount: attempts.length,
      ...(outcome.route ? { route: outcome.route } : {}),
      ...(outcome.sender ? { sender: outcome.sender } : {}),
      ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
      ...(outcome.sentAt ? { sentAt: outcome.sentAt } : {}),
      ...(outcome.lastError !== undefined ? { lastError: outcome.lastError } : {}),
      ...(clearPayload ? { sealedPayload: null } : {}),
    })
    .where(eq(deliveries.id, delivery.id));
}

/** A delivery that ended no longer needs its code: the sealed payload is dropped. */
async function finish(ctx: Context, delivery: Delivery, outcome: Outcome) {
  await record(ctx, delivery, outcome, true);
}
