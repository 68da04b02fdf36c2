ALTER TABLE "deliveries" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "health_cause" text;--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "health_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "next_probe_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "alerted_health" text;--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "alerted_at" timestamp with time zone;