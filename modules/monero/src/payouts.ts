// Payouts, the deterministic part: payout outputs queued in the consensus state, and the signing
// rounds of each batch as a state machine driven by ordered items and the agreed height alone.
//
// Keys in the module's key space (after state.ts's 0x01..0x08):
//   0x09 | seq u64                           -> PayoutRecord          every accepted payout, in order
//   0x0a | txid (32) | index u32             -> seq u64               outpoint -> payout
//   0x0b                                     -> PayoutCounters
//   0x0c | batch u64                         -> BatchRecord
//   0x0d | batch u64 | slot u8 | g u16 | i u16 -> chunk data          (current attempt only)
//   0x0e | batch u64 | slot u8 | g u16       -> blob header: total u16 | digest (32) | received u16
//   0x0f | batch u64 | slot u8 | g u16       -> the complete blob
//   0x10 | batch u64 | g u16                 -> submit vote: 1 | txid (32), or 2 (my node refused it)
//   0x11 | batch u64 | g u16                 -> seen: txHeight u64 | txKey
//   0x14 | batch u64 | g u16                 -> gone vote (0x01): the attempt's transaction can never be mined
//   0x15 | batch u64                         -> 0x01: a re-opened batch waiting for the one in flight
//   0x16 | batch u64 | g u16                 -> gone vote on the bound (0x01): an input of the attempt's
//                                               bound can never be spent
//
// A batch: the oldest payoutBatchMax queued payouts when the first export of the next batch number
// is ordered (so payouts that arrive while the watchers export join it). One batch in flight.
//
// ONE TRANSACTION PER ATTEMPT, SIGNED BY WHOEVER IS THERE (the double-payout and freeze fix).
// A Monero multisig transaction set built by a creator that imported the exports of every
// participant carries a signing attempt for every group of t participants that includes the
// creator (wallet2 `transfer`; measured on 0.18: a set signed by the creator and one signer was
// completed by either of the two remaining guardians, two different txids with the same inputs, and
// monerod refused the second as a double spend). So a set signed by s guardians can be finished by
// any t - s of the participants that have not signed it, and every way of finishing it spends the
// same key images: at most one of them is ever mined. The rounds use that:
//   export  every guardian's watcher proposes its export_multisig_info (slot 0xff). The participants
//           P are the exporters outside the excluded set, once all of them exported, or at least t
//           and payoutExportWaitBlocks passed. The creator is P[(batch + a) mod |P|]; `order` is P
//           rotated to start at it.
//   sign    slot s is filled by the *designated* signer: the first guardian of `order` that has not
//           signed this attempt's lineage and was not passed over. It imports every other
//           participant's export, checks the previous set (pays exactly the batch, change to the
//           federation, fee within what the payouts paid, and the same transaction as the creator's
//           set: same inputs total, change, fee and tx public keys) and signs. A silent designated
//           signer is passed over after payoutRoundBlocks and the next participant signs the same
//           set; a signer that refuses the previous set (Fault) sends the slot back to another
//           participant. The last slot is no exception: a last signer that withholds a completed
//           transaction, or publishes garbage, is replaced, and whichever completion is mined, the
//           others are double spends.
//   submit  once t signatures are in, every guardian submits the final set (idempotent: measured,
//           a resubmission returns the same txid, even once mined) and votes its txid, or the txid
//           its wallet saw spend the set's inputs (a withheld completion broadcast first), or
//           Fault(t) if its node refuses it. t equal votes fix the txid ("submitted"); t faults pass
//           over the last signer and send the last slot to another participant.
//   seen    each guardian attests the txid once it is payoutConfirmations deep on its own node,
//           with the tx key its wallet stored when it submitted; t equal (txHeight, txKey) confirm
//           the batch and the next one may start.
// A new attempt (fresh exports, a new creator, possibly other inputs) is started only while no
// coalition of f guardians could still finish the abandoned set: at most s + 1 signatures exist on
// it (s ordered, one in flight), so it is safe iff s + 1 + f < t (always at the creator's turn, as
// 1 + f < N - f for N >= 3f + 1). Fresh exports also replace every honest wallet's nonces, so no honest
// guardian can sign the abandoned set any more. Past that point the attempt is never abandoned: a
// slot whose candidates are all passed over starts again from the first (a slow honest guardian
// gets another turn); with at most f faulty guardians, f + 1 honest participants remain for every
// slot. Blame, per batch: a timed-out turn blames its guardian; a Fault blames the accused and
// counts an accusation for the accuser; the excluded set of the next attempt is the f guardians with
// the most blame. Why this is exactly once and within what bound: docs/monero.md, "Exactly once".
//
// PAYOUTS A DEEP REORG TOOK AWAY (threat model 3e). A reorg deeper than the confirmation depth that
// takes away an output the batch's transaction spent (a deposit double-spent on a fork) makes that
// transaction unmineable for good: its input is no output any more. (An input spent in the chain by
// another transaction is no evidence: only the federation spends its outputs, and another completion
// of the same set, a passed-over last signer's mined first, pays the batch.) Each guardian watches the batch's agreed transaction (submitted, or confirmed within
// PAYOUT_GONE_WATCH_BLOCKS) and votes Gone once its node has shown it in neither chain nor pool,
// with such an input, for payoutConfirmations of its blocks in a row. t votes (at least t - f
// honest nodes saw it) re-open the batch: a new attempt with no bound (the old transaction, and
// every earlier attempt's, which spend a superset of its inputs, can never be mined), keeping the
// batch's blame (a guardian that failed an earlier attempt stays excluded), funded by
// the wallet's other outputs; a confirmed batch goes back to signing (or waits, phase "waiting",
// while another batch is in flight) and is owed again (pendingPayouts). Gone counts per attempt: a
// fully signed attempt with no txid agreed yet (the reorg came while its final set was submitted:
// neither t txids nor t faults) is watched under its creator's named inputs, which every completion
// of it spends, a withheld one with another txid included; t votes re-make it unbound too.
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { TxOutput } from "@conclave/core-common";
import { fail, ok, sha256 } from "@conclave/core-server";
import type { ModuleResult, OutPoint, OutputMeta, ReadTx, WriteTx } from "@conclave/core-server";
import { MoneroAddressError, PICONERO_MAX, parseAddress } from "@conclave/monero";
import { quorumThreshold, faultTolerance } from "./common.js";
import type { MoneroConfig } from "./common.js";
import {
  DIGEST_BYTES,
  FEE_OVERPAY_FACTOR_MAX,
  KEY_IMAGE_BYTES,
  SLOT_EXPORT,
  decodeCreatorSet,
  decodePayoutOutput,
  payoutFee,
  txsetOfBlob,
} from "./payout-common.js";
import type { PayoutItem, PayoutOutcome } from "./payout-common.js";
import { MoneroState, markOwnTransaction, moduleKey, readU128, writeU128 } from "./state.js";

/**
 * The most a batch's Monero fee may exceed its payouts' fees, in payouts' fees at the agreed rate
 * (payoutFee): one, so 3000 bytes by default, four more CLSAG inputs than the fees pay for. What a
 * Byzantine creator can make the fund lose per batch it creates (docs/monero.md "Fee top-up").
 */
export const FEE_TOP_UP_PAYOUTS = 1n;

/** Pending payout records one GET reserves sums at most (Payouts.pending). */
export const PENDING_PAYOUTS_SUMMED_MAX = 1_000;

const K_PAYOUT = 0x09;
const K_OUTPOINT = 0x0a;
const K_COUNTERS = 0x0b;
const K_BATCH = 0x0c;
const K_CHUNK = 0x0d;
const K_HEADER = 0x0e;
const K_BLOB = 0x0f;
const K_VOTE = 0x10;
const K_SEEN = 0x11;
const K_GONE = 0x14;
const K_WAITING = 0x15;
const K_GONE_BOUND = 0x16;
const BATCH_SCOPED = [K_CHUNK, K_HEADER, K_BLOB, K_VOTE, K_SEEN, K_GONE, K_GONE_BOUND];

/**
 * How long after its block a confirmed batch's transaction is still watched for a deep reorg that
 * makes it unmineable (a day of Monero blocks), and how many of the latest batches are looked at.
 */
export const PAYOUT_GONE_WATCH_BLOCKS = 720;
export const PAYOUT_GONE_WATCH_BATCHES = 64;

export interface PayoutRecord {
  readonly txid: Uint8Array;
  readonly index: number;
  readonly address: string;
  readonly amount: bigint;
  readonly fee: bigint;
  /** 0 while queued. */
  readonly batch: number;
}

export interface PayoutCounters {
  /** Sequence number of the next accepted payout (payouts are 0, 1, 2, ...). */
  readonly nextSeq: number;
  /** The oldest payout not yet in a batch. */
  readonly firstQueued: number;
  /** The number the next batch gets (batches are 1, 2, ...). */
  readonly nextBatch: number;
  /** The batch in flight, 0 for none. */
  readonly current: number;
  /** Σ (amount + fee paid) of every accepted payout: what left the module's assets. */
  readonly paidOut: bigint;
  /**
   * The fee fund (docs/monero.md "Fee top-up"): Σ fees charged to the payouts accepted from
   * `feeSince` on, and Σ Monero fees charged to the fund by their confirmed batches (each the most
   * its transaction can have paid). feesCharged − feesPaid is never negative.
   */
  readonly feesCharged: bigint;
  readonly feesPaid: bigint;
  /** The first payout the fund counts (a state written before the fund: the payouts after it). */
  readonly feeSince: number;
}

/** "waiting": a confirmed batch whose transaction t guardians agreed is gone, until the batch in flight is done. */
export type BatchPhase = "export" | "sign" | "submit" | "done" | "waiting";
const PHASES: readonly BatchPhase[] = ["export", "sign", "submit", "done", "waiting"];

