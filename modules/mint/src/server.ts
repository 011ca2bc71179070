// Server half of the mint.
//
// State (module key space; identical on every honest guardian, since it holds no secret):
//   0x01 | txid(32) | index u32  -> denominationLog2 u8 | blinded message(48)   issued outputs
//   0x02 | nonce(32)             -> denominationLog2 u8                         spent notes (forever)
//   0x03 | blinded message(48)   -> txid(32) | index u32                        blinded messages used
//   0x04 | denominationLog2 u8   -> issued u64 | redeemed u64                   note counts
//
// Crypto goes through a TbsBackend: native blst in the guardian (conclaved), the pure-TypeScript
// one elsewhere. The notes of one transaction are verified together with one batched pairing check
// (verifyInputs, random coefficients) and one by one only to name a bad note. The coefficients come
// from node:crypto: they change nothing an honest guardian decides (a valid batch always passes, an
// invalid one fails except with probability 2^-64), they only keep a forger from aiming at them.
//
// A guardian's blind signature share is computed when the outcome is asked for, from the stored
// blinded message and its secret share: scalar multiplication is deterministic, so asking twice
// gives the same share, and no secret-dependent value enters the consensus state.
//
// Audit: the mint holds no assets of its own. Its notes are backed by whatever the inputs of the
// funding transactions brought into other modules (a deposit module, the dummy faucet), which the
// mint cannot see. It reports assets 0 and liabilities = Σ (issued - redeemed) * denomination, and
// relies on the core checking the federation's sum (Fedimint's rule), not each module alone.
import { randomBytes } from "node:crypto";
import { InvalidRequestError, Reader, Writer, fromHex, toHex } from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { nobleTbs } from "@conclave/core-common/tbs";
import type { KeyedNote, TbsBackend, TbsResult } from "@conclave/core-common/tbs";
import { fail, ok } from "@conclave/core-server";
import type { z } from "zod";
import type {
  Audit,
  InputMeta,
  ModuleResult,
  OutPoint,
  OutputMeta,
  ModuleApiEndpoint,
  ReadTx,
  ServerModule,
  WriteTx,
} from "@conclave/core-server";
import { IssuedAnswerSchema, IssuedQuerySchema, SpentAnswerSchema, SpentQuerySchema } from "./api.js";
import type { IssuedAnswer, SpentAnswer } from "./api.js";
import { MINT_KIND, decodeMintInput, decodeMintOutput, denominationAmount } from "./common.js";
import type { DenominationKey, MintConfig, MintInput } from "./common.js";

const OUTPUT = 0x01;
const SPENT = 0x02;
const BLINDED = 0x03;
const COUNTS = 0x04;

function outputKey(outPoint: OutPoint): Uint8Array {
  return new Writer().u8(OUTPUT).fixed(outPoint.txid, 32).u32(outPoint.index).finish();
}

function spentKey(nonce: Uint8Array): Uint8Array {
  return new Writer().u8(SPENT).fixed(nonce, 32).finish();
}

function blindedKey(blindedMessage: Uint8Array): Uint8Array {
  return new Writer().u8(BLINDED).fixed(blindedMessage, 48).finish();
}

function countsKey(log2: number): Uint8Array {
  return Uint8Array.of(COUNTS, log2);
}

interface Counts {
  readonly issued: bigint;
  readonly redeemed: bigint;
}

function readCounts(db: ReadTx, log2: number): Counts {
  const v = db.get(countsKey(log2));
  if (!v) return { issued: 0n, redeemed: 0n };
  const r = new Reader(v);
  return { issued: r.u64big(), redeemed: r.u64big() };
}

function writeCounts(db: WriteTx, log2: number, c: Counts): void {
  db.put(countsKey(log2), new Writer().u64big(c.issued).u64big(c.redeemed).finish());
}

/** What a client gets for an issued note: this guardian's blind signature share. */
export interface MintOutputOutcome {
  readonly denominationLog2: number;
  readonly amount: string;
  /** This guardian's share: its secret key share times the blinded message (48-byte G1, hex). */
  readonly blindShare: string;
}

