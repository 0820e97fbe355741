import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // Property tests run thousands of cases; the default 5 s is too tight on a shared 2-core VM.
    testTimeout: 60_000,
    pool: "forks",
    // PostgreSQL for the store suites: found or started once, a fresh database per run.
    globalSetup: ["test/global-setup.ts"],
  },
});
