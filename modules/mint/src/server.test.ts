import { describe, expect, it } from "vitest";
import {
  InvalidRequestError,
  Writer,
  concatBytes,
  encodeConsensusItem,
  toHex,
  transactionId,
  utf8,
} from "@conclave/core-common";
import type { Signer, Transaction, TxInput, TxOutput } from "@conclave/core-common";
import {
  commitPolynomial,
  encodeG2,
  evaluatePolynomial,
  publicKeyShare,
  randomPolynomial,
} from "@conclave/core-common/threshold";
import type { Rng } from "@conclave/core-common/threshold";
import { nobleTbs } from "@conclave/core-common/tbs";
import { blstTbs } from "@conclave/tbs-native";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { moduleOpenApiDocument } from "@conclave/core-server";
import type { ModuleError, ProcessedEvent } from "@conclave/core-server";
import { openApiProblems } from "@conclave/core-server/openapi-check";
import { DummyServerModule, faucetInput } from "@conclave/module-dummy";
import {
  buildTransaction,
  finishNote,
  noteInput,
  noteOutput,
  noteSigner,
  prepareNote,
  splitAmount,
} from "./client.js";
import type { PendingNote, SpendableNote } from "./client.js";
import { denominationAmount, encodeMintInput, encodeMintOutput } from "./common.js";
import { mintModuleFactory, parseMintConfig } from "./factory.js";
import type { MintServerModule } from "./server.js";
import type { IssuedAnswer } from "./api.js";
import { mintModuleSetup } from "./setup.js";

const DUMMY = 0;
const MINT = 1;
const N = 4;
const T = 3;
const DENOMS = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const FEE = 1n;
const NOTES_MAX = 4;

/** Deterministic randomness: sha256(seed | counter) blocks. */
function seededRng(seed: string): Rng {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; filled += 32) {
      const block = sha256(concatBytes(utf8.encode(seed), new Writer().u32(counter++).finish()));
      out.set(block.subarray(0, Math.min(32, n - filled)), filled);
    }
    return out;
  };
}

// Trusted dealer: one degree t-1 polynomial per denomination.
const dealerRng = seededRng("dealer");
const polys = DENOMS.map(() => randomPolynomial(T, dealerRng));
const keysHex = polys.map((poly) => {
  const commitments = commitPolynomial(poly);
  return {
    publicKey: toHex(encodeG2(commitments[0]!)),
    publicKeyShares: Array.from({ length: N }, (_, i) => toHex(encodeG2(publicKeyShare(commitments, i)))),
  };
});
const secretShares = (guardian: number) => polys.map((poly) => evaluatePolynomial(poly, guardian));
const params = { denominationsLog2: DENOMS, feePerInput: FEE.toString(), notesPerTxMax: NOTES_MAX };
const config = mintModuleSetup.finish(params, keysHex);
const keys = parseMintConfig(config).keys;
const keyOf = (log2: number) => keys[DENOMS.indexOf(log2)]!;

const noteRng = seededRng("notes");

interface Guardian {
  readonly index: number;
  readonly db: MemoryKv;
  readonly p: FederationProcessor;
  readonly mint: MintServerModule;
}

/**
 * Three of the four guardians, each with its own shares and database, processing the same blocks.
 * Guardian 1 computes with the native blst backend, the others with noble: they must decide alike.
 */
