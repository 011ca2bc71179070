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
//
// A batch: the oldest payoutBatchMax queued payouts when the first export of the next batch number
// is ordered (so payouts that arrive while the watchers export join it). One batch in flight.
// Attempt a of a batch:
//   export  every guardian's watcher proposes its export_multisig_info (slot 0xff). When t
//           guardians outside the excluded set have one, they are the participants P (by index):
//           the creator is P[(batch + a) mod t], the signing order is P rotated to start at it.
//   sign    order[s] proposes the transaction set after s + 1 signatures (slot s): the creator
//           imports the others' exports and creates the transfer, each next signer imports, checks
//           the set (pays exactly the batch, change to the federation, fee within the reserves) and
//           signs. A signer whose check refuses the previous set proposes Fault(slot s − 1).
//   submit  once t signatures are in, every guardian submits the final set (idempotent: measured,
//           a resubmission returns the same txid, even once mined) and votes its txid (or Fault(t)
//           if its node refuses it). t equal votes fix the txid ("submitted").
//   seen    each guardian attests the txid once it is payoutConfirmations deep on its own node,
//           with the tx key its wallet stored when it submitted; t equal (txHeight, txKey) confirm
//           the batch and the next one may start.
// Timeouts in agreed blocks (payoutRoundBlocks): an export or sign round that does not progress
// moves to attempt a + 1, blaming whoever's turn it was — except the last signer's turn, which never
// times out (a new attempt could let a withheld fully signed set pay the batch twice). A Fault blames the accused and the accuser
// (one of them lies or is broken); the excluded set is the f guardians with the most blame, so a
// liar that keeps accusing is excluded after two disputes. Nothing times out once the transaction
// set is fully signed (the transaction may be on its way): only t Fault(t) votes retry then.
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { TxOutput } from "@conclave/core-common";
import { fail, ok, sha256 } from "@conclave/core-server";
import type { ModuleResult, OutPoint, OutputMeta, ReadTx, WriteTx } from "@conclave/core-server";
import { MoneroAddressError, PICONERO_MAX, parseAddress } from "@conclave/monero";
import { agreementThreshold, faultTolerance } from "./common.js";
import type { MoneroConfig } from "./common.js";
import {
  DIGEST_BYTES,
  FEE_OVERPAY_FACTOR_MAX,
  SLOT_EXPORT,
  decodePayoutOutput,
  payoutFee,
} from "./payout-common.js";
import type { PayoutItem, PayoutOutcome } from "./payout-common.js";
import { moduleKey } from "./state.js";

const K_PAYOUT = 0x09;
const K_OUTPOINT = 0x0a;
const K_COUNTERS = 0x0b;
const K_BATCH = 0x0c;
const K_CHUNK = 0x0d;
const K_HEADER = 0x0e;
const K_BLOB = 0x0f;
const K_VOTE = 0x10;
const K_SEEN = 0x11;
const BATCH_SCOPED = [K_CHUNK, K_HEADER, K_BLOB, K_VOTE, K_SEEN];

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
}

export type BatchPhase = "export" | "sign" | "submit" | "done";
const PHASES: readonly BatchPhase[] = ["export", "sign", "submit", "done"];

export interface BatchRecord {
  readonly first: number;
  readonly count: number;
  readonly attempt: number;
  readonly phase: BatchPhase;
  /** The agreed height when the current round began (timeouts count from it). */
  readonly phaseHeight: number;
  /** Signing order of this attempt (participants rotated to start at the creator); empty in export. */
  readonly order: readonly number[];
  /** Signatures in (slots complete) during sign. */
  readonly step: number;
  readonly txid?: Uint8Array;
  readonly txHeight: number;
  readonly txKey?: Uint8Array;
  /** Per guardian, within this batch: times blamed (turn timed out, accused) and accusations made. */
  readonly blamed: readonly number[];
  readonly accused: readonly number[];
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
  w.u8(b.step).u8(b.txid ? 1 : 0);
  if (b.txid) w.fixed(b.txid, 32);
  w.u64(b.txHeight).u8(b.txKey ? b.txKey.length / 32 : 0);
  if (b.txKey) w.raw(b.txKey);
  w.u8(b.blamed.length);
  for (let g = 0; g < b.blamed.length; g++) w.u16(b.blamed[g] ?? 0).u16(b.accused[g] ?? 0);
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
  const step = r.u8();
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
  r.end();
  return {
    first,
    count,
    attempt,
    phase,
    phaseHeight,
    order,
    step,
    ...(txid ? { txid } : {}),
    txHeight,
    ...(txKey ? { txKey } : {}),
    blamed,
    accused,
  };
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Typed read access to the payout keys. */
export class PayoutStore {
  constructor(protected readonly db: ReadTx) {}

