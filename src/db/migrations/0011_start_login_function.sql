-- A login's writes in one round trip: rate limits, supersede, challenge, delivery row and queue job,
-- in the one transaction of a single statement (src/login/challenges.ts calls postern_start_login).
-- PL/pgSQL, not one statement of CTEs: every statement of a VOLATILE function takes a fresh snapshot
-- in READ COMMITTED (https://www.postgresql.org/docs/current/xfunc-volatility.html), so once the
-- address's row lock is held, the supersede sees a login for the same address committed a moment ago;
-- the CTEs of one statement all share the snapshot taken before that lock was waited for.

-- One unit of a fixed-window budget (per IP, per app), or false when it is spent. The upsert's row lock
-- makes it exact under concurrency: ON CONFLICT DO UPDATE checks its WHERE against the latest version of
-- the row (https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT).
CREATE FUNCTION postern_take_budget(p_key text, p_window_start timestamptz, p_limit int)
RETURNS boolean LANGUAGE sql VOLATILE AS $$
  INSERT INTO rate_limit_counters AS c (key, window_start, count) VALUES (p_key, p_window_start, 1)
  ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1 WHERE c.count < p_limit
  RETURNING true
$$;
--> statement-breakpoint
CREATE FUNCTION postern_give_back_budget(p_key text, p_window_start timestamptz)
RETURNS void LANGUAGE sql VOLATILE AS $$
  UPDATE rate_limit_counters SET count = count - 1
  WHERE key = p_key AND window_start = p_window_start AND count > 0
$$;
--> statement-breakpoint
-- A hit on a sliding-window key whose rules are (p_limits[i] hits in p_windows[i] seconds), or false
-- when one rule is full. One upsert, exact under concurrency for the same reason as the budgets; hits
-- older than the longest window are dropped as the row is rewritten.
CREATE FUNCTION postern_take_window(p_key text, p_now timestamptz, p_limits int[], p_windows int[])
RETURNS boolean LANGUAGE sql VOLATILE AS $$
  INSERT INTO rate_limit_windows AS w (key, hits) VALUES (p_key, ARRAY[p_now])
  ON CONFLICT (key) DO UPDATE
    SET hits = ARRAY(
      SELECT h FROM unnest(w.hits) h
      WHERE h > p_now - (SELECT max(s) FROM unnest(p_windows) s) * interval '1 second'
      ORDER BY h
    ) || p_now
    WHERE NOT EXISTS (
      SELECT 1 FROM unnest(p_limits, p_windows) AS r(hit_limit, seconds)
      WHERE (SELECT count(*) FROM unnest(w.hits) h WHERE h > p_now - r.seconds * interval '1 second') >= r.hit_limit
    )
  RETURNING true
$$;
--> statement-breakpoint
-- Which rule of a full sliding-window key refused (1-based, the first that is full) and when its oldest
-- hit in the window leaves it.
CREATE FUNCTION postern_window_refusal(p_key text, p_now timestamptz, p_limits int[], p_windows int[])
RETURNS TABLE (rule_index int, retry_after_seconds double precision) LANGUAGE sql STABLE AS $$
  SELECT r.i::int,
    extract(epoch FROM coalesce(min(h), p_now) + r.seconds * interval '1 second' - p_now)::double precision
  FROM unnest(p_limits, p_windows) WITH ORDINALITY AS r(hit_limit, seconds, i)
  LEFT JOIN rate_limit_windows w ON w.key = p_key
  LEFT JOIN LATERAL unnest(w.hits) h ON h > p_now - r.seconds * interval '1 second'
  GROUP BY r.i, r.seconds, r.hit_limit
  HAVING count(h) >= r.hit_limit
  ORDER BY r.i
  LIMIT 1
$$;
--> statement-breakpoint
-- The outcome is one of: queued, app_gone, sender_refused, request_limited, budget_spent,
-- address_limited (with the address rule that refused and when to try again).
CREATE FUNCTION postern_start_login(
  p_now timestamptz,
  p_app_id text,
  p_email text,
  -- Per IP: every request counts, refused ones too.
  p_request_key text, p_request_window_start timestamptz, p_request_limit int,
  -- Per app (null for dashboard sign-in): only emails queued count.
  p_budget_key text, p_budget_window_start timestamptz, p_budget_limit int,
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
  IF NOT coalesce(postern_take_budget(p_request_key, p_request_window_start, p_request_limit), false) THEN
    RETURN QUERY SELECT 'request_limited', NULL::int, NULL::double precision;
    RETURN;
  END IF;
  IF p_budget_key IS NOT NULL
    AND NOT coalesce(postern_take_budget(p_budget_key, p_budget_window_start, p_budget_limit), false) THEN
    RETURN QUERY SELECT 'budget_spent', NULL::int, NULL::double precision;
    RETURN;
  END IF;
  IF NOT coalesce(postern_take_window(p_address_key, p_now, p_address_limits, p_address_windows), false) THEN
    -- The app's unit counts only emails queued: given back in the same transaction.
    IF p_budget_key IS NOT NULL THEN
      PERFORM postern_give_back_budget(p_budget_key, p_budget_window_start);
    END IF;
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
