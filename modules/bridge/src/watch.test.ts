// The bridge's watches (watch.ts) on four guardians' processors in memory (federation-fixture.ts):
// a wXMR mint by TXID:OUTPUT and a burn by 0xHASH:LOGINDEX, each told its state now first, then
// every change as blocks are committed; malformed keys, unknown kinds and a flood of keys refused.
import { describe, expect, it } from "vitest";
import { buildTransaction, toHex, transactionId } from "@conclave/core-common";
import type { WatchState } from "@conclave/core-server";
import { sha256 } from "@conclave/core-server";
import { faucetInput } from "@conclave/module-dummy";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeAddress } from "@conclave/monero";
import { BURN_TO_MONERO, encodeBridgeItem, encodeMintOutput } from "./common.js";
import type { BurnSeen } from "./common.js";
import { BRIDGE, DUMMY, federation, testConfig } from "./federation-fixture.js";
import { WXMR_BURN_KIND, WXMR_MINT_KIND, WXMR_WATCH_KEYS_MAX } from "./watch.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const scanned = (from: number, block: bigint, timestamp: bigint) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block, timestamp }),
});
const burn: BurnSeen = {
  txHash: new Uint8Array(32).fill(0xb7),
  logIndex: 3,
  blockNumber: 10n,
  burnId: 1n,
  from: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  amount: 5_000n,
  burnKind: BURN_TO_MONERO,
  destination: new TextEncoder().encode(
    encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
    }),
  ),
};
const vote = (from: number) => ({ from, payload: encodeBridgeItem({ kind: "burn", ...burn }) });

function withAgreedTime() {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, 1_000_000n)));
  fed.agreeFeeRate(1);
  return fed;
}

describe("bridge watches: wxmr-mint and wxmr-burn", () => {
  it("a refundable mint: unknown first, then open when its transaction is accepted, then due past its deadline", async () => {
    const fed = withAgreedTime();
    const g = fed.guardians[1]!.bridge;
    const tx = buildTransaction(
      [faucetInput(DUMMY, 7_000_000_000n)],
      [
        {
          module: BRIDGE,
          amount: 7_000_000_000n,
          payload: encodeMintOutput(RECIPIENT, ed25519.getPublicKey(new Uint8Array(32).fill(3))),
        },
      ],
      [],
      sha256,
    );
    const txid = toHex(transactionId(tx, sha256));
    const told: WatchState[] = [];
    const h = g.watchable.watch(WXMR_MINT_KIND, `${txid}:0`, (s) => told.push(s));
    expect(await h.current()).toEqual({ state: "unknown" });

    expect(fed.block([], [tx]).events[0]!.status.state).toBe("accepted");
    await g.watchable.refresh();
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      state: "open",
      recipient: RECIPIENT,
      amount: "7000000000",
      deadline: "1003600",
      guardian: 1,
    });
    // A watch's state carries no signature: the client fetches it (GET mints/:txid/:index) when it needs it.
    expect(told[0]).not.toHaveProperty("signature");

    // Blocks that change nothing of the mint tell nothing.
    fed.block([0, 1, 2, 3].map((i) => scanned(i, 21n, 1_000_010n)));
    await g.watchable.refresh();
    expect(told).toHaveLength(1);

    // The agreed EVM time passes the deadline: due.
    fed.block([0, 1, 2, 3].map((i) => scanned(i, 30n, 1_003_601n)));
    await g.watchable.refresh();
    expect(told.map((s) => s["state"])).toEqual(["open", "due"]);
    // A later watch gets the state now first.
    const later = g.watchable.watch(WXMR_MINT_KIND, `${txid}:0`, () => {});
    expect(await later.current()).toMatchObject({ state: "due", expiry: { state: "due", votesRequired: 3 } });
    h.unsubscribe();
    later.unsubscribe();
    expect(g.watchable.size).toBe(0);
  });

  it("a burn: unknown first, then each vote, then accepted with its payout", async () => {
    const fed = withAgreedTime();
    const g = fed.guardians[0]!.bridge;
    const told: WatchState[] = [];
    const key = `0x${toHex(burn.txHash)}:${burn.logIndex}`;
    const h = g.watchable.watch(WXMR_BURN_KIND, key, (s) => told.push(s));
    expect(await h.current()).toMatchObject({ state: "unknown", votes: 0, logIndex: 3 });
    for (const from of [3, 0, 1]) {
      fed.block([vote(from)]);
      await g.watchable.refresh();
    }
    expect(told.map((s) => [s["state"], s["votes"]])).toEqual([
      ["voting", 1],
      ["voting", 2],
      ["accepted", 3],
    ]);
    expect(told[2]).toMatchObject({ settlement: "payout", payout: { state: "queued", amount: "2000" } });
    // A late equal vote changes nothing: nothing told.
    fed.block([vote(2)]);
    await g.watchable.refresh();
    expect(told).toHaveLength(3);
    h.unsubscribe();
  });

  it("refuses malformed keys and kinds it does not offer with clear errors, and a flood of keys past its bound", () => {
    const fed = withAgreedTime();
    const w = fed.guardians[0]!.bridge.watchable;
    expect(() => w.watch(WXMR_MINT_KIND, "ab".repeat(32), () => {})).toThrow(/TXID:OUTPUT/);
    expect(() => w.watch(WXMR_MINT_KIND, `${"AB".repeat(32)}:0`, () => {})).toThrow(/TXID:OUTPUT/);
    expect(() => w.watch(WXMR_BURN_KIND, `${"ab".repeat(32)}:0`, () => {})).toThrow(/0xTXHASH:LOGINDEX/);
    expect(() => w.watch(WXMR_BURN_KIND, `0x${"ab".repeat(32)}:99999999999`, () => {})).toThrow(
      /0xTXHASH:LOGINDEX/,
    );
    expect(() => w.watch("wxmr-other", "x", () => {})).toThrow(/no watch of kind/);
    // Distinct keys are bounded per guardian; the same key again shares its entry.
    const handles = Array.from({ length: WXMR_WATCH_KEYS_MAX }, (_, i) =>
      w.watch(WXMR_BURN_KIND, `0x${"cd".repeat(32)}:${i}`, () => {}),
    );
    w.watch(WXMR_BURN_KIND, `0x${"cd".repeat(32)}:0`, () => {}).unsubscribe();
    expect(() => w.watch(WXMR_BURN_KIND, `0x${"cd".repeat(32)}:${WXMR_WATCH_KEYS_MAX}`, () => {})).toThrow(
      expect.objectContaining({ code: "too_many_watches" }),
    );
    handles[0]!.unsubscribe();
    expect(() =>
      w.watch(WXMR_BURN_KIND, `0x${"cd".repeat(32)}:${WXMR_WATCH_KEYS_MAX}`, () => {}),
    ).not.toThrow();
  });
});
