DROP INDEX "deliveries_by_app";--> statement-breakpoint
CREATE INDEX "deliveries_by_app_status" ON "deliveries" USING btree ("app_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "deliveries_by_app_recipient" ON "deliveries" USING btree ("app_id","recipient" text_pattern_ops,"created_at");--> statement-breakpoint
CREATE INDEX "deliveries_by_app" ON "deliveries" USING btree ("app_id","created_at","id");