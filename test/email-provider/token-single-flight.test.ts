import { describe, expect, it } from "vitest";
import { type AccessToken, singleFlight } from "../../src/email-provider/oauth/single-flight.ts";

/** A token endpoint that answers at once, counting its requests; and a clock the test moves. */
function endpoint() {
  let at = Date.parse("2030-01-01T00:00:00Z");
  const requests: boolean[] = [];
  const source = singleFlight(
    async (fresh): Promise<AccessToken> => {
      requests.push(fresh);
      return { accessToken: `token-${requests.length}`, expiresAt: at + 3_600_000 };
    },
    { timeoutMs: 1_000, now: () => new Date(at) },
  );
  return {
    source,
    requests,
    advance(ms: number) {
      at += ms;
    },
  };
}

describe("one token request for callers who want a fresh token at about the same time", () => {
  it.each([
    {
      after: 0,
      requests: 1,
      rule: "a fresh token just fetched serves the next caller who wants a fresh one",
    },
    { after: 9_999, requests: 1, rule: "it still does 10 s later, less a millisecond" },
    { after: 10_000, requests: 2, rule: "after 10 s, a caller who wants a fresh token gets a new one" },
  ])("$rule", async ({ after, requests }) => {
    const { source, requests: made, advance } = endpoint();
    const first = await source.getToken(true);
    advance(after);
    const second = await source.getToken(true);
    expect(made).toHaveLength(requests);
    expect(second.accessToken).toBe(requests === 1 ? first.accessToken : "token-2");
  });
});
