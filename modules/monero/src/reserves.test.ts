// The reserves check: what is owed (kept in the consensus state) against this guardian's own wallet,
// read from a real monero-wallet-rpc on a real regtest monerod. The comparison itself is pure and is
// tested on its own figures; the monitor is tested against the real wallet, whose balance it must
// report exactly as get_balance does, and whose loss (the process stopped) must not crash anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryKv } from "@conclave/core-server";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { ReservesMonitor, RpcReservesSource, compareReserves } from "./reserves.js";
import type { Owed, WalletReserves } from "./reserves.js";
import { MoneroStateWriter } from "./state.js";
import type { DepositRecord } from "./state.js";

const owed = (ecashBacking: bigint, credited: bigint, agreedHeight = 100, confirmations = 10): Owed => ({
  ecashBacking,
  credited,
  agreedHeight,
  walletHeightMin: agreedHeight - confirmations + 1,
});
const wallet = (
  balance: bigint,
  unlocked: bigint,
  height = 100,
  importNeeded = false,
  pendingOutgoing = 0,
) => ({
  balance,
  unlocked,
  height,
  importNeeded,
  pendingOutgoing,
  checkedAtMs: 1_000,
});

describe("compareReserves: the wallet must hold e-cash backing + credited deposits", () => {
  it("is ok when the balance (locked included) covers both, and reports the surplus and the locked part", () => {
    const r = compareReserves(owed(700n, 300n), wallet(1_250n, 900n));
    expect(r.state).toBe("ok");
    expect(r.required).toBe(1_000n);
    expect(r.surplus).toBe(250n);
    expect(r.wallet?.locked).toBe(350n);
  });

  it("is ok at exactly what is owed, and short one piconero below it, naming the shortfall", () => {
    expect(compareReserves(owed(700n, 300n), wallet(1_000n, 1_000n)).state).toBe("ok");
    const short = compareReserves(owed(700n, 300n), wallet(999n, 999n));
    expect(short.state).toBe("short");
    expect(short.surplus).toBe(-1n);
    expect(short.detail).toContain("1 less than the 1000 owed");
  });

  it("judges nothing while the wallet may miss a credited deposit (stale), but judges a wallet a few blocks behind", () => {
    // 10 confirmations at agreed height 120: every credited deposit is in the first 111 blocks.
    const r = compareReserves(owed(700n, 300n, 120), wallet(10n, 10n, 110));
    expect(r.state).toBe("stale");
    expect(r.detail).toContain("scanned 110 blocks; every credited deposit is in the first 111");
    expect(compareReserves(owed(700n, 300n, 120), wallet(10n, 10n, 111)).state).toBe("short");
  });

  it("judges nothing while a transaction the wallet submitted is unmined (its change is not counted yet)", () => {
    const r = compareReserves(owed(700n, 300n), wallet(10n, 10n, 100, false, 1));
    expect(r.state).toBe("stale");
    expect(r.detail).toContain("1 transaction(s) this wallet submitted are not mined yet");
  });

  it("is unknown before the first read, and says why when the wallet could not be read", () => {
    expect(compareReserves(owed(1n, 0n), undefined).state).toBe("unknown");
    const r = compareReserves(owed(1n, 0n), undefined, "connect ECONNREFUSED 127.0.0.1:1");
    expect(r.state).toBe("unknown");
    expect(r.detail).toContain("ECONNREFUSED");
  });

  it("warns that a multisig wallet missing key images may count spent outputs", () => {
    const r = compareReserves(owed(1n, 0n), wallet(5n, 5n, 100, true));
    expect(r.state).toBe("ok");
    expect(r.detail).toContain("partial key images");
  });
});

describe("the credited-and-unspent sum kept by the state as deposit records change", () => {
  const record = (state: DepositRecord["state"], amount: bigint): DepositRecord => ({
    state,
    round: 1,
    claimKey: new Uint8Array(32).fill(1),
    proof: new Uint8Array(96).fill(2),
    claimedBy: 0,
    claimedAt: 10,
    amount,
    txHeight: state === "open" ? 0 : 50,
    closedAt: 0,
    refusedCount: 0,
  });

  it("adds a deposit when it is credited and removes it when it is spent; open and rejected ones never count", () => {
    const s = new MoneroStateWriter(new MemoryKv());
    const a = new Uint8Array(32).fill(0xa);
    const b = new Uint8Array(32).fill(0xb);
    const c = new Uint8Array(32).fill(0xc);
    s.putDeposit(a, record("open", 0n));
    s.putDeposit(b, record("open", 0n));
    s.putDeposit(c, record("open", 0n));
    expect(s.creditedOutstanding()).toBe(0n);
    s.putDeposit(a, record("credited", 5_000n));
    s.putDeposit(b, record("credited", 7_000n));
    expect(s.creditedOutstanding()).toBe(12_000n);
    // Writing the same credited record again (a later attestation) changes nothing.
    s.putDeposit(b, record("credited", 7_000n));
    expect(s.creditedOutstanding()).toBe(12_000n);
    s.putDeposit(a, record("spent", 5_000n));
    expect(s.creditedOutstanding()).toBe(7_000n);
    s.putDeposit(c, record("rejected", 0n));
    expect(s.creditedOutstanding()).toBe(7_000n);
    s.putDeposit(b, record("spent", 7_000n));
    expect(s.creditedOutstanding()).toBe(0n);
  });
});