function federation() {
  const guardians: Guardian[] = [0, 1, 2].map((index) => {
    const mint = mintModuleFactory(MINT, config, secretShares(index), index === 1 ? blstTbs : nobleTbs);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 1_000_000n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, mint], { verifier: new NodeVerifier(), hash: sha256 });
    return { index, db: new MemoryKv(), p, mint };
  });
  let height = 0;
  let outstanding = 0n;

  const commit = (...txs: Transaction[]): ProcessedEvent[] => {
    const bundles = [{ origin: 0, items: txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })) }];
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    // Every guardian decides the same.
    const view = (evs: ProcessedEvent[]) =>
      evs.map(
        (e) => `${e.txid}:${e.status.state}:${e.status.state === "rejected" ? e.status.error.code : ""}`,
      );
    for (const r of results.slice(1)) expect(view(r.events)).toEqual(view(results[0]!.events));
    return results[0]!.events;
  };

  const rejection = (tx: Transaction): ModuleError => {
    const s = commit(tx)[0]!.status;
    if (s.state !== "rejected") throw new Error("expected a rejection");
    return s.error;
  };

  const accept = (tx: Transaction, outstandingDelta: bigint): void => {
    const s = commit(tx)[0]!.status;
    expect(s.state === "rejected" ? s.error : s.state).toBe("accepted");
    outstanding += outstandingDelta;
    checkAudit();
  };

  /** The mint owes exactly its outstanding notes, on every guardian; the federation stays solvent. */
  const checkAudit = (): void => {
    for (const g of guardians) {
      const a = g.p.audit(g.db);
      const mintAudit = a.modules.find((m) => m.instanceId === MINT)!.audit;
      expect(mintAudit).toEqual({ assets: 0n, liabilities: outstanding });
      expect(a.assets >= a.liabilities).toBe(true);
    }
  };

  /** Each guardian's blind share for output `index` of `tx`. */
  const shares = (tx: Transaction, index: number) =>
    guardians.map((g) => {
      const outcome = g.mint.outputOutcome(g.p.moduleReadDb(g.db, MINT), {
        txid: transactionId(tx, sha256),
        index,
      });
      if (!outcome) throw new Error(`no outcome for output ${index}`);
      return { guardian: g.index, blindShare: outcome.blindShare };
    });

  const finish = (tx: Transaction, pending: readonly PendingNote[], firstIndex = 0): SpendableNote[] =>
    pending.map((note, i) => {
      const r = finishNote(note, keyOf(note.denominationLog2), T, shares(tx, firstIndex + i));
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    });

  /** Faucet money into fresh notes of the given denominations. */
  const issue = (denoms: readonly number[]): SpendableNote[] => {
    const pending = denoms.map((d) => prepareNote(d, noteRng));
    const total = denoms.reduce((a, d) => a + denominationAmount(d), 0n);
    const tx = buildTransaction(
      [faucetInput(DUMMY, total)],
      pending.map((n) => noteOutput(MINT, n)),
      [],
      sha256,
    );
    accept(tx, total);
    return finish(tx, pending);
  };

  const spend = (
    notes: readonly SpendableNote[],
    outputs: readonly TxOutput[],
    signers?: readonly Signer[],
  ) =>
    buildTransaction(
      notes.map((n) => noteInput(MINT, n)),
      outputs,
      signers ?? notes.map(noteSigner),
      sha256,
    );

  return { guardians, commit, rejection, accept, checkAudit, shares, finish, issue, spend };
}

