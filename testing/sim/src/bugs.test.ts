// The simulator tests itself: each deliberate bug (ConsensusConfig.faultInjection, switched on by
// this harness only) must be caught, as a violation that names the seed, within the CI seed budget.
// The seeds that catch each bug, and how many of 200 do, are in docs/simulator.md; any change to
// what the simulator draws moves them (find them again with `npm run sim -- --seeds 200 --nodes 4
// --byzantine 1 --consensus-only --bug NAME`).
import { describe, expect, it } from "vitest";
import { runSimulation } from "./simulator.js";
import type { SimBug } from "./simulator.js";

/** Seeds tried per bug before the test gives up (each costs about 0.5 s at N = 4). */
const SEED_BUDGET = 12;

const BUGS: { bug: SimBug; caughtAs: RegExp; what: string }[] = [
  {
    bug: "ignoreLock",
    caughtAs: /locked on block \w+ since round \d+ of height \d+, prevoted block \w+ in round \d+/,
    what: "a prevote against its lock with no later proof of lock",
  },
  {
    bug: "skipVoteSync",
    caughtAs: /honest guardian \d+ signed two different (prevotes|precommits|proposals) for height/,
    what: "a power cut loses a vote that was sent, and the guardian signs another one for its slot",
  },
  {
    bug: "forgetRoundOnRestart",
    caughtAs:
      /honest guardian \d+ signed two different (prevotes|precommits|proposals) for height|honest guardian \d+, locked on block \w+ since round \d+ of height \d+, prevoted block/,
    what: "a restarted guardian signs again for a slot it signed, or votes against the lock it forgot",
  },
];

/** The seed that caught each bug: without the bug it must show no violation. */
const catchingSeeds = new Set<number>();

describe("every deliberate bug is caught within the CI seed budget", () => {
  for (const { bug, caughtAs, what } of BUGS) {
    it(`${bug}: caught as ${what}, with the replay command`, () => {
      let caught: { seed: number; violations: readonly string[]; replay: string } | undefined;
      for (let seed = 1; seed <= SEED_BUDGET && caught === undefined; seed++) {
        const r = runSimulation({ seed, nodes: 4, byzantine: 1, bugs: [bug] });
        if (r.violations.length > 0) caught = { seed, violations: r.violations, replay: r.replay };
      }
      expect(caught, `${bug} not caught in seeds 1..${SEED_BUDGET}`).toBeDefined();
      const { seed, violations, replay } = caught!;
      catchingSeeds.add(seed);
      expect(violations.some((v) => caughtAs.test(v))).toBe(true);
      for (const v of violations) expect(v.startsWith(`seed ${seed}: `)).toBe(true);
      expect(replay).toBe(
        `npm run sim -- --seed ${seed} --nodes 4 --byzantine 1 --consensus-only --bug ${bug}`,
      );
    });
  }

  it("the seeds that caught them show no violation without the bugs", () => {
    expect(catchingSeeds.size).toBeGreaterThan(0);
    for (const seed of catchingSeeds) {
      expect(runSimulation({ seed, nodes: 4, byzantine: 1 }).violations).toEqual([]);
    }
  });
});
