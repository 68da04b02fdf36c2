import { getTableColumns } from "drizzle-orm";
import type { Context } from "../context.ts";
import { deliveries } from "../db/schema.ts";
import type { FetchClaim } from "../queue/queue.ts";

export type Delivery = typeof deliveries.$inferSelect;

/**
 * Claims the deliveries of the jobs a fetch takes, in the fetch's own statement: one round trip and one
 * commit for a batch of emails instead of one more per email, and a job is never active without its
 * delivery claimed. The claim is conditional: a job of a replaced schedule (the email was released
 * early), or one for a delivery another job is sending (unless that job has been gone for longer than
 * the job timeout), claims nothing, and the worker completes it without sending.
 */
export function claimDeliveries(ctx: Context): FetchClaim<Delivery> {
  return {
    statement(fetchJobs, values) {
      const now = ctx.now();
      const staleSending = new Date(now.getTime() - ctx.config.delivery.jobTimeoutSeconds * 1000);
      const first = values.length + 1;
      return {
        text: `WITH fetched AS (${fetchJobs}),
claimed AS (
  UPDATE deliveries d SET status = 'sending', updated_at = $${first}::timestamptz
  FROM fetched f
  WHERE d.id = f.data->>'deliveryId'
    AND d.next_attempt_at IS NOT DISTINCT FROM (f.data->>'scheduledFor')::timestamptz
    AND (d.status IN ('queued', 'retrying')
      OR (d.status = 'sending' AND d.updated_at < $${first + 1}::timestamptz))
  RETURNING f.id AS job_id, d.*
)
SELECT f.*, to_jsonb(c) AS claimed FROM fetched f LEFT JOIN claimed c ON c.job_id = f.id`,
        values: [...values, now.toISOString(), staleSending.toISOString()],
      };
    },
    read: (claimed) => (claimed ? deliveryFromJson(claimed as Record<string, unknown>) : undefined),
  };
}

const columns = Object.entries(getTableColumns(deliveries));

/** A delivery row as to_jsonb gives it (snake_case, times as ISO strings), as Drizzle would select it. */
function deliveryFromJson(json: Record<string, unknown>): Delivery {
  return Object.fromEntries(
    columns.map(([key, column]) => {
      const value = json[column.name];
      return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
    }),
  ) as Delivery;
}