describe("mint module (3 of 4 guardians, dummy faucet as the funding source)", () => {
  it("issues notes, combines guardians' shares into notes, and reissues them", () => {
    const f = federation();
    f.checkAudit();
    const [a, b] = f.issue([2, 0]); // 4 + 1
    expect(a!.spendKey).toHaveLength(32);

    // Shares are deterministic and differ per guardian.
    const pending = [prepareNote(1, noteRng), prepareNote(0, noteRng)]; // 2 + 1 = 5 - 2 fees
    const tx = f.spend(
      [a!, b!],
      pending.map((n) => noteOutput(MINT, n)),
    );
    f.accept(tx, -5n + 3n);
    const s1 = f.shares(tx, 0);
    expect(f.shares(tx, 0)).toEqual(s1);
    expect(new Set(s1.map((s) => s.blindShare)).size).toBe(3);
    const [c, d] = f.finish(tx, pending);

    // The reissued notes spend too (into a dummy coin).
    const coinOwner = new NodeSigner(new Uint8Array(32).fill(7));
    const toCoin = f.spend([c!, d!], [{ module: DUMMY, amount: 1n, payload: coinOwner.publicKey }]);
    f.accept(toCoin, -3n);
  });

  it("rejects a second spend of a note, in the same block and in a later block, with spent_input", () => {
    const f = federation();
    const [note] = f.issue([3]);
    const out1 = prepareNote(2, noteRng);
    const out2 = prepareNote(2, noteRng);
    const first = f.spend([note!], [noteOutput(MINT, out1)]);
    const second = f.spend([note!], [noteOutput(MINT, out2)]);
    const events = f.commit(first, second);
    expect(events.map((e) => e.status.state)).toEqual(["accepted", "rejected"]);
    const s = events[1]!.status;
    expect(s.state === "rejected" && s.error.code).toBe("spent_input");
    const third = f.spend([note!], [noteOutput(MINT, prepareNote(2, noteRng))]);
    expect(f.rejection(third).code).toBe("spent_input");
  });

  it("binds a note to its spend key: an input signed by another key is refused", () => {
    const f = federation();
    const [note] = f.issue([1]);
    const thief = new NodeSigner(new Uint8Array(32).fill(9));
    const tx = f.spend([note!], [noteOutput(MINT, prepareNote(0, noteRng))], [thief]);
    expect(f.rejection(tx).code).toBe("bad_signature");
    // Still spendable by its owner.
    f.accept(f.spend([note!], [noteOutput(MINT, prepareNote(0, noteRng))]), -2n + 1n);
  });

  it("refuses tampered, mislabelled and malformed notes with clear codes", () => {
    const f = federation();
    const [n4, n1] = f.issue([2, 0]);
    const out = () => [noteOutput(MINT, prepareNote(0, noteRng))];

    // Another note's (valid) signature.
    const swapped: SpendableNote = { ...n4!, signature: n1!.signature };
    expect(f.rejection(f.spend([swapped], out()))).toMatchObject({ code: "invalid_note" });
    // A corrupted signature that no longer decodes.
    const flipped = Uint8Array.from(n4!.signature);
    flipped[47] = flipped[47]! ^ 0x01;
    const bad = f.rejection(f.spend([{ ...n4!, signature: flipped }], out()));
    expect(bad.code).toMatch(/^(malformed_note|invalid_note)$/);
    // Infinity is not a signature.
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(f.rejection(f.spend([{ ...n4!, signature: infinity }], out()))).toMatchObject({
      code: "malformed_note",
      details: { tbsCode: "point-at-infinity" },
    });
    // A 2^2 note presented as 2^3: the 2^3 key never signed it.
    expect(f.rejection(f.spend([{ ...n4!, denominationLog2: 3 }], out())).code).toBe("invalid_note");
    // A denomination the mint does not have.
    expect(f.rejection(f.spend([{ ...n4!, denominationLog2: 9 }], out())).code).toBe("unknown_denomination");
    // Declared amount differs from the denomination.
    const lie: TxInput = { ...noteInput(MINT, n4!), amount: 5n };
    expect(f.rejection(buildTransaction([lie], out(), [noteSigner(n4!)], sha256)).code).toBe(
      "amount_mismatch",
    );
    // Truncated payload.
    const short: TxInput = { module: MINT, amount: 4n, payload: encodeMintInput(n4!).subarray(0, 40) };
    expect(f.rejection(buildTransaction([short], out(), [], sha256)).code).toBe("malformed_input");
    f.checkAudit();

    // Nothing above spent anything.
    f.accept(f.spend([n4!, n1!], [noteOutput(MINT, prepareNote(1, noteRng))]), -5n + 2n);
  });

  it("refuses malformed and unknown outputs with clear codes", () => {
    const f = federation();
    const fund = (output: TxOutput) =>
      buildTransaction([faucetInput(DUMMY, output.amount)], [output], [], sha256);
    const blinded = prepareNote(0, noteRng).blindedMessage;
    const raw = (denominationLog2: number, blindedMessage: Uint8Array): TxOutput => ({
      module: MINT,
      amount: denominationAmount(denominationLog2),
      payload: encodeMintOutput({ denominationLog2, blindedMessage }),
    });
    expect(f.rejection(fund(raw(9, blinded))).code).toBe("unknown_denomination");
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(f.rejection(fund(raw(0, infinity)))).toMatchObject({
      code: "invalid_blinded_message",
      details: { tbsCode: "point-at-infinity" },
    });
    const garbage = new Uint8Array(48).fill(0xff);
    expect(f.rejection(fund(raw(0, garbage))).code).toBe("invalid_blinded_message");
    const notOnCurve = new Uint8Array(48);
    notOnCurve[0] = 0x80;
    notOnCurve[47] = 5;
    expect(f.rejection(fund(raw(0, notOnCurve))).code).toBe("invalid_blinded_message");
    const truncated: TxOutput = { module: MINT, amount: 1n, payload: Uint8Array.of(0, 1, 2) };
    expect(f.rejection(fund(truncated)).code).toBe("malformed_output");
    expect(f.rejection(fund({ ...raw(1, blinded), amount: 3n })).code).toBe("amount_mismatch");
    f.checkAudit();
    // A blinded message is signed once only.
    f.accept(fund(raw(0, blinded)), 1n);
    expect(f.rejection(fund(raw(0, blinded))).code).toBe("blinded_message_reused");
  });

  it("charges the fee per input note", () => {
    const f = federation();
    const [n8, n1] = f.issue([3, 0]);
    // 8 + 1 in, 2 notes: fee 2. Outputs worth 8 are too much.
    const greedy = f.spend([n8!, n1!], [noteOutput(MINT, prepareNote(3, noteRng))]);
    expect(f.rejection(greedy)).toMatchObject({
      code: "unbalanced",
      details: { inputs: "9", outputs: "8", fees: "2" },
    });
    // 7 = 4 + 2 + 1 is exactly right.
    const split = splitAmount(7n, DENOMS)!;
    expect(split).toEqual([0, 1, 2]);
    const pending = split.map((d) => prepareNote(d, noteRng));
    const tx = f.spend(
      [n8!, n1!],
      pending.map((n) => noteOutput(MINT, n)),
    );
    const events = f.commit(tx);
    expect(events[0]!.status).toMatchObject({ state: "accepted", fee: 2n });
  });

  it("issues at most notesPerTxMax notes per transaction", () => {
    const f = federation();
    const five = [0, 0, 0, 0, 0].map((d) => prepareNote(d, noteRng));
    const tooMany = buildTransaction(
      [faucetInput(DUMMY, 5n)],
      five.map((n) => noteOutput(MINT, n)),
      [],
      sha256,
    );
    expect(f.rejection(tooMany)).toMatchObject({
      code: "too_many_notes",
      details: { notesPerTxMax: NOTES_MAX, output: 4 },
    });
    f.checkAudit();
    const four = buildTransaction(
      [faucetInput(DUMMY, 4n)],
      five.slice(0, 4).map((n) => noteOutput(MINT, n)),
      [],
      sha256,
    );
    f.accept(four, 4n);
  });
});

