// The CI's whole-federation seed plan (federation-sweep.test.ts), in its own module so that a
// script can run or measure it too.
import { faultTolerance } from "../consensus.js";
import type { SeedOptions } from "../run-seed.js";

/** Long seeds: a safety phase of this many simulated ms, so that sessions turn over many times. */
export const LONG_SAFETY_MS = 30_000;

/** Seeds long sweeps found violations in, replayed in every CI sweep once fixed (as the CLI runs them). */
export const FOUND_SEEDS: readonly SeedOptions[] = [
  // `npm run sim -- --seeds 2000 --nodes 4 --byzantine 1`: a lagging guardian's unknown_input and a
  // Byzantine lie taken for the rejection of a valid spend (wallets.ts NOT_YET).
  { seed: 214, nodes: 4, byzantine: 1 },
];

/**
 * The sweep: mostly N = 4 with one Byzantine guardian (safety phases of 2-4 s), some N = 5 and 6
 * with one and N = 7 with two (2-3 s), and long seeds at N = 4 and 5 (30 s of faults).
 * Seeds 10001 on, apart from federation.test.ts's; then FOUND_SEEDS.
 */
export function federationSweepPlan(): SeedOptions[] {
  const plan: SeedOptions[] = [];
  const add = (count: number, nodes: number, safetyMs: (i: number) => number): void => {
    for (let i = 0; i < count; i++) {
      plan.push({
        seed: 10_001 + plan.length,
        nodes,
        byzantine: faultTolerance(nodes),
        safetyMs: safetyMs(i),
      });
    }
  };
  add(800, 4, (i) => 2_000 + (i % 3) * 1_000);
  add(40, 5, (i) => 2_000 + (i % 3) * 1_000);
  add(40, 6, (i) => 2_000 + (i % 2) * 1_000);
  add(110, 7, (i) => 2_000 + (i % 2) * 1_000);
  add(6, 4, () => LONG_SAFETY_MS);
  add(4, 5, () => LONG_SAFETY_MS);
  plan.push(...FOUND_SEEDS);
  return plan;
}
