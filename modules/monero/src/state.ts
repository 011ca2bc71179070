// The module's consensus state: keys and records in its own key space. Identical at every honest
// guardian (it is a function of the ordered items alone), so every encoding here is canonical.
//
//   0x01 | guardian u16                 -> height u64             latest height each guardian reported
//   0x02                                -> height u64             the agreed height
//   0x03 | txid (32)                    -> DepositRecord          a claimed deposit (any state)
//   0x04 | txid (32) | guardian u16     -> verdict                one attestation per guardian per round
//   0x05 | txid (32) | index u16        -> claimKey | guardian u16 | reason u8    refused claims (listed few)
//   0x06 | proposer u16 | txid (32)     -> ()                     open claims, by the guardian that proposed them
//   0x07                                -> deposited u128 | count u64              spent deposits (the audit;
//                                                                                 16-byte records of the
//                                                                                 u64 format still read)
//   0x08 | closedAt u64 | txid (32)     -> ()                     rejected / expired claims, pruned in order
//   0x12 | guardian u16                 -> perByte u64            latest fee rate each guardian reported
//   0x13                                -> perByte u64            the agreed fee rate (absent: none yet)
//   0x30 | guardian u16                 -> balance u64 | unlocked u64 | walletHeight u64
//                                                                 latest reserves each guardian reported
//   0x31                                -> txHeight u64           the newest block holding a credited deposit
//                                                                 (a reserves report counts once its wallet
//                                                                 scanned it: common.ts reservesFresh)
//   0x1e | txid (32)                    -> ()                     a Monero transaction the federation sent
//                                                                 (a payout batch's agreed txid): never a deposit
//   0x1f                                -> credited u128          Σ credited, unspent deposits (u64 still read)
//   0x32 | txid (32)                    -> fedTxid (32)           the federation transaction that spent a
//                                                                 claimed deposit (the look-up by Monero txid;
//                                                                 absent for deposits spent before it was kept)
import { Reader, Writer } from "@conclave/core-common";
import type { ReadTx, WriteTx } from "@conclave/core-server";
import { TX_PROOF_PART_BYTES } from "@conclave/monero/tx-proof";
import { INVALID_REASONS, TX_KEY_PARTS_MAX } from "./common.js";
import type { InvalidReason, Verdict } from "./common.js";

const K_HEIGHT = 0x01;
const K_AGREED = 0x02;
const K_DEPOSIT = 0x03;
const K_ATTEST = 0x04;
const K_REFUSED = 0x05;
const K_OPEN = 0x06;
const K_TOTALS = 0x07;
const K_CLOSED = 0x08;
/** Σ amounts of deposits in state "credited" (kept by putDeposit); 0x09.. are payouts.ts's keys. */
const K_CREDITED = 0x1f;
/** Monero transactions the federation itself sent (markOwnTransaction). */
const K_OWN_TX = 0x1e;
const K_FEE_REPORT = 0x12;
const K_FEE_AGREED = 0x13;
/** Reserves reports and the credited-deposit mark (0x30, 0x31: after subaddresses.ts's 0x20..0x28). */
const K_RESERVES_REPORT = 0x30;
const K_CREDITED_HEIGHT_MAX = 0x31;
/** The federation transaction that spent a claimed deposit (0x32, after the reserves keys). */
const K_SPENT_IN = 0x32;

/** A guardian's reserves report as ordered (common.ts Reserves item). */
export interface ReservesReportRecord {
  readonly balance: bigint;
  readonly unlocked: bigint;
  readonly walletHeight: number;
}

export const STATE_CODES = { open: 1, credited: 2, spent: 3, rejected: 4, expired: 5 } as const;
export type RecordState = keyof typeof STATE_CODES;
const STATE_BY_CODE = new Map<number, RecordState>(
  Object.entries(STATE_CODES).map(([k, v]) => [v, k as RecordState]),
);

/** Why a claim closed: an invalid verdict t guardians agreed on, or expiry. */
export type CloseReason = InvalidReason | "expired";
const CLOSE_CODES: Record<CloseReason, number> = { ...INVALID_REASONS, expired: 100 };
const CLOSE_BY_CODE = new Map<number, CloseReason>(
  Object.entries(CLOSE_CODES).map(([k, v]) => [v, k as CloseReason]),
);

