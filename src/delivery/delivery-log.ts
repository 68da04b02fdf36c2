import { and, desc, eq, gte, like, lt, type SQL, sql } from "drizzle-orm";
import { requireApp } from "../apps/apps.ts";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { type DeliveryAttempt, deliveries } from "../db/schema.ts";
import { parseEmailAddress } from "../email-address/email-address.ts";
import { invalid, notFound } from "../errors.ts";
import { blameOf, type ClassifiedError, type ErrorClass } from "../mail/smtp-errors.ts";
import type { StepName } from "../mail/test-steps.ts";

type Delivery = typeof deliveries.$inferSelect;
/** What an app's delivery can be; "suppressed" is only ever a decoy dashboard sign-in's, which has no app. */
export type DeliveryStatus = Exclude<Delivery["status"], "suppressed">;

/** What the delivery log can be asked for; values are already checked by the HTTP schema. */
export interface DeliveryQuery {
  /** The whole address (`match: "exact"`, canonicalised) or its beginning (the default). */
  recipient?: string | undefined;
  match?: "exact" | "prefix" | undefined;
  status?: DeliveryStatus | undefined;
  route?: "default" | "custom" | undefined;
  /** created_at ≥ from and < to. */
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The fix for a failed attempt, from the provider that made it (src/email-provider/attempt-hints.ts). */
export type Explainer = (error: ClassifiedError, step: StepName, providerId?: string) => string | undefined;
/** Finds the app's explainer, or undefined when it has no provider. */
export type ExplainerFor = (appId: string) => Promise<Explainer | undefined>;

const DEFAULT_ROUTE_HINT =
  "This attempt went through the operator's default sender, which the operator of this Postern configures.";

/** The step of a connection test that a send failure corresponds to, so its hint reads the same. */
function stepOf(errorClass: string | undefined): StepName {
  switch (errorClass) {
    case "blocked":
      return "resolve";
    case "network":
    case "timeout":
      return "connect";
    case "tls":
      return "tls";
    case "auth":
      return "authenticate";
    case "token":
      return "token";
    default:
      return "send";
  }
}

function hintFor(attempt: DeliveryAttempt, explain: Explainer | undefined): string | null {
  if (attempt.outcome === "sent" || !attempt.errorClass) return null;
  if (attempt.route === "default") return DEFAULT_ROUTE_HINT;
  if (!explain) return null;
  const responseCode = Number(/^\d{3}/.exec(attempt.smtpReply ?? "")?.[0]) || undefined;
  const error: ClassifiedError = {
    errorClass: attempt.errorClass as ErrorClass,
    blame: blameOf(attempt.errorClass as ErrorClass),
    retryable: attempt.outcome !== "failed",
    configProblem: false,
    smtpReply: attempt.smtpReply,
    responseCode,
    message: attempt.message ?? "",
    ...(attempt.cause ? { cause: attempt.cause } : {}),
  };
  return explain(error, stepOf(attempt.errorClass), attempt.provider?.id) ?? null;
}

/** The developer's view of one delivery. The sealed code is never part of it. */
export function deliveryView(d: Delivery, extra: { explain?: Explainer | undefined } = {}) {
  return {
    id: d.id,
    appId: d.appId,
    recipient: d.recipient,
    sender: d.sender,
    route: d.route,
    status: d.status as DeliveryStatus,
    attemptCount: d.attemptCount,
    attempts: d.attempts.map((a) => ({ ...a, hint: hintFor(a, extra.explain) })),
    lastError: d.lastError,
    messageId: d.messageId,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    sentAt: d.sentAt?.toISOString() ?? null,
    /** When the next try is due, while the email is queued or retrying. */
    nextAttemptAt:
      d.status === "retrying" || d.status === "queued" ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    expiresAt: d.expiresAt.toISOString(),
    resendable: d.purpose === "login" && (d.status === "failed" || d.status === "expired"),
    locale: d.locale,
    purpose: d.purpose,
  };
}

/** Views of these rows, with the same hints as Test connection for their failed attempts. */
async function deliveryViews(explainerFor: ExplainerFor, appId: string, rows: Delivery[]) {
  const explain = rows.some((r) => r.attempts.some((a) => a.errorClass))
    ? await explainerFor(appId)
    : undefined;
  return rows.map((r) => deliveryView(r, { explain }));
}

/**
 * The cursor is the last row's position (created_at in microseconds, id), sealed to the app: it is
 * opaque, it cannot be forged or altered, and one app's cursor does not open for another (a 400).
 */
const cursorContext = (appId: string) => `delivery-log-cursor:${appId}`;

function sealCursor(ctx: Context, appId: string, micros: string, id: string): string {
  return ctx.secrets.seal(JSON.stringify([micros, id]), cursorContext(appId));
}

function openCursor(ctx: Context, appId: string, cursor: string): { micros: string; id: string } {
  const refused = () =>
    invalid("invalid_cursor", "cursor is not one this API returned for this app.", "cursor");
  let position: unknown;
  try {
    position = JSON.parse(ctx.secrets.open(cursor, cursorContext(appId)));
  } catch {
    throw refused();
  }
  if (
    !Array.isArray(position) ||
    typeof position[0] !== "string" ||
    !/^\d{1,20}$/.test(position[0]) ||
    typeof position[1] !== "string"
  )
    throw refused();
  return { micros: position[0], id: position[1] };
}

/** `%`, `_` and `\` are LIKE's own characters; addresses may hold the first two. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const createdAtMicros = sql<string>`(extract(epoch from ${deliveries.createdAt}) * 1000000)::bigint::text`;

/**
 * The delivery log's query, newest first in a stable order (created_at desc, id desc). Every filter is
 * a condition the indexes in src/db/schema.ts answer (see the README's delivery-log notes for the plan).
 */
export function deliveryLogQuery(
  db: Db,
  appId: string,
  query: Omit<DeliveryQuery, "cursor">,
  after?: { micros: string; id: string },
) {
  const conditions: SQL[] = [eq(deliveries.appId, appId)];
  if (query.status) conditions.push(eq(deliveries.status, query.status));
  if (query.route) conditions.push(eq(deliveries.route, query.route));
  if (query.recipient !== undefined) {
    conditions.push(
      query.match === "exact"
        ? eq(deliveries.recipient, query.recipient)
        : like(deliveries.recipient, `${escapeLike(query.recipient)}%`),
    );
  }
  if (query.from) conditions.push(gte(deliveries.createdAt, query.from));
  if (query.to) conditions.push(lt(deliveries.createdAt, query.to));
  if (after) {
    // Compared in microseconds, as PostgreSQL stores them (a millisecond Date would skip rows), and as a
    // row comparison, which the (app_id, created_at, id) index answers as a range however deep the page.
    const at = sql`(timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond')`;
    conditions.push(sql`(${deliveries.createdAt}, ${deliveries.id}) < (${at}, ${after.id})`);
  }
  return db
    .select({ row: deliveries, micros: createdAtMicros })
    .from(deliveries)
    .where(and(...conditions))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(query.limit + 1);
}

/**
 * Recipients are stored canonical (src/email-address): an exact search is canonicalised the same way,
 * a prefix is lower-cased; an empty search is no search.
 */
function searchedRecipient(query: DeliveryQuery): string | undefined {
  const text = query.recipient?.trim();
  if (!text) return undefined;
  if (query.match !== "exact") return text.toLowerCase();
  const parsed = parseEmailAddress(text);
  if (!parsed.ok) throw invalid("invalid_recipient", `recipient ${parsed.problem}.`, "recipient");
  return parsed.address;
}

export async function listDeliveries(
  ctx: Context,
  explainerFor: ExplainerFor,
  accountId: string,
  appId: string,
  query: DeliveryQuery,
) {
  await requireApp(ctx.db, accountId, appId);
  if (query.from && query.to && query.from >= query.to)
    throw invalid("invalid_date_range", "from must be before to.", "to");
  const after = query.cursor ? openCursor(ctx, appId, query.cursor) : undefined;
  const rows = await deliveryLogQuery(
    ctx.db,
    appId,
    { ...query, recipient: searchedRecipient(query) },
    after,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    deliveries: await deliveryViews(
      explainerFor,
      appId,
      page.map((r) => r.row),
    ),
    nextCursor: rows.length > query.limit && last ? sealCursor(ctx, appId, last.micros, last.row.id) : null,
  };
}

export async function getDelivery(
  ctx: Context,
  explainerFor: ExplainerFor,
  accountId: string,
  appId: string,
  deliveryId: string,
) {
  await requireApp(ctx.db, accountId, appId);
  const [row] = await ctx.db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.id, deliveryId), eq(deliveries.appId, appId)));
  if (!row) throw notFound("delivery");
  const [view] = await deliveryViews(explainerFor, appId, [row]);
  return view!;
}
