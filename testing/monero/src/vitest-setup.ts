// vitest setupFiles (vitest.config.ts): runs in every test file. Whatever the regtest harness started
// in this file and did not stop (a beforeAll that threw or timed out before the file could keep a
// handle) is stopped by PID after the file's own afterAll hooks (started.ts).
import { afterAll, beforeAll } from "vitest";
import { allowStarts, killStartedSync, stopStartedProcesses } from "./started.js";

beforeAll(() => {
  allowStarts();
});

afterAll(async () => {
  await stopStartedProcesses("the test file ended");
});

// The worker may still end before that (vitest's own teardown): SIGKILL by PID on exit.
process.once("exit", killStartedSync);
