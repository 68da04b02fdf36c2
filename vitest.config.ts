import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fault suite (vitest.faults.config.ts) restarts PostgreSQL: it never runs beside other tests.
    exclude: ["test/faults/**", "node_modules/**"],
    // The compiled server that spawned processes run, and the migrated database templates every test
    // copies (test/support/database-templates.ts), each built once per run.
    globalSetup: ["test/support/built-server.ts", "test/support/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file opens its own database; PGlite instances are large, so files do not share a process state.
    isolate: true,
  },
});