describe("ReservesMonitor against a real monero-wallet-rpc on regtest", () => {
  let net: Regtest | undefined;
  let balance = 0n;

  beforeAll(async () => {
    ensureMoneroInstalled();
    net = await startRegtest({ walletRpcs: 1 });
    const w = net.walletRpcs[0]!.rpc;
    await w.createWallet({ filename: "reserves", password: "" });
    // 80 blocks: the first 20 coinbase outputs are unlocked (60 blocks), the rest locked; enough
    // outputs on the chain for a transfer's ring of 16.
    await mineBlocks(net.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, (await w.getAddress()).address);
    await w.refresh();
    balance = (await w.getBalance()).balance;
  }, 120_000);

  afterAll(async () => {
    await net?.stop();
  }, 60_000);

  it("counts the outputs the wallet holds (confirmed, unlocked and locked) as get_balance does, and its scanned height", async () => {
    const source = new RpcReservesSource(net!.walletRpcs[0]!.url);
    const r: WalletReserves = await source.read();
    const direct = await net!.walletRpcs[0]!.rpc.getBalance();
    expect(balance).toBeGreaterThan(0n);
    expect(r.balance).toBe(direct.balance);
    expect(r.unlocked).toBe(direct.unlockedBalance);
    expect(r.unlocked).toBeGreaterThan(0n);
    expect(r.unlocked).toBeLessThan(r.balance); // the younger coinbase outputs are still locked
    expect(r.height).toBe((await net!.daemon.rpc.getHeight()).height);
    expect(r.importNeeded).toBe(false);
    expect(r.pendingOutgoing).toBe(0);
  });

  it("while its own transfer is in the pool: the spent input is gone, the change not in yet, and it says so; once mined, all counts", async () => {
    const w = net!.walletRpcs[0]!.rpc;
    const self = (await w.getAddress()).address;
    const sent = await w.transfer({ destinations: [{ address: self, amount: 1_000_000_000_000n }] });
    const source = new RpcReservesSource(net!.walletRpcs[0]!.url);
    const inPool = await source.read();
    expect(inPool.pendingOutgoing).toBe(1);
    // get_balance already counts the pending change; the outputs held do not.
    expect(inPool.balance).toBeLessThan((await w.getBalance()).balance);
    expect(compareReserves(owed(1n, 0n, 1), { ...inPool, checkedAtMs: 0 }).state).toBe("stale");
    await mineBlocks(net!.daemon.rpc, 1, self);
    const mined = await source.read();
    expect(mined.pendingOutgoing).toBe(0);
    const direct = await w.getBalance();
    expect(mined.balance).toBe(direct.balance);
    // Paying itself cost only the fee; the block mined to it added its reward.
    const reward = (await net!.daemon.rpc.getLastBlockHeader()).reward;
    expect(mined.balance).toBe(balance - sent.fee + reward);
    balance = mined.balance; // what the next case owes against
  }, 60_000);

  it("logs ok, then short when more is owed than the wallet holds, then recovered; a lost wallet-rpc is reported, never thrown", async () => {
    const logs: { event: string; fields: Record<string, unknown> }[] = [];
    let owedNow = owed(balance / 2n, balance / 4n, 1);
    const monitor = new ReservesMonitor({
      source: new RpcReservesSource(net!.walletRpcs[0]!.url),
      pollMs: 60_000,
      owed: () => owedNow,
      log: (event, fields) => logs.push({ event, fields }),
    });
    await monitor.poll();
    expect(monitor.report(owedNow).state).toBe("ok");
    expect(monitor.report(owedNow).surplus).toBe(balance - (balance / 2n + balance / 4n));
    owedNow = owed(balance, 1n, 1);
    await monitor.poll();
    expect(monitor.report(owedNow).state).toBe("short");
    await monitor.poll(); // still short: logged once
    owedNow = owed(balance - 1n, 1n, 1);
    await monitor.poll();
    expect(monitor.report(owedNow).state).toBe("ok");
    expect(logs.map((l) => l.event)).toEqual(["reserves_ok", "reserves_short", "reserves_recovered"]);
    expect(logs[1]!.fields["surplus"]).toBe("-1");

    await net!.walletRpcs[0]!.stop();
    const fresh = new ReservesMonitor({
      source: new RpcReservesSource(net!.walletRpcs[0]!.url),
      pollMs: 60_000,
      owed: () => owedNow,
      log: () => undefined,
    });
    await fresh.poll(); // resolves: the error is kept, not thrown
    const r = fresh.report(owedNow);
    expect(r.state).toBe("unknown");
    expect(r.detail).toMatch(/could not be read/);
  }, 60_000);
});
