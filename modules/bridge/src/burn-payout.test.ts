// Kind-0 burns paid in Monero: an accepted burn to a Monero address is handed, in the same state
// transition, to the monero module's payout queue through the core's module links (four guardians'
// processors in memory, each with the real mint, monero and bridge modules; federation-fixture.ts
// checks that every guardian decides the same and that no block fails the audit).
// burn-payout-regtest.test.ts runs the same hand-over to a real payout on monerod and anvil.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildTransaction, toHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { faucetInput } from "@conclave/module-dummy";
import { PayoutParamsSchema, PayoutStatusSchema, requestOutPoint } from "@conclave/module-monero";
import { encodeAddress } from "@conclave/monero";
import { BURN_TO_MONERO, encodeBridgeItem, encodeMintOutput } from "./common.js";
import type { BurnSeen } from "./common.js";
import { burnPayoutRef } from "./eip712-mint.js";
import {
  BRIDGE,
  DUMMY,
  FEDERATION_MONERO_ADDRESS,
  MONERO,
  auditFigures,
  federation,
  moneroPayouts,
  testConfig,
} from "./federation-fixture.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BURNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const keyOf = (b: number) => ed25519.getPublicKey(new Uint8Array(32).fill(b));
const USER_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: keyOf(7),
  publicViewKey: keyOf(8),
});
const THIEF_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: keyOf(9),
  publicViewKey: keyOf(10),
});
/** Fee rate 1 piconero per byte: a payout's fee is max(100, 1 × 3000) = 3,000 piconero. */
const FEE = 3_000n;

const burn = (over: Partial<BurnSeen> = {}): BurnSeen => ({
  txHash: new Uint8Array(32).fill(0xb1),
  logIndex: 0,
  blockNumber: 10n,
  burnId: 1n,
  from: BURNER,
  amount: 400_000n,
  burnKind: BURN_TO_MONERO,
  destination: new TextEncoder().encode(USER_ADDRESS),
  ...over,
});
const vote = (from: number, b: BurnSeen) => ({ from, payload: encodeBridgeItem({ kind: "burn", ...b }) });
const scanned = (from: number) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block: 20n, timestamp: 1_000_000n }),
});

/** Agreed EVM time, agreed fee rate (unless `feeRate` is 0), and 1,000,000 piconero of wXMR signed. */
function funded(feeRate = 1) {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map(scanned));
  if (feeRate > 0) fed.agreeFeeRate(feeRate);
  const mint = buildTransaction(
    [faucetInput(DUMMY, 1_000_000n)],
    [{ module: BRIDGE, amount: 1_000_000n, payload: encodeMintOutput(RECIPIENT) }],
    [],
    sha256,
  );
  expect(fed.block([], [mint]).events[0]!.status.state).toBe("accepted");
  return fed;
}

const figures = auditFigures;
const payouts = moneroPayouts;

