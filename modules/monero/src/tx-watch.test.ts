// The monero-tx watch's depth arithmetic without a node: a block mined between the watch's two reads
// (where the txid is, then the node's height) never makes it tell "in a block, 0 confirmations" (the
// CI run of 91fe165 saw that from the regtest file: its poll read the height, then found the txid
// in a block the height did not count yet).
import { describe, expect, it } from "vitest";
import {
  MONERO_TX_CONFIRMATIONS_TOLD_MAX,
  MONERO_TX_KIND,
  MoneroTxWatches,
  txDepthState,
} from "./tx-watch.js";
import type { TxDepthSource } from "./tx-watch.js";

const txid = "cd".repeat(32);

describe("monero-tx depth", () => {
  it("a transaction in a block has at least 1 confirmation, at most the told maximum", () => {
    const at = { found: true, inPool: false, blockHeight: 81 } as const;
    expect(txDepthState(txid, 81, at)).toEqual({ txid, state: "block", blockHeight: 81, confirmations: 1 });
    expect(txDepthState(txid, 80, at)["confirmations"]).toBe(1);
    expect(txDepthState(txid, 82, at)["confirmations"]).toBe(1);
    expect(txDepthState(txid, 84, at)["confirmations"]).toBe(3);
    expect(txDepthState(txid, 10_000, at)["confirmations"]).toBe(MONERO_TX_CONFIRMATIONS_TOLD_MAX);
    expect(txDepthState(txid, 81, { found: true, inPool: true })).toEqual({
      txid,
      state: "pool",
      confirmations: 0,
    });
    expect(txDepthState(txid, 81, { found: false })).toEqual({ txid, state: "unknown", confirmations: 0 });
  });

  it("a block mined while the watch reads is told as 1 confirmation, never 0", async () => {
    // A node whose chain grows by one block, holding the txid, at the first call of either kind.
    let height = 81;
    let mined = false;
    const mine = () => {
      if (mined) return;
      mined = true;
      height = 82;
    };
    const source: TxDepthSource = {
      height: () => {
        const h = height;
        mine();
        return Promise.resolve(h);
      },
      transactions: (txids) => {
        const where = mined
          ? ({ found: true, inPool: false, blockHeight: 81 } as const)
          : ({ found: true, inPool: true } as const);
        mine();
        return Promise.resolve(new Map(txids.map((t) => [t, where] as const)));
      },
    };
    const watches = new MoneroTxWatches(source, 1_000_000);
    const told: unknown[] = [];
    const h = watches.watch(MONERO_TX_KIND, txid, (s) => told.push(s));
    const now = await h.current();
    // Read in either order, the block arrives between the calls: pool then 82, or 81 then block 81.
    expect([
      { txid, state: "pool", confirmations: 0 },
      { txid, state: "block", blockHeight: 81, confirmations: 1 },
    ]).toContainEqual(now);
    await watches.refresh();
    expect(await watches.watch(MONERO_TX_KIND, txid, () => {}).current()).toEqual({
      txid,
      state: "block",
      blockHeight: 81,
      confirmations: 1,
    });
    h.unsubscribe();
  });
});
