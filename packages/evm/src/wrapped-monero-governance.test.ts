// Guardian-set rotation and its grace period, pause / unpause, and the limits (rate limit, single-mint
// cap with delay and cancel), on a real anvil through viem. Each test starts from a snapshot.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEventLogs } from "viem";
import type { Hex, PrivateKeyAccount } from "viem";
import { startWxmrFixture, testAccounts, revertWith } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { PICONERO_PER_XMR } from "./anvil.js";
import {
  cancelTypedData,
  orderSignatures,
  pauseTypedData,
  rotateTypedData,
  setLimitsTypedData,
  signMint,
  unpauseTypedData,
} from "./typed-data.js";
import type { WxmrLimits } from "./typed-data.js";

const XMR = PICONERO_PER_XMR;
const holder = testAccounts(1, "holder")[0]!.address;
const outsider = testAccounts(1, "outsider")[0]!;
const newSet = testAccounts(4, "guardian-set-2");
const GRACE = 3_600n;
const LIMITS: WxmrLimits = {
  rateCapacity: 10n * XMR,
  ratePerSecond: XMR / 1_000n, // 1 XMR per 1,000 s
  singleMintCap: 5n * XMR,
  mintDelay: 600n,
  minBurn: XMR / 100n,
};

async function signAll(accounts: readonly PrivateKeyAccount[], sign: (a: PrivateKeyAccount) => Promise<Hex>) {
  return orderSignatures(
    await Promise.all(accounts.map(async (a) => ({ signer: a.address, signature: await sign(a) }))),
  );
}

let f: WxmrFixture;
let snapshot: Hex;
beforeAll(async () => {
  f = await startWxmrFixture({ guardians: 3, threshold: 2, limits: LIMITS, gracePeriodSeconds: GRACE });
  snapshot = await f.anvil.testClient.snapshot();
});
afterAll(async () => {
  await f?.anvil.stop();
});
beforeEach(async () => {
  await f.anvil.testClient.revert({ id: snapshot });
  snapshot = await f.anvil.testClient.snapshot();
});

async function rotateSignatures(
  signers: readonly PrivateKeyAccount[],
  guardians: readonly PrivateKeyAccount[],
  threshold: number,
  setIndex: number,
) {
  const typed = rotateTypedData(f.domain, {
    guardians: guardians.map((g) => g.address),
    threshold,
    setIndex,
  });
  return signAll(signers, (a) => a.signTypedData(typed));
}

/** Rotates to `newSet` at 3-of-4, signed by 2 of the first set; resolves with the block's timestamp. */
async function rotateToNewSet(): Promise<bigint> {
  const sigs = await rotateSignatures(f.guardians.slice(0, 2), newSet, 3, 2);
  const r = await f.receipt(f.contract.write.rotate([newSet.map((g) => g.address), 3, sigs]));
  return (await f.anvil.publicClient.getBlock({ blockNumber: r.blockNumber })).timestamp;
}

