import type { Logger } from "pino";
import type { AppCache } from "./app-cache/app-cache.ts";
import type { Config } from "./config/config.ts";
import type { Db } from "./db/connection.ts";
import type { Metrics } from "./metrics/metrics.ts";
import type { Queue } from "./queue/queue.ts";
import type { SecretBox } from "./security/secret-box.ts";

/** What every domain service needs; built once by src/postern.ts. */
export interface Context {
  db: Db;
  config: Config;
  secrets: SecretBox;
  queue: Queue;
  log: Logger;
  metrics: Metrics;
  /** Apps by key and their locales, for the login API (src/app-cache/app-cache.ts: how long they are kept). */
  appCache: AppCache;
  /** The one clock; tests may replace it. */
  now(): Date;
}