/** Why consensus refused a later claim of a txid (other_proof: the bound key, another proof). */
export const REFUSAL_CODES = { already_claimed: 1, already_credited: 2, other_proof: 3 } as const;
export type RefusalReason = keyof typeof REFUSAL_CODES;
const REFUSAL_BY_CODE = new Map<number, RefusalReason>(
  Object.entries(REFUSAL_CODES).map(([k, v]) => [v, k as RefusalReason]),
);
/** Refused claims listed per txid (the rest are only counted): a spammer cannot grow the state. */
export const REFUSED_LISTED_MAX = 8;

const U64_MOD = 1n << 64n;
/** Cumulative sums of amounts (u64 each) are u128: 2^64 piconero (18.4 million XMR) is reachable volume. */
export const U128_MAX = (1n << 128n) - 1n;

/** Writes a cumulative sum as u128 (big-endian, two u64 halves); a negative or larger one is a bug. */
export function writeU128(w: Writer, v: bigint): Writer {
  if (v < 0n || v > U128_MAX) throw new Error(`monero state: sum ${v} is outside u128`);
  return w.u64big(v / U64_MOD).u64big(v % U64_MOD);
}

export function readU128(r: Reader): bigint {
  return r.u64big() * U64_MOD + r.u64big();
}

/**
 * A cumulative sum stored as u128, or (a record written before sums were u128) as u64: told apart by
 * the record's length, so a state written by the older format keeps reading.
 */
function readSum(bytes: Uint8Array): bigint {
  const r = new Reader(bytes);
  const v = bytes.length === 8 ? r.u64big() : readU128(r);
  r.end();
  return v;
}

export interface DepositRecord {
  readonly state: RecordState;
  /** 1 for the first claim of this txid; a new claim after a rejection or expiry increments it. */
  readonly round: number;
  readonly claimKey: Uint8Array;
  /** The claim's payment proof (OutProofV2 parts, 96 bytes each): what guardians check. Never a tx key. */
  readonly proof: Uint8Array;
  readonly claimedBy: number;
  readonly claimedAt: number;
  /** Credited and spent: the attested amount and block. */
  readonly amount: bigint;
  readonly txHeight: number;
  /** Rejected and expired: when and why. */
  readonly closedAt: number;
  readonly closedReason?: CloseReason;
  readonly refusedCount: number;
}

/** A key in the module's key space: a number is one byte, bytes go as they are, the rest big-endian. */
export type KeyPart = number | Uint8Array | { u16: number } | { u32: number } | { u64: number };

export function moduleKey(...parts: KeyPart[]): Uint8Array {
  const w = new Writer();
  for (const p of parts) {
    if (typeof p === "number") w.u8(p);
    else if (p instanceof Uint8Array) w.raw(p);
    else if ("u16" in p) w.u16(p.u16);
    else if ("u32" in p) w.u32(p.u32);
    else w.u64(p.u64);
  }
  return w.finish();
}

export function encodeVerdict(v: Verdict): Uint8Array {
  const w = new Writer();
  return v.valid
    ? w.u8(0).u64big(v.amount).u64(v.txHeight).finish()
    : w.u8(INVALID_REASONS[v.reason]).finish();
}

export function decodeVerdict(bytes: Uint8Array): Verdict {
  const r = new Reader(bytes);
  const code = r.u8();
  if (code === 0) return { valid: true, amount: r.u64big(), txHeight: r.u64() };
  const reason = [...Object.entries(INVALID_REASONS)].find(([, c]) => c === code)?.[0] as
    InvalidReason | undefined;
  if (!reason) throw new Error(`monero state: unknown verdict code ${code}`);
  return { valid: false, reason };
}

export function sameVerdict(a: Verdict, b: Verdict): boolean {
  if (a.valid && b.valid) return a.amount === b.amount && a.txHeight === b.txHeight;
  if (!a.valid && !b.valid) return a.reason === b.reason;
  return false;
}

