// The simulated EVM chain on its own: the WrappedMonero rules it models (signatures recovered from
// the product's EIP-712 digest, signed by the product's signMint), delayed and cancelled mints, the
// rate limit, burns and their logs, reorgs, a guardian's node with lag, outages and timeouts, and
// the bridge module's own BurnWatcher reading it through SimEvmSource.
import { describe, expect, it } from "vitest";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BurnWatcher, evmAddressOfKey, mintDigest, signMint } from "@conclave/module-bridge";
import type { MintMessage } from "@conclave/module-bridge";
import { bytesToHex, getAddress, hexToBytes } from "viem";
import { Rng } from "../rng.js";
import { ManualScheduler } from "./chain.js";
import { SimEvmChain, recoverSigner } from "./evm-chain.js";
import type { EvmCall } from "./evm-chain.js";
import { simAddress } from "./monero-chain.js";

const keyOf = (label: string): Uint8Array => keccak_256(new TextEncoder().encode(label));
const KEYS = [0, 1, 2, 3].map((i) => keyOf(`evm-chain-test-guardian-${i}`));
const ADDRESSES = KEYS.map(evmAddressOfKey);
const OUTSIDER = keyOf("evm-chain-test-outsider");
const ALICE = evmAddressOfKey(keyOf("alice"));
const BOB = evmAddressOfKey(keyOf("bob"));
const CONTRACT = getAddress("0x00000000000000000000000000000000c0ffee00");
const DOMAIN = { chainId: 31337, contract: CONTRACT };

function chain(seed = 1, confirmations = 4): SimEvmChain {
  return new SimEvmChain({
    rng: new Rng(seed, "evm-test"),
    guardians: 4,
    chainId: 31337,
    contract: CONTRACT,
    signers: ADDRESSES,
    threshold: 3,
    limits: { rateCapacity: 10_000n, ratePerSecond: 10n, singleMintCap: 5_000n, mintDelay: 60n, minBurn: 2n },
    confirmations,
    secondsPerBlock: 12,
  });
}

let nextDeposit = 0;
function message(c: SimEvmChain, amount: bigint, over: Partial<MintMessage> = {}): MintMessage {
  return {
    recipient: ALICE,
    amount,
    depositId: bytesToHex(keyOf(`deposit-${nextDeposit++}`)),
    deadline: c.head().timestamp + 600n,
    setIndex: 1,
    ...over,
  };
}

/** Signatures of guardians `who` (ascending by address unless `order` is false). */
function sigs(m: MintMessage, who: number[], order = true, domain = DOMAIN): `0x${string}`[] {
  const signed = who.map((g) => ({ a: BigInt(ADDRESSES[g]!), s: signMint(KEYS[g]!, domain, m) }));
  if (order) signed.sort((x, y) => (x.a < y.a ? -1 : 1));
  return signed.map((x) => x.s);
}

/** Sends, mines a block, returns the receipt's error ("ok" when it succeeded). */
function run(c: SimEvmChain, from: `0x${string}`, call: EvmCall): string {
  const hash = c.send(from, call);
  c.mine();
  const r = c.receipt(hash)!;
  return r.error ?? "ok";
}

