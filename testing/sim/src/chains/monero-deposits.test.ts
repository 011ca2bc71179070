// Deposits on the simulated chain through the real monero module: claims checked at the API
// against the guardian's own node, reorgs below and above the confirmation depth, subaddress
// deposits found by the wallet.
import { describe, expect, it } from "vitest";
import { ConclaveError, toHex } from "@conclave/core-common";
import { claimProof, encodeMoneroItem, subaddressRequestMessage } from "@conclave/module-monero";
import { moneroHarness } from "./federation-harness.js";
import type { MoneroHarness } from "./federation-harness.js";

const XMR = 10n ** 12n;

async function rounds(h: MoneroHarness, count: number, until: () => boolean = () => false): Promise<number> {
  for (let i = 0; i < count; i++) {
    if (until()) return i;
    h.chain.mine();
    await h.round();
  }
  return count;
}

const claimState = (h: MoneroHarness, txid: Uint8Array, g = 0) =>
  h.guardians[g]!.monero.depositView(h.mdb(g), txid);

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "accepted";
  } catch (e) {
    return e instanceof ConclaveError ? `${e.code} ${e.status}` : String(e);
  }
};

describe("deposits on the simulated chain", () => {
  it("the API takes a claim only when the guardian's node finds it real (proof, transaction, node up)", async () => {
    const h = moneroHarness({ seed: 31 });
    const dep = h.depositByProof(XMR);
    // A proof made with another tx key: the node's check_tx_proof says it is not good.
    const other = h.chain.payFederation(XMR);
    const wrongKey = claimProof({
      federationAddress: h.chain.federationAddress,
      txid: dep.txidBytes,
      txKey: other.txKey,
      claimKey: h.alice.publicKey,
    });
    expect(await errorOf(h.postClaim(0, { txid: dep.txid, proof: wrongKey }))).toBe("bad_proof 400");
    // A transaction the node does not know.
    expect(await errorOf(h.postClaim(0, { txid: "ab".repeat(32), proof: dep.proof }))).toBe(
      "unknown_transaction 404",
    );
    // The guardian's monerod is down: 503 (the RPC client's own error passes through, as with the real one).
    h.chain.faults(1).daemonDown = true;
    expect(await errorOf(h.postClaim(1, { txid: dep.txid, proof: dep.proof }))).toBe(
      "monero_connection_failed 503",
    );
    h.chain.faults(1).daemonDown = false;
    expect(await errorOf(h.postClaim(1, { txid: dep.txid, proof: dep.proof }))).toBe("accepted");
    // Guardian 1 proposes it; the watchers attest once it is 4 deep; credited with the real amount.
    await rounds(h, 20, () => claimState(h, dep.txidBytes).state === "credited");
    const v = claimState(h, dep.txidBytes);
    expect(v.state).toBe("credited");
    expect(v.amount).toBe(XMR.toString());
    expect(v.txHeight).toBe(h.chain.minedHeight(dep.txid));
  });

  it("a reorg below the confirmation depth that double-spends a deposit un-confirms it: never credited", async () => {
    const h = moneroHarness({ seed: 32 });
    const dep = h.depositByProof(XMR);
    await h.round([dep.claim]);
    // Two blocks deep (confirmations: 4): no guardian attests yet.
    await rounds(h, 2);
    expect(h.chain.where(dep.txid)).toEqual({ where: "block", height: h.chain.height() - 2 });
    expect(claimState(h, dep.txidBytes).attestations.filter((a) => a.verdict === "valid")).toEqual([]);
    // A fork of 3 blocks replaces those 2; the user's double spend of the same input is in it.
    h.chain.reorg(2, { drop: [dep.txid] });
    expect(h.chain.where(dep.txid)).toEqual({ where: "unknown" });
    await rounds(h, 20);
    expect(claimState(h, dep.txidBytes).state).toBe("open");
    expect(claimState(h, dep.txidBytes).attestations.filter((a) => a.verdict === "valid")).toEqual([]);
    expect(h.chain.depositTruth(dep.txid).mined).toBe(false);
  });

  it("a shallow reorg that keeps the deposit moves it to a new block: credited at the height it ends up at", async () => {
    const h = moneroHarness({ seed: 33 });
    const dep = h.depositByProof(XMR);
    await h.round([dep.claim]);
    await rounds(h, 2);
    const first = h.chain.minedHeight(dep.txid);
    // The fork mines the pool again in its first block: the deposit is one block lower.
    h.chain.reorg(3);
    expect(h.chain.minedHeight(dep.txid)).toBe(first! - 1);
    await rounds(h, 20, () => claimState(h, dep.txidBytes).state === "credited");
    expect(claimState(h, dep.txidBytes).state).toBe("credited");
    expect(claimState(h, dep.txidBytes).txHeight).toBe(first! - 1);
  });

  it("a reorg deeper than the confirmation depth undoes a credited deposit: the god view shows what a checker must flag", async () => {
    const h = moneroHarness({ seed: 34 });
    const dep = h.depositByProof(XMR);
    await h.round([dep.claim]);
    await rounds(h, 20, () => claimState(h, dep.txidBytes).state === "credited");
    expect(claimState(h, dep.txidBytes).state).toBe("credited");
    const depth = h.chain.height() - h.chain.minedHeight(dep.txid)!;
    expect(depth).toBeGreaterThanOrEqual(4);
    h.chain.reorg(depth, { drop: [dep.txid] });
    // Consensus keeps the credit (the module trusts `confirmations`); the chain no longer has the payment.
    expect(claimState(h, dep.txidBytes).state).toBe("credited");
    expect(h.chain.depositTruth(dep.txid)).toEqual({ mined: false, fromFederation: false, amount: XMR });
  });

  it("a payment to a deposit subaddress is found by every share's wallet and credited by the real SubaddressWatcher", async () => {
    const h = moneroHarness({ seed: 35 });
    const signature = h.alice.sign(subaddressRequestMessage(h.chain.federationAddress, h.alice.publicKey));
    const request = encodeMoneroItem({ kind: "address_request", claimKey: h.alice.publicKey, signature });
    await h.round([{ from: 2, item: request }]);
    const view = () => h.guardians[0]!.monero.subaddressView(h.mdb(0), h.alice.publicKey);
    expect(view().state).toBe("assigned");
    const index = view().index!;
    await rounds(h, 2, () => view().address !== undefined);
    // Every guardian's wallet derives the same address, the simulated chain's subaddress `index`.
    expect(view().address).toBe(h.chain.subaddress(index));
    const paid = h.chain.payFederation(2n * XMR, index);
    await rounds(h, 20, () => view().deposits[0]?.state === "credited");
    expect(view().deposits).toHaveLength(1);
    expect(view().deposits[0]).toMatchObject({
      txid: paid.txid,
      state: "credited",
      amount: (2n * XMR).toString(),
    });
    // Its proof against the primary address proves nothing received (subaddress outputs are not seen).
    const proof = claimProof({
      federationAddress: h.chain.federationAddress,
      txid: Uint8Array.from(Buffer.from(paid.txid, "hex")),
      txKey: paid.txKey,
      claimKey: h.alice.publicKey,
    });
    expect(await errorOf(h.postClaim(0, { txid: paid.txid, proof }))).toBe("nothing_received 400");
    expect(toHex(h.alice.publicKey)).toBe(view().claimKey);
  });
});
