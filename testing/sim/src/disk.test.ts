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

  it("writes the federation state in the decided block's transaction: a power cut takes both or neither", () => {
    const disk = new SimDisk(0, 4);
    const decided = (height: number): PersistOp => ({
      kind: "decided",
      decided: { height, round: 0, blockId: Uint8Array.of(height), block: new Uint8Array(), certificate: [] },
      chain: {
        height: height + 1,
        lastBlockId: Uint8Array.of(height),
        originSeq: [0, 0, 0, 0],
        sessionsSigned: 0,
      },
    });
    const seen: number[] = [];
    disk.onDecided = (d, db) => {
      seen.push(d.height);
      db.put(Uint8Array.of(1), Uint8Array.of(d.height));
      db.put(Uint8Array.of(2, d.height), Uint8Array.of(1));
    };
    disk.apply([decided(0)], true);
    disk.apply([decided(1)], false);
    expect(disk.height).toBe(2);
    expect(disk.state.get(Uint8Array.of(1))).toEqual(Uint8Array.of(1));
    expect(disk.powerCut()).toBe(1);
    // Block 1 and its writes are gone together; block 0's stay.
    expect(disk.height).toBe(1);
    expect(disk.state.get(Uint8Array.of(1))).toEqual(Uint8Array.of(0));
    expect(disk.state.get(Uint8Array.of(2, 1))).toBeUndefined();
    expect(disk.state.get(Uint8Array.of(2, 0))).toEqual(Uint8Array.of(1));
    // A failure inside the block's processing aborts the whole transaction.
    disk.onDecided = () => {
      throw new Error("audit failed");
    };
    expect(() => disk.apply([decided(1)], true)).toThrow("audit failed");
    expect(disk.height).toBe(1);
    expect(seen).toEqual([0, 1]);
  });
});
