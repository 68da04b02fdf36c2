-- The per-IP and per-app budgets move out of the login's transaction (src/login/challenges.ts).
-- They are the rows every login of one app, or from one address, updates: taken inside the login's
-- transaction, a row's lock lasted until that transaction's commit was flushed to disk, so one app's
-- logins queued behind one another, one WAL flush each (measured on PostgreSQL: about 300 logins a
-- second, with every other connection waiting on Lock:transactionid). Now they are taken first, in a
-- transaction of their own that commits asynchronously (synchronous_commit off for that transaction
-- alone, https://www.postgresql.org/docs/current/wal-async-commit.html), so the lock lasts
-- microseconds. A database crash can forget the last moments' units and let a few more requests
-- through than the limit; it never loses a login, whose own transaction still commits synchronously.

-- Takes a unit of the IP's budget (every request counts, refused ones too) and then of the app's
-- (null for dashboard sign-in). Answers taken, request_limited or budget_spent.
CREATE FUNCTION postern_take_login_budgets(
  p_request_key text, p_request_window_start timestamptz, p_request_limit int,
  p_budget_key text, p_budget_window_start timestamptz, p_budget_limit int
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF NOT coalesce(postern_take_budget(p_request_key, p_request_window_start, p_request_limit), false) THEN
    RETURN 'request_limited';
  END IF;
  IF p_budget_key IS NOT NULL
    AND NOT coalesce(postern_take_budget(p_budget_key, p_budget_window_start, p_budget_limit), false) THEN
    RETURN 'budget_spent';
  END IF;
  RETURN 'taken';
END;
$$;
--> statement-breakpoint
-- The app's unit counts only emails queued: given back, as asynchronously, when the login was refused.
CREATE FUNCTION postern_give_back_login_budget(p_key text, p_window_start timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM postern_give_back_budget(p_key, p_window_start);
END;
$$;
--> statement-breakpoint
DROP FUNCTION postern_start_login(timestamptz, text, text, text, timestamptz, int, text, timestamptz, int,
  text, int[], int[], text, text, text, text, text, text, timestamptz, text, text, text, text, text, text, jsonb);
--> statement-breakpoint
-- The login itself, as in 0011 without the budgets. The outcome is one of: queued, app_gone,
-- sender_refused, address_limited (with the address rule that refused and when to try again).
CREATE FUNCTION postern_start_login(
  p_now timestamptz,
  p_app_id text,
  p_email text,
  -- Per address: a sliding window with its rules.
  p_address_key text, p_address_limits int[], p_address_windows int[],
  p_login_id text, p_code_hash text, p_link_token_hash text, p_redirect_url text,
  p_browser_binding_hash text, p_oidc_interaction_uid text, p_expires_at timestamptz,
  p_delivery_id text, p_sender text, p_status text, p_locale text, p_sealed_payload text,
  p_queue text, p_job_data jsonb
) RETURNS TABLE (outcome text, address_rule int, retry_after_seconds double precision)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_job uuid;
BEGIN
  IF p_app_id IS NOT NULL THEN
    -- A key cached by an API process (src/login/app-cache.ts) may outlive its app by a few seconds.
    IF NOT EXISTS (SELECT 1 FROM apps WHERE id = p_app_id) THEN
      RETURN QUERY SELECT 'app_gone', NULL::int, NULL::double precision;
      RETURN;
    END IF;
    -- Nobody logs in to an app with the address its custom provider sends from.
    IF EXISTS (SELECT 1 FROM email_providers WHERE app_id = p_app_id AND sender_email = p_email) THEN
      RETURN QUERY SELECT 'sender_refused', NULL::int, NULL::double precision;
      RETURN;
    END IF;
  END IF;
  IF NOT coalesce(postern_take_window(p_address_key, p_now, p_address_limits, p_address_windows), false) THEN
    RETURN QUERY SELECT 'address_limited', r.rule_index, r.retry_after_seconds
      FROM postern_window_refusal(p_address_key, p_now, p_address_limits, p_address_windows) r;
    RETURN;
  END IF;

  -- A new code invalidates the older ones for the same address.
  -- Two statements so both use the (app_id, email) index, which IS NOT DISTINCT FROM would not.
  IF p_app_id IS NULL THEN
    UPDATE login_challenges SET superseded_at = p_now
    WHERE app_id IS NULL AND email = p_email AND consumed_at IS NULL AND superseded_at IS NULL;
  ELSE
    UPDATE login_challenges SET superseded_at = p_now
    WHERE app_id = p_app_id AND email = p_email AND consumed_at IS NULL AND superseded_at IS NULL;
  END IF;
  INSERT INTO login_challenges (id, app_id, email, code_hash, link_token_hash, redirect_url,
    browser_binding_hash, oidc_interaction_uid, expires_at, created_at)
  VALUES (p_login_id, p_app_id, p_email, p_code_hash, p_link_token_hash, p_redirect_url,
    p_browser_binding_hash, p_oidc_interaction_uid, p_expires_at, p_now);
  INSERT INTO deliveries (id, app_id, challenge_id, recipient, sender, route, status, locale,
    sealed_payload, expires_at, created_at, updated_at)
  VALUES (p_delivery_id, p_app_id, p_login_id, p_email, p_sender, 'default', p_status, p_locale,
    p_sealed_payload, p_expires_at, p_now, p_now);

  -- The job, written as pg-boss 10's own send() writes it (insertJob in pg-boss's src/plans.js) for a
  -- job sent with no options: every setting from the queue's row, pg-boss's fallbacks otherwise.
  -- test/queue/login-job-row.test.ts compares the two rows column by column.
  INSERT INTO pgboss.job (id, name, data, priority, start_after, singleton_key, singleton_on,
    dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
  SELECT gen_random_uuid(), q.name, p_job_data, 0, now(), NULL, NULL,
    q.dead_letter,
    CASE WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s'
      ELSE interval '15 minutes' END,
    now() + CAST(COALESCE((q.retention_minutes * 60)::text, '14 days') AS interval),
    COALESCE(q.retry_limit, 2),
    CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(q.retry_delay, 1)
      ELSE COALESCE(q.retry_delay, 0) END,
    COALESCE(q.retry_backoff, false),
    q.policy
  FROM pgboss.queue q WHERE q.name = p_queue
  ON CONFLICT DO NOTHING
  RETURNING id INTO v_job;
  -- No challenge without its email: a missing queue undoes the whole login.
  IF v_job IS NULL THEN
    RAISE EXCEPTION 'queue % does not exist', p_queue;
  END IF;
  RETURN QUERY SELECT 'queued', NULL::int, NULL::double precision;
END;
$$;
