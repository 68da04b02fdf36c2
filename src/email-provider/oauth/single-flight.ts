import type { TokenSource } from "../../mail/smtp-pool.ts";
import { TokenError } from "./token-error.ts";

export interface AccessToken {
  accessToken: string;
  expiresAt: number;
}

/** How long a token fetched past the cache stays good enough for the next caller that wants a fresh one. */
const FRESH_REUSE_MS = 10_000;

/**
 * Wraps a token fetcher so that concurrent callers share one request: MSAL does not merge concurrent
 * calls (five at once make five token requests), and a pool opening connections, or 50 first
 * sends at once, would otherwise each cost a token request. When several connections see the cached
 * token refused at once, they all want a fresh one: one request serves them.
 */
export function singleFlight(
  fetchToken: (fresh: boolean) => Promise<AccessToken>,
  options: { timeoutMs: number; now: () => Date },
): TokenSource {
  let inFlight: { promise: Promise<AccessToken>; fresh: boolean } | undefined;
  let lastFresh: { token: AccessToken; at: number } | undefined;

  const start = (fresh: boolean): Promise<AccessToken> => {
    const promise = withTimeout(fetchToken(fresh), options.timeoutMs).then((token) => {
      if (fresh) lastFresh = { token, at: options.now().getTime() };
      return token;
    });
    const flight = { promise, fresh };
    inFlight = flight;
    const clear = () => {
      if (inFlight === flight) inFlight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  };

  return {
    getToken(fresh) {
      // A fresh request in flight serves everyone; a cached one only those content with the cache.
      if (inFlight && (inFlight.fresh || !fresh)) return inFlight.promise;
      if (fresh && lastFresh && options.now().getTime() - lastFresh.at < FRESH_REUSE_MS)
        return Promise.resolve(lastFresh.token);
      return start(fresh);
    },
  };
}

/** MSAL sets no timeout on its token POST; a hung endpoint must not hold a send forever. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new TokenError(
            "transient",
            "The token endpoint did not answer in time; Postern retries.",
            undefined,
          ),
        ),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
