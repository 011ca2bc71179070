// Burns: the only way wXMR leaves circulation, each with a Burned event the guardians pay out from.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encodeFunctionData, parseAbi, parseEventLogs, stringToHex, toHex } from "viem";
import type { Hex } from "viem";
import { startWxmrFixture, revertOf, revertWith } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { DEV_LIMITS, PICONERO_PER_XMR } from "./anvil.js";

const XMR = PICONERO_PER_XMR;
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/** Base58 text of `length` characters starting with "4" (the contract checks length and alphabet only). */
const moneroLike = (length: number, fill = "A") => `4${fill.repeat(length - 1)}`;
const STANDARD = `4${BASE58.repeat(2).slice(0, 94)}`;
const INTEGRATED = `4${BASE58.repeat(2).slice(1, 106)}`;

let f: WxmrFixture;
let snapshot: Hex;
/** The deployer (anvil's first account) holds 100 XMR of wXMR in every test. */
beforeAll(async () => {
  f = await startWxmrFixture({ guardians: 3, threshold: 2 });
  await f.mint(await f.mintMessage(f.anvil.accounts[0]!.address, 100n * XMR));
  snapshot = await f.anvil.testClient.snapshot();
});
afterAll(async () => {
  await f?.anvil.stop();
});
beforeEach(async () => {
  await f.anvil.testClient.revert({ id: snapshot });
  snapshot = await f.anvil.testClient.snapshot();
});
const me = () => f.anvil.accounts[0]!.address;

describe("burn to a Monero address", () => {
  it("burns, numbers the burn and emits Burned(burnId, from, amount, kind 0, address bytes)", async () => {
    expect(STANDARD).toHaveLength(95);
    expect(INTEGRATED).toHaveLength(106);
    const r1 = await f.receipt(f.contract.write.burn([3n * XMR, STANDARD]));
    const r2 = await f.receipt(f.contract.write.burn([XMR, INTEGRATED]));
    const events = parseEventLogs({
      abi: wrappedMoneroAbi,
      logs: [...r1.logs, ...r2.logs],
      eventName: "Burned",
    });
    expect(events.map((e) => e.args)).toEqual([
      { burnId: 1n, from: me(), amount: 3n * XMR, kind: 0, destination: stringToHex(STANDARD) },
      { burnId: 2n, from: me(), amount: XMR, kind: 0, destination: stringToHex(INTEGRATED) },
    ]);
    expect(await f.contract.read.burnCount()).toBe(2n);
    expect(await f.contract.read.balanceOf([me()])).toBe(96n * XMR);
    expect(await f.contract.read.totalSupply()).toBe(96n * XMR);
  });

  it("refuses an amount below minBurn and accepts exactly minBurn", async () => {
    expect(await revertWith(f.contract.write.burn([DEV_LIMITS.minBurn - 1n, STANDARD]))).toEqual({
      errorName: "BurnTooSmall",
      args: [],
    });
    await f.receipt(f.contract.write.burn([DEV_LIMITS.minBurn, STANDARD]));
    expect(await f.contract.read.burnCount()).toBe(1n);
  });

  it("refuses more than the balance (ERC20InsufficientBalance), burning nothing", async () => {
    const r = await revertWith(f.contract.write.burn([101n * XMR, STANDARD]));
    expect(r).toEqual({ errorName: "ERC20InsufficientBalance", args: [me(), 100n * XMR, 101n * XMR] });
    expect(await f.contract.read.burnCount()).toBe(0n);
  });

  it("refuses an address of another length or with a character outside base58", async () => {
    const bad = [
      "",
      moneroLike(94),
      moneroLike(96),
      moneroLike(105),
      moneroLike(107),
      ...["0", "O", "I", "l", "+", "/", " ", "_"].map(
        (c) => `${STANDARD.slice(0, 50)}${c}${STANDARD.slice(51)}`,
      ),
      `${STANDARD.slice(0, 93)}é`, // 95 bytes in UTF-8, the last two above 0x7f
    ];
    for (const address of bad) {
      expect(await revertWith(f.contract.write.burn([XMR, address])), address).toEqual({
        errorName: "BadMoneroAddress",
        args: [],
      });
    }
    expect(await f.contract.read.burnCount()).toBe(0n);
  });

  it("accepts each of the 58 base58 characters and no other byte (the contract's bitmap)", async () => {
    const accepted: string[] = [];
    for (let c = 1; c < 128; c++) {
      const address = `${STANDARD.slice(0, 94)}${String.fromCharCode(c)}`;
      try {
        await f.anvil.publicClient.simulateContract({
          account: me(),
          address: f.address,
          abi: wrappedMoneroAbi,
          functionName: "burn",
          args: [XMR, address],
        });
        accepted.push(String.fromCharCode(c));
      } catch (e) {
        expect(revertOf(e)?.errorName).toBe("BadMoneroAddress");
      }
    }
    expect(accepted.join("")).toBe(BASE58);
  });
});

describe("burn to a claim key", () => {
  it("burns and emits Burned(kind 1, the 32-byte key); refuses the zero key and amounts below minBurn", async () => {
    const key = toHex(7n, { size: 32 });
    const r = await f.receipt(f.contract.write.burnToClaim([2n * XMR, key]));
    expect(parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "Burned" })[0]?.args).toEqual({
      burnId: 1n,
      from: me(),
      amount: 2n * XMR,
      kind: 1,
      destination: key,
    });
    expect(await revertWith(f.contract.write.burnToClaim([XMR, toHex(0n, { size: 32 })]))).toEqual({
      errorName: "BadClaimKey",
      args: [],
    });
    expect(await revertWith(f.contract.write.burnToClaim([DEV_LIMITS.minBurn - 1n, key]))).toEqual({
      errorName: "BurnTooSmall",
      args: [],
    });
  });
});

describe("no other way to burn", () => {
  it("has no burnFrom and no other function that destroys tokens (wPOKT's burnFrom burned without a bridge event)", async () => {
    const writes = wrappedMoneroAbi
      .filter((i) => i.type === "function" && i.stateMutability !== "view" && i.stateMutability !== "pure")
      .map((i) => ("name" in i ? i.name : ""))
      .sort();
    expect(writes).toEqual(
      [
        "approve",
        "burn",
        "burnToClaim",
        "cancelDelayed",
        "cancelDelayedSigned",
        "executeDelayed",
        "mint",
        "pause",
        "pauseSigned",
        "rotate",
        "setLimits",
        "transfer",
        "transferFrom",
        "unpause",
      ].sort(),
    );
    // A burnFrom call (with an allowance in place) reaches no code: the contract has no fallback.
    await f.receipt(f.contract.write.approve([me(), 10n * XMR]));
    const data = encodeFunctionData({
      abi: parseAbi(["function burnFrom(address, uint256)"]),
      args: [me(), XMR],
    });
    const hash = await f.anvil.walletClient.sendTransaction({ to: f.address, data, gas: 100_000n });
    expect((await f.anvil.publicClient.waitForTransactionReceipt({ hash })).status).toBe("reverted");
    // Sending to the zero address is not a burn either.
    expect(
      (await revertWith(f.contract.write.transfer(["0x0000000000000000000000000000000000000000", XMR])))
        .errorName,
    ).toBe("ERC20InvalidReceiver");
    expect(await f.contract.read.totalSupply()).toBe(100n * XMR);
  });
});
