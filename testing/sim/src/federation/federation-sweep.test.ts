// The CI's share of whole-federation seeds (issue 11: >= 1,000 seeds with Byzantine guardians in
// the suite's budget): the real processor, dummy and mint modules, wallets and money checkers on
// every honest guardian, every consensus attack and the module-level lies of Byzantine guardians.
// Spread over child processes (parallel.ts): the suite runs this file in one vitest worker, and a
// seed is a pure function of its options, so which process runs it changes nothing. A failing seed
// prints the command that replays it alone (`npm run sim -- --seed S ... --verbose`).
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { runParallel } from "../parallel.js";
import { LONG_SAFETY_MS, federationSweepPlan } from "./sweep-plan.js";

const JOBS = Math.max(1, Math.min(4, availableParallelism()));

describe("the whole federation: the CI sweep", () => {
  const plan = federationSweepPlan();

  it(
    `finds no violation in ${plan.length} seeds with Byzantine guardians (N = 4..7, f of them Byzantine)`,
    async () => {
      const violations: string[] = [];
      const totals: Record<string, number> = {};
      let runs = 0;
      let heights = 0;
      let simulatedMs = 0;
      let cpuMs = 0;
      const longSessions: number[] = [];
      let crashes = 0;
      let partitions = 0;
      const started = performance.now();
      await runParallel(plan, "federation", JOBS, (o, r, cpu) => {
        runs++;
        cpuMs += cpu;
        if (r instanceof Error) {
          violations.push(`seed ${o.seed}: the simulator threw: ${r.message}`);
          return;
        }
        heights += r.heights;
        simulatedMs += r.simulatedMs;
        crashes += r.faults.crashes;
        partitions += r.faults.partitions;
        if (o.safetyMs === LONG_SAFETY_MS) longSessions.push(Math.floor(r.heights / r.heightsPerSession));
        for (const [k, v] of Object.entries(r.application)) totals[k] = (totals[k] ?? 0) + v;
        for (const v of r.violations) violations.push(`${v}\n  replay: ${r.replay} --verbose`);
      });
      const wallS = (performance.now() - started) / 1000;
      console.log(
        `federation sweep: ${runs} seeds on ${JOBS} processes, ${violations.length} violations, ` +
          `${heights} heights (${(heights / runs).toFixed(1)} per seed), ${(simulatedMs / 1000).toFixed(0)} simulated s, ` +
          `${wallS.toFixed(0)} s wall, ${(cpuMs / 1000).toFixed(0)} s CPU (${(cpuMs / runs).toFixed(0)} ms per seed), ` +
          `sessions in the long seeds ${longSessions.sort((a, b) => a - b).join(",")}, ${totals["opsDone"]} wallet operations, ` +
          `${crashes} crashes, ${partitions} partitions; federation figures ${JSON.stringify(totals)}`,
      );
      expect(violations).toEqual([]);
      expect(runs).toBe(plan.length);
      // What the seeds went through (a sweep that exercised nothing would find nothing).
      expect(heights).toBeGreaterThan(plan.length * 10);
      // The long seeds: sessions turned over many times (fewer where faults stalled consensus for long).
      expect(longSessions.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10 * longSessions.length);
      expect(Math.max(...longSessions)).toBeGreaterThanOrEqual(40);
      expect(crashes).toBeGreaterThan(plan.length / 10);
      expect(partitions).toBeGreaterThan(0);
      const at = (k: string): number => totals[k] ?? 0;
      // 1,000 seeds of 2026-12-06: 4,033 wallet operations, 13 double spends, 5,513 Byzantine lies.
      expect(at("opsDone")).toBeGreaterThan(plan.length);
      for (const k of [
        "notesIssued",
        "notesSpent",
        "doubleSpends",
        "opsRejected",
        "resubmits",
        "badShares",
        "byzMalleated",
        "badSignatureCopies",
        "byzLies",
        "byzFlood",
      ])
        expect(at(k), k).toBeGreaterThan(0);
      expect(at("moneyChecks")).toBeGreaterThan(heights);
    },
    30 * 60_000,
  );
});
