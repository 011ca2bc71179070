// The bridge module's consensus state (its own key space; identical on every honest guardian: it
// holds no secret and nothing a single guardian's node decided alone):
//
//   0x01 | guardian u16                    -> block u64 | timestamp u64     each guardian's scanned EVM block
//   0x02 | txid (32) | index u32           -> MintRecord                    accepted "wXMR to <address>" outputs
//   0x03 | burn tx hash (32) | log u32     -> AcceptedBurn                  burns t guardians voted equally
//   0x04 | burn tx hash | log | guardian u16 -> BurnSeen                    votes for burns not yet accepted
//   0x05 | guardian u16                    -> u32                           that guardian's votes not yet accepted
//   0x06                                   -> signed u64 | burned u64 | unsettled u64 [| returnable u64 [| returned ever u64]]   totals
//   0x07 | burn tx hash | log u32          -> MintRecord                    re-mints of burns that cannot be paid
//   0x08 | guardian u16 | deadline u64 | txid | index u32 [| 0x01] -> ()    mints that guardian has not voted on, by deadline
//                                                                            (refundable and 0x01 outputs; 0x01 at the end: a re-mint, burn key)
//   0x09 | txid | index u32 | guardian u16 -> used u8                       expiry votes of mints not yet decided
//   0x0a | txid | index u32                -> ExpiryOutcome u8 [| amount u64 | fee u64]   decided: returnable, refunded, minted
//                                                                            or paid_out (a 0x03 mint's Monero payout: what it pays, the fee)
//   0x0b | refund key (32) | txid | index u32 -> ()                         refundable mints by their refund key, in txid
//                                                                            order: the layout before 12zf, only read and
//                                                                            moved to 0x12 (see refundKeyEntries)
//   0x10 | source u8 | id | index u32      -> Reissue                       a re-issuable mint (0x01 output: source 0, id = txid;
//                                                                            re-mint: 1, burn key) once decided: its current attempt, or minted
//   0x11 | source u8 | id | index u32 | guardian u16 -> used u8             votes on a re-issuable mint's current attempt
//   0x12 | refund key (32) | position u32  -> txid | index u32              refundable mints by their refund key, in
//                                                                            acceptance order (position 0, 1, …; at most
//                                                                            REFUND_KEY_PAGES_MAX × REFUND_KEY_PAGE_ENTRIES)
//   0x13 | refund key (32)                 -> u32                           how many 0x12 entries that key has
//   0x14                                   -> block u64                     the highest EVM block of an accepted burn
//   0x1e                                   -> version u8                    the expiry queue was back-filled (enqueueUnqueued)
import { Reader, Writer } from "@conclave/core-common";
import type { ReadTx, WriteTx } from "@conclave/core-server";
import { addressBytes, addressOf, decodeBurnSeen, encodeBurnSeen, sameBurnMoved } from "./common.js";
import type { BurnKey, BurnSeen, EvmAddress, MintKey } from "./common.js";
import { REFUND_KEY_PAGES_MAX, REFUND_KEY_PAGE_ENTRIES } from "./api.js";

const SCANNED = 0x01;
const MINT = 0x02;
const BURN = 0x03;
const VOTE = 0x04;
const OPEN_VOTES = 0x05;
const TOTALS = Uint8Array.of(0x06);
const REMINT = 0x07;
const EXPIRY_DUE = 0x08;
const EXPIRY_VOTE = 0x09;
const EXPIRY_OUTCOME = 0x0a;
const BY_REFUND_KEY = 0x0b;
// 0x0c..0x0e are lookup-index.ts's.
const REISSUE = 0x10;
const REISSUE_VOTE = 0x11;
const REFUND_ENTRY = 0x12;
const REFUND_ENTRIES = 0x13;
const BURN_BLOCK_MAX = Uint8Array.of(0x14);