describe("guardian-set rotation", () => {
  it("installs the new set signed by t of the current one over (set, threshold, index + 1)", async () => {
    const sigs = await rotateSignatures(f.guardians.slice(1), newSet, 3, 2);
    const r = await f.receipt(f.contract.write.rotate([newSet.map((g) => g.address), 3, sigs]));
    const [ev] = parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "GuardianSetRotated" });
    expect(ev?.args).toEqual({ setIndex: 2, guardians: newSet.map((g) => g.address), threshold: 3 });
    expect(await f.contract.read.setIndex()).toBe(2);
    expect(await f.contract.read.guardians([2])).toEqual(newSet.map((g) => g.address));
    expect(await f.contract.read.threshold([2])).toBe(3);
    const t = (await f.anvil.publicClient.getBlock({ blockNumber: r.blockNumber })).timestamp;
    expect(await f.contract.read.previousSetValidUntil()).toBe(t + GRACE);
    // The new set mints at its own threshold.
    await f.mint(await f.mintMessage(holder, XMR, { setIndex: 2 }), newSet.slice(0, 3));
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("refuses rotations signed by the new set, by too few, by an outsider, or over the wrong index", async () => {
    const addresses = newSet.map((g) => g.address);
    const write = (sigs: Hex[]) => revertWith(f.contract.write.rotate([addresses, 3, sigs]));
    expect((await write(await rotateSignatures(newSet.slice(0, 3), newSet, 3, 2))).errorName).toBe(
      "SignerNotGuardian",
    );
    expect(await write(await rotateSignatures(f.guardians.slice(0, 1), newSet, 3, 2))).toEqual({
      errorName: "NotEnoughSignatures",
      args: [1n, 2n],
    });
    expect(await write(await rotateSignatures([f.guardians[0]!, outsider], newSet, 3, 2))).toEqual({
      errorName: "SignerNotGuardian",
      args: [outsider.address],
    });
    for (const wrongIndex of [1, 3]) {
      expect(
        (await write(await rotateSignatures(f.guardians.slice(0, 2), newSet, 3, wrongIndex))).errorName,
      ).toBe("SignerNotGuardian");
    }
    // Signatures over another threshold than submitted do not carry either.
    const sigs = await rotateSignatures(f.guardians.slice(0, 2), newSet, 1, 2);
    expect((await write(sigs)).errorName).toBe("SignerNotGuardian");
    expect(await f.contract.read.setIndex()).toBe(1);
  });

  it("refuses a replay of the same rotation once it happened (the index moved on)", async () => {
    const sigs = await rotateSignatures(f.guardians.slice(0, 2), newSet, 3, 2);
    await f.receipt(f.contract.write.rotate([newSet.map((g) => g.address), 3, sigs]));
    const r = await revertWith(f.contract.write.rotate([newSet.map((g) => g.address), 3, sigs]));
    expect(r.errorName).toBe("NotEnoughSignatures"); // 2 signatures, set 2 needs 3
    expect(await f.contract.read.setIndex()).toBe(2);
  });

  it("refuses a bad new set: empty, unsorted, duplicated, zero member, threshold 0 or above its size", async () => {
    const a = newSet.map((g) => g.address);
    const cases: [readonly Hex[], number, string][] = [
      [[], 1, "BadGuardianSet"],
      [[a[1]!, a[0]!, a[2]!], 2, "BadGuardianSet"],
      [[a[0]!, a[0]!, a[1]!], 2, "BadGuardianSet"],
      [["0x0000000000000000000000000000000000000000", a[0]!], 1, "BadGuardianSet"],
      [a, 0, "BadThreshold"],
      [a, 5, "BadThreshold"],
    ];
    for (const [guardians, threshold, errorName] of cases) {
      const typed = rotateTypedData(f.domain, { guardians, threshold, setIndex: 2 });
      const sigs = await signAll(f.guardians.slice(0, 2), (g) => g.signTypedData(typed));
      expect(await revertWith(f.contract.write.rotate([guardians, threshold, sigs]))).toEqual({
        errorName,
        args: [],
      });
    }
  });

  it("keeps the old set minting during the grace period only, and not the set before it", async () => {
    const t = await rotateToNewSet();
    const old = await f.mintMessage(holder, XMR, { setIndex: 1 });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + GRACE });
    await f.mint(old, f.guardians.slice(0, 2));
    const late = await f.mintMessage(holder, XMR, { setIndex: 1, deadline: t + 2n * GRACE });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + GRACE + 1n });
    expect(await revertWith(f.mint(late, f.guardians.slice(0, 2)))).toEqual({
      errorName: "SetExpired",
      args: [1],
    });
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("ends set 1's grace at the next rotation, even within its period", async () => {
    await rotateToNewSet();
    const third = testAccounts(3, "guardian-set-3");
    const typed = rotateTypedData(f.domain, {
      guardians: third.map((g) => g.address),
      threshold: 2,
      setIndex: 3,
    });
    const sigs = await signAll(newSet.slice(0, 3), (g) => g.signTypedData(typed));
    await f.receipt(f.contract.write.rotate([third.map((g) => g.address), 2, sigs]));
    expect(
      await revertWith(f.mint(await f.mintMessage(holder, XMR, { setIndex: 1 }), f.guardians.slice(0, 2))),
    ).toEqual({ errorName: "SetExpired", args: [1] });
    await f.mint(await f.mintMessage(holder, XMR, { setIndex: 2 }), newSet.slice(0, 3));
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("does not accept old-set signers for the new set's index", async () => {
    await rotateToNewSet();
    const m = await f.mintMessage(holder, XMR, { setIndex: 2 });
    const sigs = await signMint(f.guardians, f.domain, m);
    const r = await revertWith(f.contract.write.mint([m, sigs]));
    expect(r.errorName).toBe("SignerNotGuardian");
  });
});

