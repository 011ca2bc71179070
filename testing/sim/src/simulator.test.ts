// The simulator against the real engine: a sweep of seeds over federations of N = 4..16 (every
// Byzantine count from 0 to f) that must show no violation, the proof that the checkers do catch
// a real safety bug, and determinism. Sized to take about two minutes on this two-core machine.
import { describe, expect, it } from "vitest";
import { runSimulation } from "./simulator.js";
import { emptyTotals, runSweep, sweepPlan } from "./sweep.js";

const SEEDS_PER_N = 30;
const totals = emptyTotals();

describe("simulator sweep, N = 4..16", () => {
  for (let n = 4; n <= 16; n++) {
    it(`finds no violation in ${SEEDS_PER_N} seeds at N = ${n}`, () => {
      expect(runSweep(sweepPlan(n, SEEDS_PER_N), totals)).toEqual([]);
    });
  }

  it("exercised every kind of fault and every honest refusal on the way", () => {
    expect(totals.runs).toBe(13 * SEEDS_PER_N);
    expect(totals.heights).toBeGreaterThan(totals.runs * 5);
    expect(totals.crashes).toBeGreaterThan(100);
    expect(totals.midFlushCrashes).toBeGreaterThan(10);
    expect(totals.powerCuts).toBeGreaterThan(10);
    expect(totals.writesLost).toBeGreaterThan(0);
    expect(totals.restarts).toBeGreaterThan(100);
    expect(totals.partitions).toBeGreaterThan(50);
    expect(totals.byzantineEquivocations).toBeGreaterThan(1_000);
    expect(totals.byzantineInjected).toBeGreaterThan(1_000);
    // The attacks on locks were made, and the lock checkers had work to judge.
    expect(totals.amnesias).toBeGreaterThan(50);
    expect(totals.lockViolations).toBeGreaterThan(50);
    expect(totals.fakeValidRounds).toBeGreaterThan(50);
    expect(totals.holds).toBeGreaterThan(100);
    expect(totals.precommitsJustified).toBeGreaterThan(1_000);
    expect(totals.lockedPrevotesChecked).toBeGreaterThan(0);
    // The censorship and memory checkers saw real waits and real buffers (each within its bound).
    expect(totals.worstWaitHeights).toBeGreaterThan(1);
    expect(totals.futureBytesPerPeer).toBeGreaterThan(0);
    for (const counter of [
      "wrongProposer",
      "invalidBlock",
      "bundleOutOfWindow",
      "evidence",
      "malformed",
      "badSignature",
      "unexpected",
      "stale",
      "future",
      "invalidCertificate",
      "invalidSession",
    ]) {
      expect(totals.honest[counter] ?? 0, counter).toBeGreaterThan(0);
    }
    // Every run converged after the heal, well within the bound.
    expect(totals.worstConvergenceMs).toBeLessThan(30_000);
  });
});

describe("the checkers catch a deliberate safety bug", () => {
  // Engines that count a quorum of t - 1: two quorums no longer need to share an honest guardian,
  // and the Byzantine coalition's split votes make honest guardians commit different blocks.
  // Found with `npm run sim -- --seeds 40 --nodes N --quorum-delta -1 --safety-ms 4000`. Any change
  // to what the simulator draws moves the forks to other seeds: find them again the same way.
  const FORKING = [
    { seed: 1, nodes: 4, byzantine: 1 },
    { seed: 2, nodes: 4, byzantine: 1 },
    { seed: 3, nodes: 4, byzantine: 1 },
    { seed: 21, nodes: 5, byzantine: 1 },
    { seed: 18, nodes: 7, byzantine: 2 },
    { seed: 26, nodes: 7, byzantine: 2 },
    { seed: 21, nodes: 10, byzantine: 3 },
  ];
  for (const run of FORKING) {
    it(`reports a fork at seed ${run.seed}, N = ${run.nodes}, with a quorum of t - 1, and names the seed`, () => {
      const r = runSimulation({ ...run, quorumDelta: -1, safetyMs: 4_000 });
      const forks = r.violations.filter((v) => v.includes("fork at height"));
      expect(forks.length).toBeGreaterThan(0);
      for (const v of r.violations) expect(v.startsWith(`seed ${run.seed}: `)).toBe(true);
      expect(r.replay).toBe(
        `npm run sim -- --seed ${run.seed} --nodes ${run.nodes} --byzantine ${run.byzantine} --consensus-only --quorum-delta -1 --safety-ms 4000`,
      );
    });
  }

  it("reports an exception thrown by an honest replica as a violation, and carries on", () => {
    const r = runSimulation({ seed: 1, nodes: 4, byzantine: 1, quorumDelta: -1, safetyMs: 4_000 });
    expect(
      r.violations.some((v) =>
        /^seed 1: honest guardian \d+ threw during \w+: Error: SAFETY VIOLATION/.test(v),
      ),
    ).toBe(true);
    expect(r.simulatedMs).toBeGreaterThan(r.safetyMs);
  });
});

describe("determinism", () => {
  it("replays a seed to an identical result, trace hash included", () => {
    const options = { seed: 777, nodes: 7, byzantine: 2, safetyMs: 3_000 };
    const a = runSimulation(options);
    const b = runSimulation(options);
    expect(b).toEqual(a);
    expect(a.heights).toBeGreaterThan(0);
    expect(runSimulation({ ...options, seed: 778 }).traceHash).not.toBe(a.traceHash);
  });
});
