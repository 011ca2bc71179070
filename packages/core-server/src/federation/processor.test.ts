// The core processor on its own: which copy of a transaction counts (issue 10, item 4), and the
// order of its checks, cheapest first (item 5). The dummy module stands for money; a small stand-in
// for the mint's notes counts how often the expensive check (the pairing) is asked for.
import { describe, expect, it } from "vitest";
import { encodeConsensusItem, toHex, transactionId } from "@conclave/core-common";
import type { Transaction, TxInput, Verifier } from "@conclave/core-common";
import {
  DummyServerModule,
  buildTransaction,
  coinOutput,
  faucetInput,
  spendInput,
} from "@conclave/module-dummy";
import { MemoryKv } from "../db/kv.js";
import type { ReadTx, WriteTx } from "../db/kv.js";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import { fail, ok } from "./module.js";
import type { Audit, InputMeta, ModuleResult, OutputMeta, ServerModule } from "./module.js";
import { FederationProcessor } from "./processor.js";

const DUMMY = 0;
const NOTES = 1;
const NOTES_PER_TX_MAX = 200;
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));

/**
 * Stand-in for the mint's inputs: a "note" is its 32-byte spend key, worth 1, spent once, signed by
 * its key; verifyInputs stands for the batched pairing check and counts its calls.
 */
class CountingNotes implements ServerModule {
  readonly kind = "notes";
  readonly instanceId = NOTES;
  readonly testOnly = true;
  readonly api = [];
  pairingChecks = 0;
  constructor(private readonly notesValid: boolean) {}
  consensusProposal(): Uint8Array[] {
    return [];
  }
  processConsensusItem(): ModuleResult<void> {
    return fail("no_items", "no items");
  }
  precheckInputs(inputs: readonly TxInput[]): ModuleResult<void> {
    if (inputs.length > NOTES_PER_TX_MAX) return fail("too_many_notes", "too many notes");
    return ok(undefined);
  }
  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    if (db.get(input.payload)) return fail("spent_input", "spent");
    db.put(input.payload, Uint8Array.of(1));
    return ok({ amount: 1n, fee: 0n, signers: [input.payload] });
  }
  verifyInputs(): ModuleResult<void> {
    this.pairingChecks++;
    return this.notesValid ? ok(undefined) : fail("invalid_note", "not signed by the federation");
  }
  processOutput(): ModuleResult<OutputMeta> {
    return fail("no_outputs", "no outputs");
  }
  outputOutcome(_db: ReadTx): unknown {
    return undefined;
  }
  audit(): Audit {
    return { assets: 0n, liabilities: 0n };
  }
}

class CountingVerifier implements Verifier {
  calls = 0;
  private readonly inner = new NodeVerifier();
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    this.calls++;
    return this.inner.verify(publicKey, message, signature);
  }
}

function setup(notesValid = false) {
  const db = new MemoryKv();
  const notes = new CountingNotes(notesValid);
  const verifier = new CountingVerifier();
  const p = new FederationProcessor(
    [new DummyServerModule(DUMMY, { faucetAmountMax: 1_000_000n, feePerInput: 0n }), notes],
    { verifier, hash: sha256 },
  );
  let height = 0;
  const order = (...txs: Transaction[]) =>
    p.processBlock(db, height++, [
      { origin: 3, items: txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })) },
    ]);
  const fund = (owner: NodeSigner, amount: bigint): Uint8Array => {
    const tx = buildTransaction(
      [faucetInput(DUMMY, amount)],
      [coinOutput(DUMMY, amount, owner.publicKey)],
      [],
      sha256,
    );
    expect(order(tx).events[0]!.status.state).toBe("accepted");
    return transactionId(tx, sha256);
  };
  return { db, p, notes, verifier, order, fund };
}

/** The same transaction (same txid) with its signatures replaced by garbage. */
function malleated(tx: Transaction): Transaction {
  return { ...tx, signatures: tx.signatures.map((s) => s.map((b) => b ^ 0x5a)) };
}

/** `count` fake notes under fresh keys, spent into a dummy coin of `coinAmount`, signed by every key. */
function fakeNotesTx(count: number, coinAmount: bigint): Transaction {
  const keys = Array.from(
    { length: count },
    (_, i) => new NodeSigner(sha256(Uint8Array.of(i >> 8, i & 0xff))),
  );
  return buildTransaction(
    keys.map((k) => ({ module: NOTES, amount: 1n, payload: k.publicKey })),
    [coinOutput(DUMMY, coinAmount, bob.publicKey)],
    keys,
    sha256,
  );
}