describe("bridge: a burn to a Monero address becomes a payout of the monero module", () => {
  it("hands the accepted burn over in the same block: fee deducted, the liability moves from bridge to monero, counted once", () => {
    const fed = funded();
    const before = figures(fed);
    expect(before.bridge.liabilities).toBe(1_000_000n);
    const b = burn();
    fed.block([vote(0, b), vote(1, b)]);
    // Voting: nothing moved yet.
    expect(figures(fed)).toEqual(before);
    expect(payouts(fed).counters.nextSeq).toBe(0);
    fed.block([vote(2, b)]);
    const after = figures(fed);
    // The bridge owes 400,000 less (the wXMR is burned and not owed as a burn either) and the
    // monero module's assets fell by the same 400,000 (payout 397,000 + fee 3,000 paid out).
    expect(after.bridge.liabilities).toBe(before.bridge.liabilities - b.amount);
    expect(after.monero.assets).toBe(before.monero.assets - b.amount);
    expect(after.assets - after.liabilities).toBe(before.assets - before.liabilities);
    const { counters, records } = payouts(fed);
    expect(counters.nextSeq).toBe(1);
    expect(counters.paidOut).toBe(b.amount);
    const outPoint = requestOutPoint(BRIDGE, burnPayoutRef(b));
    expect(records[0]).toMatchObject({
      address: USER_ADDRESS,
      amount: b.amount - FEE,
      fee: FEE,
      batch: 0,
      index: outPoint.index,
    });
    expect(records[0]!.txid).toEqual(outPoint.txid);
    const view = fed.guardians[3]!.bridge.burnView(fed.mdb(3), b);
    expect(view).toMatchObject({
      state: "accepted",
      settlement: "payout",
      payout: { amount: "397000", fee: "3000", state: "queued" },
    });
    expect(JSON.stringify(view)).not.toContain(USER_ADDRESS);
  });

  it("GET payouts/:txid/:index of the monero module finds the burn's payout by its requestOutPoint (ref, 0xffff0000 | bridge), without address or amount; other indexes past 65535 are still refused", () => {
    const fed = funded();
    const b = burn();
    fed.block([0, 1, 2].map((g) => vote(g, b)));
    const outPoint = requestOutPoint(BRIDGE, burnPayoutRef(b));
    const route = fed.guardians[1]!.monero.api.find(
      (e) => e.method === "GET" && e.path === "payouts/:txid/:index",
    )!;
    // As the core's API serves it: the path's params checked against the route's schema (a 400
    // otherwise), then the handler; the answer checked as a wallet checks it (strict: no address).
    expect(route.params).toBe(PayoutParamsSchema);
    const get = (index: number) => {
      const params = PayoutParamsSchema.parse({ txid: toHex(outPoint.txid), index: String(index) });
      return PayoutStatusSchema.parse(route.handle({ params, body: undefined, db: fed.moneroDb(1) }));
    };
    const served = get(outPoint.index);
    expect(served).toEqual({ kind: "payout", state: "queued", fee: FEE.toString(), batch: 0 });
    expect(JSON.stringify(served)).not.toContain(USER_ADDRESS);
    expect(JSON.stringify(served)).not.toContain((b.amount - FEE).toString());
    // The same progress the bridge's burn view shows.
    expect(fed.guardians[1]!.bridge.burnView(fed.mdb(1), b).payout?.state).toBe(served.state);
    // Another module's index under the same ref: no payout there.
    expect(() => get((0xffff0000 | MONERO) >>> 0)).toThrow(/no payout at output/);
    // Indexes no output and no requested payout has: refused as before.
    for (const index of [0x10000, 0xfffeffff, 2 ** 32]) expect(() => get(index)).toThrow(/output index/);
  });

  it("pays a burn once: votes replayed after acceptance, the fourth guardian's late vote and a second request under the same ref add no payout", () => {
    const fed = funded();
    const b = burn();
    fed.block([0, 1, 2].map((g) => vote(g, b)));
    const once = figures(fed);
    // Every guardian votes again, in two more blocks (a replay by the network or a Byzantine proposer).
    fed.block([0, 1, 2, 3].map((g) => vote(g, b)));
    fed.block([0, 1, 2, 3].map((g) => vote(g, b)));
    expect(payouts(fed).counters.nextSeq).toBe(1);
    expect(figures(fed)).toEqual(once);
    // The monero module itself refuses a second payout under the same ref.
    const g = fed.guardians[0]!;
    const r = g.monero.payoutService.requestPayout(g.p.moduleDb(g.db, MONERO), BRIDGE, {
      ref: burnPayoutRef(b),
      address: USER_ADDRESS,
      value: b.amount,
    });
    expect(r).toMatchObject({ ok: false, error: { code: "already_requested" } });
  });

  it("pays the address t guardians saw, whatever destination the f Byzantine guardian votes", () => {
    const fed = funded();
    const real = burn();
    const forged = burn({ destination: new TextEncoder().encode(THIEF_ADDRESS) });
    fed.block([vote(3, forged), vote(0, real), vote(1, real)]);
    expect(payouts(fed).counters.nextSeq).toBe(0);
    fed.block([vote(2, real)]);
    const { records } = payouts(fed);
    expect(records.map((r) => r.address)).toEqual([USER_ADDRESS]);
    // A burn only the Byzantine guardian saw never reaches a payout.
    const invented = burn({ logIndex: 7, destination: new TextEncoder().encode(THIEF_ADDRESS) });
    fed.block([vote(3, invented)]);
    fed.block([vote(3, invented)]);
    expect(payouts(fed).counters.nextSeq).toBe(1);
  });

  it("re-mints a burn the monero module refuses: less than the minimum once the fee is deducted, the federation's own address, an integrated address, no agreed fee rate", () => {
    const fed = funded();
    const small = burn({ logIndex: 1, amount: 3_500n }); // 500 after the fee, minimum 1,000
    const own = burn({ logIndex: 2, destination: new TextEncoder().encode(FEDERATION_MONERO_ADDRESS) });
    const integrated = burn({
      logIndex: 3,
      destination: new TextEncoder().encode(
        encodeAddress({
          network: "mainnet",
          kind: "integrated",
          publicSpendKey: keyOf(7),
          publicViewKey: keyOf(8),
          paymentId: new Uint8Array(8).fill(1),
        }),
      ),
    });
    const before = figures(fed);
    fed.block([0, 1, 2].flatMap((g) => [vote(g, small), vote(g, own), vote(g, integrated)]));
    const reasons = [small, own, integrated].map((b) => {
      const v = fed.guardians[1]!.bridge.burnView(fed.mdb(1), b);
      expect(v).toMatchObject({
        settlement: "reminted",
        remint: { recipient: BURNER, amount: b.amount.toString() },
      });
      return v.reason;
    });
    expect(reasons[0]).toMatch(
      /refused: 3500 piconero less the Monero fee 3000 is below the minimum payout 1000/,
    );
    expect(reasons[1]).toMatch(/refused: .*federation's own deposit address/);
    expect(reasons[2]).toMatch(/refused: .*integrated/);
    // Re-minted: owed as wXMR again; nothing left the monero module.
    expect(figures(fed)).toEqual(before);
    expect(payouts(fed).counters.nextSeq).toBe(0);

    const noRate = funded(0);
    noRate.block([0, 1, 2].map((g) => vote(g, burn())));
    const refused = noRate.guardians[0]!.bridge.burnView(noRate.mdb(), burn());
    expect(refused.settlement).toBe("reminted");
    expect(refused.reason).toMatch(/refused: the guardians have not agreed on a Monero fee rate/);
  });
});