/** Mints one refund key lists at most (api.ts: REFUND_KEY_PAGES_MAX pages of REFUND_KEY_PAGE_ENTRIES). */
export const REFUND_KEY_ENTRIES_MAX = REFUND_KEY_PAGES_MAX * REFUND_KEY_PAGE_ENTRIES;

const refundEntryKey = (refundKey: Uint8Array, position: number): Uint8Array =>
  new Writer().u8(REFUND_ENTRY).fixed(refundKey, 32).u32(position).finish();
const refundEntriesKey = (refundKey: Uint8Array): Uint8Array =>
  new Writer().u8(REFUND_ENTRIES).fixed(refundKey, 32).finish();
const legacyPrefix = (refundKey: Uint8Array): Uint8Array =>
  new Writer().u8(BY_REFUND_KEY).fixed(refundKey, 32).finish();
const QUEUE_BACKFILLED = 0x1e;
/** The version of the expiry queue's back-fill a state has had (enqueueUnqueued). */
export const QUEUE_BACKFILL_VERSION = 1;

/**
 * A mint the guardians sign that has no refund key: a 0x01 output (txid, index) or, with `remint`,
 * the re-mint of a burn (its tx hash, log index). Expired unminted, it is re-issued.
 */
export interface MintRef extends MintKey {
  readonly remint?: boolean;
}

/**
 * Where a re-issuable mint stands once t guardians decided an attempt: `attempt` (1, 2, …) is signed
 * now with this deadline and set index (the earlier attempts can never mint: their deadlines are past
 * and their deposit ids unused at depth), or `minted` (attempt `attempt` was minted on chain).
 * Absent: attempt 0, the record's own deadline and set index, undecided.
 */
export interface Reissue {
  readonly attempt: number;
  readonly deadline: bigint;
  readonly setIndex: number;
  readonly minted: boolean;
}

export interface MintRecord {
  readonly recipient: EvmAddress;
  readonly amount: bigint;
  readonly deadline: bigint;
  readonly setIndex: number;
  /** The 0x02 output's refund key (Ed25519): the mint is returned to it if it expires unminted. */
  readonly refundKey?: Uint8Array;
  /** The 0x03 output's Monero refund address: an expired unminted mint is paid back there. */
  readonly refundAddress?: string;
}

/**
 * What t equal expiry votes decided for a refundable mint: `returnable` (its deposit id unused at
 * depth past the deadline: input 0x02 is worth its amount), `refunded` (that input was spent), or
 * `minted` (minted on chain, or queued above the cap past the time a guardian may cancel it; a
 * cancelled one is `returnable`).
 */
export type ExpiryOutcome = "returnable" | "refunded" | "minted" | "paid_out";
// Stored by index: new outcomes go at the end. `paid_out`: a 0x03 mint handed to the monero module's
// payouts (the value carries what the payout pays and the fee deducted).
const OUTCOMES: readonly ExpiryOutcome[] = ["returnable", "refunded", "minted", "paid_out"];

/**
 * What an accepted burn became: a Monero payout handed to the monero module (`payout`, with what it
 * pays and the fee deducted), e-cash its claim key can take (an input of this module), taken, or a
 * re-mint to the burner's EVM address (a destination the federation cannot pay, or a payout the
 * monero module refused). `payout_pending` is only read from records of the version before the
 * hand-over existed (nothing writes it now).
 */
export type Settlement = "payout_pending" | "claimable" | "claimed" | "reminted" | "payout";
const SETTLEMENTS: readonly Settlement[] = ["payout_pending", "claimable", "claimed", "reminted", "payout"];

export interface AcceptedBurn {
  readonly burn: BurnSeen;
  readonly settlement: Settlement;
  /** Why a kind-0 burn was re-minted (its destination is not an address of the federation's network). */
  readonly reason?: string;
  /** `payout`: what the Monero payout pays and the fee deducted from the burn (amount + fee = burned). */
  readonly payout?: { readonly amount: bigint; readonly fee: bigint };
}

