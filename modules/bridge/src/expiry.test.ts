// The return of an expired, unsubmitted mint against a real EVM chain: anvil (@conclave/evm's
// anvil.ts, stopped by PID) with the WrappedMonero contract for four guardians (t = 3,
// confirmations 3). Each guardian's module reads anvil through its own ViemEvmSource (its watcher
// reads depositStatus at its depth block); consensus is four in-memory processors fed the same blocks
// (federation-fixture.ts anvilFederation), with the real mint module issuing the refund's e-cash notes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTransaction, fromHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import type { Anvil } from "@conclave/evm";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { faucetInput } from "@conclave/module-dummy";
import { finishNote, noteOutput, prepareNote } from "@conclave/module-mint";
import { encodeBridgeItem, encodeMintOutput, encodeRefundInput } from "./common.js";
import type { BridgeConfig, MintKey } from "./common.js";
import { BRIDGE, DUMMY, MINT, MINT_DENOMINATIONS, anvilFederation } from "./federation-fixture.js";
import type { AnvilFederation, Federation } from "./federation-fixture.js";
import { BridgeState } from "./state.js";

const N = 4;
const AMOUNT = 2n ** 41n; // one e-cash note of the fixture's largest denomination

let fed: AnvilFederation;
let anvil: Anvil;
let config: BridgeConfig;
let f: Federation;

beforeAll(async () => {
  fed = await anvilFederation({ n: N });
  ({ anvil, config, f } = fed);
});

afterAll(async () => {
  await fed?.stop();
});

const user = () => anvil.accounts[1]!;
const settle = (...args: Parameters<AnvilFederation["settle"]>) => fed.settle(...args);

/** Refundable mint outputs funded by the faucet, accepted; their signed calls (t signatures, sorted). */
async function mintOutputs(count: number, refundKey: Uint8Array) {
  const tx = buildTransaction(
    [faucetInput(DUMMY, BigInt(count) * AMOUNT)],
    Array.from({ length: count }, () => ({
      module: BRIDGE,
      amount: AMOUNT,
      payload: encodeMintOutput(user().address, refundKey),
    })),
    [],
    sha256,
  );
  const out = f.block([], [tx]);
  expect(out.events[0]!.status.state).toBe("accepted");
  const txid = fromHex(out.events[0]!.txid);
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const key: MintKey = { txid, index };
      const signed = await fed.collect(f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i), key)!));
      expect(signed.message).toMatchObject({ recipient: user().address, amount: AMOUNT });
      return { key, ...signed };
    }),
  );
}

type Signed = Awaited<ReturnType<typeof mintOutputs>>[number];

const submit = (m: Signed) =>
  anvil.walletClient.writeContract({
    account: user(),
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [m.message, m.signatures],
  });

/** What guardian g's state shows for the mint's return. */
const expiryAt = (m: Signed, g = 0) => f.guardians[g]!.bridge.outputOutcome(f.mdb(g), m.key)!.expiry!;

const blockTime = () => fed.blockTime();

