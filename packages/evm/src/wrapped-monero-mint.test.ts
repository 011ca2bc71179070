import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEventLogs } from "viem";
import { startWxmrFixture, testAccounts, revertWith } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { PICONERO_PER_XMR } from "./anvil.js";
import { signMint } from "./typed-data.js";

const XMR = PICONERO_PER_XMR;
const holder = testAccounts(1, "holder")[0]!.address;

describe("WrappedMonero mint at 2-of-3", () => {
  let f: WxmrFixture;
  let snapshot: `0x${string}`;
  beforeAll(async () => {
    f = await startWxmrFixture({ guardians: 3, threshold: 2 });
    snapshot = await f.anvil.testClient.snapshot();
  });
  afterAll(async () => {
    await f?.anvil.stop();
  });
  beforeEach(async () => {
    await f.anvil.testClient.revert({ id: snapshot });
    snapshot = await f.anvil.testClient.snapshot();
  });

  it("is the 12-decimal Wrapped Monero token", async () => {
    expect(await f.contract.read.name()).toBe("Wrapped Monero");
    expect(await f.contract.read.symbol()).toBe("wXMR");
    expect(await f.contract.read.decimals()).toBe(12);
  });

  it("mints with 2 ascending guardian signatures and emits Minted", async () => {
    const m = await f.mintMessage(holder, 5n * XMR);
    const r = await f.mint(m);
    const [ev] = parseEventLogs({ abi: wrappedMoneroAbi, logs: r.logs, eventName: "Minted" });
    expect(ev?.args).toEqual({ depositId: m.depositId, recipient: holder, amount: 5n * XMR });
    expect(await f.contract.read.balanceOf([holder])).toBe(5n * XMR);
    expect(await f.contract.read.depositUsed([m.depositId])).toBe(true);
  });

  it("refuses the same deposit id twice (replayed signatures)", async () => {
    const m = await f.mintMessage(holder, XMR);
    const sigs = await signMint(f.guardians.slice(0, 2), f.domain, m);
    await f.receipt(f.contract.write.mint([m, sigs]));
    const r = await revertWith(f.contract.write.mint([m, sigs]));
    expect(r).toEqual({ errorName: "DepositUsed", args: [m.depositId] });
    expect(await f.contract.read.balanceOf([holder])).toBe(XMR);
  });
});
