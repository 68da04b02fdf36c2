-- What one send takes from a limited sender, in one round trip (src/email-provider/sender-limits/store.ts
-- takeSlot): a place in the one-minute message window (and the per-second and daily counts where the
-- sender has them) and, when asked, a connection lease. A NULL p_message_id or p_lease_id asks for none.
-- The advisory lock per sender serialises takers until the statement's transaction ends; all times are
-- the database's, the one clock every Postern process shares. Returns what blocks the send (NULL when
-- it was taken) and, for a window, in how many seconds its oldest entry leaves it.
CREATE FUNCTION postern_take_slot(
  p_sender text,
  p_holder text,
  p_message_id text,
  p_lease_id text,
  p_per_minute int,
  p_per_second int,
  p_per_day int,
  p_max_connections int,
  p_window_seconds int,
  p_lease_seconds int
) RETURNS TABLE (blocked_by text, frees_in float8)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_paused_for float8;
  v_cap int;
  v_leases int;
  v_recent int;
  v_window_frees_in float8;
  v_last_second int;
  v_second_frees_in float8;
  v_last_day int;
  v_day_frees_in float8;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_sender));
  DELETE FROM sender_connection_leases WHERE sender = p_sender AND expires_at < now();
  DELETE FROM sender_messages WHERE sender = p_sender AND at < now() - interval '2 minutes';

  SELECT extract(epoch FROM (l.paused_until - now()))::float8,
         CASE WHEN l.connection_cap_until > now() THEN l.connection_cap END
    INTO v_paused_for, v_cap
    FROM sender_limits l WHERE l.sender = p_sender;
  SELECT count(*)::int INTO v_leases FROM sender_connection_leases WHERE sender = p_sender;
  SELECT count(*)::int,
         extract(epoch FROM (min(at) + make_interval(secs => p_window_seconds) - now()))::float8,
         count(*) FILTER (WHERE at > now() - interval '1 second')::int,
         extract(epoch FROM (min(at) FILTER (WHERE at > now() - interval '1 second') + interval '1 second' - now()))::float8
    INTO v_recent, v_window_frees_in, v_last_second, v_second_frees_in
    FROM sender_messages
    WHERE sender = p_sender AND at > now() - make_interval(secs => p_window_seconds);

  -- A pause stops new sends; a connection for a send already under way may still open.
  IF p_message_id IS NOT NULL AND v_paused_for > 0 THEN
    RETURN QUERY SELECT 'pause'::text, v_paused_for;
    RETURN;
  END IF;
  IF p_message_id IS NOT NULL AND v_recent >= p_per_minute THEN
    RETURN QUERY SELECT 'rate'::text, v_window_frees_in;
    RETURN;
  END IF;
  IF p_message_id IS NOT NULL AND p_per_day IS NOT NULL THEN
    SELECT coalesce(sum(count), 0)::int,
           extract(epoch FROM (min(hour) + interval '25 hours' - now()))::float8
      INTO v_last_day, v_day_frees_in
      FROM sender_hourly_counts WHERE sender = p_sender AND hour > now() - interval '25 hours';
    IF v_last_day >= p_per_day THEN
      RETURN QUERY SELECT 'day'::text, v_day_frees_in;
      RETURN;
    END IF;
  END IF;
  IF p_message_id IS NOT NULL AND p_per_second IS NOT NULL AND v_last_second >= p_per_second THEN
    RETURN QUERY SELECT 'second'::text, v_second_frees_in;
    RETURN;
  END IF;
  IF p_lease_id IS NOT NULL AND v_leases >= least(p_max_connections, coalesce(v_cap, p_max_connections)) THEN
    RETURN QUERY SELECT 'connections'::text, NULL::float8;
    RETURN;
  END IF;

  IF p_lease_id IS NOT NULL THEN
    INSERT INTO sender_connection_leases (id, sender, holder, expires_at)
      VALUES (p_lease_id, p_sender, p_holder, now() + make_interval(secs => p_lease_seconds));
  END IF;
  IF p_message_id IS NOT NULL AND p_per_day IS NOT NULL THEN
    -- A row of hour H is counted until H + 25 h, so each of its messages counts for 24 to 25 hours:
    -- never fewer than the provider's rolling day. A message taken and then not submitted still counts.
    INSERT INTO sender_hourly_counts AS c (sender, hour, count)
      VALUES (p_sender, date_trunc('hour', now()), 1)
      ON CONFLICT (sender, hour) DO UPDATE SET count = c.count + 1;
    DELETE FROM sender_hourly_counts WHERE sender = p_sender AND hour < now() - interval '26 hours';
  END IF;
  IF p_message_id IS NOT NULL THEN
    INSERT INTO sender_messages (id, sender, at) VALUES (p_message_id, p_sender, now());
  END IF;
  RETURN QUERY SELECT NULL::text, NULL::float8;
END
$$;
