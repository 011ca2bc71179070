// A deposit whose mint cannot happen is paid back in Monero to the refund address its owner gave up
// front (issue 13's "invalid deposits returned"): the 0x03 mint output names a Monero refund address
// beside the refund key; once t guardians see it unminted past its deadline at their depth (paused
// contract, a mint above the cap a guardian cancelled, nobody submitting it), the same state
// transition hands its whole value to the monero module's payouts, which deducts the Monero fee. Four
// guardians' processors in memory with the real mint, monero and bridge modules; the fixture checks
// that every guardian decides the same and that no block fails the audit.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildTransaction, fromHex, toHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import { PayoutParamsSchema, PayoutStatusSchema, requestOutPoint } from "@conclave/module-monero";
import { encodeAddress } from "@conclave/monero";
import { decodeMintOutput, encodeBridgeItem, encodeMintOutput, encodeRefundInput } from "./common.js";
import { mintRefundPayoutRef } from "./eip712-mint.js";
import {
  BRIDGE,
  DUMMY,
  FEDERATION_MONERO_ADDRESS,
  auditFigures,
  federation,
  moneroPayouts,
  testConfig,
} from "./federation-fixture.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const AMOUNT = 2n ** 30n;
const T0 = 1_000_000n;
/** testConfig's mintDeadlineSeconds. */
const DEADLINE = T0 + 3600n;
/** Fee rate 1 piconero per byte: a payout's fee is max(100, 1 × 3000) = 3,000 piconero. */
const FEE = 3_000n;
const keyOf = (b: number) => ed25519.getPublicKey(new Uint8Array(32).fill(b));
const REFUND_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: keyOf(7),
  publicViewKey: keyOf(8),
});

const scanned = (from: number, block: bigint, timestamp: bigint) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block, timestamp }),
});
const expiry = (from: number, key: { txid: Uint8Array; index: number }, used: boolean) => ({
  from,
  payload: encodeBridgeItem({ kind: "expiry", ...key, used }),
});
const codes = (out: { events: readonly { status: { state: string; error?: { code: string } } }[] }) =>
  out.events.map((e) => (e.status.state === "rejected" ? e.status.error!.code : e.status.state));

/** A federation at agreed EVM time T0, fee rate agreed, with one 0x03 mint output funded by the faucet. */
function withRefundMint(address = REFUND_ADDRESS) {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, T0)));
  fed.agreeFeeRate(1);
  const owner = new NodeSigner(new Uint8Array(32).fill(0x41));
  const tx = buildTransaction(
    [faucetInput(DUMMY, AMOUNT)],
    [{ module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, owner.publicKey, address) }],
    [],
    sha256,
  );
  const out = fed.block([], [tx]);
  expect(codes(out)).toEqual(["accepted"]);
  const key = { txid: fromHex(out.events[0]!.txid), index: 0 };
  const pastDeadline = () => fed.block([0, 1, 2, 3].map((g) => scanned(g, 400n, DEADLINE + 12n)));
  const view = (g = 0) => fed.guardians[g]!.bridge.outputOutcome(fed.mdb(g), key)!;
  const figures = () => {
    const f = auditFigures(fed);
    return { net: f.assets - f.liabilities, bridge: f.bridge, monero: f.monero };
  };
  const payouts = () => moneroPayouts(fed).records;
  const refundTx = () =>
    buildTransaction(
      [{ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(key) }],
      [coinOutput(DUMMY, AMOUNT, owner.publicKey)],
      [owner],
      sha256,
    );
  return { fed, key, pastDeadline, view, figures, payouts, refundTx };
}