/** Shares computed on request are remembered (they never change): clients ask several times. */
const SHARE_CACHE_ENTRIES = 16_384;

const batchRng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function parseQuery<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  throw new InvalidRequestError(`request body: ${where}${issue?.message ?? "invalid"}`);
}

export class MintServerModule implements ServerModule {
  readonly kind = MINT_KIND;
  readonly testOnly = false;
  readonly api: readonly ModuleApiEndpoint[];
  private readonly index = new Map<number, number>();
  private readonly shareCache = new Map<string, string>();
  private readonly validPoints = new Set<string>();

  /** `secretShares[i]` is this guardian's share of the key of `config.denominationsLog2[i]`. */
  constructor(
    readonly instanceId: number,
    readonly config: MintConfig,
    private readonly secretShares: readonly bigint[],
    readonly tbs: TbsBackend = nobleTbs,
    /**
     * Runs the precomputation of an accepted output's blind share off the request's path. The
     * deterministic simulator passes its own (it runs N guardians in one process on simulated time).
     */
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {
    if (config.keys.length !== config.denominationsLog2.length)
      throw new RangeError("the mint needs one key per denomination");
    if (secretShares.length !== config.denominationsLog2.length)
      throw new RangeError(
        `the mint needs one secret share per denomination: ${config.denominationsLog2.length}, got ${secretShares.length}`,
      );
    config.denominationsLog2.forEach((log2, i) => this.index.set(log2, i));
    this.api = [
      {
        method: "POST",
        path: "notes/spent",
        body: SpentQuerySchema,
        response: SpentAnswerSchema,
        summary: "Which notes (by nonce, the spend key) are spent: { nonces } -> { spent }",
        handle: ({ body, db }): SpentAnswer => {
          const { nonces } = parseQuery(SpentQuerySchema, body);
          return { spent: nonces.map((n) => db.get(spentKey(fromHex(n))) !== undefined) };
        },
      },
      {
        method: "POST",
        path: "notes/issued",
        body: IssuedQuerySchema,
        response: IssuedAnswerSchema,
        summary:
          "For each blinded message the federation signed: its output, denomination and this guardian's blind share",
        handle: ({ body, db }): IssuedAnswer => {
          const { blindedMessages } = parseQuery(IssuedQuerySchema, body);
          return {
            issued: blindedMessages.map((hex) => {
              const v = db.get(blindedKey(fromHex(hex)));
              if (!v) return null;
              const r = new Reader(v);
              const outPoint = { txid: r.fixed(32), index: r.u32() };
              const outcome = this.outputOutcome(db, outPoint);
              return outcome ? { txid: toHex(outPoint.txid), index: outPoint.index, ...outcome } : null;
            }),
          };
        },
      },
    ];
  }

  private key(log2: number): { key: DenominationKey; share: bigint } | undefined {
    const i = this.index.get(log2);
    if (i === undefined) return undefined;
    return { key: this.config.keys[i]!, share: this.secretShares[i]! };
  }

  private unknownDenomination<T>(log2: number): ModuleResult<T> {
    return fail(
      "unknown_denomination",
      `this mint has no denomination 2^${log2}; it issues 2^k for k in [${this.config.denominationsLog2.join(", ")}]`,
      { denominationLog2: log2 },
    );
  }

  consensusProposal(): Uint8Array[] {
    return [];
  }

  processConsensusItem(): ModuleResult<void> {
    return fail("no_items", "the mint has no consensus items");
  }

  /** Stateful checks only (denomination, spent set); the signatures are verified in verifyInputs. */
  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    const parsed = this.decodeInput(input);
    if (!parsed.ok) return parsed;
    const { denominationLog2: log2, spendKey } = parsed.value;
    if (!this.key(log2)) return this.unknownDenomination(log2);
    const spent = spentKey(spendKey);
    if (db.get(spent)) return fail("spent_input", `note ${toHex(spendKey)} is already spent`);
    db.put(spent, Uint8Array.of(log2));
    const c = readCounts(db, log2);
    writeCounts(db, log2, { issued: c.issued, redeemed: c.redeemed + 1n });
    return ok({ amount: denominationAmount(log2), fee: this.config.feePerInput, signers: [spendKey] });
  }

