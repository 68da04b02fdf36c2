import { defineConfig } from "vitest/config";

// Fault tests kill processes and restart the shared PostgreSQL server: they run alone, one file at a time.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    // The compiled server the fault tests' processes run.
    globalSetup: ["test/support/built-server.ts"],
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