describe("pause and unpause", () => {
  const unpauseSigs = (nonce: bigint, signers = f.guardians.slice(0, 2)) =>
    signAll(signers, (g) => g.signTypedData(unpauseTypedData(f.domain, nonce)));

  it("any one current guardian pauses (msg.sender); mint, delayed execution and burns then revert Paused", async () => {
    await f.mint(await f.mintMessage(holder, 2n * XMR));
    const big = await f.mintMessage(holder, 6n * XMR);
    await f.mint(big); // queued: above the cap
    const g = await f.as(f.guardians[2]!);
    const r = await f.receipt(g.write.pause());
    expect(parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "PausedBy" })[0]?.args).toEqual({
      guardian: f.guardians[2]!.address,
    });
    expect(await f.contract.read.paused()).toBe(true);
    expect(await revertWith(f.mint(await f.mintMessage(holder, XMR)))).toEqual({
      errorName: "Paused",
      args: [],
    });
    await f.advance(LIMITS.mintDelay);
    expect(await revertWith(f.contract.write.executeDelayed([big.depositId]))).toEqual({
      errorName: "Paused",
      args: [],
    });
    const h = await f.as(f.anvil.accounts[0]!);
    await f.receipt(f.contract.write.transfer([holder, 0n])); // transfers stay open
    expect(await revertWith(h.write.burnToClaim([XMR, `0x${"11".repeat(32)}`]))).toEqual({
      errorName: "Paused",
      args: [],
    });
    expect(await revertWith(g.write.pause())).toEqual({ errorName: "Paused", args: [] });
  });

  it("refuses pause from a non-guardian", async () => {
    const o = await f.as(outsider);
    expect(await revertWith(o.write.pause())).toEqual({ errorName: "NotGuardian", args: [outsider.address] });
  });

  it("pauses with one guardian's signature sent by anyone, a nonce once; refuses an outsider's signature", async () => {
    const sig = await f.guardians[1]!.signTypedData(pauseTypedData(f.domain, 7n));
    const bad = await outsider.signTypedData(pauseTypedData(f.domain, 8n));
    expect(await revertWith(f.contract.write.pauseSigned([8n, bad]))).toEqual({
      errorName: "SignerNotGuardian",
      args: [outsider.address],
    });
    await f.receipt(f.contract.write.pauseSigned([7n, sig]));
    expect(await f.contract.read.paused()).toBe(true);
    await f.receipt(f.contract.write.unpause([1n, await unpauseSigs(1n)]));
    expect(await revertWith(f.contract.write.pauseSigned([7n, sig]))).toEqual({
      errorName: "NonceUsed",
      args: [7n],
    });
    expect(await f.contract.read.paused()).toBe(false);
  });

  it("unpauses with t signatures; the same unpause cannot be replayed after the next pause", async () => {
    const g = await f.as(f.guardians[0]!);
    await f.receipt(g.write.pause());
    expect(
      await revertWith(f.contract.write.unpause([1n, await unpauseSigs(1n, f.guardians.slice(0, 1))])),
    ).toEqual({ errorName: "NotEnoughSignatures", args: [1n, 2n] });
    const sigs = await unpauseSigs(1n);
    const r = await f.receipt(f.contract.write.unpause([1n, sigs]));
    expect(parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "Unpaused" })[0]?.args).toEqual({
      nonce: 1n,
    });
    expect(await f.contract.read.paused()).toBe(false);
    await f.mint(await f.mintMessage(holder, XMR));
    await f.receipt(g.write.pause());
    expect(await revertWith(f.contract.write.unpause([1n, sigs]))).toEqual({
      errorName: "NonceUsed",
      args: [1n],
    });
    expect(await f.contract.read.paused()).toBe(true);
    await f.receipt(f.contract.write.unpause([2n, await unpauseSigs(2n)]));
    expect(await f.contract.read.paused()).toBe(false);
  });

  it("refuses unpause when not paused, and with signatures over another nonce", async () => {
    expect(await revertWith(f.contract.write.unpause([1n, await unpauseSigs(1n)]))).toEqual({
      errorName: "NotPaused",
      args: [],
    });
    await f.receipt((await f.as(f.guardians[0]!)).write.pause());
    expect((await revertWith(f.contract.write.unpause([3n, await unpauseSigs(4n)]))).errorName).toBe(
      "SignerNotGuardian",
    );
  });
});

