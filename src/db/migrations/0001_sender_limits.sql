CREATE TABLE "sender_connection_leases" (
	"id" text PRIMARY KEY NOT NULL,
	"sender" text NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sender_limits" (
	"sender" text PRIMARY KEY NOT NULL,
	"paused_until" timestamp with time zone,
	"pause_reason" text,
	"connection_cap" integer,
	"connection_cap_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sender_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"sender" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sender_connection_leases_by_sender" ON "sender_connection_leases" USING btree ("sender","expires_at");--> statement-breakpoint
CREATE INDEX "sender_connection_leases_by_holder" ON "sender_connection_leases" USING btree ("holder");--> statement-breakpoint
CREATE INDEX "sender_messages_by_sender" ON "sender_messages" USING btree ("sender","at");