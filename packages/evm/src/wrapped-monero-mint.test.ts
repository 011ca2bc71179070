// mint(): every rule and every revert, on a real anvil through viem. One anvil per describe; each
// test starts from the deployed contract's snapshot (evm_snapshot / evm_revert).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getAddress, hexToBigInt, numberToHex, parseEventLogs, slice, zeroAddress, zeroHash } from "viem";
import type { Hex } from "viem";
import { createWalletClient, http } from "viem";
import { startWxmrFixture, testAccounts, revertWith } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { PICONERO_PER_XMR } from "./anvil.js";
import { mintTypedData, signMint, wxmrDomain } from "./typed-data.js";

const XMR = PICONERO_PER_XMR;
const [holder, other] = testAccounts(2, "holder").map((a) => a.address) as [Hex, Hex];
const outsiders = testAccounts(3, "outsider");
/** secp256k1 group order: s and n - s both verify, OpenZeppelin accepts only s <= n/2. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function useFixture(guardians: number, threshold: number) {
  const ctx = {} as { f: WxmrFixture };
  let snapshot: Hex;
  beforeAll(async () => {
    ctx.f = await startWxmrFixture({ guardians, threshold });
    snapshot = await ctx.f.anvil.testClient.snapshot();
  });
  afterAll(async () => {
    await ctx.f?.anvil.stop();
  });
  beforeEach(async () => {
    await ctx.f.anvil.testClient.revert({ id: snapshot });
    snapshot = await ctx.f.anvil.testClient.snapshot();
  });
  return ctx;
}

describe("mint at 2-of-3", () => {
  const ctx = useFixture(3, 2);

  it("is the 12-decimal Wrapped Monero token", async () => {
    const { f } = ctx;
    expect(await f.contract.read.name()).toBe("Wrapped Monero");
    expect(await f.contract.read.symbol()).toBe("wXMR");
    expect(await f.contract.read.decimals()).toBe(12);
    expect(await f.contract.read.setIndex()).toBe(1);
    expect(await f.contract.read.threshold([1])).toBe(2);
    expect(await f.contract.read.guardians([1])).toEqual(f.guardians.map((g) => g.address));
  });

  it("mints with 2 ascending guardian signatures and emits Minted", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, 5n * XMR);
    const r = await f.mint(m);
    const [ev] = parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "Minted" });
    expect(ev?.args).toEqual({ depositId: m.depositId, recipient: holder, amount: 5n * XMR });
    expect(await f.contract.read.balanceOf([holder])).toBe(5n * XMR);
    expect(await f.contract.read.totalSupply()).toBe(5n * XMR);
    expect(await f.contract.read.depositUsed([m.depositId])).toBe(true);
  });

  it("accepts all 3 signatures (more than t, all members, ascending)", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    await f.mint(m, f.guardians);
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("lets anyone submit: a relayer that is no guardian and not the recipient", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(1), f.domain, m);
    const relayer = createWalletClient({
      account: f.anvil.accounts[7]!,
      chain: f.anvil.chain,
      transport: http(f.anvil.rpcUrl),
    });
    const hash = await relayer.writeContract({
      address: f.address,
      abi: wrappedMoneroAbi,
      functionName: "mint",
      args: [m, sigs],
    });
    await f.receipt(Promise.resolve(hash));
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("refuses the same deposit id twice: replayed signatures, and new signatures for another recipient", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(0, 2), f.domain, m);
    await f.receipt(f.contract.write.mint([m, sigs]));
    expect(await revertWith(f.contract.write.mint([m, sigs]))).toEqual({
      errorName: "DepositUsed",
      args: [m.depositId],
    });
    const again = { ...m, recipient: other };
    expect(
      await revertWith(f.contract.write.mint([again, await signMint(f.guardians.slice(1), f.domain, again)])),
    ).toEqual({
      errorName: "DepositUsed",
      args: [m.depositId],
    });
    expect(await f.contract.read.totalSupply()).toBe(XMR);
  });

  it("refuses a signer outside the set", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const outsider = outsiders[0]!;
    const sigs = await signMint([f.guardians[0]!, outsider], f.domain, m);
    expect(await revertWith(f.contract.write.mint([m, sigs]))).toEqual({
      errorName: "SignerNotGuardian",
      args: [outsider.address],
    });
  });

  it("refuses one guardian's signature twice (it counts once, so 2-of-3 is not met)", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const [sig] = await signMint([f.guardians[1]!], f.domain, m);
    expect(await revertWith(f.contract.write.mint([m, [sig!, sig!]]))).toEqual({
      errorName: "DuplicateSigner",
      args: [f.guardians[1]!.address],
    });
  });

  it("refuses signatures out of ascending signer order", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(0, 2), f.domain, m);
    expect(await revertWith(f.contract.write.mint([m, [...sigs].reverse()]))).toEqual({
      errorName: "SignersNotAscending",
      args: [],
    });
  });

  it("refuses fewer than t signatures, and none", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(0, 1), f.domain, m);
    expect(await revertWith(f.contract.write.mint([m, sigs]))).toEqual({
      errorName: "NotEnoughSignatures",
      args: [1n, 2n],
    });
    expect(await revertWith(f.contract.write.mint([m, []]))).toEqual({
      errorName: "NotEnoughSignatures",
      args: [0n, 2n],
    });
  });

  it("refuses signatures over another chain id or another contract in the domain", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    for (const domain of [
      wxmrDomain(1, f.address),
      wxmrDomain(f.anvil.chain.id, getAddress(numberToHex(hexToBigInt(f.address) + 1n, { size: 20 }))),
    ]) {
      const sigs = await signMint(f.guardians.slice(0, 2), domain, m);
      const r = await revertWith(f.contract.write.mint([m, sigs]));
      // The digest differs, so ecrecover yields some unrelated address: never a member.
      expect(r.errorName).toBe("SignerNotGuardian");
      expect(f.guardians.map((g) => g.address)).not.toContain(r.args[0]);
    }
  });

  it("refuses signatures over another amount or recipient than submitted", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(0, 2), f.domain, m);
    for (const changed of [
      { ...m, amount: 2n * XMR },
      { ...m, recipient: other },
    ]) {
      expect((await revertWith(f.contract.write.mint([changed, sigs]))).errorName).toBe("SignerNotGuardian");
    }
  });

  it("refuses a malleated (high-s) signature and a malformed one (OpenZeppelin ECDSA)", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const [a, b] = (await signMint(f.guardians.slice(0, 2), f.domain, m)) as [Hex, Hex];
    const s = hexToBigInt(slice(a, 32, 64));
    const v = Number(hexToBigInt(slice(a, 64, 65)));
    const malleated =
      `${slice(a, 0, 32)}${numberToHex(SECP256K1_N - s, { size: 32 }).slice(2)}${numberToHex(v === 27 ? 28 : 27, { size: 1 }).slice(2)}` as Hex;
    const highS = await revertWith(f.contract.write.mint([m, [malleated, b]]));
    expect(highS.errorName).toBe("ECDSAInvalidSignatureS");
    expect(await revertWith(f.contract.write.mint([m, [slice(a, 0, 64), b]]))).toEqual({
      errorName: "ECDSAInvalidSignatureLength",
      args: [64n],
    });
    const zeroSig = `0x${"00".repeat(64)}1b` as Hex;
    expect(await revertWith(f.contract.write.mint([m, [zeroSig, b]]))).toEqual({
      errorName: "ECDSAInvalidSignature",
      args: [],
    });
  });

  it("refuses an expired deadline, and accepts a deadline equal to the block's timestamp", async () => {
    const { f } = ctx;
    const t = (await f.now()) + 100n;
    const late = await f.mintMessage(holder, XMR, { deadline: t - 1n });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t });
    expect(await revertWith(f.mint(late))).toEqual({ errorName: "Expired", args: [] });
    const onTime = await f.mintMessage(holder, XMR, { deadline: t });
    await f.anvil.testClient.setNextBlockTimestamp({ timestamp: t });
    await f.mint(onTime);
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });

  it("refuses set 0 and a set that does not exist yet", async () => {
    const { f } = ctx;
    for (const setIndex of [0, 2]) {
      const m = await f.mintMessage(holder, XMR, { setIndex });
      expect(await revertWith(f.mint(m))).toEqual({ errorName: "UnknownSet", args: [setIndex] });
    }
  });

  it("refuses a zero deposit id, a zero amount and the zero recipient", async () => {
    const { f } = ctx;
    expect(await revertWith(f.mint(await f.mintMessage(holder, XMR, { depositId: zeroHash })))).toEqual({
      errorName: "ZeroDepositId",
      args: [],
    });
    expect(await revertWith(f.mint(await f.mintMessage(holder, 0n)))).toEqual({
      errorName: "ZeroAmount",
      args: [],
    });
    expect(await revertWith(f.mint(await f.mintMessage(zeroAddress, XMR)))).toEqual({
      errorName: "ZeroRecipient",
      args: [],
    });
  });

  it("signs the same digest with viem's signTypedData as the contract verifies (mintTypedData)", async () => {
    const { f } = ctx;
    const m = await f.mintMessage(holder, XMR);
    const g = f.guardians.slice(0, 2);
    const sigs = [
      await g[0]!.signTypedData(mintTypedData(f.domain, m)),
      await g[1]!.signTypedData(mintTypedData(f.domain, m)),
    ];
    await f.receipt(f.contract.write.mint([m, sigs]));
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });
});

describe("mint at 3-of-4", () => {
  const ctx = useFixture(4, 3);

  it("mints with any 3 of the 4 guardians, and not with 2", async () => {
    const { f } = ctx;
    const g = f.guardians;
    for (const subset of [
      [0, 1, 2],
      [0, 1, 3],
      [0, 2, 3],
      [1, 2, 3],
    ]) {
      await f.mint(
        await f.mintMessage(holder, XMR),
        subset.map((i) => g[i]!),
      );
    }
    expect(await f.contract.read.balanceOf([holder])).toBe(4n * XMR);
    const m = await f.mintMessage(holder, XMR);
    expect(await revertWith(f.mint(m, [g[0]!, g[3]!]))).toEqual({
      errorName: "NotEnoughSignatures",
      args: [2n, 3n],
    });
  });
});
