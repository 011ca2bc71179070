// Re-issue of an expired, unsubmitted mint that names no refund key (a 0x01 output, or the re-mint
// of a burn the federation cannot pay in Monero), against a real EVM chain: anvil (stopped by PID)
// with the WrappedMonero contract for four guardians (t = 3, confirmations 3), each guardian's
// watcher reading depositStatus at its own depth block (federation-fixture.ts anvilFederation).
// Before, such a mint was never voted on: past its deadline its signatures reverted Expired and its
// value stayed counted as owed for good.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTransaction, fromHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import type { Anvil } from "@conclave/evm";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { faucetInput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes, parseEventLogs } from "viem";
import type { MintSignatureView } from "./api.js";
import { encodeBridgeItem, encodeMintOutput } from "./common.js";
import type { BridgeConfig, MintKey } from "./common.js";
import { reissueDepositId } from "./eip712-mint.js";
import { BRIDGE, DUMMY, anvilFederation } from "./federation-fixture.js";
import type { AnvilFederation, Federation, SignedMint } from "./federation-fixture.js";
import { reissueWindowSeconds } from "./server.js";
import { BridgeState, BridgeStateWriter } from "./state.js";

const N = 4;
const AMOUNT = 2n ** 41n; // 2.2 XMR, under DEV_LIMITS' single-mint cap (100 XMR): minted at once

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

/** A 0x01 output "wXMR to the user" of `amount`, funded by the faucet and accepted. */
function plainMint(amount: bigint): MintKey {
  const tx = buildTransaction(
    [faucetInput(DUMMY, amount)],
    [{ module: BRIDGE, amount, payload: encodeMintOutput(user().address) }],
    [],
    sha256,
  );
  const out = f.block([], [tx]);
  expect(out.events[0]!.status.state).toBe("accepted");
  return { txid: fromHex(out.events[0]!.txid), index: 0 };
}

const outputViews = (key: MintKey): MintSignatureView[] =>
  f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i), key)!);

const submit = (m: SignedMint) =>
  anvil.walletClient.writeContract({
    account: user(),
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [m.message, m.signatures],
  });

const balance = () =>
  anvil.publicClient.readContract({
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [user().address],
  });

/** The chain's time past `deadline`, with the depth block (3 confirmations) past it too. */
async function past(deadline: bigint): Promise<void> {
  await anvil.testClient.setNextBlockTimestamp({ timestamp: deadline + 10n });
  await anvil.testClient.mine({ blocks: 3 });
}

/** GET supply at every guardian, as the status page reads it (after a poll: the depth figure). */
const supplies = () => f.guardians.map((g, i) => g.bridge.supplyView(f.mdb(i)));

