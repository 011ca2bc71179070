// The return of a refundable (0x02) mint above the contract's single-mint cap, against a real EVM
// chain: anvil (stopped by PID) with a WrappedMonero whose cap (1 XMR) is below the mints here
// (2^41 piconero, 2.2 XMR) and whose delay (7,200 s) outlasts the mint's deadline (3,600 s after
// acceptance), so a queued mint is past its deadline while any one guardian can still cancel it.
// Threat-model row 12z: one Byzantine guardian submits the mint itself (its signatures are public),
// then cancels it; before the contract recorded a cancel, the honest guardians read the deposit id
// "used" at depth, decided `minted`, and the value was never returned.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTransaction, fromHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { PICONERO_PER_XMR, cancelTypedData, wxmrDomain } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import { privateKeyToAccount } from "viem/accounts";
import { bytesToHex, parseEventLogs } from "viem";
import { encodeBridgeItem, encodeMintOutput, encodeRefundInput } from "./common.js";
import type { BridgeConfig, MintKey } from "./common.js";
import { BRIDGE, DUMMY, anvilFederation, evmKeyOf } from "./federation-fixture.js";
import type { AnvilFederation, Federation } from "./federation-fixture.js";
import { BridgeState } from "./state.js";
import { mintOnChain } from "./client/evm.js";

const N = 4;
const AMOUNT = 2n ** 41n;
const MINT_DELAY = 7_200n;

let fed: AnvilFederation;
let anvil: Anvil;
let config: BridgeConfig;
let f: Federation;

beforeAll(async () => {
  fed = await anvilFederation({
    n: N,
    limits: {
      rateCapacity: 1_000n * PICONERO_PER_XMR,
      ratePerSecond: PICONERO_PER_XMR,
      singleMintCap: PICONERO_PER_XMR,
      mintDelay: MINT_DELAY,
      minBurn: PICONERO_PER_XMR / 1_000n,
    },
  });
  ({ anvil, config, f } = fed);
});

afterAll(async () => {
  await fed?.stop();
});

const user = () => anvil.accounts[1]!;
const domain = () => wxmrDomain(config.chainId, config.contract);
const settle = (...args: Parameters<AnvilFederation["settle"]>) => fed.settle(...args);

/** One accepted refundable mint output, its signed Mint and t signatures. */
async function mintOutput(refundKey: Uint8Array) {
  const tx = buildTransaction(
    [faucetInput(DUMMY, AMOUNT)],
    [{ module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(user().address, refundKey) }],
    [],
    sha256,
  );
  const out = f.block([], [tx]);
  expect(out.events[0]!.status.state).toBe("accepted");
  const key: MintKey = { txid: fromHex(out.events[0]!.txid), index: 0 };
  const signed = await fed.collect(f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i), key)!));
  expect(signed.message).toMatchObject({ recipient: user().address, amount: AMOUNT });
  return { key, ...signed };
}

type Signed = Awaited<ReturnType<typeof mintOutput>>;

/** Submitted by whoever holds the public signatures: queued (MintDelayed); returns its executeAfter. */
async function queue(m: Signed): Promise<bigint> {
  const hash = await anvil.walletClient.writeContract({
    account: user(),
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [m.message, m.signatures],
  });
  const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash });
  const [ev] = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "MintDelayed" });
  expect(ev?.args.depositId).toBe(m.message.depositId);
  return ev!.args.executeAfter;
}

/** Guardian g's signature over Cancel(depositId), sent by the user account (cancelDelayedSigned). */
async function cancelBy(g: number, m: Signed) {
  const signature = await privateKeyToAccount(bytesToHex(evmKeyOf(g))).signTypedData(
    cancelTypedData(domain(), m.message.depositId),
  );
  return anvil.walletClient.writeContract({
    account: user(),
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "cancelDelayedSigned",
    args: [m.message.depositId, signature],
  });
}

const expiryAt = (m: Signed, g = 0) => f.guardians[g]!.bridge.outputOutcome(f.mdb(g), m.key)!.expiry!;
const blockTime = () => fed.blockTime();
const depositStatus = (m: Signed) =>
  anvil.publicClient.readContract({
    address: config.contract,
    abi: wrappedMoneroAbi,
    functionName: "depositStatus",
    args: [m.message.depositId],
  });

const onChain = (m: Signed) =>
  mintOnChain(config.chainId, config.contract, anvil.rpcUrl, m.message.depositId, undefined);

/** The chain's time past the mint's deadline, with the depth block (3 confirmations) past it too. */
async function pastDeadline(m: Signed): Promise<void> {
  await anvil.testClient.setNextBlockTimestamp({ timestamp: m.message.deadline + 10n });
  await anvil.testClient.mine({ blocks: 3 });
}