export interface Totals {
  /** Σ amounts of every mint the guardians sign (outputs and re-mints). */
  readonly signed: bigint;
  /** Σ amounts of accepted burns. */
  readonly burned: bigint;
  /** Σ amounts of accepted burns still owed (payout pending, claimable). */
  readonly unsettled: bigint;
  /** Σ amounts of returned mints (t guardians saw them unminted past the deadline) not yet refunded. */
  readonly returnable: bigint;
  /**
   * Σ amounts that ever left Σ signed (mints t guardians saw unminted past their deadline: returned
   * or paid back in Monero); only grows. The accountant's supply_check carries it (server.ts).
   */
  readonly returnedEver: bigint;
}

const burnKeyBytes = (prefix: number, key: BurnKey): Writer =>
  new Writer().u8(prefix).fixed(key.txHash, 32).u32(key.logIndex);

function encodeMint(m: MintRecord): Uint8Array {
  const w = new Writer()
    .fixed(addressBytes(m.recipient), 20)
    .u64big(m.amount)
    .u64big(m.deadline)
    .u32(m.setIndex);
  if (m.refundKey) w.fixed(m.refundKey, 32);
  if (m.refundKey && m.refundAddress !== undefined) {
    const a = new TextEncoder().encode(m.refundAddress);
    w.u8(a.length).fixed(a, a.length);
  }
  return w.finish();
}

function decodeMint(bytes: Uint8Array): MintRecord {
  const r = new Reader(bytes);
  const m = {
    recipient: addressOf(r.fixed(20)),
    amount: r.u64big(),
    deadline: r.u64big(),
    setIndex: r.u32(),
  };
  if (r.remaining === 0) return m;
  const refundKey = r.fixed(32);
  if (r.remaining === 0) return { ...m, refundKey };
  const refundAddress = new TextDecoder().decode(r.fixed(r.u8()));
  r.end();
  return { ...m, refundKey, refundAddress };
}

const mintKeyBytes = (prefix: number, key: MintKey): Writer =>
  new Writer().u8(prefix).fixed(key.txid, 32).u32(key.index);

const dueKey = (guardian: number, deadline: bigint, key: MintRef): Uint8Array => {
  const w = new Writer().u8(EXPIRY_DUE).u16(guardian).u64big(deadline).fixed(key.txid, 32).u32(key.index);
  if (key.remint === true) w.u8(1);
  return w.finish();
};

const refBytes = (prefix: number, ref: MintRef): Writer =>
  new Writer()
    .u8(prefix)
    .u8(ref.remint === true ? 1 : 0)
    .fixed(ref.txid, 32)
    .u32(ref.index);

function decodeAcceptedBurn(v: Uint8Array): AcceptedBurn {
  const r = new Reader(v);
  const settlement = SETTLEMENTS[r.u8()];
  if (!settlement) throw new Error("bridge state: unknown settlement");
  const reason = r.u8() === 1 ? new TextDecoder().decode(r.bytes(1024)) : undefined;
  const burn = decodeBurnSeen(r);
  const payout = r.remaining > 0 ? { amount: r.u64big(), fee: r.u64big() } : undefined;
  return {
    burn,
    settlement,
    ...(reason === undefined ? {} : { reason }),
    ...(payout === undefined ? {} : { payout }),
  };
}

export class BridgeState {
  constructor(protected readonly db: ReadTx) {}

  scanned(guardian: number): { block: bigint; timestamp: bigint } | undefined {
    const v = this.db.get(new Writer().u8(SCANNED).u16(guardian).finish());
    if (!v) return undefined;
    const r = new Reader(v);
    return { block: r.u64big(), timestamp: r.u64big() };
  }

  mint(txid: Uint8Array, index: number): MintRecord | undefined {
    const v = this.db.get(new Writer().u8(MINT).fixed(txid, 32).u32(index).finish());
    return v ? decodeMint(v) : undefined;
  }