export interface BatchRecord {
  readonly first: number;
  readonly count: number;
  readonly attempt: number;
  readonly phase: BatchPhase;
  /** The agreed height when the current round began (timeouts count from it). */
  readonly phaseHeight: number;
  /** Signing order of this attempt (participants rotated to start at the creator); empty in export. */
  readonly order: readonly number[];
  /** Who filled slots 0, 1, ... of this attempt's transaction (the lineage), in order. */
  readonly signers: readonly number[];
  /** Participants passed over in this attempt (timed out, or refused a set others did not). */
  readonly passed: readonly number[];
  /**
   * Participants whose signature on this attempt's transaction was sent back: their wallets spent
   * their nonces on it (a wallet signs a transaction's inputs once, `-35` after), so they never sign
   * it again, even when the round of candidates starts over.
   */
  readonly spent: readonly number[];
  /** Who refused the current slot's input set (the set of slot step - 1), by Fault. */
  readonly refusers: readonly number[];
  /** The most signatures the attempt's transaction ever had in the state (a slot sent back keeps them). */
  readonly signedMax: number;
  readonly txid?: Uint8Array;
  readonly txHeight: number;
  readonly txKey?: Uint8Array;
  /** Per guardian, within this batch: times blamed (turn timed out, accused) and accusations made. */
  readonly blamed: readonly number[];
  readonly accused: readonly number[];
  /**
   * Conflicting attempts (batches started by this version; false for a batch in flight at the
   * upgrade, which keeps the old rules): the creator's blob names its inputs' key images, and a new
   * attempt may be started whenever the current one is stuck, since it conflicts with every earlier one.
   */
  readonly v2: boolean;
  /**
   * Key images the current attempt's transaction must spend only from (empty: any). Set from an
   * abandoned attempt's creator's inputs when that attempt could still be finished; each new bound
   * is within the previous one, so any two attempts' transactions share an input.
   */
  readonly bound: readonly Uint8Array[];
  /** Times the current slot's candidates started again from the first (v2: once, then a new attempt). */
  readonly restarts: number;
  /**
   * The key images of the agreed transaction's inputs (`txid`), once it is agreed: its creator's
   * named inputs, or the bound for a completion of an earlier attempt. Kept after the batch is
   * confirmed, so that the guardians can tell when a deep reorg made the transaction unmineable.
   */
  readonly inputs: readonly Uint8Array[];
  /** The transaction t guardians agreed is gone (attempt − 1's), while the batch is re-paid. */
  readonly goneTxid?: Uint8Array;
  /**
   * The most Monero fee any transaction of the batch can pay: the highest fee its creators' sets
   * declared (or, for a set in the first form, its payouts' fees), 0 before any. The signers hold
   * each set to its own declaration, so whichever transaction is mined paid at most this.
   */
  readonly fee: bigint;
  /** What the fee fund was charged for the batch so far (at its confirmation; again after a re-payment). */
  readonly feeAccounted: bigint;
}

/** The fields of a batch starting a round of exports (a new batch, a new attempt, a re-opened batch resumed). */
function freshRound(agreedHeight: number) {
  return {
    phase: "export" as const,
    phaseHeight: agreedHeight,
    order: [],
    signers: [],
    passed: [],
    spent: [],
    refusers: [],
    signedMax: 0,
    restarts: 0,
  };
}

/** Marks the agreed transaction's inputs after the conflicting-attempts section (absent: none known). */
const BATCH_INPUTS = 0xc2;

/** Marks the fee section after the inputs section (absent: no fee declared, none charged). */
const BATCH_FEE = 0xc3;

/** Marks the conflicting-attempts section at the end of a batch record (absent: an older record). */
const BATCH_V2 = 0xc1;

/** A batch's step: signatures in (slots complete), which is who filled them: signers.length. */
const stepOf = (b: BatchRecord): number => b.signers.length;

/**
 * A vote (Gone, on the transaction or on the bound) for another attempt than the batch's: a late one
 * on an attempt already re-made is taken and ignored; one for an attempt not yet made is refused.
 */
function otherAttemptVote(batch: number, b: BatchRecord, peer: number, attempt: number): ModuleResult<void> {
  return attempt < b.attempt
    ? ok(undefined)
    : fail("stale_attempt", `batch ${batch} is at attempt ${b.attempt}, not ${attempt}`, { peer });
}

const key = moduleKey;

function encodePayout(p: PayoutRecord): Uint8Array {
  const addr = new TextEncoder().encode(p.address);
  return new Writer()
    .fixed(p.txid, 32)
    .u32(p.index)
    .u8(addr.length)
    .raw(addr)
    .u64big(p.amount)
    .u64big(p.fee)
    .u64(p.batch)
    .finish();
}

function decodePayout(b: Uint8Array): PayoutRecord {
  const r = new Reader(b);
  const txid = r.fixed(32);
  const index = r.u32();
  const address = new TextDecoder().decode(r.fixed(r.u8()));
  const rec = { txid, index, address, amount: r.u64big(), fee: r.u64big(), batch: r.u64() };
  r.end();
  return rec;
}

function encodeBatch(b: BatchRecord): Uint8Array {
  const w = new Writer()
    .u64(b.first)
    .u16(b.count)
    .u32(b.attempt)
    .u8(PHASES.indexOf(b.phase))
    .u64(b.phaseHeight)
    .u8(b.order.length);
  for (const g of b.order) w.u16(g);
  w.u8(b.signers.length);
  for (const g of b.signers) w.u16(g);
  w.u8(b.passed.length);
  for (const g of b.passed) w.u16(g);
  w.u8(b.spent.length);
  for (const g of b.spent) w.u16(g);
  w.u8(b.refusers.length);
  for (const g of b.refusers) w.u16(g);
  w.u8(b.signedMax);
  w.u8(b.txid ? 1 : 0);
  if (b.txid) w.fixed(b.txid, 32);
  w.u64(b.txHeight).u8(b.txKey ? b.txKey.length / 32 : 0);
  if (b.txKey) w.raw(b.txKey);
  w.u8(b.blamed.length);
  for (let g = 0; g < b.blamed.length; g++) w.u16(b.blamed[g] ?? 0).u16(b.accused[g] ?? 0);
  if (b.v2) {
    w.u8(BATCH_V2).u16(b.bound.length);
    for (const k of b.bound) w.fixed(k, KEY_IMAGE_BYTES);
    w.u8(Math.min(b.restarts, 0xff));
    const withFee = b.fee > 0n || b.feeAccounted > 0n;
    if (b.inputs.length > 0 || b.goneTxid || withFee) {
      w.u8(BATCH_INPUTS).u16(b.inputs.length);
      for (const k of b.inputs) w.fixed(k, KEY_IMAGE_BYTES);
      w.u8(b.goneTxid ? 1 : 0);
      if (b.goneTxid) w.fixed(b.goneTxid, 32);
    }
    if (withFee) w.u8(BATCH_FEE).u64big(b.fee).u64big(b.feeAccounted);
  }
  return w.finish();
}