describe("return of an expired, unsubmitted mint (real anvil)", () => {
  it("a mint submitted in the block whose timestamp equals its deadline is minted and never returned; an unsubmitted one is returned only once its deadline is past at depth, its late submission reverts Expired, and its refund key alone turns it into one e-cash note, once", async () => {
    const owner = new NodeSigner(new Uint8Array(32).fill(0x61));
    const [unsent, onTime] = await mintOutputs(2, owner.publicKey);
    const deadline = unsent!.message.deadline;
    const audit0 = f.audit();
    const totals0 = new BridgeState(f.mdb()).totals();

    // Mined in the block whose timestamp is the deadline: the contract takes it (deadline >= timestamp).
    await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline });
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(onTime!) });
    expect(receipt.status).toBe("success");
    expect((await anvil.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp).toBe(
      deadline,
    );

    // One more block, past the deadline: the head is, the depth block (head - 2) is not. No vote.
    await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline + 1n });
    await anvil.testClient.mine({ blocks: 1 });
    expect(await blockTime()).toBe(deadline + 1n);
    await settle(4);
    for (const m of [unsent!, onTime!])
      for (const g of [0, 1, 2, 3])
        expect(expiryAt(m, g)).toMatchObject({ state: "open", votesUnused: 0, votesUsed: 0 });

    // Two more: the depth block is past the deadline. Each guardian reads depositUsed there and votes.
    await anvil.testClient.mine({ blocks: 2 });
    await settle(4);
    for (const g of [0, 1, 2, 3]) {
      expect(expiryAt(unsent!, g)).toMatchObject({ state: "returnable" });
      expect(expiryAt(onTime!, g)).toMatchObject({ state: "minted" });
    }
    // The books: the returned amount left Σ signed for Σ returnable; the federation's sum is unchanged.
    expect(new BridgeState(f.mdb()).totals()).toMatchObject({
      signed: totals0.signed - AMOUNT,
      returnable: totals0.returnable + AMOUNT,
    });
    expect(f.audit()).toEqual(audit0);

    // The signed mint can no longer be submitted: the contract refuses it.
    await expect(submit(unsent!)).rejects.toThrow(/Expired/);

    // The refund key spends it into an e-cash note of the whole amount (the real mint module's).
    const pending = prepareNote(41);
    const refund = (signer: NodeSigner, m: Signed) =>
      buildTransaction(
        [{ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(m.key) }],
        [noteOutput(MINT, pending)],
        [signer],
        sha256,
      );
    const stranger = new NodeSigner(new Uint8Array(32).fill(0x62));
    const out = f.block([], [refund(stranger, unsent!), refund(owner, onTime!), refund(owner, unsent!)]);
    expect(
      out.events.map((e) => (e.status.state === "rejected" ? e.status.error.code : e.status.state)),
    ).toEqual(["bad_signature", "not_returnable", "accepted"]);
    const refundTxid = fromHex(out.events[2]!.txid);
    const shares = f.guardians.map((g, i) => ({
      guardian: i,
      blindShare: g.mint.outputOutcome(g.p.moduleReadDb(g.db, MINT), { txid: refundTxid, index: 0 })!
        .blindShare,
    }));
    const note = finishNote(
      pending,
      f.mintConfig.keys[MINT_DENOMINATIONS.indexOf(41)]!,
      config.threshold,
      shares,
    );
    expect(note.ok).toBe(true);
    // Spent once: the same input again, in another transaction, is refused.
    const again = f.block([], [refund(owner, unsent!)]);
    expect(again.events[0]!.status).toMatchObject({ state: "rejected", error: { code: "spent_input" } });
    expect(expiryAt(unsent!).state).toBe("refunded");
    expect(new BridgeState(f.mdb()).totals()).toMatchObject({ returnable: totals0.returnable });
    // No money created: the federation's liabilities are those before the refund (the bridge's fell
    // by the amount, the mint's notes rose by it).
    expect(f.audit().liabilities).toBe(audit0.liabilities);
  });

  it("f = 1 Byzantine guardian can neither return a minted mint nor stop the return of an unminted one", async () => {
    const owner = new NodeSigner(new Uint8Array(32).fill(0x63));
    const [minted, unsent] = await mintOutputs(2, owner.publicKey);
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(minted!) })).status).toBe(
      "success",
    );
    await anvil.testClient.increaseTime({
      seconds: Number(minted!.message.deadline - (await blockTime())) + 10,
    });
    await anvil.testClient.mine({ blocks: 3 });
    // Guardian 3 is Byzantine: it proposes the opposite of the chain for both, in every round.
    const lies = [
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...minted!.key, used: false }) },
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...unsent!.key, used: true }) },
    ];
    await settle(4, { silent: [3], extra: lies });
    for (const g of [0, 1, 2, 3]) {
      expect(expiryAt(minted!, g).state).toBe("minted");
      expect(expiryAt(unsent!, g).state).toBe("returnable");
    }
    const refund = buildTransaction(
      [minted!, unsent!].map((m) => ({ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(m.key) })),
      [noteOutput(MINT, prepareNote(41)), noteOutput(MINT, prepareNote(41))],
      [owner],
      sha256,
    );
    expect(f.block([], [refund]).events[0]!.status).toMatchObject({
      state: "rejected",
      error: { code: "not_returnable" },
    });
  });

  it("a mint reorged out above the depth is not counted as minted: the guardians read at depth, see it unminted, and return it", async () => {
    const owner = new NodeSigner(new Uint8Array(32).fill(0x64));
    const [m] = await mintOutputs(1, owner.publicKey);
    const deadline = m!.message.deadline;
    await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline });
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(m!) });
    expect(receipt.status).toBe("success");
    // The head is past the deadline with the deposit id used there; the depth block is not: no vote.
    await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline + 1n });
    await anvil.testClient.mine({ blocks: 1 });
    await settle(3);
    for (const g of [0, 1, 2, 3]) expect(expiryAt(m!, g)).toMatchObject({ state: "open", votesUsed: 0 });
    // Both blocks (2 confirmations of 3) are replaced by empty ones: the mint is gone.
    await anvil.testClient.request({ method: "anvil_reorg", params: [2, []] } as never);
    expect(
      await anvil.publicClient.getTransactionReceipt({ hash: receipt.transactionHash }).catch(() => null),
    ).toBeNull();
    // The chain goes on past the deadline (anvil rebuilds replaced blocks at its own clock: the time
    // is set explicitly) and past the depth.
    await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline + 10n });
    await anvil.testClient.mine({ blocks: 3 });
    await settle(4);
    for (const g of [0, 1, 2, 3]) expect(expiryAt(m!, g).state).toBe("returnable");
    await expect(submit(m!)).rejects.toThrow(/Expired/);
  });
});