  remint(key: BurnKey): MintRecord | undefined {
    const v = this.db.get(burnKeyBytes(REMINT, key).finish());
    return v ? decodeMint(v) : undefined;
  }

  /** The burns accepted from one transaction (every log index), in log index order. */
  burnsOfTx(txHash: Uint8Array): AcceptedBurn[] {
    const out: AcceptedBurn[] = [];
    // Keys 0x03 | tx hash | log u32: the scan's values are the records themselves.
    for (const [k, v] of this.db.scan(new Writer().u8(BURN).fixed(txHash, 32).finish()))
      if (k.length === 37) out.push(decodeAcceptedBurn(v));
    return out;
  }

  /** An accepted burn that `seen` is the same burn as, at another log index (common.ts sameBurnMoved). */
  movedFrom(seen: BurnSeen): AcceptedBurn | undefined {
    return this.burnsOfTx(seen.txHash).find((a) => sameBurnMoved(a.burn, seen));
  }

  /** The highest EVM block of any accepted burn (0 before the first): the accountant's bound. */
  highestBurnBlock(): bigint {
    const v = this.db.get(BURN_BLOCK_MAX);
    return v ? new Reader(v).u64big() : 0n;
  }

  burn(key: BurnKey): AcceptedBurn | undefined {
    const v = this.db.get(burnKeyBytes(BURN, key).finish());
    return v ? decodeAcceptedBurn(v) : undefined;
  }

  vote(key: BurnKey, guardian: number): BurnSeen | undefined {
    const v = this.db.get(burnKeyBytes(VOTE, key).u16(guardian).finish());
    return v ? decodeBurnSeen(new Reader(v)) : undefined;
  }

  votes(key: BurnKey): { guardian: number; burn: BurnSeen }[] {
    const out = [];
    for (const [k, v] of this.db.scan(burnKeyBytes(VOTE, key).finish())) {
      const guardian = new Reader(k.subarray(k.length - 2)).u16();
      out.push({ guardian, burn: decodeBurnSeen(new Reader(v)) });
    }
    return out;
  }

  openVotes(guardian: number): number {
    const v = this.db.get(new Writer().u8(OPEN_VOTES).u16(guardian).finish());
    return v ? new Reader(v).u32() : 0;
  }

  totals(): Totals {
    const v = this.db.get(TOTALS);
    if (!v) return { signed: 0n, burned: 0n, unsettled: 0n, returnable: 0n, returnedEver: 0n };
    const r = new Reader(v);
    const t = { signed: r.u64big(), burned: r.u64big(), unsettled: r.u64big() };
    const returnable = r.remaining > 0 ? r.u64big() : 0n;
    return { ...t, returnable, returnedEver: r.remaining > 0 ? r.u64big() : 0n };
  }

  /**
   * Refundable mints guardian `guardian` has not voted on whose deadline is below `before`, in
   * deadline order, at most `max` (its own queue: the scan reads only what it still has to vote on).
   */
  dueMints(guardian: number, before: bigint, max: number): (MintRef & { deadline: bigint })[] {
    const out: (MintRef & { deadline: bigint })[] = [];
    for (const [k] of this.db.scan(new Writer().u8(EXPIRY_DUE).u16(guardian).finish())) {
      const r = new Reader(k.subarray(3));
      const deadline = r.u64big();
      if (deadline >= before || out.length >= max) break;
      const txid = r.fixed(32);
      const index = r.u32();
      out.push(r.remaining > 0 ? { deadline, txid, index, remint: true } : { deadline, txid, index });
    }
    return out;
  }

  isDue(guardian: number, deadline: bigint, key: MintRef): boolean {
    return this.db.get(dueKey(guardian, deadline, key)) !== undefined;
  }

  reissue(ref: MintRef): Reissue | undefined {
    const v = this.db.get(refBytes(REISSUE, ref).finish());
    if (!v) return undefined;
    const r = new Reader(v);
    return { attempt: r.u32(), deadline: r.u64big(), setIndex: r.u32(), minted: r.u8() === 1 };
  }