  private decodeInput(input: TxInput): ModuleResult<MintInput> {
    try {
      return ok(decodeMintInput(input.payload));
    } catch (e) {
      return fail(
        "malformed_input",
        `a mint input is denomination u8 | spend key (32) | signature (48): ${(e as Error).message}`,
      );
    }
  }

  /**
   * The cheap part of checking a transaction's notes (how many, whether they decode, known
   * denominations), which the core runs before any signature or pairing work.
   */
  precheckInputs(inputs: readonly TxInput[]): ModuleResult<void> {
    const notes = this.keyedNotes(inputs);
    return notes.ok ? ok(undefined) : notes;
  }

  private keyedNotes(inputs: readonly TxInput[]): ModuleResult<KeyedNote[]> {
    if (inputs.length > this.config.notesPerTxMax)
      return fail(
        "too_many_notes",
        `a transaction may spend at most ${this.config.notesPerTxMax} notes, this one spends ${inputs.length}`,
        { notesPerTxMax: this.config.notesPerTxMax },
      );
    const notes: KeyedNote[] = [];
    for (const [i, input] of inputs.entries()) {
      const parsed = this.decodeInput(input);
      if (!parsed.ok) return fail(parsed.error.code, parsed.error.message, { input: i });
      const { denominationLog2: log2, spendKey, signature } = parsed.value;
      const k = this.key(log2);
      if (!k) return fail("unknown_denomination", `no denomination 2^${log2}`, { input: i });
      notes.push({ publicKey: k.key.publicKey, nonce: spendKey, signature });
    }
    return ok(notes);
  }

