// A child process of parallel.ts (the CLI's --jobs, the CI's federation sweep): runs the seeds it is
// sent, one at a time, and sends back their results. Runs are independent and deterministic, so
// how seeds are spread over processes changes nothing.
import { SIM_MODES, cpuMsOf, runSeed } from "./run-seed.js";
import type { SeedOptions, SimMode } from "./run-seed.js";
import type { SimResult } from "./simulator.js";

export interface WorkerRequest {
  readonly options: SeedOptions;
  readonly mode: SimMode;
}

/**
 * cpuMs: the CPU time the seed took in the worker (for the speed figures only); heapBytes: the
 * worker's V8 heap after it (parallel.ts starts a fresh worker above a bound).
 */
export type WorkerReply =
  | { readonly seed: number; readonly result: SimResult; readonly cpuMs: number; readonly heapBytes: number }
  | { readonly seed: number; readonly error: string };

function isRequest(m: unknown): m is WorkerRequest {
  if (typeof m !== "object" || m === null || !("options" in m) || !("mode" in m)) return false;
  const o: unknown = m.options;
  return (
    SIM_MODES.some((mode) => mode === m.mode) &&
    typeof o === "object" &&
    o !== null &&
    "seed" in o &&
    typeof o.seed === "number"
  );
}

// As the CLI's runs of many seeds: no stack traces (about 3% of a seed's CPU); the replay of a
// failing seed with --seed S keeps them.
Error.stackTraceLimit = 0;

process.on("message", (m: unknown) => {
  if (!isRequest(m)) return;
  const seed = m.options.seed;
  cpuMsOf(() => runSeed(m.options, m.mode)).then(
    ({ value: result, cpuMs }) =>
      process.send?.({
        seed,
        result,
        cpuMs,
        heapBytes: process.memoryUsage().heapUsed,
      } satisfies WorkerReply),
    // An exception out of a run is a bug in the simulator itself (the engines' are caught).
    (e: unknown) =>
      process.send?.({
        seed,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      } satisfies WorkerReply),
  );
});
process.on("disconnect", () => process.exit(0));
// The parent went away mid-seed (a --progress run stopped by Ctrl-C or SIGTERM): the result has
// no one to go to, and the next piece runs the seed again.
process.on("error", () => process.exit(0));