  /** The back-fill version this state has had (0: none, a store written before it existed). */
  queueBackfilled(): number {
    return this.db.get(Uint8Array.of(QUEUE_BACKFILLED))?.[0] ?? 0;
  }

  /** Votes on a re-issuable mint's current attempt. */
  reissueVotes(ref: MintRef): { guardian: number; used: boolean }[] {
    const out = [];
    for (const [k, v] of this.db.scan(refBytes(REISSUE_VOTE, ref).finish()))
      out.push({ guardian: new Reader(k.subarray(k.length - 2)).u16(), used: v[0] === 1 });
    return out;
  }

  expiryVotes(key: MintKey): { guardian: number; used: boolean }[] {
    const out = [];
    for (const [k, v] of this.db.scan(mintKeyBytes(EXPIRY_VOTE, key).finish()))
      out.push({ guardian: new Reader(k.subarray(k.length - 2)).u16(), used: v[0] === 1 });
    return out;
  }

  /**
   * How many refundable mints name `refundKey` in the index (at most REFUND_KEY_ENTRIES_MAX). A key
   * whose mints were all accepted before the acceptance-order index existed has no count yet: its
   * entries are the old layout's (0x0b, txid order), counted here.
   */
  refundKeyEntries(refundKey: Uint8Array): number {
    const v = this.db.get(refundEntriesKey(refundKey));
    if (v) return new Reader(v).u32();
    let legacy = 0;
    for (const _ of this.db.scan(legacyPrefix(refundKey))) legacy++;
    return legacy;
  }

  /**
   * Entries `from` to `from + count − 1` of the refundable mints naming `refundKey`, in acceptance
   * order (a wallet restored from its recovery phrase finds its mints by its refund keys). Reads
   * `count` records (a key never moved to the 0x12 layout: its old entries in txid order, skipped to
   * `from`).
   */
  mintsByRefundKey(refundKey: Uint8Array, from: number, count: number): MintKey[] {
    const out: MintKey[] = [];
    if (this.db.get(refundEntriesKey(refundKey)) === undefined) {
      let i = 0;
      for (const [k] of this.db.scan(legacyPrefix(refundKey))) {
        if (out.length >= count) break;
        if (i++ < from) continue;
        const r = new Reader(k.subarray(33));
        out.push({ txid: r.fixed(32), index: r.u32() });
      }
      return out;
    }
    for (let position = from; out.length < count; position++) {
      const v = this.db.get(refundEntryKey(refundKey, position));
      if (!v) break;
      const r = new Reader(v);
      out.push({ txid: r.fixed(32), index: r.u32() });
    }
    return out;
  }

  expiryOutcome(key: MintKey): ExpiryOutcome | undefined {
    const v = this.db.get(mintKeyBytes(EXPIRY_OUTCOME, key).finish());
    if (!v) return undefined;
    const outcome = OUTCOMES[v[0]!];
    if (!outcome) throw new Error("bridge state: unknown expiry outcome");
    return outcome;
  }

  /** What the Monero payout of a `paid_out` mint pays and the fee deducted (amount + fee = the mint). */
  refundPayout(key: MintKey): { amount: bigint; fee: bigint } | undefined {
    const v = this.db.get(mintKeyBytes(EXPIRY_OUTCOME, key).finish());
    if (!v || OUTCOMES[v[0]!] !== "paid_out") return undefined;
    const r = new Reader(v.subarray(1));
    return { amount: r.u64big(), fee: r.u64big() };
  }
}

export class BridgeStateWriter extends BridgeState {
  constructor(private readonly w: WriteTx) {
    super(w);
  }

  /** The module's own transaction as the core gave it (for the core's module links). */
  get tx(): WriteTx {
    return this.w;
  }