describe("the simulated WrappedMonero contract", () => {
  it("mints with t ascending distinct member signatures over the product's EIP-712 digest, once per deposit id", () => {
    const c = chain();
    const m = message(c, 1_000n);
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) })).toBe("ok");
    expect(c.balanceOf(ALICE)).toBe(1_000n);
    expect(c.totalSupply()).toBe(1_000n);
    expect(c.depositUsed(m.depositId)).toBe(true);
    expect(c.logs().filter((l) => l.event === "Minted")).toHaveLength(1);
    // The same signatures again (a replay), or another t of them: the deposit id is used.
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) })).toBe("DepositUsed");
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [1, 2, 3]) })).toBe("DepositUsed");
    expect(c.totalSupply()).toBe(1_000n);
  });

  it("refuses too few, duplicate, unordered, outsider, other-domain, other-message, malleated and expired signatures", () => {
    const c = chain();
    const m = message(c, 1_000n);
    const good = sigs(m, [0, 1, 2]);
    const attempts: [string, EvmCall][] = [
      ["NotEnoughSignatures", { kind: "mint", mint: m, signatures: good.slice(0, 2) }],
      ["DuplicateSigner", { kind: "mint", mint: m, signatures: [good[0]!, good[0]!, good[1]!] }],
      ["SignersNotAscending", { kind: "mint", mint: m, signatures: [...good].reverse() }],
    ];
    const outsider = signMint(OUTSIDER, DOMAIN, m);
    const withOutsider = [...good.slice(0, 2), outsider].sort((x, y) => {
      const a = BigInt(recoverSigner(hexToBytes(mintDigest(DOMAIN, m)), hexToBytes(x))!);
      const b = BigInt(recoverSigner(hexToBytes(mintDigest(DOMAIN, m)), hexToBytes(y))!);
      return a < b ? -1 : 1;
    });
    attempts.push(["SignerNotGuardian", { kind: "mint", mint: m, signatures: withOutsider }]);
    for (const [expected, call] of attempts) expect(run(c, BOB, call)).toBe(expected);
    // Another chain's domain, or the signatures of another amount: the recovered signers are no members.
    const otherDomain = sigs(m, [0, 1, 2], true, { chainId: 1, contract: CONTRACT });
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: otherDomain })).not.toBe("ok");
    const more = { ...m, amount: 2_000n };
    expect(run(c, BOB, { kind: "mint", mint: more, signatures: good })).not.toBe("ok");
    // s replaced by n - s (the other valid ECDSA signature of the same message): refused.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const malleated = good.map((sig) => {
      const b = hexToBytes(sig);
      const s = BigInt(bytesToHex(b.subarray(32, 64)));
      b.set(hexToBytes(`0x${(n - s).toString(16).padStart(64, "0")}`), 32);
      b[64] = b[64] === 27 ? 28 : 27;
      return bytesToHex(b);
    });
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: malleated })).toBe("ECDSAInvalidSignature");
    // Past the deadline.
    const late = message(c, 1_000n, { deadline: c.head().timestamp });
    expect(run(c, BOB, { kind: "mint", mint: late, signatures: sigs(late, [0, 1, 2]) })).toBe("Expired");
    expect(c.totalSupply()).toBe(0n);
    expect(c.depositUsed(m.depositId)).toBe(false);
    // And the good set still mints.
    expect(run(c, BOB, { kind: "mint", mint: m, signatures: good })).toBe("ok");
  });

  it("queues a mint above singleMintCap for mintDelay; any guardian may cancel it, nobody else; the rate limit holds", () => {
    const c = chain();
    const big = message(c, 6_000n);
    expect(run(c, BOB, { kind: "mint", mint: big, signatures: sigs(big, [0, 1, 3]) })).toBe("ok");
    expect(c.totalSupply()).toBe(0n);
    expect(c.depositUsed(big.depositId)).toBe(true);
    expect(c.pendingTotal()).toBe(6_000n);
    expect(run(c, BOB, { kind: "executeDelayed", depositId: big.depositId })).toBe("TooEarly");
    for (let i = 0; i < 5; i++) c.mine();
    expect(run(c, BOB, { kind: "executeDelayed", depositId: big.depositId })).toBe("ok");
    expect(c.balanceOf(ALICE)).toBe(6_000n);
    expect(c.depositStatus(big.depositId)).toEqual({ status: "minted", executeAfter: 0n });
    const other = message(c, 5_500n);
    expect(run(c, BOB, { kind: "mint", mint: other, signatures: sigs(other, [0, 1, 2]) })).toBe("ok");
    expect(run(c, BOB, { kind: "cancelDelayed", depositId: other.depositId })).toBe("NotGuardian");
    expect(run(c, ADDRESSES[2]!, { kind: "cancelDelayed", depositId: other.depositId })).toBe("ok");
    expect(c.pendingTotal()).toBe(0n);
    // Cancelled: its deposit id stays used, nothing was minted (threat-model row 12z).
    expect(c.depositUsed(other.depositId)).toBe(true);
    expect(c.depositStatus(other.depositId)).toEqual({ status: "cancelled", executeAfter: 0n });
    expect(run(c, BOB, { kind: "executeDelayed", depositId: other.depositId })).toBe("NoPendingMint");
    // From executeAfter on, no guardian cancels it any more (the contract's CancelTooLate).
    const late = message(c, 5_500n);
    expect(run(c, BOB, { kind: "mint", mint: late, signatures: sigs(late, [0, 1, 2]) })).toBe("ok");
    expect(c.depositStatus(late.depositId).status).toBe("queued");
    for (let i = 0; i < 5; i++) c.mine();
    expect(run(c, ADDRESSES[2]!, { kind: "cancelDelayed", depositId: late.depositId })).toBe("CancelTooLate");
    // The bucket (10,000, 10 per second) was drained by the executed 6,000 a few blocks ago.
    const a = message(c, 3_000n);
    const b = message(c, 3_000n);
    expect(run(c, BOB, { kind: "mint", mint: a, signatures: sigs(a, [0, 1, 2]) })).toBe("ok");
    expect(run(c, BOB, { kind: "mint", mint: b, signatures: sigs(b, [0, 1, 2]) })).toBe("RateLimited");
    expect(c.depositUsed(b.depositId)).toBe(false);
  });

  it("burns with the Burned event (burn id, block-wide log index, tx hash), and refuses bad burns", () => {
    const c = chain();
    const m = message(c, 3_000n);
    run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) });
    const address = simAddress("mainnet", "standard", "evm-test");
    expect(run(c, ALICE, { kind: "burn", amount: 1_000n, moneroAddress: address })).toBe("ok");
    expect(run(c, ALICE, { kind: "burn", amount: 1_000n, moneroAddress: "not-base58-0OIl" })).toBe(
      "BadMoneroAddress",
    );
    expect(run(c, ALICE, { kind: "burnToClaim", amount: 1_000n, claimKey: new Uint8Array(32) })).toBe(
      "BadClaimKey",
    );
    expect(run(c, ALICE, { kind: "burnToClaim", amount: 1n, claimKey: keyOf("claim") })).toBe("BurnTooSmall");
    expect(run(c, ALICE, { kind: "burnToClaim", amount: 5_000n, claimKey: keyOf("claim") })).toBe(
      "ERC20InsufficientBalance",
    );
    // Two burns in one block: log indexes 0 and 1, burn ids in order.
    const h1 = c.send(ALICE, { kind: "burnToClaim", amount: 500n, claimKey: keyOf("claim") });
    const h2 = c.send(ALICE, { kind: "burn", amount: 700n, moneroAddress: address });
    c.mine();
    const burns = c.burns(0, c.height() - 1);
    expect(burns.map((b) => [b.burnId, b.burnKind, b.amount, b.logIndex])).toEqual([
      [0n, 0, 1_000n, 0],
      [1n, 1, 500n, 0],
      [2n, 0, 700n, 1],
    ]);
    expect(bytesToHex(burns[1]!.txHash)).toBe(h1);
    expect(bytesToHex(burns[2]!.txHash)).toBe(h2);
    expect(new TextDecoder().decode(burns[2]!.destination)).toBe(address);
    expect(c.balanceOf(ALICE)).toBe(800n);
    expect(c.totalSupply()).toBe(800n);
  });

  it("a reorg puts the removed blocks' transactions back; they run again on the new branch", () => {
    const c = chain();
    const m = message(c, 3_000n);
    run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) });
    const burn = c.send(ALICE, { kind: "burnToClaim", amount: 1_000n, claimKey: keyOf("claim") });
    c.mine();
    const before = c.receipt(burn)!;
    c.mine();
    const hashBefore = c.head().hash;
    c.reorg(2);
    const after = c.receipt(burn)!;
    expect(c.head().hash).not.toBe(hashBefore);
    expect(after.block).toBe(before.block);
    expect(after.logs[0]!.txHash).toBe(burn);
    expect(c.totalSupply()).toBe(2_000n);
    // A reorg that also takes the mint away: the mint runs again first, then the burn.
    c.reorg(4);
    expect(c.totalSupply()).toBe(2_000n);
    expect(c.receipt(burn)!.error).toBeUndefined();
  });
});

