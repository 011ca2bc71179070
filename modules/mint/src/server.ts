// Server half of the mint.
//
// State (module key space; identical on every honest guardian, since it holds no secret):
//   0x01 | txid(32) | index u32  -> denominationLog2 u8 | blinded message(48)   issued outputs
//   0x02 | nonce(32)             -> denominationLog2 u8                         spent notes (forever)
//   0x03 | blinded message(48)   -> 0x01                                        blinded messages used
//   0x04 | denominationLog2 u8   -> issued u64 | redeemed u64                   note counts
//
// A guardian's blind signature share is computed when the outcome is asked for, from the stored
// blinded message and its secret share: scalar multiplication is deterministic, so asking twice
// gives the same share, and no secret-dependent value enters the consensus state.
//
// Audit: the mint holds no assets of its own. Its notes are backed by whatever the inputs of the
// funding transactions brought into other modules (a deposit module, the dummy faucet), which the
// mint cannot see. It reports assets 0 and liabilities = Σ (issued - redeemed) * denomination, and
// relies on the core checking the federation's sum (Fedimint's rule), not each module alone.
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { decodeG1 } from "@conclave/core-common/threshold";
import { fail, ok } from "@conclave/core-server";
import type {
  Audit,
  InputMeta,
  ModuleResult,
  OutPoint,
  OutputMeta,
  ReadTx,
  ServerModule,
  WriteTx,
} from "@conclave/core-server";
import { MINT_KIND, decodeMintInput, decodeMintOutput, denominationAmount } from "./common.js";
import type { DenominationKey, MintConfig } from "./common.js";
import { signBlindShare, verifyNote } from "./tbs.js";

const OUTPUT = 0x01;
const SPENT = 0x02;
const BLINDED = 0x03;
const COUNTS = 0x04;

function outputKey(outPoint: OutPoint): Uint8Array {
  return new Writer().u8(OUTPUT).fixed(outPoint.txid, 32).u32(outPoint.index).finish();
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

export class MintServerModule implements ServerModule {
  readonly kind = MINT_KIND;
  readonly testOnly = false;
  readonly api = [];
  private readonly index = new Map<number, number>();

  /** `secretShares[i]` is this guardian's share of the key of `config.denominationsLog2[i]`. */
  constructor(
    readonly instanceId: number,
    readonly config: MintConfig,
    private readonly secretShares: readonly bigint[],
  ) {
    if (config.keys.length !== config.denominationsLog2.length)
      throw new RangeError("the mint needs one key per denomination");
    if (secretShares.length !== config.denominationsLog2.length)
      throw new RangeError(
        `the mint needs one secret share per denomination: ${config.denominationsLog2.length}, got ${secretShares.length}`,
      );
    config.denominationsLog2.forEach((log2, i) => this.index.set(log2, i));
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

  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    let parsed;
    try {
      parsed = decodeMintInput(input.payload);
    } catch (e) {
      return fail(
        "malformed_input",
        `a mint input is denomination u8 | spend key (32) | signature (48): ${(e as Error).message}`,
      );
    }
    const { denominationLog2: log2, spendKey, signature } = parsed;
    const k = this.key(log2);
    if (!k) return this.unknownDenomination(log2);
    const spentKey = new Writer().u8(SPENT).fixed(spendKey, 32).finish();
    if (db.get(spentKey)) return fail("spent_input", `note ${toHex(spendKey)} is already spent`);
    const sig = decodeG1(signature);
    if (!sig.ok)
      return fail("malformed_note", `note signature: ${sig.error.message}`, { tbsCode: sig.error.code });
    if (!verifyNote(k.key.publicKey, spendKey, signature)) {
      return fail(
        "invalid_note",
        `note ${toHex(spendKey)} does not carry the federation's signature for denomination 2^${log2}`,
      );
    }
    db.put(spentKey, Uint8Array.of(log2));
    const c = readCounts(db, log2);
    writeCounts(db, log2, { issued: c.issued, redeemed: c.redeemed + 1n });
    return ok({ amount: denominationAmount(log2), fee: this.config.feePerInput, signers: [spendKey] });
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
    const point = decodeG1(blindedMessage);
    if (!point.ok)
      return fail("invalid_blinded_message", `blinded message: ${point.error.message}`, {
        tbsCode: point.error.code,
      });
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
    const blindedKey = new Writer().u8(BLINDED).fixed(blindedMessage, 48).finish();
    if (db.get(blindedKey))
      return fail("blinded_message_reused", "this blinded message was already signed; blind a fresh nonce");
    db.put(blindedKey, Uint8Array.of(1));
    db.put(outputKey(outPoint), new Writer().u8(log2).fixed(blindedMessage, 48).finish());
    const c = readCounts(db, log2);
    writeCounts(db, log2, { issued: c.issued + 1n, redeemed: c.redeemed });
    return ok({ amount: denominationAmount(log2), fee: 0n });
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): MintOutputOutcome | undefined {
    const v = db.get(outputKey(outPoint));
    if (!v) return undefined;
    const r = new Reader(v);
    const log2 = r.u8();
    const blindedMessage = r.fixed(48);
    const k = this.key(log2);
    if (!k) return undefined;
    const share = signBlindShare(k.share, blindedMessage);
    // The blinded message was validated when it was accepted; only a bad secret share fails here.
    if (!share.ok) throw new Error(`mint: cannot sign a blind share: ${share.error.message}`);
    return {
      denominationLog2: log2,
      amount: denominationAmount(log2).toString(),
      blindShare: toHex(share.value),
    };
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
