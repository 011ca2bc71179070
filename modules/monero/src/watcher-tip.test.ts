// The chain watcher's tip poll (issue 13's deposit latency): between full polls (pollMs, 2 s by
// default) the node's block count alone is read every tipPollMs, and a new block runs the full poll
// at once, so a deposit that reaches its depth is attested without waiting for the rest of pollMs.
// The verdict still comes from the full poll's checks only. Fake timers: the full poll is 60 s, so
// a verdict within it can only come from a tip poll's poke.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChainWatcher } from "./watcher.js";
import type { ChainSource, SubaddressSource } from "./watcher.js";

const TXID = "ab".repeat(32);

function fakeChain(state: {
  height: number;
  heightReads: number;
  txReads: number;
  ownChecks: number;
}): ChainSource {
  return {
    height: () => {
      state.heightReads++;
      return Promise.resolve(state.height);
    },
    transaction: () => {
      state.txReads++;
      return Promise.resolve({ found: true, inPool: false, blockHeight: 10 });
    },
    proven: () => Promise.resolve({ good: true, received: 5_000n }),
    ownTransaction: () => {
      state.ownChecks++;
      return Promise.resolve({ own: false });
    },
  };
}

function watcherOn(chain: ChainSource, tipPollMs: number | undefined, onNewBlock: () => void) {
  return new ChainWatcher({
    chain,
    address: "unused",
    confirmations: 2,
    depositMin: 1n,
    pollMs: 60_000,
    ...(tipPollMs === undefined ? {} : { tipPollMs }),
    onNewBlock,
    log: () => {},
    onChange: () => {},
  });
}

describe("ChainWatcher tip poll", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("attests a deposit on the block that brings it to depth, not at the next full poll", async () => {
    const state = { height: 11, heightReads: 0, txReads: 0, ownChecks: 0 };
    let newBlocks = 0;
    const w = watcherOn(fakeChain(state), 100, () => newBlocks++);
    w.setWanted([{ txid: TXID, round: 0, proof: "00", message: "m" }]);
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    // Block count 11, the transaction in block 10: one confirmation of two, no verdict yet.
    expect(w.nodeHeight).toBe(11);
    expect(w.verdict(TXID, 0)).toBeUndefined();
    const fullPolls = state.txReads;
    // Tip polls at the same block count run no full poll.
    await vi.advanceTimersByTimeAsync(500);
    expect(state.txReads).toBe(fullPolls);
    expect(newBlocks).toBe(0);
    expect(state.heightReads).toBeGreaterThan(2);
    // The next block: the tip poll's next read (within 100 ms) runs the full poll, which attests.
    state.height = 12;
    await vi.advanceTimersByTimeAsync(150);
    expect(w.nodeHeight).toBe(12);
    expect(w.verdict(TXID, 0)).toEqual({ valid: true, amount: 5_000n, txHeight: 10 });
    expect(state.ownChecks).toBe(1);
    expect(newBlocks).toBe(1);
    await w.stop();
  });

  it("without a tip poll, the block is seen at the next full poll only", async () => {
    const state = { height: 11, heightReads: 0, txReads: 0, ownChecks: 0 };
    const w = watcherOn(fakeChain(state), undefined, () => {});
    w.setWanted([{ txid: TXID, round: 0, proof: "00", message: "m" }]);
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    state.height = 12;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(w.verdict(TXID, 0)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(w.verdict(TXID, 0)).toEqual({ valid: true, amount: 5_000n, txHeight: 10 });
    await w.stop();
  });

  it("a tip poll that fails backs off and leaves the full poll as it was", async () => {
    const state = { height: 11, heightReads: 0, txReads: 0, ownChecks: 0 };
    const chain = fakeChain(state);
    const w = watcherOn(chain, 100, () => {});
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    const reads = state.heightReads;
    chain.height = () => {
      state.heightReads++;
      return Promise.reject(new Error("node down"));
    };
    // Backed off: 200, 400, 800, 1600 ms … so far fewer than one read per 100 ms.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(state.heightReads - reads).toBeLessThan(8);
    await w.stop();
  });

  it("proposes a verdict before the subaddress scan of the same poll is done", async () => {
    const state = { height: 12, heightReads: 0, txReads: 0, ownChecks: 0 };
    let release: () => void = () => {};
    const scanning = new Promise<void>((r) => (release = r));
    let scans = 0;
    const subaddresses: SubaddressSource = {
      subaddressCount: () => Promise.resolve(2),
      createSubaddresses: (count) => Promise.resolve(2 + count),
      subaddresses: () => Promise.resolve(new Map()),
      // The wallet's refresh and get_transfers: held until the test lets it finish.
      incoming: async () => {
        scans++;
        await scanning;
        return [];
      },
    };
    const changes: (ReturnType<ChainWatcher["verdict"]> | "scanned")[] = [];
    const w: ChainWatcher = new ChainWatcher({
      chain: fakeChain(state),
      subaddresses,
      address: "unused",
      confirmations: 2,
      depositMin: 1n,
      pollMs: 60_000,
      log: () => {},
      onChange: () => changes.push(scans > 0 && changes.length > 0 ? "scanned" : w.verdict(TXID, 0)),
    });
    w.subaddresses!.setAssigned(1);
    w.setWanted([{ txid: TXID, round: 0, proof: "00", message: "m" }]);
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    // The scan has started and not finished: the height and the verdict are already told.
    expect(scans).toBe(1);
    expect(changes).toEqual([{ valid: true, amount: 5_000n, txHeight: 10 }]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    await w.stop();
  });

  it("has the wallet scan the transaction's block once before the depth, then checks it at depth", async () => {
    const state = { height: 11, heightReads: 0, txReads: 0, ownChecks: 0 };
    const scans: number[] = [];
    const chain: ChainSource = {
      ...fakeChain(state),
      scanThrough: (h) => {
        scans.push(h);
        return Promise.resolve();
      },
    };
    const w = watcherOn(chain, 100, () => {});
    w.setWanted([{ txid: TXID, round: 0, proof: "00", message: "m" }]);
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    // One confirmation of two: the block holding it is scanned now, the own check waits for depth.
    expect(scans).toEqual([10]);
    expect(state.ownChecks).toBe(0);
    expect(w.verdict(TXID, 0)).toBeUndefined();
    // Another poll at the same depth (a new claim pokes it): the first claim is not asked again,
    // the new one (its transaction in the same block here) once.
    w.setWanted([
      { txid: TXID, round: 0, proof: "00", message: "m" },
      { txid: "cd".repeat(32), round: 0, proof: "00", message: "m" },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(scans).toEqual([10, 10]);
    state.height = 12;
    await vi.advanceTimersByTimeAsync(150);
    expect(state.ownChecks).toBeGreaterThan(0);
    expect(w.verdict(TXID, 0)).toEqual({ valid: true, amount: 5_000n, txHeight: 10 });
    await w.stop();
  });
});
