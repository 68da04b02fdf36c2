import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPglite } from "../support/database-templates.ts";
import { backends, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { StatementCounter } from "./statement-counter.ts";

/**
 * What one login email costs the database, amortised over a burst: the API's statements and commits
 * per accepted login request (fails above the budget, so a change that adds a statement to the login
 * path is seen), and the worker's per delivered email, polling included (fails above its budget too).
 */
const BURST = 200;
const CONCURRENCY = 8;
// The budgets' statement (committed asynchronously, see migration 0016) and the login's own.
const API_STATEMENTS_PER_LOGIN = 2.05;
const API_COMMITS_PER_LOGIN = 2.05;
// Measured 2.36 / 1.31 on PGlite and 2.31 / 1.28 on PostgreSQL: the outcome, and the fetch (which
// claims its jobs' deliveries, see src/delivery/claim.ts) and completion shared by several emails. One
// statement more per email crosses either budget.
const WORKER_STATEMENTS_PER_EMAIL = 2.7;
const WORKER_COMMITS_PER_EMAIL = 1.6;

describe.each(backends)("the database cost of a login email (%s)", (backend) => {
  let t: TestPostern;
  const counter = new StatementCounter();
  let publishableKey: string;

  beforeAll(async () => {
    const pglite = backend === "pglite" ? await newPglite() : undefined;
    t = await startTestPostern(
      backend,
      {
        POSTERN_SEED_DEMO: "true",
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
        POSTERN_LIMIT_APP_PER_HOUR: "100000",
        // No queue maintenance inside the measured window.
        POSTERN_QUEUE_MAINTENANCE_SECONDS: "3600",
      },
      { workers: false, ...(pglite ? { pglite } : {}) },
    );
    publishableKey = t.postern.demo!.publishableKey;
    if (pglite) counter.watchPglite(pglite);
    else counter.watchPostgres();
  });
  afterAll(async () => {
    counter.stop();
    await t?.close();
  });

  const login = async (email: string) => {
    const res = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${publishableKey}` },
      body: { email },
    });
    expect(res.status, res.text).toBe(202);
  };

  it(`costs the API at most ${API_STATEMENTS_PER_LOGIN} statements and ${API_COMMITS_PER_LOGIN} commits per login, and the worker at most ${WORKER_STATEMENTS_PER_EMAIL} and ${WORKER_COMMITS_PER_EMAIL} per email`, async () => {
    await login("warm-up@example.com");
    counter.reset();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < BURST) await login(`burst-${next++}@example.com`);
      }),
    );
    const api = { statements: counter.statements / BURST, commits: counter.commits / BURST };
    const apiSummary = counter.summary();

    counter.reset();
    await t.postern.startWorkers();
    await waitFor(
      () => (t.postern.devMailbox!.list().length >= BURST + 1 ? true : undefined),
      120_000,
      "every login email delivered",
    );
    const worker = { statements: counter.statements / (BURST + 1), commits: counter.commits / (BURST + 1) };
    console.log(
      [
        `[${backend}] API: ${api.statements.toFixed(2)} statements, ${api.commits.toFixed(2)} commits per login (${BURST} logins, ${CONCURRENCY} at a time)`,
        apiSummary,
        `[${backend}] worker: ${worker.statements.toFixed(2)} statements, ${worker.commits.toFixed(2)} commits per delivered email, polling included`,
        counter.summary(),
      ].join("\n"),
    );
    expect(api.statements).toBeLessThanOrEqual(API_STATEMENTS_PER_LOGIN);
    expect(api.commits).toBeLessThanOrEqual(API_COMMITS_PER_LOGIN);
    expect(worker.statements).toBeLessThanOrEqual(WORKER_STATEMENTS_PER_EMAIL);
    expect(worker.commits).toBeLessThanOrEqual(WORKER_COMMITS_PER_EMAIL);
  });
});
