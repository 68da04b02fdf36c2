-- The budget and window helpers were SQL-language functions. PostgreSQL plans a SQL function's body
-- afresh on every call (it keeps no plan between calls, https://www.postgresql.org/docs/15/xfunc-sql.html
-- and plpgsql's plan caching, https://www.postgresql.org/docs/15/plpgsql-implementation.html#PLPGSQL-PLAN-CACHING),
-- and a login calls three of them: measured on PostgreSQL 15 under the API bench, their planning
-- (fmgr_sql) was an eighth of the server's CPU. The same statements in PL/pgSQL are planned once per
-- connection. Each one's only index is its table's primary key, so no cached generic plan can pick
-- another (see migration 0017). Semantics are unchanged: each answers true, or null when refused.
CREATE OR REPLACE FUNCTION postern_take_budget(p_key text, p_window_start timestamptz, p_limit int)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_taken boolean;
BEGIN
  INSERT INTO rate_limit_counters AS c (key, window_start, count) VALUES (p_key, p_window_start, 1)
  ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1 WHERE c.count < p_limit
  RETURNING true INTO v_taken;
  RETURN v_taken;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION postern_give_back_budget(p_key text, p_window_start timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  UPDATE rate_limit_counters SET count = count - 1
  WHERE key = p_key AND window_start = p_window_start AND count > 0;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION postern_take_window(p_key text, p_now timestamptz, p_limits int[], p_windows int[])
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_taken boolean;
BEGIN
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
  RETURNING true INTO v_taken;
  RETURN v_taken;
END;
$$;
