import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, toApiError } from "./api/client.ts";

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Fetch again, keeping the current data on screen meanwhile. */
  reload(): Promise<void>;
  /** Replace the data locally (after a mutation returned the new state). */
  set(data: T): void;
}

/**
 * Loads `load()` whenever `key` changes; late answers for an old key are dropped.
 * `pollMs` refreshes in the background while the tab is visible.
 */
export function useResource<T>(
  key: string,
  load: () => Promise<T>,
  options: { pollMs?: number } = {},
): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  // Stale answers are dropped rather than aborted: an aborted fetch is noise in the network log.
  const run = useCallback(async (mine: number) => {
    try {
      const result = await loadRef.current();
      if (generation.current !== mine) return;
      setData(result);
      setError(undefined);
    } catch (err) {
      if (generation.current !== mine) return;
      setError(toApiError(err));
    } finally {
      if (generation.current === mine) setLoading(false);
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key names what is loaded; a change reloads.
  useEffect(() => {
    generation.current += 1;
    const mine = generation.current;
    setData(undefined);
    setError(undefined);
    setLoading(true);
    void run(mine);
    return () => {
      generation.current += 1;
    };
  }, [key, run]);

  const pollMs = options.pollMs;
  useEffect(() => {
    if (!pollMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void run(generation.current);
    }, pollMs);
    return () => window.clearInterval(timer);
  }, [pollMs, run]);

  const reload = useCallback(() => run(generation.current), [run]);
  return { data, error, loading, reload, set: setData };
}
