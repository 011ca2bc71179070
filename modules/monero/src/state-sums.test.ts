// The module's cumulative sums (issue 10, item 9): Σ deposits spent into the federation
// (state.ts totals.deposited), Σ credited and unspent (creditedOutstanding) and Σ payouts with their
// fees (payouts.ts paidOut) grow with the federation's whole volume. Each amount is a u64, but their
// sums pass 2^64 piconero (18.4 million XMR): encoded as u64, processBlock threw at every guardian
// alike from that block on (the chain halted). They are u128 now; records of the u64 format still read.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Writer, encodeConsensusItem } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { buildTransaction } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { depositInput } from "./client.js";
import { claimProof, encodeMoneroItem } from "./common.js";
import type { MoneroConfig, MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { encodePayoutOutput } from "./payout-common.js";
import { MoneroServerModule } from "./server.js";
import { MoneroState, MoneroStateWriter, U128_MAX, readU128, writeU128 } from "./state.js";
import { Reader } from "@conclave/core-common";

const MONERO = 2;
const N = 4;
const address = (seed: number) =>
  encodeAddress({
    network: "mainnet",
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed + 1)),
  });
const FEDERATION = address(7);
const USER = address(20);
const CONFIG: MoneroConfig = parseMoneroConfig({
  network: "mainnet",
  address: FEDERATION,
  guardians: N,
  confirmations: 1,
  payoutFeeBytes: 100,
  payoutFeeMinPiconero: "100",
});
const FEE = 100n;
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const TX_KEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);
/** Three quarters of 2^64 piconero: two of them pass 2^64. */
const BIG = (3n << 64n) / 4n;

describe("cumulative sums past 2^64 piconero", () => {
  it("processBlock keeps working at every guardian: deposits spent and paid out total 3 × 0.75 × 2^64, the audit and the sums exact", () => {
    const guardians = Array.from({ length: N }, () => {
      const monero = new MoneroServerModule(MONERO, CONFIG);
      const p = new FederationProcessor([monero], { verifier: new NodeVerifier(), hash: sha256 });
      return { db: new MemoryKv(), p, monero };
    });
    let height = 0;
    const block = (items: readonly { from: number; item: MoneroItem }[], txs: Transaction[] = []) => {
      const bundles = Array.from({ length: N }, (_, origin) => ({
        origin,
        items: items
          .filter((i) => i.from === origin)
          .map((i) =>
            encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(i.item) }),
          ),
      }));
      bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
      const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
      height++;
      for (const r of results) expect(r.auditFailure).toBeUndefined();
      return results[0]!;
    };
    const all = <T extends MoneroItem>(item: T) => Array.from({ length: N }, (_, from) => ({ from, item }));
    block([...all({ kind: "height", height: 100 }), ...all({ kind: "fee_rate", perByte: 1 })]);
    const owed = () => guardians.map((g) => g.monero.owed(g.p.moduleReadDb(g.db, MONERO)));
    for (let i = 1; i <= 3; i++) {
      const txid = new Uint8Array(32).fill(i);
      const proof = claimProof({
        federationAddress: FEDERATION,
        txid,
        txKey: TX_KEY,
        claimKey: alice.publicKey,
      });
      block([{ from: 0, item: { kind: "claim", txid, claimKey: alice.publicKey, proof } }]);
      const verdict = { valid: true as const, amount: BIG, txHeight: 90 };
      block([0, 1, 2].map((from) => ({ from, item: { kind: "attest" as const, txid, round: 1, verdict } })));
      // Credited and unspent: Σ credited is 0.75 × 2^64 each time (and 1.5 × 2^64 if two were).
      expect(owed()[0]!.credited).toBe(BIG);
      // Spent into a payout of the whole deposit (the fee included): deposited and paidOut both grow by BIG.
      const tx = buildTransaction(
        [depositInput(MONERO, BIG, txid)],
        [{ module: MONERO, amount: BIG - FEE, payload: encodePayoutOutput(USER, FEE) }],
        [alice],
        sha256,
      );
      const r = block([], [tx]);
      expect(r.events[0]!.status.state).toBe("accepted");
    }
    for (const g of guardians) {
      const state = new MoneroState(g.p.moduleReadDb(g.db, MONERO));
      expect(state.totals()).toEqual({ deposited: 3n * BIG, count: 3n });
      expect(g.monero.payouts.paidOut(g.p.moduleReadDb(g.db, MONERO))).toBe(3n * BIG);
    }
    expect(3n * BIG).toBeGreaterThan(1n << 65n);
    for (const o of owed())
      expect({ ecashBacking: o.ecashBacking, credited: o.credited }).toEqual({
        ecashBacking: 0n,
        credited: 0n,
      });
    // And the chain goes on.
    expect(block(all({ kind: "height", height: 101 })).moduleItemErrors).toBe(0);
  });

  it("reads records written in the u64 format (16-byte totals, 8-byte credited sum)", () => {
    const db = new MemoryKv();
    db.put(Uint8Array.of(0x07), new Writer().u64big(12_345n).u64big(3n).finish());
    db.put(Uint8Array.of(0x1f), new Writer().u64big(777n).finish());
    const state = new MoneroStateWriter(db);
    expect(state.totals()).toEqual({ deposited: 12_345n, count: 3n });
    expect(state.creditedOutstanding()).toBe(777n);
    // Written back as u128, read as the same values.
    state.setTotals({ deposited: (1n << 64n) + 12_345n, count: 4n });
    state.addCreditedOutstanding(1n << 64n);
    expect(state.totals()).toEqual({ deposited: (1n << 64n) + 12_345n, count: 4n });
    expect(state.creditedOutstanding()).toBe((1n << 64n) + 777n);
  });

  it("u128 round trips at its bounds and refuses a negative or larger sum (a bug, never a peer's input)", () => {
    for (const v of [0n, 1n, (1n << 64n) - 1n, 1n << 64n, U128_MAX])
      expect(readU128(new Reader(writeU128(new Writer(), v).finish()))).toBe(v);
    expect(() => writeU128(new Writer(), -1n)).toThrow(/outside u128/);
    expect(() => writeU128(new Writer(), U128_MAX + 1n)).toThrow(/outside u128/);
  });
});
