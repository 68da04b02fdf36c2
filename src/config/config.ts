import path from "node:path";
import { z } from "zod";
import { isLoopbackHost } from "../security/loopback.ts";

/**
 * Postern's whole configuration: read once from the environment at start and validated.
 * Nothing else in the code reads process.env.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  POSTERN_DATABASE_POOL_SIZE: positiveInt.default(10),
  POSTERN_TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d+|[0-9a-fA-F:.,/ ]+)$/,
      "must be true, false, a hop count, or comma-separated proxy IPs/CIDRs",
    )
    .default("false"),
  POSTERN_DATA_DIR: z.string().min(1).default("./data"),
  POSTERN_DEFAULT_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  POSTERN_DEFAULT_FROM: z.string().min(3).optional(),
  POSTERN_SECRET_KEY: z.string().min(1).optional(),
  POSTERN_OPERATOR_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  POSTERN_ROLE: z.enum(["api", "worker", "all"]).default("all"),
  POSTERN_SIGNUP: z.enum(["open", "invite"]).default("open"),
  POSTERN_SEED_DEMO: flag.optional(),
  POSTERN_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  POSTERN_SMTP_ALLOWLIST: z.string().default(""),
  POSTERN_LIMIT_ADDRESS_PER_MINUTE: positiveInt.default(1),
  POSTERN_LIMIT_ADDRESS_PER_HOUR: positiveInt.default(5),
  // Dashboard sign-in per address. Unset, they follow the database: the embedded default is one
  // developer on a laptop signing in again and again (10 a minute, 60 an hour); on PostgreSQL, a
  // shared server, the end-user limits above.
  POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE: positiveInt.optional(),
  POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_HOUR: positiveInt.optional(),
  POSTERN_LIMIT_IP_PER_HOUR: positiveInt.default(50),
  POSTERN_LIMIT_APP_PER_HOUR: positiveInt.default(1000),
  POSTERN_LIMIT_FAILED_CODES_PER_IP_PER_HOUR: positiveInt.default(20),
  POSTERN_LIMIT_FAILED_CODES_PER_APP_PER_HOUR: positiveInt.default(500),
  POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: positiveInt.default(10),
  POSTERN_LIMIT_INVITATIONS_PER_HOUR: positiveInt.default(30),
  POSTERN_WORKER_CONCURRENCY: positiveInt.default(10),
  POSTERN_RETRY_BASE_SECONDS: positiveInt.default(5),
  POSTERN_RETRY_MAX_SECONDS: positiveInt.default(120),
  POSTERN_PROVIDER_PROBE_SECONDS: positiveInt.default(60),
  POSTERN_JOB_TIMEOUT_SECONDS: positiveInt.default(60),
  POSTERN_QUEUE_MAINTENANCE_SECONDS: positiveInt.default(30),
});

export type Role = "api" | "worker" | "all";

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Fastify's trustProxy: whose X-Forwarded-For to believe for the client IP (per-IP limits). */
  trustProxy: boolean | number | string[];
  dataDir: string;
  defaultSmtpUrl: string | undefined;
  defaultFrom: string;
  secretKey: string | undefined;
  operatorToken: string | undefined;
  role: Role;
  signup: "open" | "invite";
  seedDemo: boolean;
  logLevel: z.infer<typeof envSchema>["POSTERN_LOG_LEVEL"];
  smtpAllowlist: string;
  /**
   * The raw POSTERN_* variables, for the provider kinds' own operator settings (e.g. POSTERN_MICROSOFT_*):
   * each kind declares and checks its own (src/email-provider/kinds, `operatorSettings`).
   */
  operatorEnv: Record<string, string>;
  limits: {
    addressPerMinute: number;
    addressPerHour: number;
    /** Dashboard sign-in emails per address (the developers' own accounts). */
    dashboardAddressPerMinute: number;
    dashboardAddressPerHour: number;
    ipPerHour: number;
    appPerHour: number;
    failedCodesPerIpPerHour: number;
    failedCodesPerAppPerHour: number;
    providerTestsPerMinute: number;
    /** Invitations (each an email from the default sender) per workspace per hour. */
    invitationsPerHour: number;
  };
  delivery: {
    workerConcurrency: number;
    retryBaseSeconds: number;
    /** The longest wait between two tries of one email (backoff doubles from retryBaseSeconds up to this). */
    retryMaxSeconds: number;
    /** How often a failing provider is checked, so the emails waiting for it go out once it works. */
    providerProbeSeconds: number;
    /** A job held longer than this (its worker died) goes back to the queue. */
    jobTimeoutSeconds: number;
    /** How often pg-boss looks for such jobs. */
    maintenanceSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === "true" || value === "false") return value === "true";
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Where this machine reaches its own listener: a wildcard bind address is reached on its loopback. */
export function localListenerUrl(config: Pick<Config, "host" | "port">): string {
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host === "::" ? "::1" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}

