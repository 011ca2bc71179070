import { describe, expect, it } from "vitest";
import { Step } from "./consensus.js";
import type { PersistOp } from "./consensus.js";
import { SimDisk } from "./disk.js";

const roundOp = (round: number): PersistOp => ({
  kind: "round",
  round: {
    height: 0,
    round,
    step: Step.Propose,
    lockedRound: -1,
    lockedBlock: null,
    validRound: -1,
    validBlock: null,
    sent: [],
  },
});

describe("simulated disk", () => {
  it("keeps every committed transaction through a process crash, and only flushed ones through a power cut", () => {
    const disk = new SimDisk(0, 4);
    disk.apply([roundOp(1)], false);
    disk.apply([roundOp(2)], true); // a synced commit flushes the lazy one before it too
    disk.apply([roundOp(3)], false);
    disk.apply([roundOp(4)], false);
    expect(disk.load(4, 0, 4).round?.round).toBe(4);
    expect(disk.unflushedCount).toBe(2);
    expect(disk.powerCut()).toBe(2);
    expect(disk.load(4, 0, 4).round?.round).toBe(2);
    expect(disk.powerCut()).toBe(0);
    disk.apply([roundOp(5)]); // sync unless told otherwise
    expect(disk.powerCut()).toBe(0);
    expect(disk.load(4, 0, 4).round?.round).toBe(5);
  });
});
