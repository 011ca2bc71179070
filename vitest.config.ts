import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "modules/*/src/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "testing/*/src/**/*.test.ts",
    ],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A regtest template cache per run: multisig wallets and mined chains built once, copied per file.
    globalSetup: ["testing/monero/src/vitest-global-setup.ts"],
    // Stops by PID what the regtest harness started in a file and did not stop (a set-up that threw
    // or timed out): testing/monero/src/started.ts.
    setupFiles: ["testing/monero/src/vitest-setup.ts"],
  },
});
