// "Exactly once" (docs/monero.md) on the simulated chain, through the real payout rounds: a last
// signer that keeps its completion, and the federation's own payouts, which are never deposits.
import { describe, expect, it } from "vitest";
import { fromHex } from "@conclave/core-common";
import type { ByzantineLastSigner, PayoutDuty, PayoutResult } from "@conclave/module-monero";
import { claimProof, encodeMoneroItem, payoutFee, subaddressRequestMessage } from "@conclave/module-monero";
import { moneroHarness } from "./federation-harness.js";
import type { MoneroHarness } from "./federation-harness.js";
import { simAddress } from "./monero-chain.js";

const XMR = 10n ** 12n;
const USER = simAddress("mainnet", "standard", "user-exactly-once");

/** The first guardian to complete a set keeps it and proposes nothing; every other one is honest. */
class FirstLastSignerKeeps implements ByzantineLastSigner {
  kept: { guardian: number; txset: string } | undefined;
  constructor(private readonly guardians: number) {}
  /** One hook per guardian, sharing this keeper. */
  hooks(): Record<number, ByzantineLastSigner> {
    return Object.fromEntries(
      Array.from({ length: this.guardians }, (_, g) => [
        g,
        { lastSigned: (duty: PayoutDuty, completed: string) => this.decide(g, duty, completed) },
      ]),
    );
  }
  lastSigned(): PayoutResult | undefined {
    return undefined;
  }
  private decide(g: number, duty: PayoutDuty, completed: string): PayoutResult | undefined {
    if (duty.kind !== "sign") return undefined;
    if (this.kept === undefined) {
      this.kept = { guardian: g, txset: completed };
      return undefined;
    }
    return { kind: "blob", slot: duty.slot, blob: fromHex(completed) };
  }
}

async function rounds(h: MoneroHarness, count: number, until: () => boolean = () => false): Promise<number> {
  for (let i = 0; i < count; i++) {
    if (until()) return i;
    h.chain.mine();
    await h.round();
  }
  return count;
}

async function withdraw(h: MoneroHarness, amount: bigint, address = USER) {
  const dep = h.depositByProof(XMR);
  await h.round([dep.claim]);
  await rounds(h, 30, () => h.guardians[0]!.monero.depositView(h.mdb(0), dep.txidBytes).state === "credited");
  await rounds(h, 2);
  const fee = payoutFee(h.config, Number(h.chain.feePerByte))!;
  const tx = h.payoutTx(dep.txidBytes, XMR, [{ address, amount, fee }]);
  expect(h.block([], [tx]).events[0]?.status.state).toBe("accepted");
  return () => h.guardians[0]!.monero.payoutView(h.mdb(0), { txid: h.txidOf(tx), index: "0" });
}

describe("exactly once on the simulated chain", () => {
  it("a last signer keeps its completion: another participant completes the same set; the kept one, broadcast later, is refused", async () => {
    const keeper = new FirstLastSignerKeeps(4);
    const h = moneroHarness({ seed: 51, byzantine: keeper.hooks() });
    const amount = 5n * 10n ** 11n;
    const outcome = await withdraw(h, amount);
    await rounds(h, 80, () => outcome().state === "confirmed");
    expect(outcome().state).toBe("confirmed");
    expect(keeper.kept).toBeDefined();
    const paid = h.chain.paymentsTo(USER, amount, { pool: true });
    expect(paid).toHaveLength(1);
    // The attacker broadcasts its kept completion now: the same key images, refused.
    await expect(
      h.scheduler.settle(h.shares[keeper.kept!.guardian]!.submit(keeper.kept!.txset)),
    ).rejects.toThrow(/rejected by daemon/);
    await rounds(h, 5);
    expect(h.chain.paymentsTo(USER, amount, { pool: true })).toEqual(paid);
  });

  it("a kept completion broadcast at once is the payment: the others' submits are refused, they vote its txid, paid once", async () => {
    const keeper = new FirstLastSignerKeeps(4);
    const h = moneroHarness({ seed: 52, byzantine: keeper.hooks() });
    const amount = 6n * 10n ** 11n;
    const outcome = await withdraw(h, amount);
    await rounds(h, 40, () => keeper.kept !== undefined);
    const kept = keeper.kept!;
    const keptTxid = await h.scheduler.settle(h.shares[kept.guardian]!.submit(kept.txset));
    await rounds(h, 80, () => outcome().state === "confirmed");
    const o = outcome();
    expect(o.state).toBe("confirmed");
    if (o.state !== "confirmed") throw new Error("not confirmed");
    expect(o.moneroTxid).toBe(keptTxid);
    expect(h.chain.paymentsTo(USER, amount, { pool: true }).map((p) => p.txid)).toEqual([keptTxid]);
    expect(h.logs.some((l) => l.includes("payout_submit_refused") && l.includes(keptTxid))).toBe(true);
  });

  it("the federation's own payout is never a deposit: not to its subaddress, not by its tx key's proof of the change", async () => {
    const h = moneroHarness({ seed: 53 });
    // Alice's deposit subaddress receives a payout of the federation itself.
    const signature = h.alice.sign(subaddressRequestMessage(h.chain.federationAddress, h.alice.publicKey));
    await h.round([
      {
        from: 0,
        item: encodeMoneroItem({ kind: "address_request", claimKey: h.alice.publicKey, signature }),
      },
    ]);
    const view = () => h.guardians[0]!.monero.subaddressView(h.mdb(0), h.alice.publicKey);
    const index = view().index!;
    const amount = 4n * 10n ** 11n;
    const outcome = await withdraw(h, amount, h.chain.subaddress(index));
    await rounds(h, 80, () => outcome().state === "confirmed");
    const o = outcome();
    if (o.state !== "confirmed") throw new Error("not confirmed");
    const moneroTxid = o.moneroTxid!;
    await rounds(h, 10);
    expect(view().deposits).toEqual([]);
    expect(h.logs.some((l) => l.includes("own_transaction_ignored") && l.includes(moneroTxid))).toBe(true);
    // A claim of the payout's txid with its published tx key proves the change received: refused.
    const txid = Uint8Array.from(Buffer.from(moneroTxid, "hex"));
    const proof = claimProof({
      federationAddress: h.chain.federationAddress,
      txid,
      txKey: fromHex(o.txKey!),
      claimKey: h.alice.publicKey,
    });
    // The guardians' nodes: the proof is good and shows the change received; the wallet knows the
    // transaction as its own (the watcher's invariant-7 check).
    const share = h.shares[1]!;
    const message = `conclave-claim-v1:${Buffer.from(h.alice.publicKey).toString("hex")}`;
    const proofHex = Buffer.from(proof).toString("hex");
    const checked = await h.scheduler.settle(
      share.proven(moneroTxid, proofHex, message, h.chain.federationAddress),
    );
    expect(checked.good).toBe(true);
    expect(checked.received).toBeGreaterThan(0n);
    expect(await h.scheduler.settle(share.ownTransaction(moneroTxid))).toEqual({ own: true, by: "wallet" });
    // Consensus refuses the claim itself (the state records the federation's payout txids).
    const claim = encodeMoneroItem({ kind: "claim", txid, claimKey: h.alice.publicKey, proof });
    expect(h.block([{ from: 1, item: claim }]).moduleItemErrors).toBe(1);
    await rounds(h, 10);
    expect(h.guardians[0]!.monero.depositView(h.mdb(0), txid).state).toBe("unclaimed");
    expect(h.chain.depositTruth(moneroTxid).fromFederation).toBe(true);
  });
});
