CREATE TABLE "oidc_payloads" (
	"app_id" text NOT NULL,
	"model" text NOT NULL,
	"id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"grant_id" text,
	"user_code" text,
	"uid" text,
	"expires_at" timestamp with time zone,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "oidc_payloads_app_id_model_id_pk" PRIMARY KEY("app_id","model","id")
);
--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "oidc_token_endpoint_auth_method" text DEFAULT 'client_secret_basic' NOT NULL;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "oidc_refresh_tokens" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "logo_url" text;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "accent_color" text;--> statement-breakpoint
ALTER TABLE "login_challenges" ADD COLUMN "browser_binding_hash" text;--> statement-breakpoint
ALTER TABLE "login_challenges" ADD COLUMN "oidc_interaction_uid" text;--> statement-breakpoint
ALTER TABLE "oidc_payloads" ADD CONSTRAINT "oidc_payloads_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oidc_payloads_by_grant" ON "oidc_payloads" USING btree ("app_id","grant_id");--> statement-breakpoint
CREATE INDEX "oidc_payloads_by_uid" ON "oidc_payloads" USING btree ("app_id","model","uid");--> statement-breakpoint
CREATE INDEX "oidc_payloads_by_expiry" ON "oidc_payloads" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "challenges_by_interaction" ON "login_challenges" USING btree ("app_id","oidc_interaction_uid");