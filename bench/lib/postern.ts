import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/logging.ts";
import { createPostern, type Postern } from "../../src/postern.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { sleep } from "./clock.ts";
import type { CodeReader } from "./dashboard.ts";
import { type Backend, createFreshDatabase, type FreshDatabase } from "./database.ts";

export const OPERATOR_TOKEN = "bench-operator-token-0123456789";

/**
 * Settings every benchmarked Postern shares: the local SMTP servers allowlisted (they are on loopback),
 * and the per-IP and per-app budgets raised, since every benchmark request comes from 127.0.0.1 for one
 * app. Per-address limits stay at their defaults: each email goes to an address of its own.
 */
export function benchEnvironment(dataDir: string): Record<string, string> {
  return {
    POSTERN_DATA_DIR: dataDir,
    POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
    POSTERN_OPERATOR_TOKEN: OPERATOR_TOKEN,
    POSTERN_SEED_DEMO: "false",
    POSTERN_SMTP_ALLOWLIST: "localhost,127.0.0.1/32,::1/128",
    POSTERN_LIMIT_IP_PER_HOUR: "100000000",
    POSTERN_LIMIT_APP_PER_HOUR: "100000000",
    PUBLIC_URL: "http://postern.bench.localhost",
    HOST: "127.0.0.1",
  };
}

export interface InProcessPostern {
  postern: Postern;
  url: string;
  backend: Backend;
  /** Reads sign-in codes from Postern's own dev mailbox (the default sender when none is configured). */
  readCode: CodeReader;
  /** Warnings and errors Postern logged; a clean run has none. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Postern in this process, built by its composition root as `postern start` builds it, listening on a
 * real port. PGlite runs in a data directory (the embedded default), PostgreSQL on a fresh database.
 */
export async function startInProcessPostern(
  backend: Backend,
  env: Record<string, string> = {},
): Promise<InProcessPostern> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-"));
  // A DATABASE_URL given by the caller is a database it shares with other Posterns, and keeps.
  let database: FreshDatabase | undefined;
  if (backend === "postgres" && !env.DATABASE_URL) database = await createFreshDatabase();
  const config = loadConfig({
    ...benchEnvironment(dataDir),
    PORT: "0",
    POSTERN_LOG_LEVEL: "info",
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const problems: string[] = [];
  // Logs are produced at the operator's default level (their cost is part of Postern's) but not printed.
  const logger = createLogger(config.logLevel, {
    write(line: string) {
      if (/"level":(40|50|60)/.test(line)) problems.push(line.trim());
    },
  });
  const postern = await createPostern({ config, logger });
  const { url } = await postern.start();

  const readCode: CodeReader = async (email) => {
    for (let waited = 0; waited < 15_000; waited += 20) {
      const message = postern.devMailbox?.list().find((m) => m.to.includes(email));
      const code = message && /login code is (\d{6})/.exec(message.text)?.[1];
      if (code) return code;
      await sleep(20);
    }
    throw new Error(`no sign-in email for ${email} in the dev mailbox`);
  };

  return {
    postern,
    url,
    backend,
    readCode,
    problems,
    async close() {
      await postern.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