function decodeBatch(bytes: Uint8Array): BatchRecord {
  const r = new Reader(bytes);
  const first = r.u64();
  const count = r.u16();
  const attempt = r.u32();
  const phase = PHASES[r.u8()];
  if (!phase) throw new Error("monero state: corrupt batch record");
  const phaseHeight = r.u64();
  const order = Array.from({ length: r.u8() }, () => r.u16());
  const signers = Array.from({ length: r.u8() }, () => r.u16());
  const passed = Array.from({ length: r.u8() }, () => r.u16());
  const spent = Array.from({ length: r.u8() }, () => r.u16());
  const refusers = Array.from({ length: r.u8() }, () => r.u16());
  const signedMax = r.u8();
  const txid = r.u8() === 1 ? r.fixed(32) : undefined;
  const txHeight = r.u64();
  const parts = r.u8();
  const txKey = parts > 0 ? r.fixed(parts * 32) : undefined;
  const n = r.u8();
  const blamed: number[] = [];
  const accused: number[] = [];
  for (let g = 0; g < n; g++) {
    blamed.push(r.u16());
    accused.push(r.u16());
  }
  // A record written before conflicting attempts ends here: its batch keeps the old rules.
  const v2 = r.remaining > 0;
  const bound: Uint8Array[] = [];
  if (v2) {
    if (r.u8() !== BATCH_V2) throw new Error("monero state: corrupt batch record");
    const count = r.u16();
    for (let i = 0; i < count; i++) bound.push(r.fixed(KEY_IMAGE_BYTES));
  }
  const restarts = v2 ? r.u8() : 0;
  const inputs: Uint8Array[] = [];
  let goneTxid: Uint8Array | undefined;
  if (v2 && r.remaining > 0) {
    if (r.u8() !== BATCH_INPUTS) throw new Error("monero state: corrupt batch record");
    const count = r.u16();
    for (let i = 0; i < count; i++) inputs.push(r.fixed(KEY_IMAGE_BYTES));
    if (r.u8() === 1) goneTxid = r.fixed(32);
  }
  let fee = 0n;
  let feeAccounted = 0n;
  if (v2 && r.remaining > 0) {
    if (r.u8() !== BATCH_FEE) throw new Error("monero state: corrupt batch record");
    fee = r.u64big();
    feeAccounted = r.u64big();
  }
  r.end();
  return {
    first,
    count,
    attempt,
    phase,
    phaseHeight,
    order,
    signers,
    passed,
    spent,
    refusers,
    signedMax,
    ...(txid ? { txid } : {}),
    txHeight,
    ...(txKey ? { txKey } : {}),
    blamed,
    accused,
    v2,
    bound,
    restarts,
    inputs,
    ...(goneTxid ? { goneTxid } : {}),
    fee,
    feeAccounted,
  };
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Typed read access to the payout keys. */
export class PayoutStore {
  constructor(protected readonly db: ReadTx) {}

  counters(): PayoutCounters {
    const v = this.db.get(Uint8Array.of(K_COUNTERS));
    if (!v)
      return {
        nextSeq: 0,
        firstQueued: 0,
        nextBatch: 1,
        current: 0,
        paidOut: 0n,
        feesCharged: 0n,
        feesPaid: 0n,
        feeSince: 0,
      };
    const r = new Reader(v);
    const nextSeq = r.u64();
    const firstQueued = r.u64();
    const nextBatch = r.u64();
    const current = r.u64();
    // u128 (a 40-byte record is the older u64 format): a cumulative sum can pass 2^64 piconero.
    const paidOut = v.length === 40 ? r.u64big() : readU128(r);
    // A record from before the fee fund (40 or 48 bytes): the fund counts the payouts from now on.
    if (r.remaining === 0)
      return {
        nextSeq,
        firstQueued,
        nextBatch,
        current,
        paidOut,
        feesCharged: 0n,
        feesPaid: 0n,
        feeSince: nextSeq,
      };
    return {
      nextSeq,
      firstQueued,
      nextBatch,
      current,
      paidOut,
      feesCharged: readU128(r),
      feesPaid: readU128(r),
      feeSince: r.u64(),
    };
  }

  payout(seq: number): PayoutRecord | undefined {
    const v = this.db.get(key(K_PAYOUT, { u64: seq }));
    return v ? decodePayout(v) : undefined;
  }

  seqOf(outPoint: OutPoint): number | undefined {
    const v = this.db.get(key(K_OUTPOINT, outPoint.txid, { u32: outPoint.index }));
    return v ? new Reader(v).u64() : undefined;
  }

  batch(n: number): BatchRecord | undefined {
    const v = this.db.get(key(K_BATCH, { u64: n }));
    return v ? decodeBatch(v) : undefined;
  }

  /** The agreed Monero fee rate (piconero per byte, 0 for none yet): the top-up cap follows it. */
  agreedFeeRate(): number {
    return new MoneroState(this.db).agreedFeeRate();
  }

  payoutsOf(b: BatchRecord): PayoutRecord[] {
    const out: PayoutRecord[] = [];
    for (let s = b.first; s < b.first + b.count; s++) {
      const p = this.payout(s);
      if (!p) throw new Error(`monero state: batch payout ${s} missing`);
      out.push(p);
    }
    return out;
  }

  /** A complete blob (an export or a transaction set) of the current attempt. */
  blob(batch: number, slot: number, guardian: number): Uint8Array | undefined {
    return this.db.get(key(K_BLOB, { u64: batch }, slot, { u16: guardian }));
  }

  /** Guardians with a complete blob in `slot`, by index. */
  blobOwners(batch: number, slot: number): number[] {
    const prefix = key(K_BLOB, { u64: batch }, slot);
    return [...this.db.scan(prefix)].map(([k]) => new Reader(k.subarray(prefix.length)).u16());
  }

  /** Chunk indexes already ordered of a blob in progress, and its header. */
  blobHeader(
    batch: number,
    slot: number,
    guardian: number,
  ): { total: number; digest: Uint8Array; received: number } | undefined {
    const v = this.db.get(key(K_HEADER, { u64: batch }, slot, { u16: guardian }));
    if (!v) return undefined;
    const r = new Reader(v);
    return { total: r.u16(), digest: r.fixed(DIGEST_BYTES), received: r.u16() };
  }

  hasChunk(batch: number, slot: number, guardian: number, index: number): boolean {
    return this.db.get(key(K_CHUNK, { u64: batch }, slot, { u16: guardian }, { u16: index })) !== undefined;
  }

  vote(batch: number, guardian: number): { txid: Uint8Array } | { fault: true } | undefined {
    const v = this.db.get(key(K_VOTE, { u64: batch }, { u16: guardian }));
    if (!v) return undefined;
    return v[0] === 1 ? { txid: v.slice(1, 33) } : { fault: true };
  }

  votes(batch: number): { guardian: number; vote: { txid: Uint8Array } | { fault: true } }[] {
    const prefix = key(K_VOTE, { u64: batch });
    return [...this.db.scan(prefix)].map(([k, v]) => ({
      guardian: new Reader(k.subarray(prefix.length)).u16(),
      vote: v[0] === 1 ? { txid: v.slice(1, 33) } : { fault: true as const },
    }));
  }

  seen(batch: number, guardian: number): { txHeight: number; txKey: Uint8Array } | undefined {
    const v = this.db.get(key(K_SEEN, { u64: batch }, { u16: guardian }));
    if (!v) return undefined;
    const r = new Reader(v);
    return { txHeight: r.u64(), txKey: v.slice(8) };
  }

  /**
   * Whether guardian g voted that the attempt's transaction is gone (or, scope "bound", an input of
   * its bound), this attempt.
   */
  gone(batch: number, guardian: number, scope?: "bound"): boolean {
    return this.db.get(key(goneKey(scope), { u64: batch }, { u16: guardian })) !== undefined;
  }

  goneVoters(batch: number, scope?: "bound"): number[] {
    const prefix = key(goneKey(scope), { u64: batch });
    return [...this.db.scan(prefix)].map(([k]) => new Reader(k.subarray(prefix.length)).u16());
  }

  /** Re-opened batches waiting for the batch in flight, oldest first. */
  waiting(): number[] {
    const prefix = Uint8Array.of(K_WAITING);
    return [...this.db.scan(prefix)].map(([k]) => new Reader(k.subarray(1)).u64()).sort((a, b) => a - b);
  }

  seenAll(batch: number): { guardian: number; txHeight: number; txKey: Uint8Array }[] {
    const prefix = key(K_SEEN, { u64: batch });
    return [...this.db.scan(prefix)].map(([k, v]) => ({
      guardian: new Reader(k.subarray(prefix.length)).u16(),
      txHeight: new Reader(v).u64(),
      txKey: v.slice(8),
    }));
  }
}

/** The votes of a Gone scope are kept apart: a vote on one never counts for the other. */
function goneKey(scope: "bound" | undefined): number {
  return scope === "bound" ? K_GONE_BOUND : K_GONE;
}

class PayoutStoreWriter extends PayoutStore {
  constructor(private readonly w: WriteTx) {
    super(w);
  }
  setCounters(c: PayoutCounters): void {
    const w = new Writer().u64(c.nextSeq).u64(c.firstQueued).u64(c.nextBatch).u64(c.current);
    writeU128(writeU128(writeU128(w, c.paidOut), c.feesCharged), c.feesPaid).u64(c.feeSince);
    this.w.put(Uint8Array.of(K_COUNTERS), w.finish());
  }
  putPayout(seq: number, p: PayoutRecord): void {
    this.w.put(key(K_PAYOUT, { u64: seq }), encodePayout(p));
  }
  putOutPoint(o: OutPoint, seq: number): void {
    this.w.put(key(K_OUTPOINT, o.txid, { u32: o.index }), new Writer().u64(seq).finish());
  }
  putBatch(n: number, b: BatchRecord): void {
    this.w.put(key(K_BATCH, { u64: n }), encodeBatch(b));
  }
  putChunk(batch: number, slot: number, g: number, index: number, data: Uint8Array): void {
    this.w.put(key(K_CHUNK, { u64: batch }, slot, { u16: g }, { u16: index }), data);
  }
  chunks(batch: number, slot: number, g: number): Uint8Array[] {
    return [...this.w.scan(key(K_CHUNK, { u64: batch }, slot, { u16: g }))].map(([, v]) => v);
  }
  putHeader(
    batch: number,
    slot: number,
    g: number,
    h: { total: number; digest: Uint8Array; received: number },
  ) {
    this.w.put(
      key(K_HEADER, { u64: batch }, slot, { u16: g }),
      new Writer().u16(h.total).fixed(h.digest, DIGEST_BYTES).u16(h.received).finish(),
    );
  }
  completeBlob(batch: number, slot: number, g: number, blob: Uint8Array): void {
    for (const [k] of [...this.w.scan(key(K_CHUNK, { u64: batch }, slot, { u16: g }))]) this.w.delete(k);
    this.w.delete(key(K_HEADER, { u64: batch }, slot, { u16: g }));
    this.w.put(key(K_BLOB, { u64: batch }, slot, { u16: g }), blob);
  }
  putVote(batch: number, g: number, vote: { txid: Uint8Array } | { fault: true }): void {
    this.w.put(
      key(K_VOTE, { u64: batch }, { u16: g }),
      "txid" in vote ? new Writer().u8(1).fixed(vote.txid, 32).finish() : Uint8Array.of(2),
    );
  }
  putSeen(batch: number, g: number, txHeight: number, txKey: Uint8Array): void {
    this.w.put(key(K_SEEN, { u64: batch }, { u16: g }), new Writer().u64(txHeight).raw(txKey).finish());
  }
  putGone(batch: number, g: number, scope?: "bound"): void {
    this.w.put(key(goneKey(scope), { u64: batch }, { u16: g }), Uint8Array.of(1));
  }
  setWaiting(batch: number, waiting: boolean): void {
    const k = key(K_WAITING, { u64: batch });
    if (waiting) this.w.put(k, Uint8Array.of(1));
    else this.w.delete(k);
  }
  /** Forgets the submit votes of the batch (its final set was refused: another one comes). */
  clearVotes(batch: number): void {
    for (const [full] of [...this.w.scan(key(K_VOTE, { u64: batch }))]) this.w.delete(full);
  }
  /** Forgets everything of the batch's current attempt (chunks, blobs, votes, attestations). */
  clearAttempt(batch: number): void {
    for (const k of BATCH_SCOPED)
      for (const [full] of [...this.w.scan(key(k, { u64: batch }))]) this.w.delete(full);
  }
}

/** What a guardian's watcher should do now for the batch in flight (derived from the state alone). */
export type PayoutDuty =
  | { readonly kind: "export"; readonly batch: number; readonly attempt: number }
  | {
      /** A participant whose turn has not come: import the others' exports now, not on its turn. */
      readonly kind: "import";
      readonly batch: number;
      readonly attempt: number;
      readonly othersExports: readonly Uint8Array[];
      /**
       * A bound attempt before its creator's set: the inputs an earlier attempt may have spent. A
       * mined transaction this wallet sees spend them is a completion of that attempt, broadcast
       * by its keeper: it paid the batch, and this guardian votes its txid.
       */
      readonly bound?: readonly Uint8Array[];
      /** With `bound`: the distinct txids other guardians voted for the batch (at most n − 1). */
      readonly voted?: readonly Uint8Array[];
    }
  | {
      /** No part in this attempt, which is bound and has no creator's set yet: as `import.bound`. */
      readonly kind: "paid";
      readonly batch: number;
      readonly attempt: number;
      readonly bound: readonly Uint8Array[];
      readonly voted?: readonly Uint8Array[];
      /**
       * In `submit`, this guardian's own txid vote: replaced only by another transaction its node
       * shows mined at depth (payoutConfirmations) spending the named inputs (a sibling completion a
       * reorg mined in place of the one it voted).
       */
      readonly replacing?: Uint8Array;
    }
  | {
      readonly kind: "sign";
      readonly batch: number;
      readonly attempt: number;
      /** The slot this guardian fills: 0 creates the transfer. */
      readonly slot: number;
      /** The other participants' exports (hex-decoded), to import first. */
      readonly othersExports: readonly Uint8Array[];
      /** The previous slot's transaction set (slot > 0). */
      readonly txset?: Uint8Array;
      /** The creator's set (slot > 1): the previous set must be the same transaction. */
      readonly root?: Uint8Array;
      /** Who signed the lineage so far: a new lineage (after a refusal) is a new duty. */
      readonly lineage: readonly number[];
      readonly destinations: readonly { address: string; amount: bigint }[];
      readonly feeMax: bigint;
      /** This guardian signs last: its set is the final one. */
      readonly last: boolean;
      /** Slot 0: the transaction spends only outputs with these key images (none: any). */
      readonly only?: readonly Uint8Array[];
      /** With `only`: the distinct txids other guardians voted for the batch (as `import.voted`). */
      readonly voted?: readonly Uint8Array[];
      /** Slot > 0: the inputs the creator named (its blob), checked against the set. */
      readonly keyImages?: readonly Uint8Array[];
    }
  | {
      readonly kind: "submit";
      readonly batch: number;
      readonly attempt: number;
      readonly txset: Uint8Array;
      /** Who signed it: a final set from another last signer is a new duty. */
      readonly lineage: readonly number[];
      /** The inputs its creator named: a mined transaction spending them paid the batch. */
      readonly keyImages?: readonly Uint8Array[];
    }
  | {
      readonly kind: "confirm";
      readonly batch: number;
      readonly attempt: number;
      readonly txid: string;
      /** The final set, to resubmit if this wallet lost the tx key (it stores it when it submits). */
      readonly txset?: Uint8Array;
    };

/** The deterministic payout rules of one module instance. */
/**
 * Payouts accepted and not yet confirmed (the batch in flight, then the queue): still in the
 * multisig wallet until their transaction leaves it, though `paidOut` already counts them. The sum
 * (amount + fee, as paidOut counts) reads at most PENDING_PAYOUTS_SUMMED_MAX records, oldest first,
 * so that a request costs a bounded number of reads however long the queue; `summed` says how many
 * it covers (less than `count` only then).
 */
export function pendingPayouts(db: ReadTx): { count: number; amount: bigint; summed: number } {
  const store = new PayoutStore(db);
  const c = store.counters();
  // The batch in flight and the re-opened batches waiting for it (their transaction a deep reorg
  // made unmineable: owed again), then the queue.
  const ranges: { from: number; to: number }[] = [];
  for (const n of [...(c.current === 0 ? [] : [c.current]), ...store.waiting()]) {
    const b = store.batch(n);
    if (b) ranges.push({ from: b.first, to: b.first + b.count });
  }
  ranges.push({ from: c.firstQueued, to: c.nextSeq });
  let count = 0;
  let amount = 0n;
  let summed = 0;
  for (const { from, to } of ranges) {
    count += Math.max(0, to - from);
    for (let seq = from; seq < to && summed < PENDING_PAYOUTS_SUMMED_MAX; seq++, summed++) {
      const p = store.payout(seq);
      if (p) amount += p.amount + p.fee;
    }
  }
  return { count, amount, summed };
}

export class Payouts {
  private readonly n: number;
  private readonly t: number;
  private readonly f: number;

  constructor(private readonly config: MoneroConfig) {
    this.n = config.guardians;
    this.t = quorumThreshold(config.guardians);
    this.f = faultTolerance(config.guardians);
  }

  // ---- outputs ---------------------------------------------------------------------------------

  /**
   * A payout output at agreed fee rate `feeRate` (piconero per byte, 0 for none yet): its fee must
   * be at least payoutFee(config, feeRate) and at most FEE_OVERPAY_FACTOR_MAX times it; the record
   * keeps the fee paid (the audit and the signers' fee check use it).
   */
  processOutput(
    db: WriteTx,
    output: TxOutput,
    outPoint: OutPoint,
    feeRate: number,
  ): ModuleResult<OutputMeta> {
    let address: string;
    let fee: bigint;
    try {
      ({ address, fee } = decodePayoutOutput(output.payload));
    } catch (e) {
      return fail(
        "malformed_output",
        `a monero output is 0x02 | fee u64 | length u8 | address: ${(e as Error).message}`,
      );
    }
    const refused = this.checkAddress(address);
    if (refused) return refused;
    const required = payoutFee(this.config, feeRate);
    if (required === undefined)
      return fail(
        "fee_rate_unknown",
        "the guardians have not agreed on a Monero fee rate yet (their watchers report it at start): retry in a minute",
      );
    if (fee < required)
      return fail(
        "fee_too_low",
        `the payout's fee is ${fee} piconero; the agreed fee rate requires ${required}: ask GET payouts/terms again`,
        { fee: fee.toString(), required: required.toString(), feeRate },
      );
    if (fee > required * FEE_OVERPAY_FACTOR_MAX)
      return fail(
        "fee_too_high",
        `the payout's fee is ${fee} piconero, more than ${FEE_OVERPAY_FACTOR_MAX} times the required ${required}: a client bug?`,
        { fee: fee.toString(), required: required.toString(), feeRate },
      );
    if (output.amount < this.config.payoutMinPiconero)
      return fail(
        "payout_too_small",
        `a payout is at least ${this.config.payoutMinPiconero} piconero, not ${output.amount}`,
        { minimum: this.config.payoutMinPiconero.toString() },
      );
    if (output.amount > PICONERO_MAX - fee)
      return fail("payout_too_large", `a payout is at most ${PICONERO_MAX - fee} piconero`);
    this.enqueue(new PayoutStoreWriter(db), outPoint, address, output.amount, fee);
    return ok({ amount: output.amount, fee });
  }

  /**
   * A payout asked for by another module (core ModuleLinks; the bridge pays an accepted burn): `value`
   * leaves the asker's liabilities, the fee at the agreed rate is deducted from it and the rest is
   * paid. Its outpoint (`requestOutPoint`) is the asker's ref and index 0xffff0000 | asker, which no
   * transaction output has. Refused, as a value, where a withdrawal would be: a bad address, no
   * agreed fee rate, less than the minimum once the fee is deducted, or the same ref twice.
   */
  requestPayout(
    db: WriteTx,
    outPoint: OutPoint,
    address: string,
    value: bigint,
    feeRate: number,
  ): ModuleResult<{ amount: bigint; fee: bigint }> {
    if (!/^[1-9A-HJ-NP-Za-km-z]{1,106}$/.test(address))
      return fail("invalid_address", "a payout address is 1 to 106 base58 characters");
    const refused = this.checkAddress(address);
    if (refused) return refused;
    const fee = payoutFee(this.config, feeRate);
    if (fee === undefined)
      return fail("fee_rate_unknown", "the guardians have not agreed on a Monero fee rate yet");
    const amount = value - fee;
    if (amount < this.config.payoutMinPiconero)
      return fail(
        "payout_too_small",
        `${value} piconero less the Monero fee ${fee} is below the minimum payout ${this.config.payoutMinPiconero}`,
        {
          value: value.toString(),
          fee: fee.toString(),
          minimum: this.config.payoutMinPiconero.toString(),
        },
      );
    if (value > PICONERO_MAX) return fail("payout_too_large", `a payout is at most ${PICONERO_MAX} piconero`);
    const store = new PayoutStoreWriter(db);
    if (store.seqOf(outPoint) !== undefined)
      return fail("already_requested", "this payout was already requested (a payout is queued once)");
    this.enqueue(store, outPoint, address, amount, fee);
    return ok({ amount, fee });
  }

  /** A destination the federation pays: standard or subaddress of its network, not its own address. */
  private checkAddress(address: string): ModuleResult<never> | undefined {
    try {
      // Integrated addresses carry a payment id, which the pre-signing check cannot compare
      // (describe_transfer reports the standard address): refused, with the reason.
      const to = parseAddress(address, this.config.network, ["standard", "subaddress"]);
      // A payout to the federation's own address would only move coins inside its wallet while the
      // user's notes are gone: a mistake (pasting the deposit address), refused before it costs.
      const own = parseAddress(this.config.address, this.config.network);
      if (
        to.kind === "standard" &&
        toHex(to.publicSpendKey) === toHex(own.publicSpendKey) &&
        toHex(to.publicViewKey) === toHex(own.publicViewKey)
      )
        return fail(
          "invalid_address",
          `cannot pay ${shortAddress(address)}: that is the federation's own deposit address (withdraw to a wallet of yours)`,
        );
    } catch (e) {
      if (!(e instanceof MoneroAddressError)) throw e;
      return fail("invalid_address", `cannot pay ${shortAddress(address)}: ${e.message}`, {
        network: this.config.network,
      });
    }
    return undefined;
  }

  /** Queues a validated payout; amount + fee leave the module's assets. */
  private enqueue(
    store: PayoutStoreWriter,
    outPoint: OutPoint,
    address: string,
    amount: bigint,
    fee: bigint,
  ): void {
    if (store.seqOf(outPoint) !== undefined) throw new Error("monero: an outpoint was paid twice");
    const c = store.counters();
    store.putPayout(c.nextSeq, {
      txid: outPoint.txid,
      index: outPoint.index,
      address,
      amount,
      fee,
      batch: 0,
    });
    store.putOutPoint(outPoint, c.nextSeq);
    store.setCounters({
      ...c,
      nextSeq: c.nextSeq + 1,
      paidOut: c.paidOut + amount + fee,
      feesCharged: c.feesCharged + fee,
    });
  }

  paidOut(db: ReadTx): bigint {
    return new PayoutStore(db).counters().paidOut;
  }

  /** Payouts accepted and not yet confirmed (pendingPayouts). */
  pending(db: ReadTx): { count: number; amount: bigint; summed: number } {
    return pendingPayouts(db);
  }

  outcome(db: ReadTx, outPoint: OutPoint, agreedHeight: number): PayoutOutcome | undefined {
    const store = new PayoutStore(db);
    const seq = store.seqOf(outPoint);
    if (seq === undefined) return undefined;
    const p = store.payout(seq);
    if (!p) return undefined;
    const base = {
      kind: "payout" as const,
      address: p.address,
      amount: p.amount.toString(),
      fee: p.fee.toString(),
      batch: p.batch,
    };
    const b = p.batch === 0 ? undefined : store.batch(p.batch);
    if (!b) return { ...base, state: "queued" };
    // A batch re-opened after a deep reorg made its transaction unmineable says so while it is re-paid.
    const gone = b.goneTxid
      ? `; Monero transaction ${toHex(b.goneTxid).slice(0, 16)}… was taken off the chain by a reorg and can never be mined: paying again`
      : "";
    switch (b.phase) {
      case "waiting":
        return {
          ...base,
          state: "signing",
          attempt: b.attempt,
          round: `waiting for batch ${store.counters().current}${gone}`,
        };
      case "export":
        return {
          ...base,
          state: "signing",
          attempt: b.attempt,
          round: `exporting multisig info: ${store.blobOwners(p.batch, SLOT_EXPORT).length} of ${this.t} guardians${gone}`,
        };
      case "sign":
        return {
          ...base,
          state: "signing",
          attempt: b.attempt,
          round: `signatures: ${stepOf(b)} of ${this.t}${gone}`,
        };
      case "submit":
        return b.txid
          ? { ...base, state: "submitted", attempt: b.attempt, moneroTxid: toHex(b.txid) }
          : {
              ...base,
              state: "signing",
              attempt: b.attempt,
              round: `submitting: ${this.t} of ${this.t} signatures${gone}`,
            };
      case "done":
        return {
          ...base,
          state: "confirmed",
          attempt: b.attempt,
          ...(b.txid ? { moneroTxid: toHex(b.txid) } : {}),
          ...(b.txKey ? { txKey: toHex(b.txKey) } : {}),
          txHeight: b.txHeight,
          confirmations: Math.max(0, agreedHeight - b.txHeight),
        };
    }
  }

  // ---- items -----------------------------------------------------------------------------------

  processItem(db: WriteTx, item: PayoutItem, peer: number, agreedHeight: number): ModuleResult<void> {
    const store = new PayoutStoreWriter(db);
    if (item.kind === "chunk") {
      const started = this.maybeStartBatch(store, item, agreedHeight);
      if (!started.ok) return started;
    }
    const b = store.batch(item.batch);
    if (!b) return fail("unknown_batch", `no payout batch ${item.batch}`, { peer });
    if (item.kind === "gone")
      return item.scope === "bound"
        ? this.onBoundGone(store, item.batch, b, peer, item.attempt, agreedHeight)
        : this.onGone(store, item.batch, b, peer, item.attempt, agreedHeight);
    if (b.phase === "done" || b.phase === "waiting") return ok(undefined); // late items of a finished batch change nothing
    if (item.attempt !== b.attempt)
      return item.attempt < b.attempt
        ? ok(undefined) // a late item of an earlier attempt
        : fail("stale_attempt", `batch ${item.batch} is at attempt ${b.attempt}, not ${item.attempt}`, {
            peer,
          });
    switch (item.kind) {
      case "chunk":
        return this.onChunk(store, item, b, peer, agreedHeight);
      case "txid":
        return this.onTxid(db, store, item.batch, b, peer, item.txid);
      case "fault":
        return this.onFault(store, item.batch, b, peer, item.slot, agreedHeight);
      case "seen":
        return this.onSeen(store, item.batch, b, peer, item.txHeight, item.txKey, agreedHeight);
    }
  }

  /** The first export of the next batch number starts it with the oldest queued payouts. */
  private maybeStartBatch(
    store: PayoutStoreWriter,
    item: Extract<PayoutItem, { kind: "chunk" }>,
    agreedHeight: number,
  ): ModuleResult<void> {
    const c = store.counters();
    if (item.batch !== c.nextBatch) return ok(undefined);
    if (c.current !== 0 || item.slot !== SLOT_EXPORT || item.attempt !== 0 || c.firstQueued >= c.nextSeq)
      return fail("unknown_batch", `payout batch ${item.batch} cannot start now`);
    const count = Math.min(this.config.payoutBatchMax, c.nextSeq - c.firstQueued);
    for (let s = c.firstQueued; s < c.firstQueued + count; s++) {
      const p = store.payout(s);
      if (!p) throw new Error(`monero state: queued payout ${s} missing`);
      store.putPayout(s, { ...p, batch: item.batch });
    }
    store.putBatch(item.batch, {
      first: c.firstQueued,
      count,
      attempt: 0,
      ...freshRound(agreedHeight),
      txHeight: 0,
      blamed: new Array<number>(this.n).fill(0),
      accused: new Array<number>(this.n).fill(0),
      v2: true,
      bound: [],
      inputs: [],
      fee: 0n,
      feeAccounted: 0n,
    });
    store.setCounters({
      ...c,
      firstQueued: c.firstQueued + count,
      nextBatch: c.nextBatch + 1,
      current: item.batch,
    });
    return ok(undefined);
  }

  private onChunk(
    store: PayoutStoreWriter,
    item: Extract<PayoutItem, { kind: "chunk" }>,
    b: BatchRecord,
    peer: number,
    agreedHeight: number,
  ): ModuleResult<void> {
    const { batch, slot } = item;
    if (slot === SLOT_EXPORT) {
      if (b.phase !== "export") return ok(undefined); // late: the participants are fixed
    } else {
      if (slot >= this.t)
        return fail("malformed_item", `slot ${slot} of a ${this.t}-signature batch`, { peer });
      if (b.phase === "export")
        return fail("not_your_turn", `batch ${batch} is not signing yet (slot ${slot})`, { peer });
      if (b.phase !== "sign" || slot < stepOf(b)) return ok(undefined); // late duplicate
      if (slot > stepOf(b) || this.designated(b) !== peer)
        return fail("not_your_turn", `slot ${slot} of batch ${batch} is not guardian ${peer}'s to fill`, {
          peer,
        });
    }
    if (store.blob(batch, slot, peer)) {
      // A guardian designated again for a slot it filled before the lineage was sent back: its set
      // of then is in the state already (it could not sign the same set twice anyway).
      if (slot !== SLOT_EXPORT) this.advance(store, batch, b, peer, agreedHeight);
      return ok(undefined);
    }
    const header = store.blobHeader(batch, slot, peer);
    if (header && (header.total !== item.total || !equalBytes(header.digest, item.digest)))
      return fail("conflicting_blob", `guardian ${peer} sent two different blobs for slot ${slot}`, { peer });
    if (store.hasChunk(batch, slot, peer, item.index)) return ok(undefined);
    const received = (header?.received ?? 0) + 1;
    store.putChunk(batch, slot, peer, item.index, item.data);
    if (received < item.total) {
      store.putHeader(batch, slot, peer, { total: item.total, digest: item.digest, received });
      return ok(undefined);
    }
    const parts = store.chunks(batch, slot, peer);
    const blob = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      blob.set(p, at);
      at += p.length;
    }
    if (!equalBytes(sha256(blob), item.digest))
      return fail("bad_digest", `guardian ${peer}'s chunks of slot ${slot} do not hash to their digest`, {
        peer,
      });
    let signed = b;
    if (slot === 0 && b.v2) {
      const refused = this.refuseInputs(b, blob);
      if (refused) return fail("bad_inputs", `guardian ${peer}'s transaction set: ${refused}`, { peer });
      const fee = this.creatorFee(store, b, blob);
      if ("refused" in fee)
        return fail("fee_above_allowed", `guardian ${peer}'s transaction set: ${fee.refused}`, { peer });
      signed = { ...b, fee: fee.fee > b.fee ? fee.fee : b.fee };
    }
    store.completeBlob(batch, slot, peer, blob);
    if (slot === SLOT_EXPORT) this.maybeStartSigning(store, batch, b, agreedHeight, false);
    else this.advance(store, batch, signed, peer, agreedHeight);
    return ok(undefined);
  }

  /**
   * Why the creator's blob cannot stand (undefined: it can): it must name its inputs' key images,
   * distinct, and within the attempt's bound. That they are the set's real inputs each signer checks
   * with its wallet before signing (payout-watcher.ts); consensus cannot see inside a set.
   */
  private refuseInputs(b: BatchRecord, blob: Uint8Array): string | undefined {
    const creator = decodeCreatorSet(blob);
    if (!creator) return "it does not name its inputs' key images";
    const hex = creator.keyImages.map(toHex);
    if (new Set(hex).size !== hex.length) return "it names an input twice";
    if (b.bound.length === 0) return undefined;
    const bound = new Set(b.bound.map(toHex));
    const outside = hex.find((k) => !bound.has(k));
    return outside === undefined
      ? undefined
      : `input ${outside.slice(0, 16)} is not one of the inputs an earlier attempt of this batch may still spend`;
  }

  /**
   * What the batch's transaction may pay in Monero fee (docs/monero.md "Fee top-up"): its payouts'
   * fees (`reserves`) plus a top-up of at most `cap` (one payout's fee at the agreed rate:
   * FEE_TOP_UP_PAYOUTS), and never more than the fee fund holds (fees charged − fees paid, plus what
   * the fund was already charged for this batch's transaction a deep reorg took away). A batch
   * older than the fund pays at most its payouts' fees, as before.
   */
  feeAllowed(
    store: PayoutStore,
    b: BatchRecord,
    reserves: bigint,
  ): { allowed: bigint; reserves: bigint; cap: bigint; fund: bigint; counted: boolean } {
    const c = store.counters();
    const fund = c.feesCharged - c.feesPaid;
    const cap = (payoutFee(this.config, store.agreedFeeRate()) ?? 0n) * FEE_TOP_UP_PAYOUTS;
    const counted = b.first >= c.feeSince;
    if (!counted) return { allowed: reserves, reserves, cap: 0n, fund, counted };
    const fromFund = fund + b.feeAccounted;
    const allowed = reserves + cap < fromFund ? reserves + cap : fromFund;
    return { allowed, reserves, cap, fund, counted };
  }

  /**
   * The fee bound of a creator's set (slot 0 of a v2 batch): the fee it declares, which must be
   * within feeAllowed; a set in the first form (no fee declared) is held to the payouts' fees, which
   * must be within it too.
   */
  private creatorFee(
    store: PayoutStore,
    b: BatchRecord,
    blob: Uint8Array,
  ): { fee: bigint } | { refused: string } {
    const declared = decodeCreatorSet(blob)?.fee;
    const reserves = store.payoutsOf(b).reduce((a, p) => a + p.fee, 0n);
    const { allowed, cap, fund } = this.feeAllowed(store, b, reserves);
    const fee = declared ?? reserves;
    if (fee <= allowed) return { fee };
    return {
      refused:
        `${declared === undefined ? "the payouts' fees" : "its declared fee"} ${fee} piconero exceed what the batch may pay, ${allowed} ` +
        `(its payouts' fees ${reserves} + a top-up of at most ${cap}, within the fee fund ${fund})`,
    };
  }

  /**
   * What the fee fund is charged when the batch is confirmed: the most its mined transaction can
   * have paid (`fee`; its payouts' fees for a batch older than the fund), less what the fund was
   * already charged for it (a batch paid again after a deep reorg). Never more than the fund: every
   * declaration was bounded by it, and only a confirmation lowers it.
   */
  private feeCharge(store: PayoutStore, b: BatchRecord, c: PayoutCounters): bigint {
    let target: bigint;
    if (b.first >= c.feeSince)
      target = b.fee > 0n ? b.fee : store.payoutsOf(b).reduce((a, p) => a + p.fee, 0n);
    else {
      target = 0n;
      for (const p of store.payoutsOf(b).slice(Math.max(0, c.feeSince - b.first))) target += p.fee;
    }
    const charge = target > b.feeAccounted ? target - b.feeAccounted : 0n;
    const fund = c.feesCharged - c.feesPaid;
    return charge < fund ? charge : fund;
  }

  /** The fee fund, for GET reserves and the metrics. */
  feeFund(db: ReadTx): { charged: bigint; paid: bigint; fund: bigint; topUpMax: bigint } {
    const store = new PayoutStore(db);
    const c = store.counters();
    return {
      charged: c.feesCharged,
      paid: c.feesPaid,
      fund: c.feesCharged - c.feesPaid,
      topUpMax: (payoutFee(this.config, store.agreedFeeRate()) ?? 0n) * FEE_TOP_UP_PAYOUTS,
    };
  }

  /** `peer`'s set fills the current slot: one more signature on the lineage. */
  private advance(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    agreedHeight: number,
  ) {
    const signers = [...b.signers, peer];
    store.putBatch(batch, {
      ...b,
      signers,
      signedMax: Math.max(b.signedMax, signers.length),
      refusers: [],
      phase: signers.length === this.t ? "submit" : "sign",
      phaseHeight: agreedHeight,
    });
  }

  /**
   * Who fills the current slot: the first participant in signing order that has not signed this
   * attempt's transaction and was not passed over (undefined: every candidate was).
   */
  designated(b: BatchRecord): number | undefined {
    return b.order.find((g) => !b.signers.includes(g) && !b.passed.includes(g) && !b.spent.includes(g));
  }

  /**
   * May the batch drop its current transaction for a fresh one? Only if no f guardians could still
   * finish it. Signatures on it: at most the most the state ever held (a slot sent back does not
   * unsign it) or the current step + 1 (one in flight), whichever is more.
   */
  private canAbandon(b: BatchRecord): boolean {
    return Math.max(b.signedMax, stepOf(b) + 1) + this.f < this.t;
  }

  /**
   * The bound of the attempt after `b`. If f guardians could still finish b's transaction (at most
   * max(signedMax, step + inFlight) signatures on it, plus theirs), the next transaction must spend
   * only from its inputs, so that the two can never both be mined. Then at least one of those
   * signatures is an honest guardian's (signatures ≥ t − f > f), who created the set or checked its
   * inputs against its wallet: the named inputs are real. Otherwise the bound stays as it was.
   */
  private nextBound(store: PayoutStore, batch: number, b: BatchRecord, inFlight: boolean): Uint8Array[] {
    if (!b.v2) return [];
    const creator = b.order[0];
    const blob = creator === undefined ? undefined : store.blob(batch, 0, creator);
    const named = blob ? decodeCreatorSet(blob)?.keyImages : undefined;
    const signatures = Math.max(b.signedMax, stepOf(b) + (inFlight ? 1 : 0));
    return named && signatures + this.f >= this.t ? named.map((k) => k.slice()) : [...b.bound];
  }

  /** The f guardians with the most blame in this batch (none with none). */
  excluded(b: BatchRecord): Set<number> {
    const scored = Array.from({ length: this.n }, (_, g) => ({
      g,
      blamed: b.blamed[g] ?? 0,
      total: (b.blamed[g] ?? 0) + (b.accused[g] ?? 0),
    }))
      .filter((s) => s.total > 0)
      .sort((x, y) => y.total - x.total || y.blamed - x.blamed || x.g - y.g);
    return new Set(scored.slice(0, this.f).map((s) => s.g));
  }

  /**
   * The participants are every exporter outside the excluded set, once all of them exported, or at
   * least t of them and `waited` (payoutExportWaitBlocks passed): the creator imports all their
   * exports, so that any of them can stand in for a signer that fails.
   */
  private maybeStartSigning(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    agreedHeight: number,
    waited: boolean,
  ): boolean {
    const excluded = this.excluded(b);
    const exporters = store.blobOwners(batch, SLOT_EXPORT);
    let ready = exporters.filter((g) => !excluded.has(g));
    if (ready.length < this.t) {
      // Blame is a guess (an honest guardian that was slow, or refused a set its wallet had already
      // signed, is blamed like a silent one): when the others cannot make t, the excluded exporters
      // take part after all, rather than the round timing out for want of them.
      if (!waited || exporters.length < this.t) return false;
      ready = exporters;
    } else if (ready.length < this.n - excluded.size && !waited) return false;
    const creator = (batch + b.attempt) % ready.length;
    const order = [...ready.slice(creator), ...ready.slice(0, creator)];
    store.putBatch(batch, { ...b, ...freshRound(agreedHeight), phase: "sign", order });
    return true;
  }

  private nextAttempt(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    agreedHeight: number,
    blame: {
      blamed?: number;
      accuser?: number;
      reset?: boolean;
      inFlight?: boolean;
      /** The agreed transaction found gone (recorded); with `unbound`. */
      gone?: Uint8Array;
      /** The next attempt spends any inputs: the attempt's transaction can never be mined (Gone). */
      unbound?: boolean;
    },
  ): void {
    // After t guardians agreed the attempt's transaction is gone (the agreed one, or, before a txid
    // was agreed, every completion of the attempt: they all spend its named inputs), the next attempt
    // is unbound: that transaction and every earlier attempt's (each spends a superset of its
    // inputs) can never be mined.
    const bound = blame.unbound ? [] : this.nextBound(store, batch, b, blame.inFlight ?? true);
    const blamed = blame.reset ? new Array<number>(this.n).fill(0) : [...b.blamed];
    const accused = blame.reset ? new Array<number>(this.n).fill(0) : [...b.accused];
    if (blame.blamed !== undefined) blamed[blame.blamed] = (blamed[blame.blamed] ?? 0) + 1;
    if (blame.accuser !== undefined) accused[blame.accuser] = (accused[blame.accuser] ?? 0) + 1;
    store.clearAttempt(batch);
    const { txid: _txid, txKey: _txKey, ...rest } = b;
    store.putBatch(batch, {
      ...rest,
      attempt: b.attempt + 1,
      ...freshRound(agreedHeight),
      txHeight: 0,
      blamed,
      accused,
      bound,
      inputs: [],
      ...(blame.gone ? { goneTxid: blame.gone } : {}),
    });
  }

  private onTxid(
    db: WriteTx,
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    txid: Uint8Array,
  ): ModuleResult<void> {
    // A bound attempt before its creator's set takes txid votes too: the bound inputs were spent
    // by a completion of an earlier attempt broadcast late (payout-watcher.ts `paidBy`); t equal
    // votes (at least t - f honest wallets saw it mined) make it the batch's transaction.
    const paidEarlier = b.phase === "sign" && b.v2 && stepOf(b) === 0 && b.bound.length > 0;
    if (b.phase !== "submit" && !paidEarlier)
      return fail("not_submitting", `batch ${batch} is not fully signed`, { peer });
    const previous = store.vote(batch, peer);
    // A guardian whose node refused the final set (its fault) may vote the txid of a completion its
    // node later shows mined, spending the attempt's named inputs (the `paid` duty in submit): a
    // deep reorg that only detached an input's source, censored, then released, splits the honest
    // votes into txids and faults, and one silent Byzantine guardian froze the batch in `submit`
    // (simulator `--monero-deep-reorg-detach`). And a txid vote may be replaced by another txid while
    // none is agreed: an honest guardian does so only for a transaction its node shows mined at depth
    // spending the named inputs (a one-block reorg mined a sibling completion in place of the one it
    // voted, and "once" split the honest votes between the two for good: review of 17d8cc8). Each
    // guardian has one vote at a time; t equal ones still need t - f honest guardians.
    const upgrade =
      previous !== undefined &&
      b.phase === "submit" &&
      !b.txid &&
      ("fault" in previous || !equalBytes(previous.txid, txid));
    if (previous && !upgrade)
      return "txid" in previous && equalBytes(previous.txid, txid)
        ? ok(undefined)
        : fail("already_voted", `guardian ${peer} already voted on batch ${batch}`, { peer });
    store.putVote(batch, peer, { txid });
    if (!b.txid) {
      const same = store.votes(batch).filter((v) => "txid" in v.vote && equalBytes(v.vote.txid, txid)).length;
      if (same >= this.t) {
        // The transaction's inputs, kept past confirmation (a deep reorg may make it unmineable):
        // the creator's named inputs, or, for a completion of an earlier attempt, the bound.
        const creator = b.signers[0];
        const rootBlob = creator === undefined ? undefined : store.blob(batch, 0, creator);
        const named = rootBlob ? decodeCreatorSet(rootBlob)?.keyImages : undefined;
        const inputs = (named ?? b.bound).map((k) => k.slice());
        store.putBatch(batch, { ...b, txid, phase: "submit", inputs });
        // Invariant 7: a transaction the federation sent is never a deposit (state.ts, docs/monero.md).
        markOwnTransaction(db, txid);
      }
    }
    return ok(undefined);
  }

  private onFault(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    slot: number,
    agreedHeight: number,
  ): ModuleResult<void> {
    if (slot === this.t) {
      if (b.phase !== "submit" || b.txid) return ok(undefined);
      if (store.vote(batch, peer))
        return fail("already_voted", `guardian ${peer} already voted on batch ${batch}`, { peer });
      store.putVote(batch, peer, { fault: true });
      const faults = store.votes(batch).filter((v) => "fault" in v.vote).length;
      if (faults >= this.t) {
        // t guardians' nodes refused the final set (at least f + 1 honest ones): its signer
        // published garbage or a set that does not complete. Another participant signs the set
        // before it; any completion the last signer kept spends the same inputs.
        store.clearVotes(batch);
        this.sendBack(store, batch, b, agreedHeight);
      }
      return ok(undefined);
    }
    // A signer refuses the previous set: only the guardian whose turn it is may say so.
    if (b.phase !== "sign" || slot + 1 !== stepOf(b) || this.designated(b) !== peer)
      return fail("stale_fault", `guardian ${peer} cannot refuse slot ${slot} of batch ${batch} now`, {
        peer,
      });
    const accused = [...b.accused];
    accused[peer] = (accused[peer] ?? 0) + 1;
    const refusers = [...b.refusers, peer];
    if (refusers.length > this.f) {
      // f + 1 guardians refused it: at least one honest guardian did, the set is bad.
      this.sendBack(store, batch, { ...b, accused, refusers }, agreedHeight);
      return ok(undefined);
    }
    // One refusal may be a lie (a Byzantine signer that kept a completion and accuses the set it
    // completed): the refuser is passed over and the next participant checks the same set. Sending
    // the slot back at once would cost an honest signer its turn on this transaction for good (a
    // wallet signs a transaction's inputs once), and f such lies could leave too few signers.
    this.passOver(store, batch, { ...b, accused, refusers }, peer, agreedHeight);
    return ok(undefined);
  }

  /**
   * The set of slot step − 1 is bad (f + 1 refusals, or t nodes refused the final set): at the
   * creator's slot the attempt starts afresh when that is safe; otherwise the slot goes to another
   * participant, on the same transaction (the set before it). Its signer is blamed and passed over;
   * those who refused it were right and may sign again.
   */
  private sendBack(store: PayoutStoreWriter, batch: number, b: BatchRecord, agreedHeight: number): void {
    const slot = stepOf(b) - 1;
    const guilty = b.signers[slot];
    const blamed = [...b.blamed];
    if (guilty !== undefined) blamed[guilty] = (blamed[guilty] ?? 0) + 1;
    if (slot === 0) {
      // No signature in flight here: the refusers did not sign (an honest one cannot have), and the
      // next signer is not chosen yet; so the creator's set has at most signedMax signatures.
      if (b.v2 || Math.max(b.signedMax, stepOf(b)) + this.f < this.t) {
        this.nextAttempt(store, batch, { ...b, blamed }, agreedHeight, { inFlight: false });
        return;
      }
      // Someone signed the creator's set after all: it cannot be dropped. Keep going on it.
      this.passOver(store, batch, { ...b, blamed, refusers: [] }, undefined, agreedHeight);
      return;
    }
    const signers = b.signers.slice(0, slot);
    const spent = guilty === undefined || b.spent.includes(guilty) ? b.spent : [...b.spent, guilty];
    const passed = [
      ...b.passed.filter((g) => !b.refusers.includes(g)),
      ...(guilty === undefined ? [] : [guilty]),
    ];
    const back: BatchRecord = {
      ...b,
      phase: "sign",
      signers,
      passed,
      spent,
      refusers: [],
      phaseHeight: agreedHeight,
      blamed,
    };
    store.putBatch(batch, this.designated(back) === undefined ? { ...back, passed: [] } : back);
  }

  /**
   * `g` (if any) is passed over for the current slot; the next participant takes it. With none left,
   * a fresh attempt if that is safe, or else the round of candidates starts again (a slow honest
   * guardian gets another turn): never a second transaction.
   */
  private passOver(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    g: number | undefined,
    agreedHeight: number,
  ): void {
    const passed = g === undefined || b.passed.includes(g) ? b.passed : [...b.passed, g];
    const next: BatchRecord = { ...b, passed, phaseHeight: agreedHeight };
    if (this.designated(next) !== undefined) {
      store.putBatch(batch, next);
      return;
    }
    if (this.canAbandon(next)) {
      this.nextAttempt(store, batch, next, agreedHeight, {});
      return;
    }
    const again: BatchRecord = { ...next, passed: [], restarts: next.restarts + 1 };
    // Conflicting attempts: a new attempt spends only from this one's inputs while this one could
    // still be finished (nextBound), so it may be started even now. First the candidates get one
    // more turn (a slow honest guardian may still sign this set, or complete the copy a silent
    // signer kept and broadcast); when none is left (every one spent its nonces on another branch,
    // the freeze the simulator found), or after that turn, a new attempt.
    if (next.v2 && (next.restarts >= 1 || this.designated(again) === undefined)) {
      this.nextAttempt(store, batch, next, agreedHeight, {});
      return;
    }
    store.putBatch(batch, again);
  }

  private onSeen(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    txHeight: number,
    txKey: Uint8Array,
    agreedHeight: number,
  ): ModuleResult<void> {
    if (b.phase !== "submit" || !b.txid)
      return fail("not_submitted", `batch ${batch} has no agreed txid`, { peer });
    const previous = store.seen(batch, peer);
    if (previous)
      return previous.txHeight === txHeight && equalBytes(previous.txKey, txKey)
        ? ok(undefined)
        : fail("already_attested", `guardian ${peer} already attested batch ${batch}`, { peer });
    store.putSeen(batch, peer, txHeight, txKey);
    // t attestations of one block confirm it, whatever tx key each carries: an honest wallet knows
    // the key only if it submitted that very transaction, so honest attestations of one payout may
    // differ in the key (one keyed, two empty: the submitter of a completion of a final set that was
    // sent back, the others resubmitting the attempt's later final set in vain), and counting
    // (block, key) pairs froze the batch with one Byzantine guardian silent (review of 17d8cc8).
    const atHeight = store.seenAll(batch).filter((s) => s.txHeight === txHeight);
    if (atHeight.length < this.t) return ok(undefined);
    // The outcome's tx key: one that f + 1 of them attested (at least one honest wallet's), else none.
    const keyed = atHeight.filter((s) => s.txKey.length > 0);
    const agreedKey = keyed.find(
      (s) => keyed.filter((o) => equalBytes(o.txKey, s.txKey)).length > this.f,
    )?.txKey;
    store.clearAttempt(batch);
    // No agreed key: the transaction that paid the batch was submitted by fewer than f + 1 of these
    // wallets (a withheld completion broadcast by its signer); the outcome then has the txid alone.
    const { goneTxid: _gone, ...paid } = b;
    const c = store.counters();
    const charge = this.feeCharge(store, b, c);
    store.putBatch(batch, {
      ...paid,
      phase: "done",
      txHeight,
      ...(agreedKey ? { txKey: agreedKey.slice() } : {}),
      feeAccounted: b.feeAccounted + charge,
    });
    store.setCounters({ ...c, current: 0, feesPaid: c.feesPaid + charge });
    this.resumeWaiting(store, agreedHeight);
    return ok(undefined);
  }

  /**
   * A Gone vote: `peer`'s node shows the batch's agreed transaction in neither chain nor pool, with
   * an input that is no output any more, for payoutConfirmations of its
   * blocks in a row (payout-watcher.ts). t votes re-open the batch: a submitted one gets a new,
   * unbound attempt at once; a confirmed one too if no batch is in flight, else it waits for it.
   */
  private onGone(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    attempt: number,
    agreedHeight: number,
  ): ModuleResult<void> {
    if (attempt !== b.attempt) return otherAttemptVote(batch, b, peer, attempt);
    if (b.phase === "waiting") return ok(undefined);
    // Before a txid is agreed, an attempt whose creator's set is ordered (phase sign or submit) may
    // be gone too: its input set is fixed by its creator's named inputs, which every completion
    // spends (seeds 20 and 38 of `--monero-deep-reorg-spent`: a deep reorg took one away while the
    // final set was submitted; `--monero-deep-reorg-signing`: while the set was being signed, after
    // which the signers refuse it and every next attempt is bound to its inputs, a freeze).
    const unagreed =
      !b.txid &&
      (b.phase === "submit" || (b.phase === "sign" && stepOf(b) > 0)) &&
      b.v2 &&
      this.attemptInputs(store, batch, b) !== undefined;
    if ((!b.txid && !unagreed) || (b.phase !== "submit" && b.phase !== "done" && !unagreed))
      return fail("not_submitted", `batch ${batch} has no agreed transaction to be gone`, { peer });
    if (b.phase === "done" && agreedHeight > b.txHeight + PAYOUT_GONE_WATCH_BLOCKS)
      return fail(
        "not_watched",
        `batch ${batch} was confirmed more than ${PAYOUT_GONE_WATCH_BLOCKS} blocks ago`,
        {
          peer,
        },
      );
    if (store.gone(batch, peer)) return ok(undefined);
    store.putGone(batch, peer);
    if (store.goneVoters(batch).length < this.t) return ok(undefined);
    // t guardians' nodes (at least t − f honest) saw it unmineable at depth: pay the batch again.
    const gone = b.txid;
    const c = store.counters();
    if (gone && b.phase === "done" && c.current !== 0 && c.current !== batch) {
      store.clearAttempt(batch);
      const { txid: _txid, txKey: _txKey, ...rest } = b;
      store.putBatch(batch, {
        ...rest,
        attempt: b.attempt + 1,
        phase: "waiting",
        phaseHeight: agreedHeight,
        txHeight: 0,
        inputs: [],
        goneTxid: gone,
      });
      store.setWaiting(batch, true);
      return ok(undefined);
    }
    if (b.phase === "done") store.setCounters({ ...c, current: batch });
    // The blame of the batch's earlier attempts is kept (no one is blamed for the reorg): a guardian
    // that was passed over as silent, or sent a set back, is excluded from the new attempt as from
    // any next one, rather than holding up its signing order for payoutRoundBlocks again (seed 48
    // of `--monero-deep-reorg-spent`: a silent Byzantine last signer of attempt 0 was last signer
    // again in the re-made attempt 2). A re-opened batch that waits for the batch in flight keeps it
    // too (above).
    this.nextAttempt(store, batch, b, agreedHeight, { ...(gone ? { gone } : {}), unbound: true });
    return ok(undefined);
  }

  /**
   * A Gone vote on the attempt's bound: `peer`'s node shows that an input of it can never be spent
   * (its source double-spent in the chain), while the attempt has no creator's set. Every earlier
   * attempt that could still be finished spends all of the bound (nextBound: each later bound is a
   * subset of an earlier attempt's named inputs), so t votes (at least t − f honest nodes) say none
   * of them can ever be mined: the bound is dropped and this attempt's creator spends any inputs.
   * Without that a deep reorg that took a bound input's source away froze the batch for good: no
   * creator can fund a set from the bound, attempt after attempt (`--monero-deep-reorg-signing`).
   * The current attempt is not re-made: it has no transaction yet, and one made under the old bound
   * was checked against it. Votes ordered once the creator's set is (the attempt's own transaction
   * may spend only the live part of the bound) are refused; they are cast on the set instead.
   */
  private onBoundGone(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    attempt: number,
    agreedHeight: number,
  ): ModuleResult<void> {
    if (attempt !== b.attempt) return otherAttemptVote(batch, b, peer, attempt);
    const open = b.phase === "export" || (b.phase === "sign" && stepOf(b) === 0);
    if (!b.v2 || b.bound.length === 0 || !open)
      return fail("not_bound", `batch ${batch} has no bound without a creator's set to be gone`, { peer });
    if (store.gone(batch, peer, "bound")) return ok(undefined);
    store.putGone(batch, peer, "bound");
    if (store.goneVoters(batch, "bound").length < this.t) return ok(undefined);
    // A fresh round for the creator if it is on its turn: it could not fund a set before. The txid
    // votes cast on the earlier attempts' completions (`paidEarlier`) go too: t guardians just said
    // none of them can be mined, and a voter's stale vote would refuse its vote for this attempt's
    // own completion (`already_voted`), fewer than t txids then coming with f guardians silent.
    store.clearVotes(batch);
    store.putBatch(batch, { ...b, bound: [], ...(b.phase === "sign" ? { phaseHeight: agreedHeight } : {}) });
    return ok(undefined);
  }

  /**
   * The key images every completion of the batch's current attempt spends: its creator's named
   * inputs (checked against the set by every honest signer, at least one of the t in the lineage).
   */
  private attemptInputs(store: PayoutStore, batch: number, b: BatchRecord): Uint8Array[] | undefined {
    const creator = b.signers[0];
    const blob = creator === undefined ? undefined : store.blob(batch, 0, creator);
    const named = blob ? decodeCreatorSet(blob)?.keyImages : undefined;
    return named && named.length > 0 ? named : undefined;
  }

  /** No batch in flight: the oldest re-opened batch waiting (if any) gets its new attempt now. */
  private resumeWaiting(store: PayoutStoreWriter, agreedHeight: number): void {
    const [next] = store.waiting();
    if (next === undefined) return;
    const b = store.batch(next);
    store.setWaiting(next, false);
    if (!b) return;
    store.setCounters({ ...store.counters(), current: next });
    store.putBatch(next, { ...b, ...freshRound(agreedHeight), bound: [] });
  }

  /** Timeouts: the agreed height moved. */
  onHeight(db: WriteTx, agreedHeight: number): void {
    const store = new PayoutStoreWriter(db);
    const current = store.counters().current;
    if (current === 0) return;
    const b = store.batch(current);
    if (!b || (b.phase !== "export" && b.phase !== "sign")) return;
    if (b.phase === "export") {
      if (
        agreedHeight >= b.phaseHeight + this.config.payoutExportWaitBlocks &&
        this.maybeStartSigning(store, current, b, agreedHeight, true)
      )
        return;
      if (agreedHeight >= b.phaseHeight + this.config.payoutRoundBlocks)
        this.nextAttempt(store, current, b, agreedHeight, { reset: true });
      return;
    }
    if (agreedHeight < b.phaseHeight + this.config.payoutRoundBlocks) return;
    const late = this.designated(b);
    if (stepOf(b) === 0 && this.canAbandon(b)) {
      // The creator is silent: only it can have signed its set; a fresh attempt without it.
      this.nextAttempt(store, current, b, agreedHeight, late === undefined ? {} : { blamed: late });
      return;
    }
    // Pass the silent signer over: the next participant signs the same set. Every completion of it
    // spends the same inputs, so one that the silent guardian keeps can never be mined beside it.
    const blamed = [...b.blamed];
    if (late !== undefined) blamed[late] = (blamed[late] ?? 0) + 1;
    this.passOver(store, current, { ...b, blamed }, late, agreedHeight);
  }

  // ---- what this guardian's watcher does next --------------------------------------------------

  duty(db: ReadTx, self: number): PayoutDuty | undefined {
    const store = new PayoutStore(db);
    const c = store.counters();
    if (c.current === 0)
      return c.firstQueued < c.nextSeq ? { kind: "export", batch: c.nextBatch, attempt: 0 } : undefined;
    const batch = c.current;
    const b = store.batch(batch);
    if (!b) return undefined;
    const { attempt } = b;
    switch (b.phase) {
      case "export":
        // Excluded guardians export too: they stand in when the others are fewer than t.
        return store.blob(batch, SLOT_EXPORT, self) ? undefined : { kind: "export", batch, attempt };
      case "sign": {
        const othersExports = b.order
          .filter((g) => g !== self)
          .map((g) => store.blob(batch, SLOT_EXPORT, g))
          .filter((x): x is Uint8Array => x !== undefined);
        // Bound and without a creator's set yet: the bound inputs may already be spent by a
        // completion of the earlier attempt that its keeper broadcast late (then no set can be
        // created: every guardian looks for that transaction and votes its txid).
        const bound = b.v2 && stepOf(b) === 0 && b.bound.length > 0 ? b.bound : undefined;
        // The txids the others voted: each guardian checks them on its own node (threat model 3d).
        const voted = bound ? votedByOthers(store, batch, self) : [];
        const withVoted = voted.length > 0 ? { voted } : {};
        if (this.designated(b) !== self) {
          if (b.order.includes(self) && !b.signers.includes(self))
            return {
              kind: "import",
              batch,
              attempt,
              othersExports,
              ...(bound ? { bound, ...withVoted } : {}),
            };
          return bound && !store.vote(batch, self)
            ? { kind: "paid", batch, attempt, bound, ...withVoted }
            : undefined;
        }
        const previous = b.signers[stepOf(b) - 1];
        const previousBlob = previous === undefined ? undefined : store.blob(batch, stepOf(b) - 1, previous);
        const txset = previousBlob && txsetOfBlob(stepOf(b) - 1, previousBlob);
        const creator = b.signers[0];
        const rootBlob = creator === undefined ? undefined : store.blob(batch, 0, creator);
        const root = stepOf(b) > 1 && rootBlob ? txsetOfBlob(0, rootBlob) : undefined;
        const rootSet = rootBlob && decodeCreatorSet(rootBlob);
        const keyImages = rootSet && rootSet.keyImages;
        const payouts = store.payoutsOf(b);
        const reserves = payouts.reduce((a, p) => a + p.fee, 0n);
        // The creator may pay up to what the batch may pay (its payouts' fees + the top-up); a
        // signer holds the set to what its creator declared (consensus bounded that), or, for a
        // set in the first form, to the payouts' fees.
        const feeMax =
          stepOf(b) === 0
            ? this.feeAllowed(store, b, reserves).allowed
            : ((rootSet && rootSet.fee) ?? reserves);
        return {
          kind: "sign",
          batch,
          attempt,
          slot: stepOf(b),
          othersExports,
          ...(txset ? { txset } : {}),
          ...(root ? { root } : {}),
          lineage: b.signers,
          destinations: payouts.map((p) => ({ address: p.address, amount: p.amount })),
          feeMax,
          last: stepOf(b) === this.t - 1,
          ...(stepOf(b) === 0 && b.bound.length > 0 ? { only: b.bound, ...withVoted } : {}),
          ...(stepOf(b) > 0 && keyImages ? { keyImages } : {}),
        };
      }
      case "submit": {
        const last = b.signers[this.t - 1];
        const lastBlob = last === undefined ? undefined : store.blob(batch, this.t - 1, last);
        const txset = lastBlob && txsetOfBlob(this.t - 1, lastBlob);
        if (b.txid)
          return store.seen(batch, self)
            ? undefined
            : { kind: "confirm", batch, attempt, txid: toHex(b.txid), ...(txset ? { txset } : {}) };
        const creator = b.signers[0];
        const rootBlob = creator === undefined ? undefined : store.blob(batch, 0, creator);
        const keyImages = rootBlob && decodeCreatorSet(rootBlob)?.keyImages;
        const own = store.vote(batch, self);
        if (own) {
          // Its node refused the set, another guardian voted a txid: that completion may be mined
          // after all (a deep reorg detached an input's source, then the miner released it). Its
          // txid vote, once its node shows it mined spending the named inputs (onTxid).
          if (!keyImages) return undefined;
          const voted = votedByOthers(store, batch, self);
          if ("fault" in own)
            return voted.length > 0 ? { kind: "paid", batch, attempt, bound: keyImages, voted } : undefined;
          // Its txid vote: another spender of the named inputs mined at depth replaces it.
          return {
            kind: "paid",
            batch,
            attempt,
            bound: keyImages,
            ...(voted.length > 0 ? { voted } : {}),
            replacing: own.txid,
          };
        }
        return txset
          ? { kind: "submit", batch, attempt, txset, lineage: b.signers, ...(keyImages ? { keyImages } : {}) }
          : undefined;
      }
      case "done":
      case "waiting":
        return undefined;
    }
  }

  /**
   * What this guardian watches for a deep reorg that makes it unmineable (and has not voted Gone on
   * yet): the batch in flight (its agreed txid; before one is agreed, its creator's named inputs,
   * and the completions the guardians voted; before a creator's set, its bound), and the latest
   * PAYOUT_GONE_WATCH_BATCHES confirmed batches mined within PAYOUT_GONE_WATCH_BLOCKS of the agreed
   * height. Only batches whose inputs are known (started by this version).
   */
  watched(db: ReadTx, self: number, agreedHeight: number): GoneWatch[] {
    const store = new PayoutStore(db);
    const c = store.counters();
    const out: GoneWatch[] = [];
    for (let n = c.nextBatch - 1; n >= 1 && n >= c.nextBatch - PAYOUT_GONE_WATCH_BATCHES; n--) {
      const b = store.batch(n);
      if (b && !b.txid && b.v2 && n === c.current && (b.phase === "export" || b.phase === "sign")) {
        const named = stepOf(b) > 0 ? this.attemptInputs(store, n, b) : undefined;
        if (named !== undefined && !store.gone(n, self))
          // Being signed: every completion will spend the creator's named inputs.
          out.push({ batch: n, attempt: b.attempt, keyImages: named, inputsOnly: "named" });
        else if (stepOf(b) === 0 && b.bound.length > 0 && !store.gone(n, self, "bound"))
          // No creator's set: every earlier attempt that could still be finished spends the bound.
          out.push({ batch: n, attempt: b.attempt, keyImages: b.bound, inputsOnly: "bound" });
        continue;
      }
      if (b && !b.txid && b.phase === "submit" && b.v2 && n === c.current && !store.gone(n, self)) {
        // Fully signed, no txid agreed yet: the attempt's named inputs (what every completion
        // spends, also when no guardian voted a txid: every node refused the final set), and the
        // completions the guardians voted (its own first), each checked against them.
        const named = this.attemptInputs(store, n, b);
        if (named === undefined) continue;
        out.push({ batch: n, attempt: b.attempt, keyImages: named, inputsOnly: "named" });
        const own = store.vote(n, self);
        const txids = own !== undefined && "txid" in own ? [own.txid] : [];
        for (const t of votedByOthers(store, n, self))
          if (!txids.some((x) => equalBytes(x, t))) txids.push(t);
        for (const t of txids)
          out.push({ batch: n, attempt: b.attempt, txid: toHex(t), keyImages: named, unagreed: true });
        continue;
      }
      if (!b?.txid || b.inputs.length === 0) continue;
      const confirming = b.phase === "submit" && n === c.current;
      const recent = b.phase === "done" && agreedHeight <= b.txHeight + PAYOUT_GONE_WATCH_BLOCKS;
      if ((!confirming && !recent) || store.gone(n, self)) continue;
      out.push({
        batch: n,
        attempt: b.attempt,
        txid: toHex(b.txid),
        keyImages: b.inputs,
        ...(recent ? { txHeight: b.txHeight } : {}),
      });
    }
    return out;
  }

  /** Chunk indexes of this guardian's blob in `slot` that consensus has not ordered yet. */
  missingChunks(db: ReadTx, batch: number, slot: number, self: number, total: number): number[] {
    const store = new PayoutStore(db);
    if (store.blob(batch, slot, self)) return [];
    return Array.from({ length: total }, (_, i) => i).filter((i) => !store.hasChunk(batch, slot, self, i));
  }
}

