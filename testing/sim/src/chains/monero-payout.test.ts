// The real monero module (FederationProcessor, MoneroServerModule, its ChainWatcher and
// PayoutSigner) on the simulated Monero chain and the guardians' simulated multisig shares: a
// deposit claimed by proof, credited, spent into a payout, paid by t of n, confirmed, once.
import { describe, expect, it } from "vitest";
import { MoneroState, payoutFee } from "@conclave/module-monero";
import type { Transaction } from "@conclave/core-common";
import { moneroHarness } from "./federation-harness.js";
import type { MoneroHarness } from "./federation-harness.js";
import { simAddress } from "./monero-chain.js";

const USER = simAddress("mainnet", "standard", "user-1");
const XMR = 10n ** 12n;

/** Mines one Monero block and runs one consensus round, `rounds` times or until `until` holds. */
async function run(h: MoneroHarness, rounds: number, until: () => boolean = () => false): Promise<number> {
  for (let i = 0; i < rounds; i++) {
    if (until()) return i;
    h.chain.mine();
    await h.round();
  }
  return rounds;
}

const depositState = (h: MoneroHarness, txid: Uint8Array) => new MoneroState(h.mdb(0)).deposit(txid)?.state;

const outcome = (h: MoneroHarness, tx: Transaction) =>
  h.guardians.map((x) => x.monero.payoutView(h.mdb(x.g), { txid: h.txidOf(tx), index: "0" }));

/** A deposit credited, then a payout of `amount` to USER accepted: returns the federation transaction. */
async function creditAndWithdraw(h: MoneroHarness, amount: bigint): Promise<Transaction> {
  const dep = h.depositByProof(XMR);
  await h.round([dep.claim]);
  await run(h, 30, () => depositState(h, dep.txidBytes) === "credited");
  expect(depositState(h, dep.txidBytes)).toBe("credited");
  await run(h, 2);
  const fee = payoutFee(h.config, Number(h.chain.feePerByte))!;
  const tx = h.payoutTx(dep.txidBytes, XMR, [{ address: USER, amount, fee }]);
  const r = h.block([], [tx]);
  expect(r.events[0]?.status.state).toBe("accepted");
  return tx;
}

describe("the monero module on the simulated chain", () => {
  it("credits a deposit by proof and pays a payout exactly once with t of n signers (guardian 3 down)", async () => {
    const h = moneroHarness({ seed: 11 });
    const amount = 4n * 10n ** 11n;
    const tx = await creditAndWithdraw(h, amount);
    h.guardians[3]!.down = true;
    const rounds = await run(h, 80, () => outcome(h, tx)[0]!.state === "confirmed");
    const views = outcome(h, tx);
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    expect(views[0]!.state).toBe("confirmed");
    // Paid once on the chain, in the confirmed txid, with the tx key t wallets stored.
    const paid = h.chain.paymentsTo(USER, amount, { pool: true });
    expect(paid).toHaveLength(1);
    expect(paid[0]!.height).toBeDefined();
    const confirmed = views[0]!;
    if (confirmed.state !== "confirmed") throw new Error("not confirmed");
    expect(confirmed.moneroTxid).toBe(paid[0]!.txid);
    expect(confirmed.txKey).toBe(h.chain.transaction(paid[0]!.txid)!.txKey);
    // The down guardian's share signed nothing; the others did their parts.
    expect(h.shares[3]!.calls.get("sign_multisig") ?? 0).toBe(0);
    expect(rounds).toBeLessThan(80);
    // The reserves monitors read the shares: every guardian that is up holds at least what is owed,
    // the balance the chain's god view gives (a participant imported every export: it sees the spend).
    for (const g of [0, 1, 2]) {
      const r = h.guardians[g]!.monero.reservesView(h.mdb(g));
      expect(r.state).toBe("ok");
      expect(r.wallet?.balance).toBe(h.chain.federationBalance().toString());
    }
    // More rounds change nothing: still paid once.
    await run(h, 10);
    expect(h.chain.paymentsTo(USER, amount, { pool: true })).toHaveLength(1);
  });

  it("every guardian that is up submits the final set, all get the same txid, and the batch is paid once", async () => {
    const h = moneroHarness({ seed: 12 });
    const amount = 3n * 10n ** 11n;
    const tx = await creditAndWithdraw(h, amount);
    await run(h, 80, () => outcome(h, tx)[0]!.state === "confirmed");
    expect(outcome(h, tx)[0]!.state).toBe("confirmed");
    // Every share submitted the final set; the same txid each time (a resubmission, measured).
    const submitted = h.shares.map((s) => s.calls.get("submit_multisig") ?? 0);
    expect(submitted.filter((c) => c > 0).length).toBeGreaterThanOrEqual(h.t);
    expect(h.chain.paymentsTo(USER, amount, { pool: true })).toHaveLength(1);
  });

  it("is deterministic: the same seed gives the same trace hash, another seed another", async () => {
    const trace = async (seed: number) => {
      const h = moneroHarness({ seed });
      const tx = await creditAndWithdraw(h, 2n * 10n ** 11n);
      await run(h, 80, () => outcome(h, tx)[0]!.state === "confirmed");
      return { hash: h.chain.trace.hash, events: h.chain.trace.length, time: h.scheduler.now() };
    };
    const a = await trace(21);
    const b = await trace(21);
    const c = await trace(22);
    expect(a).toEqual(b);
    expect(c.hash).not.toBe(a.hash);
    expect(a.events).toBeGreaterThan(100);
  });
});