describe("bridge: a mint that cannot happen is paid back in Monero to the refund address given up front", () => {
  it("encodes the refund address in the 0x03 form and refuses one without a refund key or with bytes outside base58", () => {
    const key = keyOf(3);
    expect(decodeMintOutput(encodeMintOutput(RECIPIENT, key, REFUND_ADDRESS))).toEqual({
      recipient: RECIPIENT,
      refundKey: key,
      refundAddress: REFUND_ADDRESS,
    });
    expect(() => encodeMintOutput(RECIPIENT, undefined, REFUND_ADDRESS)).toThrow(/refund key/);
    const bytes = encodeMintOutput(RECIPIENT, key, REFUND_ADDRESS);
    bytes[54] = 0x30; // "0" is not base58
    expect(() => decodeMintOutput(bytes)).toThrow(/base58/);
    expect(() => decodeMintOutput(encodeMintOutput(RECIPIENT, key, REFUND_ADDRESS).slice(0, 60))).toThrow();
  });

  it("hands the whole value to the monero module once t guardians see it unminted, in the same block; the refund key can no longer take it", () => {
    const { fed, key, pastDeadline, view, figures, payouts, refundTx } = withRefundMint();
    expect(view()).toMatchObject({ expiry: { state: "open", refundInMonero: true } });
    pastDeadline();
    const before = figures();
    expect(before.bridge.liabilities).toBe(AMOUNT);
    // The Byzantine guardian says it was minted; two honest votes are not yet t.
    fed.block([expiry(3, key, true), expiry(0, key, false), expiry(1, key, false)]);
    expect(payouts()).toEqual([]);
    expect(view().expiry!.state).toBe("due");
    fed.block([expiry(2, key, false)]);
    const records = payouts();
    const outPoint = requestOutPoint(BRIDGE, mintRefundPayoutRef(key));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      address: REFUND_ADDRESS,
      amount: AMOUNT - FEE,
      fee: FEE,
      index: outPoint.index,
    });
    // The liability moved from the bridge to the monero module's payout: nothing created, nothing lost.
    const after = figures();
    expect(after.bridge.liabilities).toBe(0n);
    expect(after.monero.assets).toBe(before.monero.assets - AMOUNT);
    expect(after.net).toBe(before.net);
    for (let g = 0; g < N; g++) {
      const v = view(g);
      expect(v.expiry).toMatchObject({
        state: "paid_out",
        refundInMonero: true,
        payout: { amount: (AMOUNT - FEE).toString(), fee: FEE.toString(), state: "queued" },
      });
      // Returned: never signed again, and the address is shown to nobody.
      expect(v.signature).toBeUndefined();
      expect(JSON.stringify(v)).not.toContain(REFUND_ADDRESS);
    }
    // The monero module's GET payouts/:txid/:index finds it by its requestOutPoint too (a 400 before:
    // index past 65535), with neither the refund address nor the amount.
    const route = fed.guardians[0]!.monero.api.find(
      (e) => e.method === "GET" && e.path === "payouts/:txid/:index",
    )!;
    const params = PayoutParamsSchema.parse({ txid: toHex(outPoint.txid), index: String(outPoint.index) });
    const served = PayoutStatusSchema.parse(route.handle({ params, body: undefined, db: fed.moneroDb(0) }));
    expect(served).toMatchObject({ kind: "payout", state: "queued", fee: FEE.toString() });
    expect(JSON.stringify(served)).not.toContain(REFUND_ADDRESS);
    // Paid once: the refund key's input is refused, and late or replayed votes add no payout.
    expect(codes(fed.block([], [refundTx()]))).toEqual(["not_returnable"]);
    fed.block([0, 1, 2, 3].map((g) => expiry(g, key, false)));
    expect(payouts()).toHaveLength(1);
    expect(figures()).toEqual(after);
  });

  it("is never paid when t guardians see it minted, and f guardians' 'unused' votes pay nothing", () => {
    const { fed, key, pastDeadline, view, payouts } = withRefundMint();
    pastDeadline();
    fed.block([expiry(3, key, false)]);
    expect(payouts()).toEqual([]);
    fed.block([0, 1, 2].map((g) => expiry(g, key, true)));
    expect(view().expiry!.state).toBe("minted");
    expect(payouts()).toEqual([]);
  });

  it("falls back to the refund key when the monero module refuses the payout (here: the federation's own address), so the value is never stuck", () => {
    const { fed, key, pastDeadline, view, payouts, refundTx, figures } =
      withRefundMint(FEDERATION_MONERO_ADDRESS);
    pastDeadline();
    const before = figures();
    fed.block([0, 1, 2].map((g) => expiry(g, key, false)));
    expect(payouts()).toEqual([]);
    expect(view().expiry).toMatchObject({ state: "returnable", refundInMonero: true });
    expect(figures().net).toBe(before.net);
    expect(codes(fed.block([], [refundTx()]))).toEqual(["accepted"]);
    expect(view().expiry!.state).toBe("refunded");
  });

  it("refuses at acceptance a refund address of another network, an integrated address or text that is no address", () => {
    const fed = federation(testConfig(N));
    fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, T0)));
    const owner = keyOf(0x41);
    const bad = [
      encodeAddress({
        network: "stagenet",
        kind: "standard",
        publicSpendKey: keyOf(7),
        publicViewKey: keyOf(8),
      }),
      encodeAddress({
        network: "mainnet",
        kind: "integrated",
        publicSpendKey: keyOf(7),
        publicViewKey: keyOf(8),
        paymentId: new Uint8Array(8).fill(1),
      }),
      REFUND_ADDRESS.slice(0, 94) + (REFUND_ADDRESS.endsWith("1") ? "2" : "1"),
    ];
    const out = fed.block(
      [],
      bad.map((address) =>
        buildTransaction(
          [faucetInput(DUMMY, AMOUNT)],
          [{ module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, owner, address) }],
          [],
          sha256,
        ),
      ),
    );
    expect(codes(out)).toEqual(["malformed_output", "malformed_output", "malformed_output"]);
  });
});
