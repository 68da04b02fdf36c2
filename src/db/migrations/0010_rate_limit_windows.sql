CREATE TABLE "rate_limit_windows" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" timestamp with time zone[] NOT NULL
);
--> statement-breakpoint
-- The last hour of hits moves over. A login's two address keys (addr: per minute, addr-hour: per hour)
-- always held the same hits; they become the one key addr:, which carries both rules. rate_limit_events
-- stays for processes of the previous version during a rolling upgrade; until they are all stopped,
-- each version counts the per-address hits of its own processes.
INSERT INTO "rate_limit_windows" ("key", "hits")
SELECT regexp_replace("key", '^addr-hour:', 'addr:'), array_agg("at" ORDER BY "at")
FROM "rate_limit_events"
WHERE "key" NOT LIKE 'addr:%' AND "at" > now() - interval '1 hour'
GROUP BY 1
ON CONFLICT DO NOTHING;
