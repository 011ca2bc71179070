// Attacks on the return of an expired, unsubmitted mint (output 0x02, input 0x02) and on the claim
// key of a burn (input 0x01), with four guardians' processors in memory and the votes written by the
// test (as in expiry-rules.test.ts; expiry.test.ts runs the module against anvil).
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildTransaction, fromHex } from "@conclave/core-common";
import type { Signer, Transaction } from "@conclave/core-common";
import { NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import {
  BURN_TO_CLAIM,
  REFUNDABLE_MINT_FEE_PICONERO_DEFAULT,
  REFUNDABLE_MINT_MIN_PICONERO_DEFAULT,
  encodeBridgeItem,
  encodeBurnClaimInput,
  encodeMintOutput,
  encodeRefundInput,
} from "./common.js";
import type { BurnSeen, MintKey } from "./common.js";
import { BRIDGE, DUMMY, federation, testConfig } from "./federation-fixture.js";
import { BridgeState } from "./state.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const AMOUNT = 2n ** 41n;
const T0 = 1_000_000n;
/** testConfig's mintDeadlineSeconds. */
const DEADLINE = T0 + 3600n;

const scanned = (from: number, block: bigint, timestamp: bigint) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block, timestamp }),
});
const expiry = (from: number, key: MintKey, used: boolean) => ({
  from,
  payload: encodeBridgeItem({ kind: "expiry", ...key, used }),
});
const codes = (out: { events: readonly { status: { state: string; error?: { code: string } } }[] }) =>
  out.events.map((e) => (e.status.state === "rejected" ? e.status.error!.code : e.status.state));

const hexBytes = (h: string) => fromHex(h);
/**
 * Ed25519 points of small order (1, 2, 4 and 8): the identity, (0, -1), the two points with y = 0
 * (one of them all zero bytes) and two of the four points of order 8.
 */
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
].map(hexBytes);
const IDENTITY = SMALL_ORDER[0]!;

/**
 * A "signer" for the identity key that holds no secret: k·A is the identity for every k, so
 * R = B, s = 1 satisfies s·B = R + k·A for every message (cofactorless RFC 8032 verification, which
 * node:crypto does, accepts it).
 */
const forger: Signer = {
  publicKey: IDENTITY,
  sign: () => {
    const sig = new Uint8Array(64);
    sig.set(ed25519.Point.BASE.toBytes(), 0);
    sig[32] = 1;
    return sig;
  },
};

/** A federation at agreed EVM time T0. */
function withAgreedTime() {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, T0)));
  return fed;
}

const mintTx = (refundKey: Uint8Array, count = 1): Transaction =>
  buildTransaction(
    [faucetInput(DUMMY, BigInt(count) * AMOUNT)],
    Array.from({ length: count }, () => ({
      module: BRIDGE,
      amount: AMOUNT,
      payload: encodeMintOutput(RECIPIENT, refundKey),
    })),
    [],
    sha256,
  );

/** A federation with two refundable mints of `owner`, both returned by three honest guardians. */
function withReturned() {
  const fed = withAgreedTime();
  const owner = new NodeSigner(new Uint8Array(32).fill(0x51));
  const out = fed.block([], [mintTx(owner.publicKey, 2)]);
  expect(codes(out)).toEqual(["accepted"]);
  const txid = fromHex(out.events[0]!.txid);
  const a = { txid, index: 0 };
  const b = { txid, index: 1 };
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 400n, DEADLINE + 12n)));
  fed.block([0, 1, 2].flatMap((g) => [expiry(g, a, false), expiry(g, b, false)]));
  const state = (g = 0) => new BridgeState(fed.mdb(g));
  expect(state().expiryOutcome(a)).toBe("returnable");
  expect(state().expiryOutcome(b)).toBe("returnable");
  return { fed, owner, a, b, state };
}

const refundInput = (key: MintKey, amount = AMOUNT) => ({
  module: BRIDGE,
  amount,
  payload: encodeRefundInput(key),
});

