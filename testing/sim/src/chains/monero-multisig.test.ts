// The simulated multisig shares and chain against the rules the payout protocol relies on (measured
// on monero 0.18, docs/monero.md "Exactly once"), one share call at a time.
import { describe, expect, it } from "vitest";
import {
  MoneroConnectionError,
  MoneroRpcError,
  MoneroTimeoutError,
  WalletRpcErrorCode,
} from "@conclave/monero";
import { Rng } from "../rng.js";
import { ManualScheduler, schedulerAt } from "./chain.js";
import { MoneroChain, simAddress } from "./monero-chain.js";
import { depositViolations, payoutViolations } from "./monero-checks.js";
import { simMoneroShares } from "./monero-wallet.js";

const USER = simAddress("mainnet", "standard", "user-1");
const XMR = 10n ** 12n;
const N = 4;
const T = 3;

function setup(seed = 1) {
  const scheduler = new ManualScheduler();
  const rng = new Rng(seed, "multisig-test");
  const chain = new MoneroChain({
    rng: rng.fork(),
    guardians: N,
    confirmations: 4,
    now: () => scheduler.now(),
  });
  const shares = simMoneroShares({ chain, guardians: N, threshold: T, scheduler, rng: rng.fork() });
  const s = <V>(p: Promise<V>) => scheduler.settle(p);
  /** Every share exports; `importers` import the others' exports. */
  const round = async (importers: readonly number[] = [0, 1, 2, 3]) => {
    const exports = [];
    for (const share of shares) exports.push(await s(share.exportInfo()));
    for (const g of importers) await s(shares[g]!.importInfos(exports.filter((_, i) => i !== g)));
  };
  const code = async (p: Promise<unknown>) => {
    try {
      await s(p);
      return "ok";
    } catch (e) {
      return e instanceof MoneroRpcError ? e.rpcCode : (e as Error).name;
    }
  };
  return { scheduler, chain, shares, s, round, code };
}

const pay = [{ address: USER, amount: 2n * XMR }];

