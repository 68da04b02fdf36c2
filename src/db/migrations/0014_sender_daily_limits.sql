CREATE TABLE "sender_hourly_counts" (
	"sender" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "sender_hourly_counts_sender_hour_pk" PRIMARY KEY("sender","hour")
);