describe("mint inputs: limits, batches and the same note twice", () => {
  it("spends at most notesPerTxMax notes per transaction", () => {
    const f = federation();
    const notes = f.issue([1, 1, 1, 1]).concat(f.issue([1]));
    const tooMany = f.spend(notes, [noteOutput(MINT, prepareNote(0, noteRng))]);
    expect(f.rejection(tooMany)).toMatchObject({
      code: "too_many_notes",
      details: { notesPerTxMax: NOTES_MAX },
    });
    f.checkAudit();
    // 4 notes of 2, fee 1 each: 4 left for one note of 4.
    f.accept(f.spend(notes.slice(0, 4), [noteOutput(MINT, prepareNote(2, noteRng))]), -8n + 4n);
  });

  it("refuses the same note twice in one transaction with spent_input and spends nothing", () => {
    const f = federation();
    const [note] = f.issue([2]);
    const twice = buildTransaction(
      [noteInput(MINT, note!), noteInput(MINT, note!)],
      [noteOutput(MINT, prepareNote(2, noteRng))],
      [noteSigner(note!), noteSigner(note!)],
      sha256,
    );
    expect(f.rejection(twice)).toMatchObject({ code: "spent_input", details: { input: 1 } });
    f.accept(f.spend([note!], [noteOutput(MINT, prepareNote(1, noteRng))]), -4n + 2n);
  });

  it("names the one bad note among good ones of the same denomination (batch fails, then one by one)", () => {
    const f = federation();
    const notes = f.issue([1, 1, 1]);
    const forged: SpendableNote = { ...notes[2]!, signature: notes[0]!.signature };
    const tx = f.spend([notes[0]!, notes[1]!, forged], [noteOutput(MINT, prepareNote(0, noteRng))]);
    expect(f.rejection(tx)).toMatchObject({ code: "invalid_note", details: { input: 2 } });
    f.checkAudit();
  });
});

