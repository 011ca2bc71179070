// parallel.ts: seeds spread over worker processes. A worker whose heap is above the bound after a seed
// is replaced by a fresh one; the seeds' results are the same as in one long-lived worker (runs are
// independent and deterministic; only the per-process memo caches' hit counts differ).
import { describe, expect, it } from "vitest";
import { runParallel } from "./parallel.js";
import type { SimResult } from "./simulator.js";

const SEEDS = [1, 2, 3].map((seed) => ({ seed, nodes: 4, byzantine: 1 }));

async function run(heapRecycleBytes?: number) {
  const results = new Map<number, SimResult | Error>();
  const { workers } = await runParallel(
    SEEDS,
    "consensus",
    1,
    (options, r) => results.set(options.seed, r),
    heapRecycleBytes,
  );
  const figures = SEEDS.map(({ seed }) => {
    const r = results.get(seed);
    if (r === undefined || r instanceof Error) throw new Error(`seed ${seed}: ${String(r)}`);
    return {
      seed,
      violations: r.violations,
      heights: r.heights,
      rounds: r.rounds,
      simulatedMs: r.simulatedMs,
    };
  });
  return { workers, figures };
}

describe("runParallel", () => {
  it("replaces a worker whose heap is above the bound after a seed; the seeds' results do not change", async () => {
    const kept = await run();
    expect(kept.workers).toBe(1);
    // A bound of 1 byte: every seed but the last is followed by a fresh worker.
    const recycled = await run(1);
    expect(recycled.workers).toBe(SEEDS.length);
    expect(recycled.figures).toEqual(kept.figures);
    expect(kept.figures.every((f) => f.heights > 0)).toBe(true);
  }, 120_000);
});