describe("simulated multisig shares", () => {
  it("any remaining participant completes a set; the two completions share key images and only one is mined", async () => {
    const { chain, shares, s, round, code } = setup();
    chain.payFederation(5n * XMR);
    for (let i = 0; i < 11; i++) chain.mine();
    await round();
    const created = await s(shares[0]!.create(pay));
    expect(created.fee).toBe(1507n * chain.feePerByte);
    await s(shares[1]!.check(created.txset, { destinations: pay, feeMax: created.fee }));
    const one = await s(shares[1]!.sign(created.txset));
    expect(one.complete).toBe(false);
    const a = await s(shares[2]!.sign(one.txset));
    const b = await s(shares[3]!.sign(one.txset));
    expect(a.complete && b.complete).toBe(true);
    // A wallet signs a transaction's inputs once per export: the same set again is refused (-35).
    expect(await code(shares[2]!.sign(one.txset))).toBe(WalletRpcErrorCode.MultisigSignature);
    const txidA = await s(shares[2]!.submit(a.txset));
    // The other completion: another txid, the same key images: monerod refuses it (-36).
    expect(await code(shares[3]!.submit(b.txset))).toBe(WalletRpcErrorCode.MultisigSubmission);
    // A resubmission of the same completion returns the same txid.
    expect(await s(shares[0]!.submit(a.txset))).toBe(txidA);
    chain.mine();
    expect(await code(shares[3]!.submit(b.txset))).toBe(WalletRpcErrorCode.MultisigSubmission);
    expect(chain.paymentsTo(USER, 2n * XMR, { pool: true })).toEqual([
      { txid: txidA, height: chain.height() - 1 },
    ]);
    // A fork cannot double-spend the federation's own transaction (its shares never sign twice).
    expect(() => chain.reorg(1, { drop: [txidA] })).toThrow(/federation/);
    expect(chain.minedHeight(txidA)).toBe(chain.height() - 1);
    // The creator alone has no tx key for it (-24); a wallet that submitted has.
    expect(await code(shares[1]!.txKey(txidA))).toBe(WalletRpcErrorCode.NoTxKey);
    expect(await s(shares[2]!.txKey(txidA))).toBe(chain.transaction(txidA)!.txKey);
    // A share that did not submit sees the mined spend of the set's inputs as its own (it imported).
    expect(await s(shares[3]!.spentBy(b.txset))).toBe(txidA);
    expect(await s(shares[3]!.ownTransaction(txidA))).toEqual({ own: true, by: "key_image" });
  });

  it("a set whose inputs another attempt spent is refused; a set built on an older export cannot be signed", async () => {
    const { chain, shares, s, round, code } = setup(2);
    chain.payFederation(5n * XMR);
    for (let i = 0; i < 11; i++) chain.mine();
    await round();
    const x = await s(shares[0]!.create(pay));
    const x1 = await s(shares[1]!.sign(x.txset));
    const xFinal = await s(shares[2]!.sign(x1.txset));
    expect(xFinal.complete).toBe(true);
    // A fresh attempt: new exports replace every wallet's nonces.
    await round();
    expect(await code(shares[3]!.sign(x1.txset))).toBe(WalletRpcErrorCode.MultisigSignature);
    const y = await s(shares[1]!.create(pay));
    const y1 = await s(shares[2]!.sign(y.txset));
    const yFinal = await s(shares[3]!.sign(y1.txset));
    const txidY = await s(shares[3]!.submit(yFinal.txset));
    chain.mine();
    // X spends the same outputs: refused, before and after Y is mined.
    expect(await code(shares[0]!.submit(xFinal.txset))).toBe(WalletRpcErrorCode.MultisigSubmission);
    expect(chain.paymentsTo(USER, 2n * XMR, { pool: true }).map((p) => p.txid)).toEqual([txidY]);
    // A transfer after a spend without a fresh export/import: -16.
    expect(await code(shares[0]!.create(pay))).toBe(WalletRpcErrorCode.TxNotPossible);
  });

  it("change is locked for 10 blocks; a set needs t signatures; forged signatures and garbage are refused", async () => {
    const { chain, shares, s, round, code } = setup(3);
    chain.payFederation(5n * XMR);
    for (let i = 0; i < 11; i++) chain.mine();
    await round();
    const x = await s(shares[0]!.create(pay));
    const x1 = await s(shares[1]!.sign(x.txset));
    // Not enough signatures (-33); garbage (-34).
    expect(await code(shares[1]!.submit(x1.txset))).toBe(WalletRpcErrorCode.ThresholdNotReached);
    expect(await code(shares[1]!.submit("00ff"))).toBe(WalletRpcErrorCode.BadMultisigTxData);
    expect(await code(shares[1]!.sign("00ff"))).toBe(WalletRpcErrorCode.BadMultisigTxData);
    // A "signature" of guardian 3 that guardian 3 never made: the daemon refuses the transaction.
    const forged = Buffer.from(
      Buffer.from(x1.txset, "hex")
        .toString("utf8")
        .replace('"sigs":[', '"sigs":[[3,"00000000000000000000000000000000"],'),
      "utf8",
    ).toString("hex");
    expect(await code(shares[1]!.submit(forged))).toBe(WalletRpcErrorCode.MultisigSubmission);
    const done = await s(shares[2]!.sign(x1.txset));
    const txid = await s(shares[2]!.submit(done.txset));
    const minedAt = chain.height();
    chain.mine();
    expect(chain.minedHeight(txid)).toBe(minedAt);
    // Only the change (3 XMR - fee) is left, locked until block minedAt + 10.
    await round();
    const reserves = await s(shares[0]!.read());
    expect(reserves.unlocked).toBe(0n);
    expect(reserves.balance).toBe(3n * XMR - x.fee);
    const small = [{ address: USER, amount: XMR }];
    for (let h = chain.height(); h < minedAt + 10; h++) {
      expect(await code(shares[0]!.create(small))).toBe(WalletRpcErrorCode.NotEnoughUnlockedMoney);
      chain.mine();
    }
    expect(chain.height()).toBe(minedAt + 10);
    expect(await code(shares[0]!.create(small))).toBe("ok");
  });

  it("a coinbase-like output unlocks after 60 blocks", async () => {
    const { chain, shares, round, code } = setup(5);
    chain.pay([{ address: chain.federationAddress, amount: 5n * XMR }], { coinbase: true });
    chain.mine();
    const at = chain.height() - 1;
    await round();
    const small = [{ address: USER, amount: XMR }];
    while (chain.height() < at + 60) {
      expect(await code(shares[0]!.create(small))).toBe(WalletRpcErrorCode.NotEnoughUnlockedMoney);
      chain.mine();
    }
    expect(await code(shares[0]!.create(small))).toBe("ok");
  });

  it("the money checks see a payout paid twice and deposits that are not real", async () => {
    const { chain, shares, s, round } = setup(6);
    const dep = chain.payFederation(5n * XMR);
    for (let i = 0; i < 11; i++) chain.mine();
    await round();
    const x = await s(shares[0]!.create(pay));
    const done = await s(shares[2]!.sign((await s(shares[1]!.sign(x.txset))).txset));
    const txid = await s(shares[2]!.submit(done.txset));
    chain.mine();
    const payout = { address: USER, amount: 2n * XMR, moneroTxid: txid };
    expect(payoutViolations(chain, [payout])).toEqual([]);
    expect(depositViolations(chain, [{ txid: dep.txid, index: 0, amount: 5n * XMR }])).toEqual([]);
    // Someone pays the same address and amount again (a second payment of one payout).
    chain.pay([{ address: USER, amount: 2n * XMR }]);
    expect(payoutViolations(chain, [payout], { pool: true })).toHaveLength(1);
    expect(payoutViolations(chain, [payout])).toEqual([]);
    chain.mine();
    expect(payoutViolations(chain, [payout])).toHaveLength(1);
    // The payout's change credited as a deposit; a deposit credited twice or for more than it paid.
    expect(depositViolations(chain, [{ txid, index: 0, amount: 1n }])).toEqual([
      `deposit ${txid.slice(0, 8)} index 0 credited but sent by the federation itself`,
    ]);
    const twice = { txid: dep.txid, index: 0, amount: 5n * XMR };
    expect(depositViolations(chain, [twice, twice])).toHaveLength(1);
    expect(depositViolations(chain, [{ ...twice, amount: 6n * XMR }])).toHaveLength(1);
    // A deposit a deep reorg took away.
    const late = chain.payFederation(XMR);
    chain.mine();
    chain.reorg(1, { drop: [late.txid] });
    expect(depositViolations(chain, [{ txid: late.txid, index: 0, amount: XMR }])).toEqual([
      `deposit ${late.txid.slice(0, 8)} index 0 credited but not in the canonical chain`,
    ]);
  });

  it("answers through a host that schedules at absolute times (the simulator's SimHost)", async () => {
    const inner = new ManualScheduler();
    const host = {
      now: () => inner.now(),
      schedule: (atMs: number, fn: () => void) => inner.schedule(atMs - inner.now(), fn),
    };
    const scheduler = schedulerAt(host);
    const chain = new MoneroChain({ rng: new Rng(7), guardians: N, confirmations: 4 });
    const [share] = simMoneroShares({ chain, guardians: N, threshold: T, scheduler, rng: new Rng(8) });
    chain.faults(0).latencyMs = 250;
    await inner.runUntil(1_000);
    const answer = share!.height();
    expect(await inner.settle(answer)).toBe(chain.height());
    expect(inner.now()).toBe(1_250);
  });

  it("node faults: a down daemon refuses connections, a slow one times out, a lagging one sees the pool", async () => {
    const { chain, shares, s, code } = setup(4);
    const f = chain.faults(1);
    f.daemonDown = true;
    expect(await code(shares[1]!.height())).toBe("MoneroConnectionError");
    await expect(s(shares[1]!.height())).rejects.toBeInstanceOf(MoneroConnectionError);
    // The wallet answers, but cannot refresh without its daemon (-38).
    expect(await code(shares[1]!.read())).toBe(WalletRpcErrorCode.NoDaemonConnection);
    f.daemonDown = false;
    f.slowProbability = 1;
    f.slowMs = 20_000;
    await expect(s(shares[1]!.height())).rejects.toBeInstanceOf(MoneroTimeoutError);
    f.slowProbability = 0;
    const paid = chain.payFederation(XMR);
    chain.mine();
    chain.mine();
    f.lagBlocks = 2;
    expect(await s(shares[1]!.height())).toBe(chain.height() - 2);
    expect(await s(shares[1]!.transaction(paid.txid))).toEqual({ found: true, inPool: true });
    expect(await s(shares[0]!.transaction(paid.txid))).toEqual({
      found: true,
      inPool: false,
      blockHeight: chain.height() - 2,
    });
  });
});
