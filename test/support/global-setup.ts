import { existsSync } from "node:fs";
import { dataTemplateFile } from "../../src/db/connection.ts";
import {
  buildPgliteTemplate,
  buildPostgresTemplate,
  dropPostgresTemplate,
  removePgliteTemplate,
  templateEnv,
} from "./database-templates.ts";
import { backends, TEST_DATABASE_URL } from "./harness.ts";

/** Vitest global set-up: the database templates every test file copies (see database-templates.ts). */
export default async function setup(): Promise<() => Promise<void>> {
  // The build step (built-server.ts, run first) wrote the embedded default's template; the tests copy it too.
  const builtTemplate = existsSync(dataTemplateFile);
  const [pgliteFile, postgresName] = await Promise.all([
    builtTemplate ? dataTemplateFile : buildPgliteTemplate(),
    backends.includes("postgres") ? buildPostgresTemplate(TEST_DATABASE_URL) : undefined,
  ]);
  // Set before the test workers are forked, so every one of them inherits it.
  process.env[templateEnv.pglite] = pgliteFile;
  if (postgresName) process.env[templateEnv.postgres] = postgresName;
  return async () => {
    if (!builtTemplate) removePgliteTemplate(pgliteFile);
    if (postgresName) await dropPostgresTemplate(TEST_DATABASE_URL, postgresName);
  };
}
