// The seed sweeps the test suite runs: many seeds per federation size, every Byzantine count from
// 0 to f, with safety phases sized so that the whole suite fits in a few minutes on two cores.
import { faultTolerance } from "./consensus.js";
import { runSimulation } from "./simulator.js";
import type { SimOptions, SimResult } from "./simulator.js";

export interface SweepTotals {
  runs: number;
  heights: number;
  rounds: number;
  crashes: number;
  midFlushCrashes: number;
  powerCuts: number;
  writesLost: number;
  restarts: number;
  partitions: number;
  /** Most simulated ms any run needed, after the network healed, until everything was committed. */
  worstConvergenceMs: number;
  /** Honest engines' counters summed over all runs (drops by reason, evidence...). */
  honest: Record<string, number>;
  byzantineEquivocations: number;
  byzantineInjected: number;
  byzantineCorrupted: number;
  /** Lock attacks made (lock-attacks.ts) and hold-then-release attacks on honest guardians. */
  amnesias: number;
  lockViolations: number;
  fakeValidRounds: number;
  holds: number;
  /** What the signing checkers judged: honest precommits' proofs of lock, prevotes against a lock. */
  precommitsJustified: number;
  lockedPrevotesChecked: number;
  /** Most heights an available item waited (censorship bound), largest future buffer of one peer. */
  worstWaitHeights: number;
  futureBytesPerPeer: number;
}

export function emptyTotals(): SweepTotals {
  return {
    runs: 0,
    heights: 0,
    rounds: 0,
    crashes: 0,
    midFlushCrashes: 0,
    powerCuts: 0,
    writesLost: 0,
    restarts: 0,
    partitions: 0,
    worstConvergenceMs: 0,
    honest: {},
    byzantineEquivocations: 0,
    byzantineInjected: 0,
    byzantineCorrupted: 0,
    amnesias: 0,
    lockViolations: 0,
    fakeValidRounds: 0,
    holds: 0,
    precommitsJustified: 0,
    lockedPrevotesChecked: 0,
    worstWaitHeights: 0,
    futureBytesPerPeer: 0,
  };
}

/**
 * Seeds for one federation size: Byzantine count cycling through 0..f, safety phases of 2-6 s
 * (2-4 s from N = 10 up, where a simulated second costs several times more).
 */
export function sweepPlan(nodes: number, count: number): SimOptions[] {
  const f = faultTolerance(nodes);
  return Array.from({ length: count }, (_, i) => {
    const seed = nodes * 1_000 + i;
    return {
      seed,
      nodes,
      byzantine: i % (f + 1),
      safetyMs: 2_000 + (seed % (nodes >= 10 ? 3 : 5)) * 1_000,
    };
  });
}

/** Runs the seeds; returns every violation (each names its seed and replay command) and the totals. */
export function runSweep(plan: readonly SimOptions[], totals: SweepTotals): string[] {
  const violations: string[] = [];
  for (const options of plan) {
    const r = runSimulation(options);
    add(totals, r);
    for (const v of r.violations) violations.push(`${v}\n  replay: ${r.replay}`);
  }
  return violations;
}

function add(t: SweepTotals, r: SimResult): void {
  t.runs++;
  t.heights += r.heights;
  t.rounds += r.rounds;
  t.crashes += r.faults.crashes;
  t.midFlushCrashes += r.faults.midFlushCrashes;
  t.powerCuts += r.faults.powerCuts;
  t.writesLost += r.faults.writesLost;
  t.restarts += r.faults.restarts;
  t.partitions += r.faults.partitions;
  t.worstConvergenceMs = Math.max(t.worstConvergenceMs, r.convergedAfterMs ?? Infinity);
  for (const [k, v] of Object.entries(r.honestCounters)) t.honest[k] = (t.honest[k] ?? 0) + v;
  t.byzantineEquivocations += r.byzantineStats.equivocations;
  t.byzantineInjected += r.byzantineStats.injected;
  t.byzantineCorrupted += r.byzantineStats.corrupted;
  t.amnesias += r.byzantineStats.amnesias;
  t.lockViolations += r.byzantineStats.lockViolations;
  t.fakeValidRounds += r.byzantineStats.fakeValidRounds;
  t.holds += r.faults.holds;
  t.precommitsJustified += r.signing.precommitsJustified;
  t.lockedPrevotesChecked += r.signing.lockedPrevotesChecked;
  t.worstWaitHeights = Math.max(t.worstWaitHeights, r.bounds.worstWaitHeights);
  t.futureBytesPerPeer = Math.max(t.futureBytesPerPeer, r.bounds.memoryPeak.futureBytesPerPeer);
}
