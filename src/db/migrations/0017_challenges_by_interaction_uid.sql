-- The interaction index led with app_id, as the supersede's (app_id, email) index does. Without
-- statistics (a new database, or before autovacuum's first ANALYZE) the two cost the same for
-- postern_start_login's "app_id = $1 and email = $2", and the generic plan PostgreSQL caches for the
-- function could take this one on its app_id prefix: each login then read every challenge of its app
-- (measured: 225 rows per login after 150 logins on PGlite, 71 on PostgreSQL). Keyed on the random
-- interaction uid alone, it can serve only the lookups by interaction.
DROP INDEX "challenges_by_interaction";--> statement-breakpoint
CREATE INDEX "challenges_by_interaction" ON "login_challenges" USING btree ("oidc_interaction_uid") WHERE "login_challenges"."oidc_interaction_uid" is not null;