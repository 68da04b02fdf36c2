import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import pg from "pg";
import { loadConfig } from "../../src/config/config.ts";
import { queryRows } from "../../src/db/connection.ts";
import { createLogger } from "../../src/logging.ts";
import { createPostern, type Postern } from "../../src/postern.ts";
import { LOGIN_EMAIL_QUEUE } from "../../src/queue/queue.ts";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import { newPglite, postgresTemplateClause } from "./database-templates.ts";

export type Backend = "pglite" | "postgres";

/** Every storage-touching suite runs on both backends unless POSTERN_TEST_BACKENDS narrows it. */
export const backends: Backend[] = (process.env.POSTERN_TEST_BACKENDS?.split(",") as
  | Backend[]
  | undefined) ?? ["pglite", "postgres"];

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const OPERATOR_TOKEN = "test-operator-token-0123456789";

export interface Response {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Record<string, unknown> & { code?: string; detail?: string; field?: string };
  text: string;
}

export interface Session {
  cookie: string;
  csrf: string;
  accountId: string;
  email: string;
  workspaceId: string;
}

export interface TestPostern {
  postern: Postern;
  backend: Backend;
  /** Every log line this instance wrote (at POSTERN_LOG_LEVEL, default silent). */
  logs: string[];
  databaseUrl: string | undefined;
  request(
    method: string,
    url: string,
    options?: {
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
      session?: Session;
      csrf?: boolean;
    },
  ): Promise<Response>;
  /** Signs in to the dashboard through the dev mailbox, as a person would. */
  signIn(email: string): Promise<Session>;
  /** The newest login email for `email` in the dev mailbox: its code and magic link. */
  latestLoginEmail(
    email: string,
    after?: number,
  ): Promise<{ code: string; link: string; subject: string; from: string }>;
  unlock(workspaceId: string, enabled?: boolean): Promise<void>;
  createApp(
    session: Session,
    body?: { name?: string; redirectUrls?: string[] },
  ): Promise<{ id: string; publishableKey: string; secretKey: string }>;
  close(): Promise<void>;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until no job of the login-email queue can still run for these deliveries (none waiting,
 * retrying or being sent): from then on no send can happen that has not happened, so a test can assert
 * "never again" without sleeping.
 */
export async function queueSettledFor(postern: Postern, deliveryIds: readonly string[], timeoutMs = 30_000) {
  await waitFor(
    async () => {
      const [row] = await queryRows<{ n: number }>(
        postern.ctx.db,
        sql`select count(*)::int as n from pgboss.job
          where name = ${LOGIN_EMAIL_QUEUE} and state in ('created', 'retry', 'active')
            and data->>'deliveryId' in (${sql.join(
              deliveryIds.map((id) => sql`${id}`),
              sql`, `,
            )})`,
      );
      return row?.n === 0;
    },
    timeoutMs,
    `no job left for ${deliveryIds.length} deliveries`,
  );
}

/** A new PostgreSQL database: a migrated copy of the run's template, or `empty` to migrate it yourself. */
export async function createDatabase(
  options: { empty?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `postern_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}${postgresTemplateClause(options.empty ?? false)}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** A Postern with its own fresh database on `backend`, workers running, HTTP driven by inject(). */
export async function startTestPostern(
  backend: Backend,
  env: Record<string, string> = {},
  options: {
    workers?: boolean;
    databaseUrl?: string;
    pglite?: PGlite;
    dataDir?: string;
    pgliteOnDisk?: boolean;
    /** The injected clock (Context.now). */
    now?: () => Date;
  } = {},
): Promise<TestPostern> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "postern-test-"));
  const database = backend === "postgres" && !options.databaseUrl ? await createDatabase() : undefined;
  const databaseUrl = options.databaseUrl ?? database?.url;
  const pglite =
    backend === "pglite" && !options.pgliteOnDisk ? (options.pglite ?? (await newPglite())) : undefined;
  const config = loadConfig({
    POSTERN_DATA_DIR: dataDir,
    POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
    POSTERN_OPERATOR_TOKEN: OPERATOR_TOKEN,
    POSTERN_LOG_LEVEL: "silent",
    POSTERN_RETRY_BASE_SECONDS: "1",
    POSTERN_SEED_DEMO: "false",
    PUBLIC_URL: "http://postern.localhost",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => logs.push(line) });
  const postern = await createPostern({
    config,
    logger,
    ...(pglite ? { pglite } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  if (options.workers !== false) await postern.startWorkers();

  const request: TestPostern["request"] = async (method, url, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.session) {
      headers.cookie = opts.session.cookie;
      if (opts.csrf !== false && method !== "GET") headers["x-csrf-token"] = opts.session.csrf;
    }
    let payload: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await postern.http.inject({
      method: method as "GET",
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: Response["body"] = {};
    try {
      body = res.body ? JSON.parse(res.body) : {};
    } catch {
      body = {};
    }
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
  };

  const latestLoginEmail: TestPostern["latestLoginEmail"] = async (email, after = 0) => {
    const message = await waitFor(
      () =>
        postern.devMailbox
          ?.list()
          // Only login emails: an invitation to the same address may arrive first.
          .find(
            (m) => m.to.includes(email) && Date.parse(m.receivedAt) >= after && /login code is/.test(m.text),
          ),
      15_000,
      `a login email to ${email}`,
    );
    const code = /login code is (\d{6})/.exec(message.text)?.[1];
    const link = /(https?:\/\/\S+\?token=\S+)/.exec(message.text)?.[1];
    if (!code || !link) throw new Error(`no code or link in: ${message.text}`);
    return { code, link, subject: message.subject, from: message.from };
  };

  const signIn: TestPostern["signIn"] = async (email) => {
    const started = Date.now() - 1000;
    const start = await request("POST", "/api/auth/email", { body: { email } });
    if (start.status !== 202) throw new Error(`sign-in start failed: ${start.text}`);
    const { code } = await latestLoginEmail(email, started);
    const verified = await request("POST", "/api/auth/email/verify", {
      body: { loginId: start.body.loginId, code },
    });
    if (verified.status !== 200) throw new Error(`sign-in verify failed: ${verified.text}`);
    const setCookie = String(verified.headers["set-cookie"]);
    const cookie = setCookie.split(";")[0]!;
    const account = verified.body.account as { id: string; email: string };
    const session: Session = {
      cookie,
      csrf: String(verified.body.csrfToken),
      accountId: account.id,
      email,
      workspaceId: "",
    };
    const me = await request("GET", "/api/me", { session });
    session.workspaceId = (me.body.workspaces as { id: string }[])[0]!.id;
    return session;
  };

  return {
    postern,
    backend,
    logs,
    databaseUrl,
    request,
    signIn,
    latestLoginEmail,
    async unlock(workspaceId, enabled = true) {
      const res = await request("POST", `/api/operator/workspaces/${workspaceId}/features`, {
        body: { feature: "custom-email-provider", enabled },
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      });
      if (res.status !== 200) throw new Error(`unlock failed: ${res.text}`);
    },
    async createApp(session, body = {}) {
      const res = await request("POST", `/api/workspaces/${session.workspaceId}/apps`, {
        session,
        body: {
          name: body.name ?? "Test app",
          redirectUrls: body.redirectUrls ?? ["https://app.example.com/callback"],
        },
      });
      if (res.status !== 201) throw new Error(`create app failed: ${res.text}`);
      return res.body as { id: string; publishableKey: string; secretKey: string };
    },
    async close() {
      await postern.stop();
      if (pglite && !options.pglite) await pglite.close();
      await database?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