describe("a guardian's EVM node and the module's BurnWatcher on the simulated chain", () => {
  it("the watcher votes a burn only at its confirmation depth; reorgs shallower than the depth never remove one it found", async () => {
    const c = chain(7, 4);
    const scheduler = new ManualScheduler();
    const source = c.source(0, scheduler, new Rng(7, "node-0"));
    const found: string[] = [];
    const watcher = new BurnWatcher({
      source,
      confirmations: 4,
      blocksPerPollMax: 100n,
      pollMs: 1_000,
      log: () => {},
      onChange: () => {},
    });
    watcher.setResume(0n);
    const m = message(c, 9_000n, { deadline: c.head().timestamp + 100_000n });
    run(c, BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) });
    for (let i = 0; i < 5; i++) c.mine();
    run(c, ALICE, { kind: "executeDelayed", depositId: m.depositId });
    const rng = new Rng(7, "reorgs");
    for (let i = 0; i < 200; i++) {
      if (rng.chance(0.2)) c.send(ALICE, { kind: "burnToClaim", amount: 10n, claimKey: keyOf(`k${i}`) });
      if (rng.chance(0.15)) c.reorg(rng.range(1, 3));
      else c.mine();
      await scheduler.settle(watcher.poll());
      const { burns, block } = watcher.findings;
      expect(block).toBe(BigInt(c.height() - 1 - 3));
      // Every burn the watcher reported is still on the canonical chain with the same fields.
      for (const b of burns) {
        const key = `${bytesToHex(b.txHash)}:${b.logIndex}`;
        if (!found.includes(key)) found.push(key);
        const onChain = c.burns(Number(b.blockNumber), Number(b.blockNumber));
        expect(
          onChain.some((x) => bytesToHex(x.txHash) === bytesToHex(b.txHash) && x.logIndex === b.logIndex),
        ).toBe(true);
      }
    }
    expect(found.length).toBeGreaterThan(10);
    // The canonical burns at depth are exactly those the watcher found.
    const deep = c.burns(0, c.height() - 4).map((b) => `${bytesToHex(b.txHash)}:${b.logIndex}`);
    expect(found).toEqual(deep);
    // A reorg deeper than the depth removes a burn the watcher had found (the finality assumption).
    const lastBlock = Number(c.burns(0, c.height() - 4).at(-1)!.blockNumber);
    c.reorg(c.height() - lastBlock + 1);
    const moved = c
      .burns(0, c.height() - 1)
      .map((b) => `${bytesToHex(b.txHash)}:${b.logIndex}:${b.blockNumber}`);
    expect(moved.length).toBe(deep.length);
  });

  it("a lagging node shows a prefix, a node that is down refuses, a slow one times out; the watcher retries", async () => {
    const c = chain(3, 2);
    const scheduler = new ManualScheduler();
    const source = c.source(1, scheduler, new Rng(3, "node-1"), 5_000);
    for (let i = 0; i < 10; i++) c.mine();
    expect(await scheduler.settle(source.head())).toBe(10n);
    c.faults(1).lagBlocks = 3;
    expect(await scheduler.settle(source.head())).toBe(7n);
    await expect(scheduler.settle(source.blockTimestamp(9n))).rejects.toThrow(/header not found/);
    c.faults(1).lagBlocks = 0;
    c.faults(1).daemonDown = true;
    await expect(scheduler.settle(source.head())).rejects.toThrow(/ECONNREFUSED/);
    c.faults(1).daemonDown = false;
    Object.assign(c.faults(1), { slowProbability: 1, slowMs: 20_000 });
    await expect(scheduler.settle(source.totalSupply())).rejects.toThrow(/took too long/);
    Object.assign(c.faults(1), { slowProbability: 0 });
    expect(await scheduler.settle(source.chainId())).toBe(31337);
    const state = await scheduler.settle(source.contractState());
    expect(state.guardians.map((a) => a.toLowerCase())).toEqual(c.signers.map((a) => a.toLowerCase()));
  });

  it("a seed replays to the same trace", () => {
    const trace = (seed: number): string => {
      const c = chain(seed);
      const rng = new Rng(seed, "replay");
      const m = message(c, 4_000n, { depositId: bytesToHex(keyOf(`replay-${seed}`)) });
      c.send(BOB, { kind: "mint", mint: m, signatures: sigs(m, [0, 1, 2]) });
      for (let i = 0; i < 50; i++) {
        if (rng.chance(0.3)) c.send(ALICE, { kind: "burnToClaim", amount: 10n, claimKey: keyOf(`r${i}`) });
        if (rng.chance(0.1)) c.reorg(rng.range(1, 4));
        else c.mine();
      }
      return c.trace.hash;
    };
    expect(trace(5)).toBe(trace(5));
    expect(trace(5)).not.toBe(trace(6));
  });
});