describe("a refundable mint above the single-mint cap (real anvil, threat-model row 12z)", () => {
  it("one Byzantine guardian that submits it and cancels it within the delay cannot freeze it: the honest guardians read it cancelled at depth and return it to its refund key, whatever the liar votes; it never mints", async () => {
    const owner = new NodeSigner(new Uint8Array(32).fill(0x71));
    const m = await mintOutput(owner.publicKey);
    const audit0 = f.audit();
    const totals0 = new BridgeState(f.mdb()).totals();
    await queue(m);
    // Guardian 3 is the attacker: it cancels the queued mint (one guardian's signature is enough).
    const cancel = await anvil.publicClient.waitForTransactionReceipt({ hash: await cancelBy(3, m) });
    expect(cancel.status).toBe("success");
    expect(await depositStatus(m)).toEqual([3, 0n]);
    // What the wallet's bridge-status reads (it says "failed: a guardian cancelled it…").
    expect(await onChain(m)).toMatchObject({ deposit: "cancelled" });

    await pastDeadline(m);
    // It also lies in consensus: "used" (minted) for this mint, every round.
    const lie = { from: 3, payload: encodeBridgeItem({ kind: "expiry", ...m.key, used: true }) };
    await settle(4, { silent: [3], extra: [lie] });
    for (const g of [0, 1, 2, 3]) expect(expiryAt(m, g).state).toBe("returnable");
    expect(new BridgeState(f.mdb()).totals()).toMatchObject({
      signed: totals0.signed - AMOUNT,
      returnable: totals0.returnable + AMOUNT,
    });
    expect(f.audit()).toEqual(audit0);

    // No wXMR from it, ever: not executed, not minted again.
    const exec = anvil.walletClient.writeContract({
      account: user(),
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "executeDelayed",
      args: [m.message.depositId],
    });
    await expect(exec).rejects.toThrow(/NoPendingMint/);
    await expect(queue(m)).rejects.toThrow(/Expired|DepositUsed/);

    // The refund key takes the whole amount back, once.
    const refund = buildTransaction(
      [{ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(m.key) }],
      [coinOutput(DUMMY, AMOUNT, owner.publicKey)],
      [owner],
      sha256,
    );
    expect(f.block([], [refund]).events[0]!.status.state).toBe("accepted");
    expect(expiryAt(m).state).toBe("refunded");
    expect(f.audit().liabilities).toBe(audit0.liabilities);
  });

  it("a queued mint is decided only once it cannot be cancelled: past its deadline but within its delay no guardian votes (a cancel above the depth, then reorged out, changes nothing); at depth past executeAfter it is minted, a cancel reverts CancelTooLate, and executeDelayed pays the wXMR", async () => {
    const owner = new NodeSigner(new Uint8Array(32).fill(0x72));
    const m = await mintOutput(owner.publicKey);
    const executeAfter = await queue(m);
    expect(executeAfter - m.message.deadline).toBeGreaterThan(1_000n);
    expect(await onChain(m)).toMatchObject({ deposit: "queued", executeAfter });

    await pastDeadline(m);
    await settle(4);
    for (const g of [0, 1, 2, 3])
      expect(expiryAt(m, g)).toMatchObject({ state: "due", votesUsed: 0, votesUnused: 0 });

    // A guardian's cancel lands above the depth (head and head - 1): the guardians do not read it.
    const cancel = await anvil.publicClient.waitForTransactionReceipt({ hash: await cancelBy(2, m) });
    expect(cancel.status).toBe("success");
    await anvil.testClient.mine({ blocks: 1 });
    await settle(3);
    for (const g of [0, 1, 2, 3])
      expect(expiryAt(m, g)).toMatchObject({ state: "due", votesUsed: 0, votesUnused: 0 });
    // Reorged out (2 blocks, below the 3 confirmations): the mint is queued again.
    await anvil.testClient.request({ method: "anvil_reorg", params: [2, []] } as never);
    expect(
      await anvil.publicClient.getTransactionReceipt({ hash: cancel.transactionHash }).catch(() => null),
    ).toBeNull();
    expect(await depositStatus(m)).toEqual([2, executeAfter]);

    // The depth block reaches executeAfter: nobody can cancel it any more; the guardians decide minted.
    await anvil.testClient.setNextBlockTimestamp({ timestamp: executeAfter });
    await anvil.testClient.mine({ blocks: 3 });
    expect(await blockTime()).toBeGreaterThanOrEqual(executeAfter);
    await expect(cancelBy(1, m)).rejects.toThrow(/CancelTooLate/);
    await settle(4);
    for (const g of [0, 1, 2, 3]) expect(expiryAt(m, g).state).toBe("minted");
    const refund = buildTransaction(
      [{ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(m.key) }],
      [coinOutput(DUMMY, AMOUNT, owner.publicKey)],
      [owner],
      sha256,
    );
    expect(f.block([], [refund]).events[0]!.status).toMatchObject({
      state: "rejected",
      error: { code: "not_returnable" },
    });
    const before = await anvil.publicClient.readContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "balanceOf",
      args: [user().address],
    });
    const hash = await anvil.walletClient.writeContract({
      account: user(),
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "executeDelayed",
      args: [m.message.depositId],
    });
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await onChain(m)).toMatchObject({ deposit: "minted", executeAfter: 0n });
    expect(
      await anvil.publicClient.readContract({
        address: config.contract,
        abi: wrappedMoneroAbi,
        functionName: "balanceOf",
        args: [user().address],
      }),
    ).toBe(before + AMOUNT);
  });
});