  setScanned(guardian: number, block: bigint, timestamp: bigint): void {
    this.w.put(
      new Writer().u8(SCANNED).u16(guardian).finish(),
      new Writer().u64big(block).u64big(timestamp).finish(),
    );
  }

  putMint(txid: Uint8Array, index: number, m: MintRecord): void {
    this.w.put(new Writer().u8(MINT).fixed(txid, 32).u32(index).finish(), encodeMint(m));
  }

  putRemint(key: BurnKey, m: MintRecord): void {
    this.w.put(burnKeyBytes(REMINT, key).finish(), encodeMint(m));
  }

  putBurn(key: BurnKey, accepted: AcceptedBurn): void {
    const w = new Writer().u8(SETTLEMENTS.indexOf(accepted.settlement));
    if (accepted.reason === undefined) w.u8(0);
    else w.u8(1).bytes(new TextEncoder().encode(accepted.reason.slice(0, 200)));
    encodeBurnSeen(w, accepted.burn);
    if (accepted.payout) w.u64big(accepted.payout.amount).u64big(accepted.payout.fee);
    this.w.put(burnKeyBytes(BURN, key).finish(), w.finish());
    if (accepted.burn.blockNumber > this.highestBurnBlock())
      this.w.put(BURN_BLOCK_MAX, new Writer().u64big(accepted.burn.blockNumber).finish());
  }

  putVote(key: BurnKey, guardian: number, burn: BurnSeen): void {
    this.w.put(burnKeyBytes(VOTE, key).u16(guardian).finish(), encodeBurnSeen(new Writer(), burn).finish());
  }

  deleteVote(key: BurnKey, guardian: number): void {
    this.w.delete(burnKeyBytes(VOTE, key).u16(guardian).finish());
  }

  setOpenVotes(guardian: number, count: number): void {
    this.w.put(new Writer().u8(OPEN_VOTES).u16(guardian).finish(), new Writer().u32(count).finish());
  }

  setTotals(t: Totals): void {
    this.w.put(
      TOTALS,
      new Writer()
        .u64big(t.signed)
        .u64big(t.burned)
        .u64big(t.unsettled)
        .u64big(t.returnable)
        .u64big(t.returnedEver)
        .finish(),
    );
  }

  /** A mint enters every guardian's queue of mints to vote on once past its deadline. */
  putDue(guardians: number, deadline: bigint, key: MintRef): void {
    for (let g = 0; g < guardians; g++) this.w.put(dueKey(g, deadline, key), new Uint8Array());
  }

  /**
   * A refundable mint, found again by its refund key (mintsByRefundKey) at the next position. The
   * caller refuses the output first when the key has REFUND_KEY_ENTRIES_MAX (refundKeyEntries). A
   * key with only entries of the old layout (0x0b, before 12zf) has them moved first, in their txid
   * order, to positions 0, 1, …: every guardian moves the same entries in the same transition, so
   * the state stays equal everywhere.
   */
  putByRefundKey(refundKey: Uint8Array, key: MintKey): void {
    let count = this.refundKeyEntries(refundKey);
    if (this.w.get(refundEntriesKey(refundKey)) === undefined && count > 0) {
      const legacy = [...this.w.scan(legacyPrefix(refundKey))].map(([k]) => k);
      count = 0;
      for (const k of legacy) {
        this.w.delete(k);
        if (count < REFUND_KEY_ENTRIES_MAX) this.w.put(refundEntryKey(refundKey, count++), k.subarray(33));
      }
    }
    if (count >= REFUND_KEY_ENTRIES_MAX) throw new Error("bridge state: refund key full (refused before)");
    this.w.put(refundEntryKey(refundKey, count), new Writer().fixed(key.txid, 32).u32(key.index).finish());
    this.w.put(refundEntriesKey(refundKey), new Writer().u32(count + 1).finish());
  }

  deleteDue(guardian: number, deadline: bigint, key: MintRef): void {
    this.w.delete(dueKey(guardian, deadline, key));
  }

