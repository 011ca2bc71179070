// Conflicting attempts against real Monero software (docs/monero.md "Conflicting attempts", threat
// model row 3b): monerod regtest, four guardian wallet-rpcs made one 3-of-4 multisig wallet, each
// driven through RpcPayoutWallet (the payout signer's wallet code: create with `only`, check with
// the creator's named inputs, sign, submit). The rounds are played by hand, in the interleaving the
// whole-federation simulator found (seed 7, N = 4, one silent Byzantine guardian):
//   attempt 0: guardian 1 creates; guardian 2 signs it, and guardian 3 signs it too (a late honest
//   signature, after its turn had passed): each honest wallet has spent its nonces on a branch, and
//   neither branch can be finished without guardian 0 (Byzantine, silent, but it exported);
//   attempt 1: guardians 1, 2 and 3 export afresh (guardian 0 does not: it keeps its nonces of
//   attempt 0), guardian 2 creates spending only attempt 0's inputs (every other output frozen), the
//   others check the named inputs and sign, it is submitted and mined;
//   then guardian 0 finishes attempt 0's branch and broadcasts it: monerod refuses it (the same key
//   image). The user is paid once.
// Measured on the way: transfer's spent_key_images are the wallet's own outputs' key images; a
// frozen output is not chosen by transfer; sign_multisig signs a set spending an output frozen in
// the signer's own wallet (so freezing guards the creator only, and the signers check the named
// inputs by their amounts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MoneroMultisigError, MoneroRpcError, WalletRpcErrorCode, parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  startMultisigRegtest,
  mineBlocks,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { RpcPayoutWallet } from "./payout-watcher.js";

const N = 4;
const T = 3;
const PAY = parseXmr("0.5");
/** Fee bound of the pre-signing check: generous (the fee rules are payouts.test.ts's). */
const FEE_MAX = parseXmr("0.01");

let net: Regtest | undefined;
let wallets: readonly WalletRpc[] = [];
let shares: RpcPayoutWallet[] = [];
let miner: WalletRpc;
let user: WalletRpc;
let minerAddress = "";
let userAddress = "";
let multisigAddress = "";
const timings: Record<string, number> = {};
let t0 = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - t0;
  t0 = Date.now();
};

beforeAll(async () => {
  ensureMoneroInstalled();
  t0 = Date.now();
  ({
    net,
    guardianWallets: wallets,
    miner,
    minerAddress,
    user,
    userAddress,
    multisigAddress,
  } = await startMultisigRegtest({ threshold: T, total: N }));
  const { daemon, walletRpcs } = net;
  shares = walletRpcs
    .slice(0, N)
    .map((w) => new RpcPayoutWallet(w.url, daemon.url, { threshold: T, total: N, multisigAddress }));
  lap("regtest, wallets, 3-of-4 multisig, 80 blocks");
}, 300_000);

afterAll(async () => {
  await net?.stop();
  console.log(`conflicting attempts regtest timings (ms): ${JSON.stringify(timings)}`);
});

/** Each of `who` exports; each imports the others' exports (a payout attempt's first round). */
async function exportRound(who: readonly number[]): Promise<void> {
  const exports = new Map<number, string>();
  for (const g of who) exports.set(g, await shares[g]!.exportInfo());
  for (const g of who) await shares[g]!.importInfos(who.filter((o) => o !== g).map((o) => exports.get(o)!));
}

const rpcCode = (e: unknown): number | undefined => (e instanceof MoneroRpcError ? e.rpcCode : undefined);