  /**
   * A transaction's notes: at most notesPerTxMax, each signed by the federation. One multi-pairing
   * over all of them (one Miller loop per denomination, one final exponentiation); only if it fails
   * are they checked one by one, to name the bad note (malformed_note for a signature that is not
   * a point, invalid_note otherwise). The cheap checks of precheckInputs are repeated here (they
   * cost nothing next to a pairing), so that this stays correct when called alone.
   */
  verifyInputs(inputs: readonly TxInput[]): ModuleResult<void> {
    const keyed = this.keyedNotes(inputs);
    if (!keyed.ok) return keyed;
    const notes = keyed.value;
    if (this.tbs.verifyKeyedNotesBatch(notes, batchRng)) return ok(undefined);
    for (const [i, note] of notes.entries()) {
      const point = this.tbs.checkG1Point("note signature", note.signature);
      if (!point.ok)
        return fail("malformed_note", point.error.message, { input: i, tbsCode: point.error.code });
      if (!this.tbs.verifyNote(note.publicKey, note.nonce, note.signature))
        return fail(
          "invalid_note",
          `note ${toHex(note.nonce)} does not carry the federation's signature for its denomination`,
          { input: i },
        );
    }
    // The batch failed but every note verifies alone: only a broken backend does that.
    return fail("invalid_note", "the notes do not verify together", {});
    return ok(undefined);
  }

  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    let parsed;
    try {
      parsed = decodeMintOutput(output.payload);
    } catch (e) {
      return fail(
        "malformed_output",
        `a mint output is denomination u8 | blinded message (48): ${(e as Error).message}`,
      );
    }
    const { denominationLog2: log2, blindedMessage } = parsed;
    if (!this.key(log2)) return this.unknownDenomination(log2);
    // Earlier mint outputs of this transaction are already in the overlay: count them.
    const txPrefix = new Writer().u8(OUTPUT).fixed(outPoint.txid, 32).finish();
    let issuedInTx = 0;
    for (const _ of db.scan(txPrefix)) issuedInTx++;
    if (issuedInTx >= this.config.notesPerTxMax)
      return fail("too_many_notes", `a transaction may issue at most ${this.config.notesPerTxMax} notes`, {
        notesPerTxMax: this.config.notesPerTxMax,
      });
    // A reused blinded message would give a second signature on a note the client already has
    // (or lose the money): refuse it, as Fedimint does.
    const blinded = blindedKey(blindedMessage);
    if (db.get(blinded))
      return fail("blinded_message_reused", "this blinded message was already signed; blind a fresh nonce");
    const point = this.checkBlindedMessage(blindedMessage);
    if (!point.ok) return fail("invalid_blinded_message", point.error.message, { tbsCode: point.error.code });
    db.put(blinded, new Writer().fixed(outPoint.txid, 32).u32(outPoint.index).finish());
    db.put(outputKey(outPoint), new Writer().u8(log2).fixed(blindedMessage, 48).finish());
    this.defer(() => this.shareFor(log2, blindedMessage));
    const c = readCounts(db, log2);
    writeCounts(db, log2, { issued: c.issued + 1n, redeemed: c.redeemed });
    return ok({ amount: denominationAmount(log2), fee: 0n });
  }

  /**
   * The point check of a blinded message, remembered (it is a pure function of the bytes): a
   * transaction is checked at submission and again when its block is processed. A valid message's
   * share is computed right after, off the request's path, so that the outcome is ready when the
   * transaction is accepted; it is released only through outputOutcome, after acceptance.
   */
  private checkBlindedMessage(blindedMessage: Uint8Array): TbsResult<void> {
    const hex = toHex(blindedMessage);
    if (this.validPoints.has(hex)) return { ok: true, value: undefined };
    const r = this.tbs.checkG1Point("blinded message", blindedMessage);
    if (r.ok) {
      if (this.validPoints.size >= SHARE_CACHE_ENTRIES) this.validPoints.clear();
      this.validPoints.add(hex);
    }
    return r;
  }

  private shareFor(log2: number, blindedMessage: Uint8Array): string {
    const k = this.key(log2);
    if (!k) throw new Error(`mint: no denomination 2^${log2}`);
    const cacheKey = `${log2}:${toHex(blindedMessage)}`;
    let blindShare = this.shareCache.get(cacheKey);
    if (blindShare === undefined) {
      const share = this.tbs.signBlindShare(k.share, blindedMessage);
      // Blinded messages are validated before they are signed; only a bad secret share fails here.
      if (!share.ok) throw new Error(`mint: cannot sign a blind share: ${share.error.message}`);
      blindShare = toHex(share.value);
      if (this.shareCache.size >= SHARE_CACHE_ENTRIES) {
        const oldest = this.shareCache.keys().next();
        if (!oldest.done) this.shareCache.delete(oldest.value);
      }
      this.shareCache.set(cacheKey, blindShare);
    }
    return blindShare;
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): MintOutputOutcome | undefined {
    const v = db.get(outputKey(outPoint));
    if (!v) return undefined;
    const r = new Reader(v);
    const log2 = r.u8();
    const blindedMessage = r.fixed(48);
    const k = this.key(log2);
    if (!k) return undefined;
    const blindShare = this.shareFor(log2, blindedMessage);
    return { denominationLog2: log2, amount: denominationAmount(log2).toString(), blindShare };
  }

  /** Notes issued and not yet redeemed, per denomination (counts, as the audit sees them). */
  outstanding(db: ReadTx): { denominationLog2: number; issued: bigint; redeemed: bigint }[] {
    return this.config.denominationsLog2.map((log2) => ({ denominationLog2: log2, ...readCounts(db, log2) }));
  }

  audit(db: ReadTx): Audit {
    let liabilities = 0n;
    for (const c of this.outstanding(db))
      liabilities += (c.issued - c.redeemed) * denominationAmount(c.denominationLog2);
    return { assets: 0n, liabilities };
  }
}