  putReissue(ref: MintRef, r: Reissue): void {
    this.w.put(
      refBytes(REISSUE, ref).finish(),
      new Writer()
        .u32(r.attempt)
        .u64big(r.deadline)
        .u32(r.setIndex)
        .u8(r.minted ? 1 : 0)
        .finish(),
    );
  }

  /**
   * Puts every undecided mint into the queue of each guardian that has neither voted on its current
   * attempt nor has it queued: the queue as this version keeps it from acceptance on (a refundable
   * mint until its return is decided; a 0x01 output or a re-mint until it is decided minted, under
   * its current attempt's deadline). A store written before the re-issue (f500bae) has 0x01 outputs
   * and re-mints in no queue: never voted, never re-issued. Runs inside an ordered consensus item
   * (server-consensus.ts), so every guardian writes the same keys at the same height; on a state this version
   * kept all along it writes nothing. Returns how many queue entries it wrote.
   */
  enqueueUnqueued(guardians: number): number {
    const found: { ref: MintRef; record: MintRecord }[] = [];
    for (const [k, v] of this.db.scan(Uint8Array.of(MINT))) {
      const r = new Reader(k.subarray(1));
      found.push({ ref: { txid: r.fixed(32), index: r.u32() }, record: decodeMint(v) });
    }
    for (const [k, v] of this.db.scan(Uint8Array.of(REMINT))) {
      const r = new Reader(k.subarray(1));
      found.push({ ref: { txid: r.fixed(32), index: r.u32(), remint: true }, record: decodeMint(v) });
    }
    let written = 0;
    for (const { ref, record } of found) {
      let deadline: bigint;
      let voters: { guardian: number }[];
      if (record.refundKey && ref.remint !== true) {
        if (this.expiryOutcome(ref) !== undefined) continue;
        deadline = record.deadline;
        voters = this.expiryVotes(ref);
      } else {
        const current = this.reissue(ref);
        if (current?.minted === true) continue;
        deadline = current?.deadline ?? record.deadline;
        voters = this.reissueVotes(ref);
      }
      for (let g = 0; g < guardians; g++) {
        if (voters.some((v) => v.guardian === g) || this.isDue(g, deadline, ref)) continue;
        this.w.put(dueKey(g, deadline, ref), new Uint8Array());
        written++;
      }
    }
    this.w.put(Uint8Array.of(QUEUE_BACKFILLED), Uint8Array.of(QUEUE_BACKFILL_VERSION));
    return written;
  }

  putReissueVote(ref: MintRef, guardian: number, used: boolean): void {
    this.w.put(refBytes(REISSUE_VOTE, ref).u16(guardian).finish(), Uint8Array.of(used ? 1 : 0));
  }

  deleteReissueVote(ref: MintRef, guardian: number): void {
    this.w.delete(refBytes(REISSUE_VOTE, ref).u16(guardian).finish());
  }

  putExpiryVote(key: MintKey, guardian: number, used: boolean): void {
    this.w.put(mintKeyBytes(EXPIRY_VOTE, key).u16(guardian).finish(), Uint8Array.of(used ? 1 : 0));
  }

  deleteExpiryVote(key: MintKey, guardian: number): void {
    this.w.delete(mintKeyBytes(EXPIRY_VOTE, key).u16(guardian).finish());
  }

  setExpiryOutcome(key: MintKey, outcome: Exclude<ExpiryOutcome, "paid_out">): void {
    this.w.put(mintKeyBytes(EXPIRY_OUTCOME, key).finish(), Uint8Array.of(OUTCOMES.indexOf(outcome)));
  }

  setPaidOut(key: MintKey, payout: { amount: bigint; fee: bigint }): void {
    this.w.put(
      mintKeyBytes(EXPIRY_OUTCOME, key).finish(),
      new Writer().u8(OUTCOMES.indexOf("paid_out")).u64big(payout.amount).u64big(payout.fee).finish(),
    );
  }
}
