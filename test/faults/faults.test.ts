import { execSync } from "node:child_process";
import { readdirSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/harness.ts";
import { startCluster, tally } from "./cluster.ts";

const report = (name: string, figures: Record<string, unknown>) =>
  console.log(`[fault] ${name}: ${JSON.stringify(figures)}`);

describe("faults on PostgreSQL with real API and worker processes", () => {
  it("kill -9 of a worker mid-batch of 2,000 emails: a new worker delivers the rest; duplicates at most the in-flight ones", async () => {
    const concurrency = 10;
    const cluster = await startCluster({ POSTERN_WORKER_CONCURRENCY: String(concurrency) });
    try {
      const first = await cluster.startWorker();
      const sending = cluster.sendLogins("kill", 2000, 25);
      await waitFor(() => cluster.smtp.messages.length >= 400 || undefined, 120_000, "400 emails delivered");
      await first.kill("SIGKILL");
      const atKill = tally(cluster.smtp, "kill");
      const { accepted, statuses } = await sending;
      expect(accepted).toHaveLength(2000);
      await cluster.startWorker();
      await waitFor(
        () => tally(cluster.smtp, "kill").distinct === 2000 || undefined,
        180_000,
        "all 2,000 delivered",
      );
      const final = tally(cluster.smtp, "kill");
      report("kill -9 worker", {
        requests: statuses,
        deliveredBeforeKill: atKill.distinct,
        received: final.received,
        distinct: final.distinct,
        duplicates: final.duplicates,
        workerConcurrency: concurrency,
      });
      expect(final.distinct).toBe(2000);
      expect(final.duplicates).toBeLessThanOrEqual(concurrency);
    } finally {
      await cluster.close();
    }
  });

  it("the SMTP server down for 30 s mid-batch: nothing lost, the backlog drains, retries spaced by backoff", async () => {
    const cluster = await startCluster({ POSTERN_RETRY_BASE_SECONDS: "2" });
    try {
      await cluster.startWorker();
      const before = await cluster.sendLogins("outage", 200, 20);
      await waitFor(() => tally(cluster.smtp, "outage").distinct === 200 || undefined, 60_000, "first 200");
      await cluster.smtp.stop();
      const downAt = Date.now();
      const during = await cluster.sendLogins("outage-b", 300, 20);
      await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));
      await cluster.smtp.restart();
      await waitFor(
        () => tally(cluster.smtp, "outage-b").distinct === 300 || undefined,
        180_000,
        "backlog drained",
      );
      const drainedAfter = Date.now() - downAt;
      const deliveries = await fetch(`${cluster.api.url}/healthz`).then((r) => r.json());
      expect(deliveries).toEqual({ ok: true });
      const final = tally(cluster.smtp, "outage-b");
      report("SMTP down 30 s", {
        acceptedBefore: before.accepted.length,
        acceptedDuring: during.accepted.length,
        delivered: final.distinct,
        duplicates: final.duplicates,
        drainedAfterMs: drainedAfter,
      });
      // Retries back off: within one delivery, each wait is at least the base delay and they grow.
      const db = new pg.Client({ connectionString: cluster.env.DATABASE_URL });
      await db.connect();
      const { rows } = await db.query<{ attempts: { at: string }[] }>(
        "select attempts from deliveries where recipient like 'outage-b%' and attempt_count >= 4 limit 20",
      );
      await db.end();
      expect(rows.length).toBeGreaterThan(0);
      for (const { attempts } of rows) {
        const gaps = attempts.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(attempts[i]!.at));
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_500);
        expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
      }
      report("SMTP down backoff", {
        sampleGapsMs: rows[0]!.attempts
          .slice(1)
          .map((a, i) => Date.parse(a.at) - Date.parse(rows[0]!.attempts[i]!.at)),
      });
      expect(during.accepted).toHaveLength(300);
      expect(final.distinct).toBe(300);
      expect(final.duplicates).toBe(0);
    } finally {
      await cluster.close();
    }
  });

  it("PostgreSQL restarted under load: the API answers 503 with Retry-After meanwhile, then everything resumes and nothing accepted is lost", async () => {
    const cluster = await startCluster();
    const version = readdirSync("/etc/postgresql")[0];
    try {
      const worker = await cluster.startWorker();
      const load = cluster.sendLogins("pgr", 600, 10);
      await waitFor(() => cluster.smtp.messages.length >= 100 || undefined, 60_000, "load running");
      execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main stop -m fast`, { stdio: "ignore" });
      const down = await fetch(`${cluster.api.url}/v1/login/email`, {
        method: "POST",
        headers: { authorization: `Bearer ${cluster.publishableKey}`, "content-type": "application/json" },
        body: JSON.stringify({ email: "while-down@example.com" }),
        signal: AbortSignal.timeout(10_000),
      });
      const ready = await fetch(`${cluster.api.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
      execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, { stdio: "ignore" });
      expect(down.status).toBe(503);
      expect(Number(down.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(ready.status).toBe(503);
      const { accepted, statuses } = await load;
      await waitFor(
        async () => (await fetch(`${cluster.api.url}/readyz`)).ok || undefined,
        60_000,
        "ready again",
      );
      const after = await cluster.sendLogins("pgr-after", 50, 10);
      expect(after.accepted).toHaveLength(50);
      await waitFor(
        () => accepted.every((e) => tally(cluster.smtp, "pgr").set.has(e)) || undefined,
        180_000,
        "every accepted email delivered",
      );
      expect(worker.child.exitCode).toBeNull();
      await waitFor(
        () => tally(cluster.smtp, "pgr-after").distinct === 50 || undefined,
        60_000,
        "later emails delivered",
      );
      expect(statuses[500] ?? 0).toBe(0);
      report("PostgreSQL restart", {
        statuses,
        accepted: accepted.length,
        deliveredOfAccepted: accepted.filter((e) => tally(cluster.smtp, "pgr").set.has(e)).length,
      });
      expect(cluster.api.child.exitCode).toBeNull();
    } finally {
      execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start || true`, {
        stdio: "ignore",
        shell: "/bin/bash",
      });
      await cluster.close();
    }
  });

  it("SIGTERM to a worker under load: in-flight sends finish, nothing is lost or sent twice", async () => {
    const cluster = await startCluster({ POSTERN_JOB_TIMEOUT_SECONDS: "60" });
    try {
      const first = await cluster.startWorker();
      const sending = cluster.sendLogins("term", 800, 25);
      await waitFor(() => cluster.smtp.messages.length >= 150 || undefined, 60_000, "load running");
      const exit = await first.kill("SIGTERM");
      expect(exit).toBe(0);
      const { accepted } = await sending;
      await cluster.startWorker();
      await waitFor(
        () => tally(cluster.smtp, "term").distinct === accepted.length || undefined,
        120_000,
        "all delivered",
      );
      const final = tally(cluster.smtp, "term");
      report("SIGTERM worker", {
        accepted: accepted.length,
        delivered: final.distinct,
        duplicates: final.duplicates,
        exitCode: exit,
      });
      expect(final.distinct).toBe(800);
      expect(final.duplicates).toBe(0);
    } finally {
      await cluster.close();
    }
  });
});