  counters(): PayoutCounters {
    const v = this.db.get(Uint8Array.of(K_COUNTERS));
    if (!v) return { nextSeq: 0, firstQueued: 0, nextBatch: 1, current: 0, paidOut: 0n };
    const r = new Reader(v);
    return {
      nextSeq: r.u64(),
      firstQueued: r.u64(),
      nextBatch: r.u64(),
      current: r.u64(),
      paidOut: r.u64big(),
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

  seenAll(batch: number): { guardian: number; txHeight: number; txKey: Uint8Array }[] {
    const prefix = key(K_SEEN, { u64: batch });
    return [...this.db.scan(prefix)].map(([k, v]) => ({
      guardian: new Reader(k.subarray(prefix.length)).u16(),
      txHeight: new Reader(v).u64(),
      txKey: v.slice(8),
    }));
  }
}

class PayoutStoreWriter extends PayoutStore {
  constructor(private readonly w: WriteTx) {
    super(w);
  }
  setCounters(c: PayoutCounters): void {
    this.w.put(
      Uint8Array.of(K_COUNTERS),
      new Writer()
        .u64(c.nextSeq)
        .u64(c.firstQueued)
        .u64(c.nextBatch)
        .u64(c.current)
        .u64big(c.paidOut)
        .finish(),
    );
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
      readonly kind: "sign";
      readonly batch: number;
      readonly attempt: number;
      /** The slot this guardian fills: 0 creates the transfer. */
      readonly slot: number;
      /** The other participants' exports (hex-decoded), to import first. */
      readonly othersExports: readonly Uint8Array[];
      /** The previous slot's transaction set (slot > 0). */
      readonly txset?: Uint8Array;
      readonly destinations: readonly { address: string; amount: bigint }[];
      readonly feeMax: bigint;
      /** This guardian signs last: its set is the final one. */
      readonly last: boolean;
    }
  | { readonly kind: "submit"; readonly batch: number; readonly attempt: number; readonly txset: Uint8Array }
  | {
      readonly kind: "confirm";
      readonly batch: number;
      readonly attempt: number;
      readonly txid: string;
      /** The final set, to resubmit if this wallet lost the tx key (it stores it when it submits). */
      readonly txset?: Uint8Array;
    };

/** The deterministic payout rules of one module instance. */
export class Payouts {
  private readonly n: number;
  private readonly t: number;
  private readonly f: number;

  constructor(private readonly config: MoneroConfig) {
    this.n = config.guardians;
    this.t = agreementThreshold(config.guardians);
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
    const store = new PayoutStoreWriter(db);
    if (store.seqOf(outPoint) !== undefined) throw new Error("monero: an outpoint was paid twice");
    const c = store.counters();
    store.putPayout(c.nextSeq, {
      txid: outPoint.txid,
      index: outPoint.index,
      address,
      amount: output.amount,
      fee,
      batch: 0,
    });
    store.putOutPoint(outPoint, c.nextSeq);
    store.setCounters({ ...c, nextSeq: c.nextSeq + 1, paidOut: c.paidOut + output.amount + fee });
    return ok({ amount: output.amount, fee });
  }

  paidOut(db: ReadTx): bigint {
    return new PayoutStore(db).counters().paidOut;
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
    switch (b.phase) {
      case "export":
        return {
          ...base,
          state: "signing",
          attempt: b.attempt,
          round: `exporting multisig info: ${store.blobOwners(p.batch, SLOT_EXPORT).length} of ${this.t} guardians`,
        };
      case "sign":
        return { ...base, state: "signing", attempt: b.attempt, round: `signatures: ${b.step} of ${this.t}` };
      case "submit":
        return b.txid
          ? { ...base, state: "submitted", attempt: b.attempt, moneroTxid: toHex(b.txid) }
          : {
              ...base,
              state: "signing",
              attempt: b.attempt,
              round: `submitting: ${this.t} of ${this.t} signatures`,
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
    if (b.phase === "done") return ok(undefined); // late items of a finished batch change nothing
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
        return this.onTxid(store, item.batch, b, peer, item.txid);
      case "fault":
        return this.onFault(store, item.batch, b, peer, item.slot, agreedHeight);
      case "seen":
        return this.onSeen(store, item.batch, b, peer, item.txHeight, item.txKey);
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
      phase: "export",
      phaseHeight: agreedHeight,
      order: [],
      step: 0,
      txHeight: 0,
      blamed: new Array<number>(this.n).fill(0),
      accused: new Array<number>(this.n).fill(0),
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
      if (b.phase !== "sign" || slot < b.step) return ok(undefined); // late duplicate
      if (slot > b.step || b.order[slot] !== peer)
        return fail("not_your_turn", `slot ${slot} of batch ${batch} is not guardian ${peer}'s to fill`, {
          peer,
        });
    }
    if (store.blob(batch, slot, peer)) return ok(undefined);
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
    store.completeBlob(batch, slot, peer, blob);
    if (slot === SLOT_EXPORT) this.maybeStartSigning(store, batch, b, agreedHeight);
    else {
      const step = slot + 1;
      store.putBatch(batch, {
        ...b,
        step,
        phase: step === this.t ? "submit" : "sign",
        phaseHeight: agreedHeight,
      });
    }
    return ok(undefined);
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

  private maybeStartSigning(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    agreedHeight: number,
  ): void {
    const excluded = this.excluded(b);
    const ready = store.blobOwners(batch, SLOT_EXPORT).filter((g) => !excluded.has(g));
    if (ready.length < this.t) return;
    const participants = ready.slice(0, this.t);
    const creator = (batch + b.attempt) % this.t;
    const order = [...participants.slice(creator), ...participants.slice(0, creator)];
    store.putBatch(batch, { ...b, phase: "sign", order, step: 0, phaseHeight: agreedHeight });
  }

  private nextAttempt(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    agreedHeight: number,
    blame: { blamed?: number; accuser?: number; reset?: boolean },
  ): void {
    const blamed = blame.reset ? new Array<number>(this.n).fill(0) : [...b.blamed];
    const accused = blame.reset ? new Array<number>(this.n).fill(0) : [...b.accused];
    if (blame.blamed !== undefined) blamed[blame.blamed] = (blamed[blame.blamed] ?? 0) + 1;
    if (blame.accuser !== undefined) accused[blame.accuser] = (accused[blame.accuser] ?? 0) + 1;
    store.clearAttempt(batch);
    const { txid: _txid, txKey: _txKey, ...rest } = b;
    store.putBatch(batch, {
      ...rest,
      attempt: b.attempt + 1,
      phase: "export",
      phaseHeight: agreedHeight,
      order: [],
      step: 0,
      txHeight: 0,
      blamed,
      accused,
    });
  }

  private onTxid(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    txid: Uint8Array,
  ): ModuleResult<void> {
    if (b.phase !== "submit") return fail("not_submitting", `batch ${batch} is not fully signed`, { peer });
    const previous = store.vote(batch, peer);
    if (previous)
      return "txid" in previous && equalBytes(previous.txid, txid)
        ? ok(undefined)
        : fail("already_voted", `guardian ${peer} already voted on batch ${batch}`, { peer });
    store.putVote(batch, peer, { txid });
    if (!b.txid) {
      const same = store.votes(batch).filter((v) => "txid" in v.vote && equalBytes(v.vote.txid, txid)).length;
      if (same >= this.t) store.putBatch(batch, { ...b, txid });
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
      if (faults >= this.t)
        this.nextAttempt(store, batch, b, agreedHeight, { blamed: b.order[this.t - 1] ?? 0 });
      return ok(undefined);
    }
    // A signer refuses the previous set: only the guardian whose turn it is may say so.
    if (b.phase !== "sign" || slot + 1 !== b.step || b.order[b.step] !== peer)
      return fail("stale_fault", `guardian ${peer} cannot refuse slot ${slot} of batch ${batch} now`, {
        peer,
      });
    const accusedGuardian = b.order[slot];
    this.nextAttempt(store, batch, b, agreedHeight, {
      ...(accusedGuardian === undefined ? {} : { blamed: accusedGuardian }),
      accuser: peer,
    });
    return ok(undefined);
  }

  private onSeen(
    store: PayoutStoreWriter,
    batch: number,
    b: BatchRecord,
    peer: number,
    txHeight: number,
    txKey: Uint8Array,
  ): ModuleResult<void> {
    if (b.phase !== "submit" || !b.txid)
      return fail("not_submitted", `batch ${batch} has no agreed txid`, { peer });
    const previous = store.seen(batch, peer);
    if (previous)
      return previous.txHeight === txHeight && equalBytes(previous.txKey, txKey)
        ? ok(undefined)
        : fail("already_attested", `guardian ${peer} already attested batch ${batch}`, { peer });
    store.putSeen(batch, peer, txHeight, txKey);
    const same = store
      .seenAll(batch)
      .filter((s) => s.txHeight === txHeight && equalBytes(s.txKey, txKey)).length;
    if (same < this.t) return ok(undefined);
    store.clearAttempt(batch);
    store.putBatch(batch, { ...b, phase: "done", txHeight, txKey });
    const c = store.counters();
    store.setCounters({ ...c, current: 0 });
    return ok(undefined);
  }

  /** Timeouts: the agreed height moved. */
  onHeight(db: WriteTx, agreedHeight: number): void {
    const store = new PayoutStoreWriter(db);
    const current = store.counters().current;
    if (current === 0) return;
    const b = store.batch(current);
    if (!b || (b.phase !== "export" && b.phase !== "sign")) return;
    if (agreedHeight < b.phaseHeight + this.config.payoutRoundBlocks) return;
    // The last signer's turn never times out: it holds a set signed by t − 1, and its own signature
    // completes a valid transaction that it could broadcast at any time. A new attempt would build
    // another transaction from possibly other inputs, and a Byzantine last signer could then get
    // both mined: the batch paid twice. A silent last signer stalls the batch (liveness) instead;
    // a retry that spends the same inputs would lift that (future work, docs/monero.md).
    if (b.phase === "sign" && b.step === this.t - 1) return;
    if (b.phase === "export") this.nextAttempt(store, current, b, agreedHeight, { reset: true });
    else this.nextAttempt(store, current, b, agreedHeight, { blamed: b.order[b.step] ?? 0 });
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
        return store.blob(batch, SLOT_EXPORT, self) || this.excluded(b).has(self)
          ? undefined
          : { kind: "export", batch, attempt };
      case "sign": {
        if (b.order[b.step] !== self) return undefined;
        const othersExports = b.order
          .filter((g) => g !== self)
          .map((g) => store.blob(batch, SLOT_EXPORT, g))
          .filter((x): x is Uint8Array => x !== undefined);
        const txset = b.step > 0 ? store.blob(batch, b.step - 1, b.order[b.step - 1] ?? -1) : undefined;
        const payouts = store.payoutsOf(b);
        return {
          kind: "sign",
          batch,
          attempt,
          slot: b.step,
          othersExports,
          ...(txset ? { txset } : {}),
          destinations: payouts.map((p) => ({ address: p.address, amount: p.amount })),
          feeMax: payouts.reduce((a, p) => a + p.fee, 0n),
          last: b.step === this.t - 1,
        };
      }
      case "submit": {
        const last = b.order[this.t - 1];
        const txset = last === undefined ? undefined : store.blob(batch, this.t - 1, last);
        if (b.txid)
          return store.seen(batch, self)
            ? undefined
            : { kind: "confirm", batch, attempt, txid: toHex(b.txid), ...(txset ? { txset } : {}) };
        if (store.vote(batch, self)) return undefined;
        return txset ? { kind: "submit", batch, attempt, txset } : undefined;
      }
      case "done":
        return undefined;
    }
  }

  /** Chunk indexes of this guardian's blob in `slot` that consensus has not ordered yet. */
  missingChunks(db: ReadTx, batch: number, slot: number, self: number, total: number): number[] {
    const store = new PayoutStore(db);
    if (store.blob(batch, slot, self)) return [];
    return Array.from({ length: total }, (_, i) => i).filter((i) => !store.hasChunk(batch, slot, self, i));
  }
}

function shortAddress(a: string): string {
  return a.length > 16 ? `${a.slice(0, 8)}...${a.slice(-4)}` : a;
}
