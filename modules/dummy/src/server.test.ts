import { describe, expect, it } from "vitest";
import { encodeConsensusItem, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput, spendInput } from "./client.js";
import { DummyServerModule } from "./server.js";

const M = 0;
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));

function setup(feePerInput = 0n) {
  const db = new MemoryKv();
  const p = new FederationProcessor(
    [new DummyServerModule(M, { faucetAmountMax: 1_000_000n, feePerInput })],
    {
      verifier: new NodeVerifier(),
      hash: sha256,
    },
  );
  let height = 0;
  const commit = (...txs: Transaction[]) =>
    p.processBlock(db, height++, [
      { origin: 0, items: txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })) },
    ]);
  const fund = (owner: NodeSigner, amount: bigint) => {
    const tx = buildTransaction(
      [faucetInput(M, amount + feePerInput)],
      [coinOutput(M, amount, owner.publicKey)],
      [],
      sha256,
    );
    const r = commit(tx);
    expect(r.events[0]!.status.state).toBe("accepted");
    return transactionId(tx, sha256);
  };
  return { db, p, commit, fund };
}

describe("transactions across modules (dummy module, core processor)", () => {
  it("accepts a balanced, signed spend and moves the coin to its new owner", () => {
    const { p, db, commit, fund } = setup();
    const coin = fund(alice, 500n);
    const tx = buildTransaction(
      [spendInput(M, 500n, coin, 0)],
      [coinOutput(M, 300n, bob.publicKey), coinOutput(M, 200n, alice.publicKey)],
      [alice],
      sha256,
    );
    const r = commit(tx);
    expect(r.events.map((e) => e.status.state)).toEqual(["accepted"]);
    expect(p.audit(db)).toMatchObject({ assets: 500n, liabilities: 500n });
    const outcome = p.modules[0]!.outputOutcome(p.moduleReadDb(db, M), {
      txid: transactionId(tx, sha256),
      index: 0,
    });
    expect(outcome).toEqual({
      amount: "300",
      owner: Buffer.from(bob.publicKey).toString("hex"),
      spent: false,
    });
  });

  it("rejects a second spend of one coin, in the same block and in a later block, with spent_input", () => {
    const { commit, fund } = setup();
    const coin = fund(alice, 100n);
    const a = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    const b = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, alice.publicKey)],
      [alice],
      sha256,
    );
    const r = commit(a, b);
    expect(r.events.map((e) => e.status.state)).toEqual(["accepted", "rejected"]);
    const second = r.events[1]!.status;
    expect(second.state === "rejected" && second.error.code).toBe("spent_input");
    const c = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, alice.publicKey)],
      [alice],
      sha256,
    );
    const later = commit(c).events[0]!.status;
    expect(later.state === "rejected" && later.error.code).toBe("spent_input");
  });

  it("rejects a spend signed by someone else than the coin's owner, and changes nothing", () => {
    const { p, db, commit, fund } = setup();
    const coin = fund(alice, 100n);
    const before = p.audit(db);
    const tx = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, bob.publicKey)],
      [bob],
      sha256,
    );
    const s = commit(tx).events[0]!.status;
    expect(s.state === "rejected" && s.error.code).toBe("bad_signature");
    expect(p.audit(db)).toEqual(before);
    // The coin is still spendable by its owner.
    const ok = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    expect(commit(ok).events[0]!.status.state).toBe("accepted");
  });

  it("rejects outputs worth more than inputs plus fees (unbalanced), naming the amounts", () => {
    const { commit, fund } = setup(10n);
    const coin = fund(alice, 100n);
    const tx = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 95n, bob.publicKey)],
      [alice],
      sha256,
    );
    const s = commit(tx).events[0]!.status;
    expect(s.state === "rejected" && s.error).toMatchObject({
      code: "unbalanced",
      details: { inputs: "100", outputs: "95", fees: "10" },
    });
  });

  it("rejects an unknown module and an amount that does not match the coin", () => {
    const { commit, fund } = setup();
    const coin = fund(alice, 100n);
    const unknown = buildTransaction([spendInput(7, 100n, coin, 0)], [], [alice], sha256);
    const s1 = commit(unknown).events[0]!.status;
    expect(s1.state === "rejected" && s1.error.code).toBe("unknown_module");
    const lie = buildTransaction(
      [spendInput(M, 150n, coin, 0)],
      [coinOutput(M, 150n, bob.publicKey)],
      [alice],
      sha256,
    );
    const s2 = commit(lie).events[0]!.status;
    expect(s2.state === "rejected" && s2.error.code).toBe("amount_mismatch");
  });

  it("counts a transaction proposed twice (by two guardians) once", () => {
    const { commit, fund, p, db } = setup();
    const coin = fund(alice, 100n);
    const tx = buildTransaction(
      [spendInput(M, 100n, coin, 0)],
      [coinOutput(M, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    const r = commit(tx, tx);
    expect(r.events).toHaveLength(1);
    expect(p.txStatus(db, transactionId(tx, sha256))?.state).toBe("accepted");
    expect(p.check(db, tx)).toMatchObject({ ok: false, error: { code: "already_accepted" } });
  });

  it("ignores garbage items in a bundle and keeps going", () => {
    const { p, db, fund } = setup();
    const r = p.processBlock(db, 99, [
      { origin: 1, items: [new Uint8Array([0xff, 1, 2]), new Uint8Array()] },
    ]);
    expect(r.malformedItems).toBe(2);
    fund(alice, 5n);
  });

  it("halts (reports an audit failure naming each module) when the federation's liabilities exceed its assets", () => {
    const { p, db, fund } = setup();
    fund(alice, 100n);
    // Corrupt the module's totals directly, as a bug in a module would.
    const mdb = p.moduleDb(db, M);
    mdb.put(
      Uint8Array.from([0x02]),
      new Uint8Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0)),
    );
    const r = p.processBlock(db, 100, []);
    expect(r.auditFailure).toMatch(/liabilities 1 exceed assets 0 \(dummy#0 assets 0 liabilities 1\)/);
  });
});