describe("mint API: spent and issued queries", () => {
  const call = (g: Guardian, path: string, body: unknown): unknown => {
    const endpoint = g.mint.api.find((e) => e.path === path)!;
    return endpoint.handle({ params: {}, body, db: g.p.moduleReadDb(g.db, MINT) });
  };

  it("declares its endpoints' schemas, so that /openapi.json documents their bodies and answers", async () => {
    const doc = moduleOpenApiDocument("mint", federation().guardians[0]!.mint.api, { version: "1" });
    expect(await openApiProblems(doc)).toEqual([]);
    const paths = doc["paths"] as Record<string, Record<string, { requestBody: { content: unknown } }>>;
    expect(Object.keys(paths).sort()).toEqual([
      "/v1/modules/mint/notes/issued",
      "/v1/modules/mint/notes/spent",
    ]);
    expect(paths["/v1/modules/mint/notes/spent"]!["post"]!.requestBody.content).toMatchObject({
      "application/json": { schema: { required: ["nonces"], properties: { nonces: { maxItems: 1000 } } } },
    });
  });

  it("answers which nonces are spent, in order, the same at every guardian", () => {
    const f = federation();
    const [a, b] = f.issue([0, 1]);
    f.accept(f.spend([a!], []), -1n); // the whole note goes to the fee
    const body = { nonces: [toHex(a!.spendKey), toHex(b!.spendKey)] };
    for (const g of f.guardians) expect(call(g, "notes/spent", body)).toEqual({ spent: [true, false] });
  });

  it("finds issued notes by blinded message, with each guardian's own verifiable share", () => {
    const f = federation();
    const pending = [prepareNote(3, noteRng), prepareNote(0, noteRng)];
    const tx = buildTransaction(
      [faucetInput(DUMMY, 9n)],
      pending.map((n) => noteOutput(MINT, n)),
      [],
      sha256,
    );
    f.accept(tx, 9n);
    const unknown = prepareNote(0, noteRng).blindedMessage;
    const body = { blindedMessages: [toHex(pending[1]!.blindedMessage), toHex(unknown)] };
    const answers = f.guardians.map((g) => call(g, "notes/issued", body) as IssuedAnswer);
    for (const a of answers) {
      expect(a.issued[1]).toBeNull();
      expect(a.issued[0]).toMatchObject({
        txid: toHex(transactionId(tx, sha256)),
        index: 1,
        denominationLog2: 0,
      });
    }
    const shares = answers.map((a, guardian) => ({ guardian, blindShare: a.issued[0]!.blindShare }));
    expect(finishNote(pending[1]!, keyOf(0), T, shares).ok).toBe(true);
  });

  it("refuses malformed queries with invalid_request, naming the field", () => {
    const g = federation().guardians[0]!;
    expect(() => call(g, "notes/spent", { nonces: ["xyz"] })).toThrow(/nonces\.0/);
    expect(() => call(g, "notes/spent", { nonces: [] })).toThrow(InvalidRequestError);
    expect(() => call(g, "notes/issued", { blindedMessages: Array(1001).fill("00".repeat(48)) })).toThrow(
      InvalidRequestError,
    );
    expect(() => call(g, "notes/issued", "garbage")).toThrow(InvalidRequestError);
  });
});

describe("mint setup and factory", () => {
  it("asks one key per denomination and puts the public keys into the config", () => {
    expect(mintModuleSetup.keyCount(params)).toBe(DENOMS.length);
    expect(config).toMatchObject({ ...params, keys: keysHex });
    expect(() => mintModuleSetup.finish(params, keysHex.slice(1))).toThrow(/keys/);
    expect(() => mintModuleSetup.keyCount({ ...params, denominationsLog2: [2, 1] })).toThrow();
  });

  it("validates the config and the secret shares", () => {
    expect(() => mintModuleFactory(MINT, config, secretShares(0).slice(1))).toThrow(/secret shares/);
    expect(() =>
      mintModuleFactory(
        MINT,
        config,
        secretShares(0).map(() => 0n),
      ),
    ).toThrow(/scalar/);
    expect(() => mintModuleFactory(MINT, { ...config, feePerInput: -1 }, secretShares(0))).toThrow();
    expect(() => mintModuleFactory(MINT, { ...config, keys: keysHex.slice(1) }, secretShares(0))).toThrow();
  });
});
