import { describe, expect, it } from "vitest";
import { UsageError, modeFlags, parseSimArgs } from "./cli-args.js";
import { SIM_MODES } from "./run-seed.js";

const refused = (argv: string[]): string => {
  try {
    parseSimArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
};

describe("the simulator CLI's arguments", () => {
  it("reads a long run's options and defaults the rest", () => {
    const a = parseSimArgs(["--seeds", "2000", "--nodes", "4", "--byzantine", "1", "--jobs", "2"]);
    expect(a).toMatchObject({ seeds: 2000, from: 1, single: false, nodes: 4, byzantine: 1, jobs: 2 });
    expect(a.mode).toBe("federation");
    expect(a.bugs).toEqual([]);
    expect(a.quorumDelta).toBeUndefined();
    expect(a.progress).toBeUndefined();
  });

  it("reads a replay line as the simulator prints it, negative quorum delta and repeated bugs included", () => {
    const a = parseSimArgs([
      ...["--seed", "7", "--nodes", "5", "--byzantine", "1", "--consensus-only"],
      ...["--quorum-delta", "-1", "--bug", "skipVoteSync", "--bug", "skipVoteSync", "--safety-ms", "4000"],
    ]);
    expect(a).toMatchObject({ seeds: 1, from: 7, single: true, quorumDelta: -1, safetyMs: 4000 });
    expect(a.mode).toBe("consensus");
    expect(a.bugs).toEqual(["skipVoteSync"]);
    expect(parseSimArgs(["--quorum-delta=-2"]).quorumDelta).toBe(-2);
  });

  it("names one world per run, and every world's flags parse back to it", () => {
    for (const mode of SIM_MODES) {
      const flags = modeFlags(mode)
        .split(" ")
        .filter((f) => f !== "");
      expect(parseSimArgs(flags).mode, mode).toBe(mode);
    }
    expect(parseSimArgs(["--monero", "--evm"]).mode).toBe("evm-monero");
  });

  it("refuses what it cannot run, with the flag named", () => {
    expect(refused(["--seedz", "3"])).toMatch(/seedz/);
    expect(refused(["--seeds"])).toMatch(/seeds/);
    expect(refused(["--seeds", "ten"])).toBe("--seeds needs an integer");
    expect(refused(["--seeds", "0"])).toBe("--seeds must be in 1..1000000000");
    expect(refused(["--nodes", "2"])).toMatch(/^--nodes must be in/);
    expect(refused(["--bug", "no-such-bug"])).toMatch(/^--bug needs one of /);
    expect(refused(["--seed", "3", "--seeds", "10"])).toMatch(/not with --seeds/);
    expect(refused(["--seed", "3", "--progress", "p.json"])).toMatch(/not --seed/);
    expect(refused(["--nodes", "4", "--byzantine", "4"])).toBe("--byzantine must be below --nodes");
    expect(refused(["--byzantine", "9"])).toMatch(/needs --nodes/);
    expect(refused(["stray"])).toMatch(/stray/);
    expect(refused(["--monero-notes", "--monero-garbage"])).toMatch(/two worlds/);
    expect(refused(["--evm", "--monero", "--monero-notes"])).toMatch(/world of its own/);
    expect(refused(["--evm", "--consensus-only"])).toMatch(/two worlds/);
  });
});