describe("conflicting attempts on a real 3-of-4 multisig wallet (monerod regtest)", () => {
  it("a late honest signature freezes attempt 0; attempt 1 spends only its inputs, is paid, and attempt 0 finished later is refused by monerod", async () => {
    const { daemon } = net!;
    const destinations = [{ address: userAddress, amount: PAY }];
    // Three outputs (1, 1 and 1.2 XMR), so that a transaction of another attempt could choose others,
    // and two of them alike (what the signers' amount check cannot tell apart).
    await miner.refresh();
    await miner.transfer({
      destinations: ["1", "1", "1.2"].map((x) => ({ address: multisigAddress, amount: parseXmr(x) })),
    });
    await mineBlocks(daemon.rpc, OUTPUT_UNLOCK_BLOCKS + 1, minerAddress);
    lap("deposit of three outputs, unlocked");

    // ---- attempt 0: every guardian exports; 1 creates; 2 signs; 3 signs the same set late.
    await exportRound([0, 1, 2, 3]);
    const created0 = await shares[1]!.create(destinations);
    const k0 = created0.keyImages;
    expect(k0.length).toBeGreaterThanOrEqual(1);
    // Measured: spent_key_images are real key images of the wallet's outputs (known after the import)
    // and add up to the set's inputs total.
    const outputs = await wallets[1]!.incomingTransfers({ transferType: "all" });
    expect(outputs.filter((o) => o.keyImage !== undefined)).toHaveLength(3);
    const amountOf = new Map(outputs.map((o) => [o.keyImage, o.amount]));
    for (const k of k0) expect(amountOf.has(k)).toBe(true);
    const [described] = await wallets[2]!.describeTransfer({ multisigTxset: created0.txset });
    expect(k0.reduce((a, k) => a + amountOf.get(k)!, 0n)).toBe(described!.amountIn);
    await shares[2]!.check(created0.txset, { destinations, feeMax: FEE_MAX, keyImages: k0 });
    const branchA = await shares[2]!.sign(created0.txset);
    await shares[3]!.check(created0.txset, { destinations, feeMax: FEE_MAX, keyImages: k0 });
    const branchB = await shares[3]!.sign(created0.txset);
    expect(branchA.complete || branchB.complete).toBe(false);
    // Neither honest guardian can finish the other's branch: its wallet used its nonces (-35).
    const refusals = await Promise.all([
      shares[3]!.sign(branchA.txset).then(
        () => undefined,
        (e: unknown) => rpcCode(e),
      ),
      shares[2]!.sign(branchB.txset).then(
        () => undefined,
        (e: unknown) => rpcCode(e),
      ),
    ]);
    expect(refusals).toEqual([WalletRpcErrorCode.MultisigSignature, WalletRpcErrorCode.MultisigSignature]);
    lap("attempt 0: created, two branches, each honest guardian spent");

    // ---- attempt 1 (guardian 0 keeps its old nonces and does not export).
    await exportRound([1, 2, 3]);
    const created1 = await shares[2]!.create(destinations, k0);
    expect(created1.keyImages.length).toBeGreaterThanOrEqual(1);
    for (const k of created1.keyImages) expect(k0).toContain(k);
    // Frozen for the transfer, thawed after it.
    const after = await wallets[2]!.incomingTransfers({ transferType: "available" });
    expect(after.filter((o) => o.frozen)).toEqual([]);
    // A signer checks the named inputs by their amounts (wallet-rpc shows no key images of a set):
    // naming another output of another amount is refused; naming another output of the same amount
    // is not (the residual in docs/monero.md "Conflicting attempts").
    expect(created1.keyImages).toHaveLength(1);
    const spentAmount = amountOf.get(created1.keyImages[0])!;
    for (const o of outputs) {
      if (o.keyImage === undefined || o.keyImage === created1.keyImages[0]) continue;
      const named = shares[3]!.check(created1.txset, {
        destinations,
        feeMax: FEE_MAX,
        keyImages: [o.keyImage],
      });
      if (o.amount === spentAmount) await named;
      else await expect(named).rejects.toBeInstanceOf(MoneroMultisigError);
    }
    // Measured: a signer whose own wallet has the input frozen still signs (freeze guards the
    // creator's input selection only).
    const input = created1.keyImages[0]!;
    await wallets[3]!.freeze(input);
    expect(await wallets[3]!.frozen(input)).toBe(true);
    await shares[3]!.check(created1.txset, { destinations, feeMax: FEE_MAX, keyImages: created1.keyImages });
    const signed1 = await shares[3]!.sign(created1.txset);
    await wallets[3]!.thaw(input);
    expect(signed1.complete).toBe(false);
    await shares[1]!.check(signed1.txset, {
      destinations,
      feeMax: FEE_MAX,
      root: created1.txset,
      keyImages: created1.keyImages,
    });
    const final1 = await shares[1]!.sign(signed1.txset);
    expect(final1.complete).toBe(true);
    const paid = await shares[1]!.submit(final1.txset);
    await mineBlocks(daemon.rpc, 1, minerAddress);
    lap("attempt 1: created from attempt 0's inputs, signed, submitted, mined");

    // spenderOf, the wallet call behind the txid votes that settle a bound attempt whose inputs
    // another completion spent (docs/monero.md "A kept completion broadcast late"): every
    // guardian's wallet, the one that kept out of attempt 1 included, names the mined transaction
    // that spent attempt 0's inputs, and none for a key image no transaction spent.
    for (const g of [0, 1, 2, 3]) expect(await shares[g]!.spenderOf(k0)).toBe(paid);
    expect(await shares[0]!.spenderOf(["11".repeat(32)])).toBeUndefined();
    lap("spenderOf at every guardian");

    // ---- the Byzantine guardian finishes attempt 0's branch A now and broadcasts it.
    const late = await shares[0]!.sign(branchA.txset);
    expect(late.complete).toBe(true);
    const broadcast = await shares[0]!.submit(late.txset).then(
      () => "accepted",
      (e: unknown) => e,
    );
    expect(rpcCode(broadcast)).toBe(WalletRpcErrorCode.MultisigSubmission);
    await mineBlocks(daemon.rpc, 1, minerAddress);
    lap("attempt 0 finished by guardian 0, refused");

    // The user was paid once, in attempt 1's transaction.
    await user.refresh();
    const incoming = await user.getTransfers({
      in: true,
      pool: true,
      out: false,
      pending: false,
      failed: false,
    });
    const payments = [...incoming.in, ...incoming.pool].filter((t) => t.amount === PAY);
    expect(payments.map((t) => t.txid)).toEqual([paid]);
  }, 600_000);
});
