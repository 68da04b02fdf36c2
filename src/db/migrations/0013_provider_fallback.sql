-- Several providers per app, tried in order. Existing rows become each app's primary (position 0).
ALTER TABLE "email_providers" ADD COLUMN "id" text;--> statement-breakpoint
UPDATE "email_providers" SET "id" = 'prov_' || "app_id";--> statement-breakpoint
ALTER TABLE "email_providers" ALTER COLUMN "id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "email_providers" DROP CONSTRAINT "email_providers_pkey";--> statement-breakpoint
ALTER TABLE "email_providers" ADD PRIMARY KEY ("id");--> statement-breakpoint
ALTER TABLE "email_providers" ADD COLUMN "position" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "email_providers_by_app" ON "email_providers" USING btree ("app_id","position");