function encodeRecord(d: DepositRecord): Uint8Array {
  return new Writer()
    .u8(STATE_CODES[d.state])
    .u32(d.round)
    .fixed(d.claimKey, 32)
    .u8(d.proof.length / TX_PROOF_PART_BYTES)
    .raw(d.proof)
    .u16(d.claimedBy)
    .u64(d.claimedAt)
    .u64big(d.amount)
    .u64(d.txHeight)
    .u64(d.closedAt)
    .u8(d.closedReason === undefined ? 0 : CLOSE_CODES[d.closedReason])
    .u32(d.refusedCount)
    .finish();
}

function decodeRecord(bytes: Uint8Array): DepositRecord {
  const r = new Reader(bytes);
  const state = STATE_BY_CODE.get(r.u8());
  const round = r.u32();
  const claimKey = r.fixed(32);
  const parts = r.u8();
  if (!state || parts < 1 || parts > TX_KEY_PARTS_MAX)
    throw new Error("monero state: corrupt deposit record");
  const proof = r.fixed(parts * TX_PROOF_PART_BYTES);
  const claimedBy = r.u16();
  const claimedAt = r.u64();
  const amount = r.u64big();
  const txHeight = r.u64();
  const closedAt = r.u64();
  const closedReason = CLOSE_BY_CODE.get(r.u8());
  const refusedCount = r.u32();
  r.end();
  return {
    state,
    round,
    claimKey,
    proof,
    claimedBy,
    claimedAt,
    amount,
    txHeight,
    closedAt,
    ...(closedReason === undefined ? {} : { closedReason }),
    refusedCount,
  };
}

/** Typed access to the module's key space. */
export class MoneroState {
  constructor(private readonly db: ReadTx) {}

  reportedHeight(guardian: number): number | undefined {
    const v = this.db.get(moduleKey(K_HEIGHT, { u16: guardian }));
    return v ? new Reader(v).u64() : undefined;
  }

  reportedHeights(n: number): (number | undefined)[] {
    return Array.from({ length: n }, (_, i) => this.reportedHeight(i));
  }

  agreedHeight(): number {
    const v = this.db.get(Uint8Array.of(K_AGREED));
    return v ? new Reader(v).u64() : 0;
  }

  /** The latest fee rate (piconero per byte) guardian g reported. */
  reportedFeeRate(guardian: number): number | undefined {
    const v = this.db.get(moduleKey(K_FEE_REPORT, { u16: guardian }));
    return v ? new Reader(v).u64() : undefined;
  }

  reportedFeeRates(n: number): (number | undefined)[] {
    return Array.from({ length: n }, (_, i) => this.reportedFeeRate(i));
  }

  /** The agreed fee rate (piconero per byte), 0 until 2f + 1 guardians reported one. */
  agreedFeeRate(): number {
    const v = this.db.get(Uint8Array.of(K_FEE_AGREED));
    return v ? new Reader(v).u64() : 0;
  }

  /** Guardian g's latest reserves report. */
  reportedReserves(guardian: number): ReservesReportRecord | undefined {
    const v = this.db.get(moduleKey(K_RESERVES_REPORT, { u16: guardian }));
    if (!v) return undefined;
    const r = new Reader(v);
    return { balance: r.u64big(), unlocked: r.u64big(), walletHeight: r.u64() };
  }

  reportedReservesAll(n: number): (ReservesReportRecord | undefined)[] {
    return Array.from({ length: n }, (_, i) => this.reportedReserves(i));
  }

  /** The newest block (height) holding a deposit that was ever credited; 0 for none. */
  creditedTxHeightMax(): number {
    const v = this.db.get(Uint8Array.of(K_CREDITED_HEIGHT_MAX));
    return v ? new Reader(v).u64() : 0;
  }

  deposit(txid: Uint8Array): DepositRecord | undefined {
    const v = this.db.get(moduleKey(K_DEPOSIT, txid));
    return v ? decodeRecord(v) : undefined;
  }

  /** The federation transaction that spent claimed deposit `txid` (none recorded: undefined). */
  spentIn(txid: Uint8Array): Uint8Array | undefined {
    const v = this.db.get(moduleKey(K_SPENT_IN, txid));
    return v && v.length === 32 ? v : undefined;
  }

  attestations(txid: Uint8Array): { guardian: number; verdict: Verdict }[] {
    const prefix = moduleKey(K_ATTEST, txid);
    const out: { guardian: number; verdict: Verdict }[] = [];
    for (const [k, v] of this.db.scan(prefix)) {
      out.push({ guardian: new Reader(k.subarray(prefix.length)).u16(), verdict: decodeVerdict(v) });
    }
    return out;
  }