describe("bridge: attacks on the return of an unsubmitted mint", () => {
  it("refuses a refund key of small order or with a torsion component: anyone can sign for the identity", () => {
    // Why: a signature for the identity key made without any secret verifies for any message.
    const verifier = new NodeVerifier();
    expect(
      verifier.verify(IDENTITY, new TextEncoder().encode("any transaction"), forger.sign(new Uint8Array())),
    ).toBe(true);
    for (const key of SMALL_ORDER) expect(ed25519.Point.fromBytes(key).isSmallOrder()).toBe(true);
    // An honest key plus a point of order 8: its owner's signatures fail 7 times in 8 (cofactorless
    // verification), nobody else's verify; the value would be stuck.
    const honest = new NodeSigner(new Uint8Array(32).fill(0x52)).publicKey;
    const mixed = ed25519.Point.fromBytes(honest).add(ed25519.Point.fromBytes(SMALL_ORDER[4]!)).toBytes();

    const fed = withAgreedTime();
    for (const key of [...SMALL_ORDER, mixed])
      expect(codes(fed.block([], [mintTx(key)]))).toEqual(["malformed_output"]);
    expect(codes(fed.block([], [mintTx(honest)]))).toEqual(["accepted"]);
    expect(new BridgeState(fed.mdb()).totals()).toMatchObject({ signed: AMOUNT });
  });

  it("settles a burn to a small-order claim key as a re-mint to the burner, never as claimable by anyone", () => {
    const fed = withAgreedTime();
    fed.agreeFeeRate(1);
    const burn: BurnSeen = {
      txHash: new Uint8Array(32).fill(0xc1),
      logIndex: 0,
      blockNumber: 10n,
      burnId: 1n,
      from: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      amount: 5_000n,
      burnKind: BURN_TO_CLAIM,
      destination: IDENTITY,
    };
    fed.block([0, 1, 2].map((g) => ({ from: g, payload: encodeBridgeItem({ kind: "burn", ...burn }) })));
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), burn)).toMatchObject({ settlement: "reminted" });
    const steal = buildTransaction(
      [{ module: BRIDGE, amount: 5_000n, payload: encodeBurnClaimInput(burn) }],
      [coinOutput(DUMMY, 5_000n, new Uint8Array(32).fill(9))],
      [forger],
      sha256,
    );
    expect(codes(fed.block([], [steal]))).toEqual(["not_claimable"]);
  });

  it("refunds a mint once: two inputs for it in one transaction are refused whole, nothing is spent", () => {
    const { fed, owner, a, state } = withReturned();
    const before = fed.audit();
    const twice = buildTransaction(
      [refundInput(a), refundInput(a)],
      [coinOutput(DUMMY, 2n * AMOUNT, owner.publicKey)],
      [owner, owner],
      sha256,
    );
    expect(codes(fed.block([], [twice]))).toEqual(["spent_input"]);
    expect(state().expiryOutcome(a)).toBe("returnable");
    expect(state().totals()).toMatchObject({ returnable: 2n * AMOUNT });
    expect(fed.audit()).toEqual(before);
    // The same transaction again (a replayed block, another guardian's copy) is not processed twice.
    const once = buildTransaction(
      [refundInput(a)],
      [coinOutput(DUMMY, AMOUNT, owner.publicKey)],
      [owner],
      sha256,
    );
    expect(codes(fed.block([], [once, once]))).toEqual(["accepted"]);
    expect(codes(fed.block([], [once]))).toEqual([]);
    expect(state().expiryOutcome(a)).toBe("refunded");
    expect(state().totals()).toMatchObject({ returnable: AMOUNT });
  });

  it("binds the refund key's signature to its transaction: moved onto other outputs it does not verify", () => {
    const { fed, owner, a, state } = withReturned();
    const thief = new NodeSigner(new Uint8Array(32).fill(0x53));
    const honest = buildTransaction(
      [refundInput(a)],
      [coinOutput(DUMMY, AMOUNT, owner.publicKey)],
      [owner],
      sha256,
    );
    // The same input, the thief's output, the owner's signature from the honest transaction.
    const grafted: Transaction = {
      ...buildTransaction([refundInput(a)], [coinOutput(DUMMY, AMOUNT, thief.publicKey)], [], sha256),
      signatures: honest.signatures,
    };
    expect(codes(fed.block([], [grafted]))).toEqual(["bad_signature"]);
    expect(state().expiryOutcome(a)).toBe("returnable");
    // That refusal is not recorded against anything the owner signs: its transaction still goes through.
    expect(codes(fed.block([], [honest]))).toEqual(["accepted"]);
  });

  it("makes a return worth exactly the mint: more or less declared, or more taken out, is refused; a refund into a new refundable mint creates nothing", () => {
    const { fed, owner, a, b, state } = withReturned();
    const before = fed.audit();
    const tx = (inputAmount: bigint, outputAmount: bigint, key: MintKey = a) =>
      buildTransaction(
        [refundInput(key, inputAmount)],
        [coinOutput(DUMMY, outputAmount, owner.publicKey)],
        [owner],
        sha256,
      );
    const out = fed.block(
      [],
      [tx(AMOUNT + 1n, AMOUNT + 1n), tx(AMOUNT, AMOUNT + 1n), tx(AMOUNT - 1n, AMOUNT - 1n)],
    );
    expect(codes(out)).toEqual(["amount_mismatch", "unbalanced", "amount_mismatch"]);
    expect(state().totals()).toMatchObject({ returnable: 2n * AMOUNT });
    expect(fed.audit()).toEqual(before);
    // A refund into a new refundable mint: the value moves, nothing is created.
    const again = buildTransaction(
      [refundInput(b)],
      [{ module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, owner.publicKey) }],
      [owner],
      sha256,
    );
    expect(codes(fed.block([], [again]))).toEqual(["accepted"]);
    expect(state().totals()).toMatchObject({ signed: AMOUNT, returnable: AMOUNT });
    expect(fed.audit()).toEqual(before);
  });

  it("makes a refundable output cost its sender, not the guardians: 256 outputs of 1 piconero are refused below_minimum, an output without the federation's fee unbalanced, with nothing stored; paid for, the fee is the federation's", () => {
    const MIN = REFUNDABLE_MINT_MIN_PICONERO_DEFAULT;
    const FEE = REFUNDABLE_MINT_FEE_PICONERO_DEFAULT;
    // The defaults, as a federation config that names neither gets them.
    const config = testConfig(N, { refundableMintFeePiconero: undefined });
    expect(config).toMatchObject({ refundableMintMinPiconero: MIN, refundableMintFeePiconero: FEE });
    expect(MIN).toBeGreaterThan(1n);
    expect(FEE).toBeGreaterThan(0n);
    const fed = federation(config);
    fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, T0)));
    const owner = new NodeSigner(new Uint8Array(32).fill(0x54));
    const refundable = (amounts: bigint[], funding: bigint, refundKey = owner.publicKey) =>
      buildTransaction(
        [faucetInput(DUMMY, funding)],
        amounts.map((amount) => ({
          module: BRIDGE,
          amount,
          payload: encodeMintOutput(RECIPIENT, refundKey),
        })),
        [],
        sha256,
      );
    const state = (g = 0) => new BridgeState(fed.mdb(g));
    const nothingStored = (txid: Uint8Array, outputs: number) => {
      for (let g = 0; g < N; g++) {
        for (let i = 0; i < outputs; i++) expect(state(g).mint(txid, i)).toBeUndefined();
        expect(state(g).dueMints(g, 2n ** 63n, 1_000)).toEqual([]);
        expect(state(g).totals()).toEqual({
          signed: 0n,
          burned: 0n,
          unsettled: 0n,
          returnable: 0n,
          returnedEver: 0n,
        });
      }
    };
    const audit0 = fed.audit();

    // The flood: 256 outputs of 1 piconero, funded with their fees too. Refused, with the minimum named.
    const flood = refundable(Array<bigint>(256).fill(1n), 256n * (1n + FEE));
    const out = fed.block([], [flood]);
    expect(codes(out)).toEqual(["below_minimum"]);
    const refused = out.events[0]!.status;
    expect(refused.state === "rejected" && refused.error.message).toContain(`at least ${MIN} piconero`);
    expect(refused.state === "rejected" && refused.error.message).toContain(`${FEE} piconero on top`);
    nothingStored(fromHex(out.events[0]!.txid), 256);
    // At the minimum but without the fee: the inputs do not cover output + fee.
    const unpaid = fed.block([], [refundable([MIN, MIN], 2n * MIN + FEE)]);
    expect(codes(unpaid)).toEqual(["unbalanced"]);
    nothingStored(fromHex(unpaid.events[0]!.txid), 2);
    expect(fed.audit()).toEqual(audit0);

    // Paid for: accepted; the transaction's fee is one FEE per refundable output; the bridge owes the
    // amounts only, so the fees are no one's liability (the federation's).
    const paid = fed.block([], [refundable([MIN, MIN], 2n * (MIN + FEE))]);
    expect(codes(paid)).toEqual(["accepted"]);
    expect(paid.events[0]!.status).toMatchObject({ state: "accepted", fee: 2n * FEE });
    expect(state().totals()).toMatchObject({ signed: 2n * MIN });
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual({ assets: 0n, liabilities: 2n * MIN });
    // The 0x01 form (never returned, no queue entry, no vote) keeps its own minimum and no fee.
    const plain = buildTransaction(
      [faucetInput(DUMMY, 1n)],
      [{ module: BRIDGE, amount: 1n, payload: encodeMintOutput(RECIPIENT) }],
      [],
      sha256,
    );
    expect(codes(fed.block([], [plain]))).toEqual(["accepted"]);
  });
});
