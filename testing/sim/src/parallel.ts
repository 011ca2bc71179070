// Seeds spread over child processes (worker.ts), one seed at a time per process: the CLI's --jobs
// and the CI's federation sweep. Each child loads TypeScript through tsx, as `npm run sim` does.
// The children are stopped by PID when the sweep ends or fails (they also exit when their parent
// goes away: worker.ts exits on disconnect).
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SeedOptions, SimMode } from "./run-seed.js";
import type { SimResult } from "./simulator.js";
import type { WorkerReply, WorkerRequest } from "./worker.js";

const WORKER_PATH = fileURLToPath(new URL("./worker.ts", import.meta.url));
/**
 * A worker whose heap is above this after a seed is replaced by a fresh one (seeds are independent,
 * so results do not change). A guard, as jest's workerIdleMemoryLimit: the Monero worlds' leak it
 * was added for (each run kept alive by its modules' watch timers, ~25-55 MB a seed) is fixed, and
 * the memo caches shared by a worker's runs are bounded (docs/simulator.md "Memory").
 */
export const WORKER_HEAP_RECYCLE_BYTES = 1024 * 1024 * 1024;
/** tsx's ESM loader by absolute URL, so the children load TypeScript whatever their cwd. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Runs every request on `jobs` child processes; `onResult` gets each seed's result (or the
 * simulator's own exception) and the CPU ms it took as it arrives, in any order. Rejects if a child
 * dies mid-seed.
 */
export async function runParallel(
  requests: readonly SeedOptions[],
  mode: SimMode,
  jobs: number,
  onResult: (options: SeedOptions, r: SimResult | Error, cpuMs: number) => void,
  heapRecycleBytes = WORKER_HEAP_RECYCLE_BYTES,
): Promise<{ workers: number }> {
  let next = 0;
  let workers = 0;
  const children = new Set<ChildProcess>();
  const startWorker = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const child = fork(WORKER_PATH, [], { execArgv: ["--import", TSX_LOADER] });
      workers++;
      children.add(child);
      let pending: SeedOptions | undefined;
      let recycle = false;
      const feed = (): void => {
        const options = recycle ? undefined : requests[next++];
        pending = options;
        if (options === undefined) {
          child.disconnect();
          return;
        }
        child.send({ options, mode } satisfies WorkerRequest);
      };
      child.on("message", (m: WorkerReply) => {
        if (pending === undefined || m.seed !== pending.seed) return;
        if ("result" in m) {
          onResult(pending, m.result, m.cpuMs);
          // Above the bound: this worker stops and a fresh one takes the next seeds.
          recycle = m.heapBytes > heapRecycleBytes && next < requests.length;
        } else onResult(pending, new Error(m.error), 0);
        feed();
      });
      child.on("exit", (code, signal) => {
        children.delete(child);
        if (pending !== undefined)
          reject(new Error(`worker exited (${code ?? signal}) while running seed ${pending.seed}`));
        else if (recycle) startWorker().then(resolve, reject);
        else resolve();
      });
      child.on("error", reject);
      feed();
    });
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, requests.length) }, startWorker));
    return { workers };
  } finally {
    for (const child of children) child.kill();
  }
}