  attestation(txid: Uint8Array, guardian: number): Verdict | undefined {
    const v = this.db.get(moduleKey(K_ATTEST, txid, { u16: guardian }));
    return v ? decodeVerdict(v) : undefined;
  }

  refusedClaims(txid: Uint8Array): { claimKey: Uint8Array; guardian: number; reason: RefusalReason }[] {
    const out: { claimKey: Uint8Array; guardian: number; reason: RefusalReason }[] = [];
    for (const [, v] of this.db.scan(moduleKey(K_REFUSED, txid))) {
      const r = new Reader(v);
      const claimKey = r.fixed(32);
      const guardian = r.u16();
      const reason = REFUSAL_BY_CODE.get(r.u8()) ?? "already_claimed";
      out.push({ claimKey, guardian, reason });
    }
    return out;
  }

  /** Open claims, in key order (by proposer, then txid); `proposer` narrows to one guardian's. */
  *openClaims(proposer?: number): Iterable<{ proposer: number; txid: Uint8Array }> {
    const prefix = proposer === undefined ? Uint8Array.of(K_OPEN) : moduleKey(K_OPEN, { u16: proposer });
    for (const [k] of this.db.scan(prefix)) {
      const r = new Reader(k.subarray(1));
      yield { proposer: r.u16(), txid: r.fixed(32) };
    }
  }

  /** Counts one guardian's open claims, stopping at `max`. */
  openClaimsOf(proposer: number, max: number): number {
    let n = 0;
    for (const _ of this.openClaims(proposer)) if (++n >= max) break;
    return n;
  }

  /** Closed claims in the order they closed. */
  *closedClaims(): Iterable<{ closedAt: number; txid: Uint8Array }> {
    for (const [k] of this.db.scan(Uint8Array.of(K_CLOSED))) {
      const r = new Reader(k.subarray(1));
      yield { closedAt: r.u64(), txid: r.fixed(32) };
    }
  }

  /** Σ amounts credited to claim keys and not yet spent into the federation (owed to the depositors). */
  creditedOutstanding(): bigint {
    const v = this.db.get(Uint8Array.of(K_CREDITED));
    return v ? readSum(v) : 0n;
  }

  /** deposited: u128 (a 16-byte record is the older u64 | u64 format). */
  totals(): { deposited: bigint; count: bigint } {
    const v = this.db.get(Uint8Array.of(K_TOTALS));
    if (!v) return { deposited: 0n, count: 0n };
    const r = new Reader(v);
    const deposited = v.length === 16 ? r.u64big() : readU128(r);
    const count = r.u64big();
    r.end();
    return { deposited, count };
  }

  /** True when the federation agreed it sent Monero transaction `txid` (it can never be a deposit). */
  isOwnTransaction(txid: Uint8Array): boolean {
    return this.db.get(moduleKey(K_OWN_TX, txid)) !== undefined;
  }
}

/**
 * Records that the federation sent Monero transaction `txid` (invariant 7: nothing it sent counts as
 * money received). Called where consensus agrees on a payout batch's txid (payouts.ts onTxid, t equal
 * votes); the claim and subaddress paths refuse such a txid. Idempotent.
 */
export function markOwnTransaction(db: WriteTx, txid: Uint8Array): void {
  db.put(moduleKey(K_OWN_TX, txid), new Uint8Array());
}

export class MoneroStateWriter extends MoneroState {
  constructor(private readonly w: WriteTx) {
    super(w);
  }

  setReportedHeight(guardian: number, height: number): void {
    this.w.put(moduleKey(K_HEIGHT, { u16: guardian }), new Writer().u64(height).finish());
  }

  setAgreedHeight(height: number): void {
    this.w.put(Uint8Array.of(K_AGREED), new Writer().u64(height).finish());
  }

  setReportedFeeRate(guardian: number, perByte: number): void {
    this.w.put(moduleKey(K_FEE_REPORT, { u16: guardian }), new Writer().u64(perByte).finish());
  }

  setAgreedFeeRate(perByte: number): void {
    this.w.put(Uint8Array.of(K_FEE_AGREED), new Writer().u64(perByte).finish());
  }