describe("re-issue of an expired mint without refund key (real anvil)", () => {
  it("an unsubmitted 0x01 mint past its deadline is re-issued with a fresh deadline and deposit id; the first signatures revert Expired, the re-issued ones mint exactly its amount once; Σ signed and GET supply count it once throughout", async () => {
    const key = plainMint(AMOUNT);
    const first = await fed.collect(outputViews(key));
    for (const v of outputViews(key))
      expect(v.reissue).toMatchObject({ attempt: 0, state: "open", firstDepositId: first.message.depositId });
    const totals0 = new BridgeState(f.mdb()).totals();
    const audit0 = f.audit();
    const supply0 = supplies();
    await fed.settle(1);
    for (const s of supplies())
      expect(s).toMatchObject({ signed: totals0.signed.toString(), unsubmitted: AMOUNT.toString() });

    // Past its deadline at depth: every guardian reads the deposit id unused and votes; t re-issue it.
    await past(first.message.deadline);
    await fed.settle(4);
    const views = outputViews(key);
    for (const v of views) {
      expect(v.reissue).toMatchObject({ attempt: 1, state: "open", votesUnused: 0, votesUsed: 0 });
      expect(v.depositId).toBe(reissueDepositId(first.message.depositId, 1));
      expect(v.depositId).not.toBe(first.message.depositId);
      expect(v.signature).toBeDefined();
    }
    const agreed = BigInt(f.guardians[0]!.bridge.chainView(f.mdb()).agreedTimestamp);
    const second = await fed.collect(views);
    expect(second.message).toMatchObject({ recipient: user().address, amount: AMOUNT, setIndex: 1 });
    // The window doubles: 2 × mintDeadlineSeconds from the agreed time of the decision.
    expect(second.message.deadline).toBe(agreed + reissueWindowSeconds(config.mintDeadlineSeconds, 1));
    expect(second.message.deadline - agreed).toBe(2n * BigInt(config.mintDeadlineSeconds));
    // The same value, owed once: Σ signed, the audit and the supply figures are those before.
    expect(new BridgeState(f.mdb()).totals()).toEqual(totals0);
    expect(f.audit()).toEqual(audit0);
    for (const [g, s] of supplies().entries())
      expect(s).toMatchObject({
        signed: supply0[g]!.signed,
        outstanding: supply0[g]!.outstanding,
        returnable: supply0[g]!.returnable,
        unsubmitted: AMOUNT.toString(),
      });

    // The first signatures can never mint; the re-issued ones mint exactly the amount, once.
    await expect(submit(first)).rejects.toThrow(/Expired/);
    const before = await balance();
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(second) });
    expect(receipt.status).toBe("success");
    const [minted] = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Minted" });
    expect(minted?.args).toMatchObject({ depositId: second.message.depositId, amount: AMOUNT });
    expect(await balance()).toBe(before + AMOUNT);
    await expect(submit(second)).rejects.toThrow(/DepositUsed/);
    await expect(submit(first)).rejects.toThrow(/Expired/);

    // Past the second deadline at depth: decided minted, no third attempt; the supply at depth
    // holds it, nothing unsubmitted.
    await past(second.message.deadline);
    await fed.settle(4);
    for (const v of outputViews(key)) {
      expect(v.reissue).toMatchObject({ attempt: 1, state: "minted" });
      expect(v.depositId).toBe(second.message.depositId);
    }
    for (const g of [0, 1, 2, 3]) expect(new BridgeState(f.mdb(g)).dueMints(g, 2n ** 63n, 64)).toEqual([]);
    expect(new BridgeState(f.mdb()).totals()).toEqual(totals0);
    for (const s of supplies())
      expect(s).toMatchObject({ signed: totals0.signed.toString(), unsubmitted: "0" });
  });

  it("the re-mint of a burn the federation cannot pay in Monero (an address of another network), unsubmitted past its deadline, is re-issued to the burner; the re-issued mint gives the burned amount back exactly, the first one reverts Expired", async () => {
    // The user's wXMR to burn.
    const key = plainMint(AMOUNT);
    const own = await fed.collect(outputViews(key));
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(own) })).status).toBe(
      "success",
    );
    const testnet = encodeAddress({
      network: "testnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(0x53)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(0x54)),
    });
    const burned = AMOUNT / 2n;
    const hash = await anvil.walletClient.writeContract({
      account: user(),
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "burn",
      args: [burned, testnet],
    });
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash });
    const [log] = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Burned" });
    const burnKey = { txHash: hexToBytes(receipt.transactionHash), logIndex: log!.logIndex };
    const afterBurn = await balance();
    await anvil.testClient.mine({ blocks: 3 });
    await fed.settle(4);
    const remints = () => f.guardians.map((g, i) => g.bridge.burnView(f.mdb(i), burnKey).remint!);
    for (const [i, g] of f.guardians.entries())
      expect(g.bridge.burnView(f.mdb(i), burnKey)).toMatchObject({ settlement: "reminted" });
    const first = await fed.collect(remints());
    expect(first.message).toMatchObject({ recipient: user().address, amount: burned });
    for (const r of remints())
      expect(r.reissue).toMatchObject({ attempt: 0, firstDepositId: first.message.depositId });
    const totals0 = new BridgeState(f.mdb()).totals();

    await past(first.message.deadline);
    await fed.settle(4);
    for (const r of remints()) {
      expect(r.reissue).toMatchObject({ attempt: 1, state: "open" });
      expect(r.depositId).toBe(reissueDepositId(first.message.depositId, 1));
    }
    expect(new BridgeState(f.mdb()).totals()).toEqual(totals0);
    const second = await fed.collect(remints());
    await expect(submit(first)).rejects.toThrow(/Expired/);
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(second) })).status).toBe(
      "success",
    );
    expect(await balance()).toBe(afterBurn + burned);
    await expect(submit(first)).rejects.toThrow(/Expired/);
  });

  it("f = 1 Byzantine guardian changes nothing: voting 'minted' for an unminted mint does not stop its re-issue, voting 'unused' for a minted one does not re-issue it; its late and future-attempt votes are refused", async () => {
    const unsent = plainMint(AMOUNT);
    const minted = plainMint(AMOUNT);
    const a = await fed.collect(outputViews(unsent));
    const b = await fed.collect(outputViews(minted));
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(b) })).status).toBe(
      "success",
    );
    const totals0 = new BridgeState(f.mdb()).totals();
    await past(a.message.deadline > b.message.deadline ? a.message.deadline : b.message.deadline);
    // Guardian 3 proposes only lies, every round: the opposite of the chain for both.
    const lies = [
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...unsent, used: true }) },
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...minted, used: false }) },
    ];
    await fed.settle(4, { silent: [3], extra: lies });
    for (const g of [0, 1, 2, 3]) {
      expect(f.guardians[g]!.bridge.outputOutcome(f.mdb(g), unsent)!.reissue).toMatchObject({
        attempt: 1,
        state: "open",
      });
      expect(f.guardians[g]!.bridge.outputOutcome(f.mdb(g), minted)!.reissue).toMatchObject({
        attempt: 0,
        state: "minted",
      });
    }
    // Its lie about the decided attempt 0 ("minted") and a vote on attempt 7 are its own errors.
    const late = f.block([
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...unsent, used: true, attempt: 0 }) },
      { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...unsent, used: false, attempt: 7 }) },
    ]);
    expect(late.moduleItemErrors).toBe(2);
    expect(new BridgeState(f.mdb()).totals()).toEqual(totals0);
    const second = await fed.collect(outputViews(unsent));
    expect(second.message.depositId).toBe(reissueDepositId(a.message.depositId, 1));
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: await submit(second) })).status).toBe(
      "success",
    );
  });

  it("a store written before the re-issue version (0x01 mints in no queue, no back-fill mark): the first ordered bridge item queues them alike at every guardian, and the expired mint is re-issued", async () => {
    const key = plainMint(AMOUNT);
    const first = await fed.collect(outputViews(key));
    const deadline = first.message.deadline;
    // What a version before the re-issue left: the 0x01 output in no guardian's queue, no mark.
    for (const g of f.guardians) {
      const tx = g.p.moduleDb(g.db, BRIDGE);
      const w = new BridgeStateWriter(tx);
      for (let q = 0; q < N; q++) w.deleteDue(q, deadline, key);
      tx.delete(Uint8Array.of(0x1e));
      expect(new BridgeState(tx).queueBackfilled()).toBe(0);
    }
    const queued = (i: number) =>
      new BridgeState(f.mdb(i))
        .dueMints(i, 2n ** 63n, 64)
        .filter((m) => Buffer.from(m.txid).equals(Buffer.from(key.txid)));
    for (let i = 0; i < N; i++) expect(queued(i)).toEqual([]);
    // The next round's items: every guardian queues it for every guardian, the same keys everywhere.
    await fed.settle(1);
    for (let i = 0; i < N; i++) {
      expect(queued(i)).toEqual([{ deadline, txid: key.txid, index: key.index }]);
      expect(new BridgeState(f.mdb(i)).queueBackfilled()).toBe(1);
      for (let q = 0; q < N; q++) expect(new BridgeState(f.mdb(i)).isDue(q, deadline, key)).toBe(true);
    }
    const stateOf = (i: number) =>
      [...f.mdb(i).scan(new Uint8Array())].map(
        ([k, v]) => `${Buffer.from(k).toString("hex")}=${Buffer.from(v).toString("hex")}`,
      );
    for (let i = 1; i < N; i++) expect(stateOf(i)).toEqual(stateOf(0));
    expect(
      f.guardians[0]!.logs.filter((l) => l.event === "expiry_queue_backfilled").map((l) => l.fields),
    ).toEqual([{ entries: N }]);
    // Past its deadline at depth: voted and re-issued as if it had been queued at acceptance.
    await past(deadline);
    await fed.settle(4);
    for (const v of outputViews(key)) {
      expect(v.reissue).toMatchObject({ attempt: 1, state: "open" });
      expect(v.depositId).toBe(reissueDepositId(first.message.depositId, 1));
    }
    // A second pass writes nothing (the mark is there; run again, it finds every mint queued or voted).
    const tx = f.guardians[0]!.p.moduleDb(f.guardians[0]!.db, BRIDGE);
    expect(new BridgeStateWriter(tx).enqueueUnqueued(N)).toBe(0);
  });
});