/**
 * A payout transaction a guardian watches for being made unmineable by a deep reorg: an agreed or
 * voted one (`txid`), or, with `inputsOnly`, the inputs every completion of the attempt spends.
 */
export type GoneWatch = GoneTxWatch | GoneInputsWatch;

/** The inputs of a batch's attempt that has no transaction to look up (no txid agreed or voted). */
export interface GoneInputsWatch {
  readonly batch: number;
  readonly attempt: number;
  /** "named": its creator's named inputs; "bound": its bound (a Gone vote with scope "bound"). */
  readonly inputsOnly: "named" | "bound";
  readonly keyImages: readonly Uint8Array[];
  readonly txid?: undefined;
  readonly txHeight?: undefined;
  readonly unagreed?: undefined;
}

export interface GoneTxWatch {
  readonly batch: number;
  readonly attempt: number;
  readonly inputsOnly?: undefined;
  readonly txid: string;
  /** Its inputs' key images (BatchRecord.inputs). */
  readonly keyImages: readonly Uint8Array[];
  /** The block it was agreed mined in, for a confirmed batch (a node below it says nothing). */
  readonly txHeight?: number;
  /**
   * A completion some guardian voted while no txid is agreed (any guardian may vote any txid): only
   * the attempt's named inputs (`keyImages`) count as evidence, not the voted transaction's own.
   */
  readonly unagreed?: boolean;
}

/** The distinct txids the guardians other than `self` voted for `batch` (one vote each: at most n − 1). */
function votedByOthers(store: PayoutStore, batch: number, self: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const { guardian, vote } of store.votes(batch))
    if (guardian !== self && "txid" in vote && !out.some((t) => equalBytes(t, vote.txid)))
      out.push(vote.txid);
  return out;
}

function shortAddress(a: string): string {
  return a.length > 16 ? `${a.slice(0, 8)}...${a.slice(-4)}` : a;
}