  setReportedReserves(guardian: number, r: ReservesReportRecord): void {
    this.w.put(
      moduleKey(K_RESERVES_REPORT, { u16: guardian }),
      new Writer().u64big(r.balance).u64big(r.unlocked).u64(r.walletHeight).finish(),
    );
  }

  /** Raises the credited-deposit mark to txHeight (reserves reports from wallets below it stop counting). */
  private noteCreditedAt(txHeight: number): void {
    if (txHeight > this.creditedTxHeightMax())
      this.w.put(Uint8Array.of(K_CREDITED_HEIGHT_MAX), new Writer().u64(txHeight).finish());
  }

  /** Writes a record, keeping Σ credited-and-unspent amounts as records enter and leave "credited". */
  putDeposit(txid: Uint8Array, d: DepositRecord): void {
    const before = this.deposit(txid);
    if (d.state === "credited" && before?.state !== "credited") this.noteCreditedAt(d.txHeight);
    const was = before?.state === "credited" ? before.amount : 0n;
    const now = d.state === "credited" ? d.amount : 0n;
    if (was !== now)
      this.w.put(
        Uint8Array.of(K_CREDITED),
        writeU128(new Writer(), this.creditedOutstanding() - was + now).finish(),
      );
    this.w.put(moduleKey(K_DEPOSIT, txid), encodeRecord(d));
  }

  /** Records the federation transaction that spent claimed deposit `txid`. */
  setSpentIn(txid: Uint8Array, fedTxid: Uint8Array): void {
    if (fedTxid.length !== 32) throw new Error("monero state: a federation txid is 32 bytes");
    this.w.put(moduleKey(K_SPENT_IN, txid), Uint8Array.from(fedTxid));
  }

  /** Moves Σ credited-and-unspent by `delta` (subaddress deposits keep it here too: subaddresses.ts). */
  addCreditedOutstanding(delta: bigint): void {
    // A credit whose block this call does not know (subaddresses.ts): the agreed height's top block
    // stands in for it (a deposit is credited `confirmations` deep on t guardians' nodes).
    if (delta > 0n) this.noteCreditedAt(this.agreedHeight());
    this.w.put(
      Uint8Array.of(K_CREDITED),
      writeU128(new Writer(), this.creditedOutstanding() + delta).finish(),
    );
  }

  putAttestation(txid: Uint8Array, guardian: number, v: Verdict): void {
    this.w.put(moduleKey(K_ATTEST, txid, { u16: guardian }), encodeVerdict(v));
  }

  clearAttestations(txid: Uint8Array): void {
    for (const [k] of [...this.w.scan(moduleKey(K_ATTEST, txid))]) this.w.delete(k);
  }

  addRefusedClaim(
    txid: Uint8Array,
    index: number,
    claimKey: Uint8Array,
    guardian: number,
    reason: RefusalReason,
  ): void {
    this.w.put(
      moduleKey(K_REFUSED, txid, { u16: index }),
      new Writer().fixed(claimKey, 32).u16(guardian).u8(REFUSAL_CODES[reason]).finish(),
    );
  }

  setOpen(proposer: number, txid: Uint8Array, open: boolean): void {
    const key = moduleKey(K_OPEN, { u16: proposer }, txid);
    if (open) this.w.put(key, new Uint8Array());
    else this.w.delete(key);
  }

  setClosed(closedAt: number, txid: Uint8Array, closed: boolean): void {
    const key = moduleKey(K_CLOSED, { u64: closedAt }, txid);
    if (closed) this.w.put(key, new Uint8Array());
    else this.w.delete(key);
  }

  /** Forgets a closed claim entirely (its record, attestations and refusals). */
  prune(txid: Uint8Array, closedAt: number): void {
    this.w.delete(moduleKey(K_DEPOSIT, txid));
    this.clearAttestations(txid);
    for (const [k] of [...this.w.scan(moduleKey(K_REFUSED, txid))]) this.w.delete(k);
    this.setClosed(closedAt, txid, false);
  }

  setTotals(t: { deposited: bigint; count: bigint }): void {
    this.w.put(Uint8Array.of(K_TOTALS), writeU128(new Writer(), t.deposited).u64big(t.count).finish());
  }
}