describe("rate limit (leaky bucket in piconero)", () => {
  it("takes each mint from the bucket, reverts RateLimited(available) when it does not fit, refills per second up to capacity", async () => {
    expect(await f.contract.read.rateAvailable()).toBe(10n * XMR);
    const t0 = (await f.now()) + 10n;
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t0 });
    await f.mint(await f.mintMessage(holder, 5n * XMR));
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t0 + 1n });
    await f.mint(await f.mintMessage(holder, 5n * XMR));
    // 0.001 XMR left at t0 + 1 (1 s refilled 0.001 XMR); 499 s more refill 0.499 XMR.
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t0 + 500n });
    const m = await f.mintMessage(holder, XMR, { deadline: t0 + 10_000n });
    expect(await revertWith(f.mint(m))).toEqual({
      errorName: "RateLimited",
      args: [XMR / 2n],
    });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t0 + 1_001n });
    await f.mint(m); // 1.001 XMR available now
    expect(await f.contract.read.balanceOf([holder])).toBe(11n * XMR);
    // A long idle time refills to the capacity, not beyond.
    await f.advance(1_000_000n);
    expect(await f.contract.read.rateAvailable()).toBe(10n * XMR);
  });

  it("costs the same gas whether the bucket is full or not: a mint sent with the gas estimated a block earlier succeeds", async () => {
    const t1 = (await f.now()) + 10n;
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t1 });
    await f.mint(await f.mintMessage(holder, XMR));
    const m = await f.mintMessage(holder, XMR / 2n, { deadline: t1 + 10_000_000n });
    const sigs = await signMint(f.guardians.slice(0, 2), f.domain, m);
    // Estimated while the bucket is 0.999 XMR short of full...
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t1 + 1n });
    const gas = await f.contract.estimateGas.mint([m, sigs], { account: f.anvil.accounts[0]! });
    // ...and mined once it has refilled to the capacity, with exactly that gas.
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t1 + 1_000_000n });
    const r = await f.receipt(f.contract.write.mint([m, sigs], { gas }));
    expect(r.gasUsed).toBeLessThanOrEqual(gas);
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR + XMR / 2n);
  });

  it("counts in piconero: the 10 XMR bucket is 10 * 10^12 units of the 12-decimal token (wPOKT's unit bug)", async () => {
    const limits = await f.contract.read.limits();
    expect(limits.rateCapacity).toBe(10_000_000_000_000n);
    await f.mint(await f.mintMessage(holder, 5n * XMR));
    await f.mint(await f.mintMessage(holder, 5n * XMR));
    expect((await revertWith(f.mint(await f.mintMessage(holder, XMR / 10n)))).errorName).toBe("RateLimited");
  });

  it("changes limits with t signatures and a nonce used once; refuses limits under which a capped mint could never run", async () => {
    const next: WxmrLimits = { ...LIMITS, rateCapacity: 20n * XMR, singleMintCap: 8n * XMR };
    const sign = (l: WxmrLimits, nonce: bigint, signers = f.guardians.slice(0, 2)) =>
      signAll(signers, (g) => g.signTypedData(setLimitsTypedData(f.domain, l, nonce)));
    const sigs = await sign(next, 1n);
    expect(await revertWith(f.contract.write.setLimits([next, 1n, sigs.slice(0, 1)]))).toEqual({
      errorName: "NotEnoughSignatures",
      args: [1n, 2n],
    });
    await f.receipt(f.contract.write.setLimits([next, 1n, sigs]));
    expect(await f.contract.read.limits()).toEqual(next);
    expect(await revertWith(f.contract.write.setLimits([next, 1n, sigs]))).toEqual({
      errorName: "NonceUsed",
      args: [1n],
    });
    // The bucket keeps its level (10 XMR), it does not jump to the new capacity.
    expect(await f.contract.read.rateAvailable()).toBe(10n * XMR);
    await f.mint(await f.mintMessage(holder, 8n * XMR)); // not delayed under the new cap
    expect(await f.contract.read.balanceOf([holder])).toBe(8n * XMR);
    for (const bad of [
      { ...next, singleMintCap: next.rateCapacity + 1n },
      { ...next, rateCapacity: 0n, singleMintCap: 0n },
      { ...next, ratePerSecond: 0n },
      { ...next, minBurn: 0n },
      { ...next, rateCapacity: 2n ** 72n, singleMintCap: 2n ** 72n }, // beyond what is stored
      { ...next, ratePerSecond: 2n ** 72n },
      { ...next, mintDelay: 2n ** 32n },
    ]) {
      expect(await revertWith(f.contract.write.setLimits([bad, 2n, await sign(bad, 2n)]))).toEqual({
        errorName: "BadLimits",
        args: [],
      });
    }
  });
});