/** Without a default sender, default-route emails go to the built-in dev mailbox. */
export function usesDevMailbox(config: Pick<Config, "defaultSmtpUrl">): boolean {
  return config.defaultSmtpUrl === undefined;
}

/**
 * The dev mailbox hands every login code to whoever reads it, so it runs only where nobody else can
 * reach it: listening on loopback, and reached through a loopback name.
 */
function devMailboxExposure(config: Config): string | undefined {
  if (!usesDevMailbox(config)) return undefined;
  const exposed = [
    ...(isLoopbackHost(config.host) ? [] : [`HOST is ${config.host}`]),
    ...(isLoopbackHost(new URL(config.publicUrl).hostname) ? [] : [`PUBLIC_URL is ${config.publicUrl}`]),
  ];
  if (exposed.length === 0) return undefined;
  return (
    "POSTERN_DEFAULT_SMTP_URL: not set, so login emails would go to the built-in dev mailbox, which shows " +
    `every login code to anyone who can reach it, but ${exposed.join(" and ")}. Set POSTERN_DEFAULT_SMTP_URL ` +
    "to your SMTP relay, or keep HOST and PUBLIC_URL on loopback (127.0.0.1, ::1, localhost)."
  );
}

/** Reads and validates the configuration; every bad variable is named with what it must be. */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${String(issue.path[0] ?? "environment")}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  if (e.DATABASE_URL === undefined && e.POSTERN_ROLE !== "all") {
    throw new ConfigError([
      "POSTERN_ROLE: api and worker roles need DATABASE_URL (a PostgreSQL server shared by the processes)",
    ]);
  }
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? localListenerUrl({ host: e.HOST, port: e.PORT })).replace(/\/$/, ""),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.POSTERN_DATABASE_POOL_SIZE,
    trustProxy: parseTrustProxy(e.POSTERN_TRUST_PROXY),
    dataDir: path.resolve(e.POSTERN_DATA_DIR),
    defaultSmtpUrl: e.POSTERN_DEFAULT_SMTP_URL,
    defaultFrom: e.POSTERN_DEFAULT_FROM ?? "Postern <no-reply@postern.localhost>",
    secretKey: e.POSTERN_SECRET_KEY,
    operatorToken: e.POSTERN_OPERATOR_TOKEN,
    role: e.POSTERN_ROLE,
    signup: e.POSTERN_SIGNUP,
    seedDemo: e.POSTERN_SEED_DEMO ?? e.DATABASE_URL === undefined,
    logLevel: e.POSTERN_LOG_LEVEL,
    smtpAllowlist: e.POSTERN_SMTP_ALLOWLIST,
    operatorEnv: Object.fromEntries(
      Object.entries(present).filter((entry): entry is [string, string] => entry[0].startsWith("POSTERN_")),
    ),
    limits: {
      addressPerMinute: e.POSTERN_LIMIT_ADDRESS_PER_MINUTE,
      addressPerHour: e.POSTERN_LIMIT_ADDRESS_PER_HOUR,
      dashboardAddressPerMinute:
        e.POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE ??
        (e.DATABASE_URL === undefined ? 10 : e.POSTERN_LIMIT_ADDRESS_PER_MINUTE),
      dashboardAddressPerHour:
        e.POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_HOUR ??
        (e.DATABASE_URL === undefined ? 60 : e.POSTERN_LIMIT_ADDRESS_PER_HOUR),
      ipPerHour: e.POSTERN_LIMIT_IP_PER_HOUR,
      appPerHour: e.POSTERN_LIMIT_APP_PER_HOUR,
      failedCodesPerIpPerHour: e.POSTERN_LIMIT_FAILED_CODES_PER_IP_PER_HOUR,
      failedCodesPerAppPerHour: e.POSTERN_LIMIT_FAILED_CODES_PER_APP_PER_HOUR,
      providerTestsPerMinute: e.POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE,
      invitationsPerHour: e.POSTERN_LIMIT_INVITATIONS_PER_HOUR,
    },
    delivery: {
      workerConcurrency: e.POSTERN_WORKER_CONCURRENCY,
      retryBaseSeconds: e.POSTERN_RETRY_BASE_SECONDS,
      retryMaxSeconds: e.POSTERN_RETRY_MAX_SECONDS,
      providerProbeSeconds: e.POSTERN_PROVIDER_PROBE_SECONDS,
      jobTimeoutSeconds: e.POSTERN_JOB_TIMEOUT_SECONDS,
      maintenanceSeconds: e.POSTERN_QUEUE_MAINTENANCE_SECONDS,
    },
  };
  const merged = { ...config, ...overrides };
  const exposure = devMailboxExposure(merged);
  if (exposure) throw new ConfigError([exposure]);
  return merged;
}