describe("a copy with bad signatures does not decide its transaction (issue 10, item 4)", () => {
  it("accepts the correctly signed transaction after a copy with a garbage signature was ordered first", () => {
    const { db, p, order, fund } = setup();
    const coin = fund(alice, 100n);
    const good = buildTransaction(
      [spendInput(DUMMY, 100n, coin, 0)],
      [coinOutput(DUMMY, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    const bad = malleated(good);
    const txid = transactionId(good, sha256);
    expect(transactionId(bad, sha256)).toEqual(txid);

    // A Byzantine proposer orders the garbage copy first: refused, but nothing recorded.
    const first = order(bad);
    expect(first.events).toMatchObject([
      {
        txid: toHex(txid),
        origin: 3,
        final: false,
        status: { state: "rejected", error: { code: "bad_signature" } },
      },
    ]);
    expect(p.txStatus(db, txid)).toBeUndefined();

    // The good copy, ordered later, is accepted; so the client's status lookup by txid says accepted.
    const second = order(good);
    expect(second.events.map((e) => [e.status.state, e.final])).toEqual([["accepted", true]]);
    expect(p.txStatus(db, txid)?.state).toBe("accepted");
  });

  it("accepts the good copy when both are in the same block, the bad one first", () => {
    const { db, p, order, fund } = setup();
    const coin = fund(alice, 100n);
    const good = buildTransaction(
      [spendInput(DUMMY, 100n, coin, 0)],
      [coinOutput(DUMMY, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    const events = order(malleated(good), good).events;
    expect(events.map((e) => [e.status.state, e.final])).toEqual([
      ["rejected", false],
      ["accepted", true],
    ]);
    expect(p.audit(db)).toMatchObject({ assets: 100n, liabilities: 100n });
  });

  it("accepts the transaction at most once: copies ordered after it, good or bad, change nothing", () => {
    const { db, p, order, fund } = setup();
    const coin = fund(alice, 100n);
    const good = buildTransaction(
      [spendInput(DUMMY, 100n, coin, 0)],
      [coinOutput(DUMMY, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    expect(order(good).events[0]!.status.state).toBe("accepted");
    const audit = p.audit(db);
    expect(order(good, malleated(good), good).events).toEqual([]);
    expect(p.audit(db)).toEqual(audit);
    // Nor can a new transaction spend the coin again.
    const again = buildTransaction(
      [spendInput(DUMMY, 100n, coin, 0)],
      [coinOutput(DUMMY, 100n, alice.publicKey)],
      [alice],
      sha256,
    );
    const s = order(again).events[0]!.status;
    expect(s.state === "rejected" && s.error.code).toBe("spent_input");
  });

  it("records a refusal that does not depend on the signatures as final for the txid", () => {
    const { db, p, order, fund } = setup();
    const coin = fund(alice, 100n);
    const spend = (amount: bigint) =>
      buildTransaction(
        [spendInput(DUMMY, 100n, coin, 0)],
        [coinOutput(DUMMY, amount, bob.publicKey)],
        [alice],
        sha256,
      );
    expect(order(spend(100n)).events[0]!.status.state).toBe("accepted");
    // Spending the spent coin: refused for what the txid covers, whatever the signatures.
    const late = spend(99n);
    const events = order(malleated(late)).events;
    expect(events.map((e) => [e.status.state === "rejected" && e.status.error.code, e.final])).toEqual([
      ["spent_input", true],
    ]);
    expect(p.txStatus(db, transactionId(late, sha256))?.state).toBe("rejected");
  });

  it("still refuses the bad copy at submission with bad_signature", () => {
    const { db, p, fund } = setup();
    const coin = fund(alice, 100n);
    const good = buildTransaction(
      [spendInput(DUMMY, 100n, coin, 0)],
      [coinOutput(DUMMY, 100n, bob.publicKey)],
      [alice],
      sha256,
    );
    const r = p.check(db, malleated(good));
    expect(r.ok === false && r.error.code).toBe("bad_signature");
    expect(p.check(db, good).ok).toBe(true);
  });
});

describe("checks run cheapest first (issue 10, item 5)", () => {
  it("refuses 200 fake notes with unbalanced amounts without a signature or pairing check", () => {
    const { db, p, notes, verifier } = setup();
    const r = p.check(db, fakeNotesTx(200, 201n));
    expect(r.ok === false && r.error.code).toBe("unbalanced");
    expect(notes.pairingChecks).toBe(0);
    expect(verifier.calls).toBe(0);
  });

  it("refuses 200 fake notes with a bad signature without a pairing check", () => {
    const { db, p, notes } = setup();
    const r = p.check(db, malleated(fakeNotesTx(200, 200n)));
    expect(r.ok === false && r.error.code).toBe("bad_signature");
    expect(notes.pairingChecks).toBe(0);
  });

  it("refuses too many notes before any signature or pairing check", () => {
    const { db, p, notes, verifier } = setup();
    const r = p.check(db, fakeNotesTx(NOTES_PER_TX_MAX + 1, 1n));
    expect(r.ok === false && r.error.code).toBe("too_many_notes");
    expect([notes.pairingChecks, verifier.calls]).toEqual([0, 0]);
  });

  it("refuses a spent note without a signature or pairing check", () => {
    const { db, p, notes, verifier, order } = setup(true);
    const tx = fakeNotesTx(1, 1n);
    expect(order(tx).events[0]!.status.state).toBe("accepted");
    const [pairings, verifications] = [notes.pairingChecks, verifier.calls];
    const again = buildTransaction(
      tx.inputs,
      [coinOutput(DUMMY, 1n, alice.publicKey)],
      [new NodeSigner(sha256(Uint8Array.of(0, 0)))],
      sha256,
    );
    const r = p.check(db, again);
    expect(r.ok === false && r.error.code).toBe("spent_input");
    expect([notes.pairingChecks, verifier.calls]).toEqual([pairings, verifications]);
  });

  it("reaches the pairing check only for a balanced, correctly signed transaction of unspent notes", () => {
    const { db, p, notes } = setup();
    const r = p.check(db, fakeNotesTx(200, 200n));
    expect(r.ok === false && r.error.code).toBe("invalid_note");
    expect(notes.pairingChecks).toBe(1);
  });
});