describe("single-mint cap: delayed mints", () => {
  async function queue(amount = 6n * XMR) {
    const m = await f.mintMessage(holder, amount);
    const r = await f.mint(m);
    const [ev] = parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "MintDelayed" });
    const t = (await f.anvil.publicClient.getBlock({ blockNumber: r.blockNumber })).timestamp;
    return { m, ev, t };
  }

  it("queues a mint above the cap (MintDelayed, nothing minted), executes it after the delay by anyone", async () => {
    const unused = await f.mintMessage(holder, 6n * XMR);
    expect(await f.contract.read.depositStatus([unused.depositId])).toEqual([0, 0n]);
    expect(await f.contract.read.depositUsed([unused.depositId])).toBe(false);
    const { m, ev, t } = await queue();
    expect(ev?.args).toEqual({
      depositId: m.depositId,
      recipient: holder,
      amount: 6n * XMR,
      executeAfter: t + LIMITS.mintDelay,
    });
    expect(await f.contract.read.balanceOf([holder])).toBe(0n);
    expect(await f.contract.read.pending([m.depositId])).toEqual([holder, t + LIMITS.mintDelay, 6n * XMR]);
    expect(await f.contract.read.depositUsed([m.depositId])).toBe(true);
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([2, t + LIMITS.mintDelay]);
    expect(await revertWith(f.mint(m))).toEqual({ errorName: "DepositUsed", args: [m.depositId] });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay - 1n });
    expect(await revertWith(f.contract.write.executeDelayed([m.depositId]))).toEqual({
      errorName: "TooEarly",
      args: [t + LIMITS.mintDelay],
    });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay });
    const r = await f.receipt((await f.as(outsider)).write.executeDelayed([m.depositId]));
    expect(parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "Minted" })[0]?.args).toEqual({
      depositId: m.depositId,
      recipient: holder,
      amount: 6n * XMR,
    });
    expect(await f.contract.read.balanceOf([holder])).toBe(6n * XMR);
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([1, 0n]);
    expect(await revertWith(f.contract.write.executeDelayed([m.depositId]))).toEqual({
      errorName: "NoPendingMint",
      args: [m.depositId],
    });
    // A mint at or below the cap is minted at once: status minted, nothing queued.
    const small = await f.mintMessage(holder, XMR);
    await f.mint(small);
    expect(await f.contract.read.depositStatus([small.depositId])).toEqual([1, 0n]);
  });

  it("executes a queued mint of more than rateCapacity after the delay; the bucket is drained to zero", async () => {
    const amount = LIMITS.rateCapacity + 5n * XMR; // 15 XMR: more than the bucket ever holds
    const { m, t } = await queue(amount);
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay });
    await f.receipt(f.contract.write.executeDelayed([m.depositId]));
    expect(await f.contract.read.balanceOf([holder])).toBe(amount);
    expect(await f.contract.read.rateAvailable()).toBe(0n);
    // Immediate mints then wait for the refill: 1 XMR per 1,000 s.
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay + 500n });
    const small = await f.mintMessage(holder, XMR, { deadline: t + 100_000n });
    expect(await revertWith(f.mint(small))).toEqual({ errorName: "RateLimited", args: [XMR / 2n] });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay + 1_000n });
    await f.mint(small);
    expect(await f.contract.read.balanceOf([holder])).toBe(amount + XMR);
  });

  it("is not starved by immediate mints: it executes with the bucket below its amount, and empties it", async () => {
    const { m, t } = await queue(6n * XMR);
    const t1 = t + 1n;
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t1 });
    await f.mint(await f.mintMessage(holder, 5n * XMR)); // 5 XMR left, less than the queued 6
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay });
    await f.receipt(f.contract.write.executeDelayed([m.depositId]));
    expect(await f.contract.read.balanceOf([holder])).toBe(11n * XMR);
    expect(await f.contract.read.rateAvailable()).toBe(0n);
  });

  it("takes a queued mint that fits from the bucket like any other mint", async () => {
    const { m, t } = await queue(6n * XMR);
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t + LIMITS.mintDelay });
    const r = await f.receipt(f.contract.write.executeDelayed([m.depositId]));
    // The bucket was full (10 XMR); 6 XMR taken leaves 4.
    expect(await f.contract.read.rateAvailable({ blockNumber: r.blockNumber })).toBe(4n * XMR);
  });

  it("is cancelled by any current guardian (msg.sender); the deposit id stays used, as cancelled", async () => {
    const { m } = await queue();
    expect(await revertWith((await f.as(outsider)).write.cancelDelayed([m.depositId]))).toEqual({
      errorName: "NotGuardian",
      args: [outsider.address],
    });
    const r = await f.receipt((await f.as(f.guardians[1]!)).write.cancelDelayed([m.depositId]));
    expect(
      parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "MintCancelled" })[0]?.args,
    ).toEqual({ depositId: m.depositId });
    // Cancelled, not minted: what the guardians read at depth to return a refundable mint's value.
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([3, 0n]);
    expect(await f.contract.read.depositUsed([m.depositId])).toBe(true);
    await f.advance(LIMITS.mintDelay);
    expect(await revertWith(f.contract.write.executeDelayed([m.depositId]))).toEqual({
      errorName: "NoPendingMint",
      args: [m.depositId],
    });
    expect(await revertWith(f.mint({ ...m, deadline: (await f.now()) + 100n }))).toEqual({
      errorName: "DepositUsed",
      args: [m.depositId],
    });
    expect(await f.contract.read.totalSupply()).toBe(0n);
  });

  it("is cancelled with one guardian's signature over Cancel(depositId) sent by anyone; not with an outsider's", async () => {
    const { m } = await queue();
    const bad = await outsider.signTypedData(cancelTypedData(f.domain, m.depositId));
    expect(await revertWith(f.contract.write.cancelDelayedSigned([m.depositId, bad]))).toEqual({
      errorName: "SignerNotGuardian",
      args: [outsider.address],
    });
    const sig = await f.guardians[0]!.signTypedData(cancelTypedData(f.domain, m.depositId));
    await f.receipt(f.contract.write.cancelDelayedSigned([m.depositId, sig]));
    expect(await f.contract.read.pending([m.depositId])).toEqual([
      "0x0000000000000000000000000000000000000000",
      0n,
      0n,
    ]);
    expect(await revertWith(f.contract.write.cancelDelayedSigned([m.depositId, sig]))).toEqual({
      errorName: "NoPendingMint",
      args: [m.depositId],
    });
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([3, 0n]);
  });

  it("is cancelled only within its delay: from executeAfter on both cancels revert CancelTooLate and the mint can only be executed", async () => {
    const { m, t } = await queue();
    const executeAfter = t + LIMITS.mintDelay;
    const sig = await f.guardians[0]!.signTypedData(cancelTypedData(f.domain, m.depositId));
    const guardian = await f.as(f.guardians[1]!);
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: executeAfter });
    await f.anvil.testClient.mine({ blocks: 1 });
    expect(await revertWith(guardian.write.cancelDelayed([m.depositId]))).toEqual({
      errorName: "CancelTooLate",
      args: [executeAfter],
    });
    expect(await revertWith(f.contract.write.cancelDelayedSigned([m.depositId, sig]))).toEqual({
      errorName: "CancelTooLate",
      args: [executeAfter],
    });
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([2, executeAfter]);
    await f.receipt((await f.as(outsider)).write.executeDelayed([m.depositId]));
    expect(await f.contract.read.depositStatus([m.depositId])).toEqual([1, 0n]);
    expect(await f.contract.read.balanceOf([holder])).toBe(6n * XMR);

    // One second before executeAfter a guardian still cancels.
    const second = await queue();
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: second.t + LIMITS.mintDelay - 1n });
    await f.receipt(guardian.write.cancelDelayed([second.m.depositId]));
    expect(await f.contract.read.depositStatus([second.m.depositId])).toEqual([3, 0n]);
  });
});
