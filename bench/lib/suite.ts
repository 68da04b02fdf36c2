import type { Backend } from "./database.ts";

export interface SuiteOptions {
  backend: Backend;
  /** Emails per measured run; each suite has its own default. */
  emails: number | undefined;
}

/** One benchmark: `npm run bench -- <name>`. It prints its own tables and ratios. */
export interface Suite {
  name: string;
  summary: string;
  /** The backend it runs on when --backend is not given. */
  defaultBackend: Backend;
  run(options: SuiteOptions): Promise<void>;
}
