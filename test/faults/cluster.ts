import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { createDatabase } from "../support/harness.ts";
import { type PosternProcess, spawnPostern } from "../support/process.ts";

/** N API and M worker processes on one fresh PostgreSQL database, sending to a local SMTP server. */
export interface Cluster {
  smtp: SmtpServerFake;
  publishableKey: string;
  api: PosternProcess;
  env: Record<string, string>;
  startWorker(extra?: Record<string, string>): Promise<PosternProcess>;
  /** Sends `count` logins to distinct addresses, `concurrency` at a time; returns the addresses. */
  sendLogins(
    prefix: string,
    count: number,
    concurrency?: number,
  ): Promise<{ accepted: string[]; statuses: Record<number, number> }>;
  close(): Promise<void>;
}

export async function startCluster(extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const smtp = await startSmtpServer({ security: "starttls" });
  const database = await createDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-cluster-"));
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    POSTERN_DATA_DIR: dataDir,
    POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]).trim(),
    POSTERN_OPERATOR_TOKEN: "cluster-operator-token-0123456789",
    POSTERN_DEFAULT_SMTP_URL: `smtp://localhost:${smtp.port}`,
    POSTERN_SEED_DEMO: "true",
    POSTERN_LIMIT_ADDRESS_PER_MINUTE: "1000",
    POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
    POSTERN_LIMIT_IP_PER_HOUR: "1000000",
    POSTERN_LIMIT_APP_PER_HOUR: "1000000",
    POSTERN_RETRY_BASE_SECONDS: "1",
    POSTERN_JOB_TIMEOUT_SECONDS: "5",
    POSTERN_QUEUE_MAINTENANCE_SECONDS: "1",
    ...extraEnv,
  };
  const api = await spawnPostern(env, ["--role", "api"]);
  const publishableKey = /Publishable\s+(pk_\S+)/.exec(api.output())![1]!;
  const workers: PosternProcess[] = [];

  return {
    smtp,
    publishableKey,
    api,
    env,
    async startWorker(extra = {}) {
      const worker = await spawnPostern({ ...env, ...extra }, ["--role", "worker"]);
      workers.push(worker);
      return worker;
    },
    async sendLogins(prefix, count, concurrency = 20) {
      const accepted: string[] = [];
      const statuses: Record<number, number> = {};
      let next = 0;
      const lane = async () => {
        while (next < count) {
          const email = `${prefix}${next++}@example.com`;
          try {
            const res = await fetch(`${api.url}/v1/login/email`, {
              method: "POST",
              headers: { authorization: `Bearer ${publishableKey}`, "content-type": "application/json" },
              body: JSON.stringify({ email }),
              signal: AbortSignal.timeout(15_000),
            });
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status === 202) accepted.push(email);
            await res.arrayBuffer();
          } catch {
            statuses[0] = (statuses[0] ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      return { accepted, statuses };
    },
    async close() {
      for (const w of workers) await w.kill("SIGKILL");
      await api.kill("SIGKILL");
      await smtp.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Recipients as received by the SMTP server: how many arrived, how many distinct, how many twice. */
export function tally(smtp: SmtpServerFake, prefix: string) {
  const received = smtp.messages.flatMap((m) => m.to).filter((to) => to.startsWith(prefix));
  const distinct = new Set(received);
  return {
    received: received.length,
    distinct: distinct.size,
    duplicates: received.length - distinct.size,
    set: distinct,
  };
}
