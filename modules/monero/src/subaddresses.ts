// Per-user subaddress deposits: the consensus rules (deterministic: a function of the ordered items).
//
// A Monero wallet only sees outputs to the subaddresses in its table, so a deposit subaddress cannot be
// a hash of the claim key: the federation allocates it in consensus, the same index at every guardian.
//   AddressRequest{claimKey, signature}   signed by the claim key (subaddressRequestMessage): the first
//             ordered request binds the next minor index of account 0 (count + 1) to the key, both
//             ways; a second request for a bound key changes nothing (the same index). Spam bounds:
//             subaddressesMax in all, subaddressesPerGuardianPerWindowMax per proposing guardian per
//             window of subaddressWindowBlocks agreed blocks (a Byzantine guardian fills only its own).
//   SubaddressSeen{txid, index, amount, txHeight}   from guardian g: g's wallet received `amount` at
//             subaddress (0, index) in transaction txid, block txHeight, `confirmations` deep on g's
//             node. One per guardian per (txid, index); t equal ones credit (txid, index) to the key
//             bound to the index. Pending (fewer than t agree) records expire claimExpiryBlocks after
//             the first one (honest guardians attest again: a reorg that split them heals). Each
//             guardian may have openClaimsPerGuardianMax pending ones.
//   SubaddressDeposit{txid, index} input: credited, confirmed at the agreed height, unspent -> worth
//             the amount, signed by the bound claim key; then spent forever.
// A deposit is keyed by (txid, index), the tx-key path's by txid at the primary address: they count
// disjoint outputs (check_tx_key with the primary address does not see subaddress outputs, measured),
// so one output is never credited twice and a transaction paying two users' subaddresses credits each.
//
// Keys in the module's key space (after state.ts's 0x01..0x08, 0x12, 0x13 and 0x1f, payouts.ts's 0x09..0x11):
//   0x20 | claimKey (32)                      -> index u32 | requestedBy u16 | assignedAt u64
//   0x21 | index u32                          -> claimKey (32)
//   0x22                                      -> assigned count u32
//   0x23 | guardian u16                       -> window u64 | count u32        requests per window
//   0x24 | txid (32) | index u32              -> SubDeposit
//   0x25 | txid (32) | index u32 | g u16      -> amount u64 | txHeight u64      pending attestations
//   0x26 | g u16 | txid (32) | index u32      -> ()                             g's pending attestations
//   0x27 | firstAt u64 | txid (32) | index u32 -> ()                            pending, by age (expiry)
//   0x28 | index u32 | txid (32)              -> ()                             deposits of a subaddress
//   0x29 | txid (32) | index u32              -> fedTxid (32)                   the federation transaction
//                                                                                that spent the deposit
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { InputMeta, ModuleResult, ReadTx, WriteTx } from "@conclave/core-server";
import { NodeVerifier, fail, ok } from "@conclave/core-server";
import { confirmationsAt, isEd25519PublicKey, subaddressRequestMessage } from "./common.js";
import type { MoneroConfig } from "./common.js";
import { MoneroState, MoneroStateWriter, moduleKey } from "./state.js";

const K_BY_KEY = 0x20;
const K_BY_INDEX = 0x21;
const K_COUNT = 0x22;
const K_BUDGET = 0x23;
const K_DEPOSIT = 0x24;
const K_SEEN = 0x25;
const K_PENDING_BY = 0x26;
const K_PENDING_AGE = 0x27;
const K_OF_INDEX = 0x28;
const K_SPENT_IN = 0x29;

/** Pending subaddress deposits expired per agreed-height step (the rest go at the next steps). */
const EXPIRE_PER_STEP_MAX = 256;
/** Deposits of one subaddress listed in its view (the rest are counted). */
export const SUBADDRESS_DEPOSITS_LISTED_MAX = 64;
/**
 * Outputs of one transaction a look-up by txid lists (a Monero transaction has at most 16 outputs,
 * so a transaction's deposits are all listed; the scan reads at most this many records + 1).
 */
export const TX_DEPOSITS_LISTED_MAX = 16;

export type SubDepositState = "pending" | "credited" | "spent";
const STATE_CODES: Record<SubDepositState, number> = { pending: 1, credited: 2, spent: 3 };
const STATE_BY_CODE = new Map<number, SubDepositState>([
  [1, "pending"],
  [2, "credited"],
  [3, "spent"],
]);

export interface SubDeposit {
  readonly state: SubDepositState;
  /** Credited and spent: what t guardians attested. */
  readonly amount: bigint;
  readonly txHeight: number;
  /** The agreed height when the first attestation was ordered (pending: expiry counts from it). */
  readonly firstAt: number;
}

export interface SubaddressBinding {
  readonly index: number;
  readonly requestedBy: number;
  readonly assignedAt: number;
}

const key = moduleKey;

function encodeSubDeposit(d: SubDeposit): Uint8Array {
  return new Writer().u8(STATE_CODES[d.state]).u64big(d.amount).u64(d.txHeight).u64(d.firstAt).finish();
}

function decodeSubDeposit(bytes: Uint8Array): SubDeposit {
  const r = new Reader(bytes);
  const state = STATE_BY_CODE.get(r.u8());
  if (!state) throw new Error("monero state: corrupt subaddress deposit record");
  const d = { state, amount: r.u64big(), txHeight: r.u64(), firstAt: r.u64() };
  r.end();
  return d;
}

/** Read access to the subaddress part of the state. */
export class SubaddressState {
  constructor(protected readonly db: ReadTx) {}

  /** Subaddresses assigned so far (the highest index). */
  count(): number {
    const v = this.db.get(Uint8Array.of(K_COUNT));
    return v ? new Reader(v).u32() : 0;
  }

  binding(claimKey: Uint8Array): SubaddressBinding | undefined {
    const v = this.db.get(key(K_BY_KEY, claimKey));
    if (!v) return undefined;
    const r = new Reader(v);
    return { index: r.u32(), requestedBy: r.u16(), assignedAt: r.u64() };
  }

  claimKeyOf(index: number): Uint8Array | undefined {
    return this.db.get(key(K_BY_INDEX, { u32: index }));
  }

  budget(guardian: number): { window: number; count: number } {
    const v = this.db.get(key(K_BUDGET, { u16: guardian }));
    if (!v) return { window: 0, count: 0 };
    const r = new Reader(v);
    return { window: r.u64(), count: r.u32() };
  }

  deposit(txid: Uint8Array, index: number): SubDeposit | undefined {
    const v = this.db.get(key(K_DEPOSIT, txid, { u32: index }));
    return v ? decodeSubDeposit(v) : undefined;
  }

  /**
   * The deposits of transaction `txid` (one per subaddress it paid), in index order, at most `max`;
   * `more` when there are others. Reads at most max + 1 records: a look-up's cost is bounded.
   */
  depositsOfTx(
    txid: Uint8Array,
    max: number,
  ): { deposits: { index: number; deposit: SubDeposit }[]; more: boolean } {
    const prefix = key(K_DEPOSIT, txid);
    const deposits: { index: number; deposit: SubDeposit }[] = [];
    for (const [k, v] of this.db.scan(prefix)) {
      if (deposits.length >= max) return { deposits, more: true };
      deposits.push({ index: new Reader(k.subarray(prefix.length)).u32(), deposit: decodeSubDeposit(v) });
    }
    return { deposits, more: false };
  }

  /** The federation transaction that spent deposit (txid, index), for deposits spent since it is kept. */
  spentIn(txid: Uint8Array, index: number): Uint8Array | undefined {
    return this.db.get(key(K_SPENT_IN, txid, { u32: index }));
  }

  attestation(
    txid: Uint8Array,
    index: number,
    guardian: number,
  ): { amount: bigint; txHeight: number } | undefined {
    const v = this.db.get(key(K_SEEN, txid, { u32: index }, { u16: guardian }));
    if (!v) return undefined;
    const r = new Reader(v);
    return { amount: r.u64big(), txHeight: r.u64() };
  }

  attestations(txid: Uint8Array, index: number): { guardian: number; amount: bigint; txHeight: number }[] {
    const prefix = key(K_SEEN, txid, { u32: index });
    const out = [];
    for (const [k, v] of this.db.scan(prefix)) {
      const r = new Reader(v);
      out.push({
        guardian: new Reader(k.subarray(prefix.length)).u16(),
        amount: r.u64big(),
        txHeight: r.u64(),
      });
    }
    return out;
  }

  pendingOf(guardian: number, max: number): number {
    let n = 0;
    for (const _ of this.db.scan(key(K_PENDING_BY, { u16: guardian }))) if (++n >= max) break;
    return n;
  }

  /** Deposits to subaddress `index`, in txid order. */
  *depositsOf(index: number): Iterable<{ txid: Uint8Array; deposit: SubDeposit }> {
    for (const [k] of this.db.scan(key(K_OF_INDEX, { u32: index }))) {
      const txid = k.subarray(5);
      const deposit = this.deposit(txid, index);
      if (deposit) yield { txid, deposit };
    }
  }
}

class SubaddressStateWriter extends SubaddressState {
  constructor(private readonly w: WriteTx) {
    super(w);
  }

  bind(claimKey: Uint8Array, b: SubaddressBinding): void {
    this.w.put(
      key(K_BY_KEY, claimKey),
      new Writer().u32(b.index).u16(b.requestedBy).u64(b.assignedAt).finish(),
    );
    this.w.put(key(K_BY_INDEX, { u32: b.index }), claimKey.slice());
    this.w.put(Uint8Array.of(K_COUNT), new Writer().u32(b.index).finish());
  }

  setBudget(guardian: number, b: { window: number; count: number }): void {
    this.w.put(key(K_BUDGET, { u16: guardian }), new Writer().u64(b.window).u32(b.count).finish());
  }

  putDeposit(txid: Uint8Array, index: number, d: SubDeposit): void {
    this.w.put(key(K_DEPOSIT, txid, { u32: index }), encodeSubDeposit(d));
  }

  addAttestation(txid: Uint8Array, index: number, guardian: number, amount: bigint, txHeight: number): void {
    this.w.put(
      key(K_SEEN, txid, { u32: index }, { u16: guardian }),
      new Writer().u64big(amount).u64(txHeight).finish(),
    );
    this.w.put(key(K_PENDING_BY, { u16: guardian }, txid, { u32: index }), new Uint8Array());
  }

  /** Forgets the pending attestations of (txid, index) and its age entry (credited or expired). */
  clearPending(txid: Uint8Array, index: number, firstAt: number): void {
    for (const a of this.attestations(txid, index)) {
      this.w.delete(key(K_SEEN, txid, { u32: index }, { u16: a.guardian }));
      this.w.delete(key(K_PENDING_BY, { u16: a.guardian }, txid, { u32: index }));
    }
    this.w.delete(key(K_PENDING_AGE, { u64: firstAt }, txid, { u32: index }));
  }

  setPendingAge(firstAt: number, txid: Uint8Array, index: number): void {
    this.w.put(key(K_PENDING_AGE, { u64: firstAt }, txid, { u32: index }), new Uint8Array());
  }

  *pendingByAge(): Iterable<{ firstAt: number; txid: Uint8Array; index: number }> {
    for (const [k] of this.w.scan(Uint8Array.of(K_PENDING_AGE))) {
      const r = new Reader(k.subarray(1));
      yield { firstAt: r.u64(), txid: r.fixed(32), index: r.u32() };
    }
  }

  deleteDeposit(txid: Uint8Array, index: number): void {
    this.w.delete(key(K_DEPOSIT, txid, { u32: index }));
  }

  listUnder(index: number, txid: Uint8Array): void {
    this.w.put(key(K_OF_INDEX, { u32: index }, txid), new Uint8Array());
  }
}

const verifier = new NodeVerifier();

/** The subaddress rules of one module instance. */
export class Subaddresses {
  constructor(
    private readonly config: MoneroConfig,
    /** t: equal attestations that credit a deposit. */
    private readonly t: number,
  ) {}

  /** The claim key's signature over its request (the API checks it too, before proposing). */
  verifyRequest(claimKey: Uint8Array, signature: Uint8Array): boolean {
    return verifier.verify(claimKey, subaddressRequestMessage(this.config.address, claimKey), signature);
  }

  /** The window of the per-guardian request bound at agreed height `agreed`. */
  window(agreed: number): number {
    return Math.floor(agreed / this.config.subaddressWindowBlocks);
  }

  /** Why guardian `peer` may not have another subaddress assigned now (undefined: it may). */
  refusal(db: ReadTx, peer: number): { code: string; message: string } | undefined {
    const subs = new SubaddressState(db);
    if (subs.count() >= this.config.subaddressesMax)
      return {
        code: "subaddresses_exhausted",
        message: `the federation has handed out all ${this.config.subaddressesMax} deposit subaddresses`,
      };
    const budget = subs.budget(peer);
    const window = this.window(new MoneroState(db).agreedHeight());
    if (budget.window === window && budget.count >= this.config.subaddressesPerGuardianPerWindowMax)
      return {
        code: "too_many_address_requests",
        message: `guardian ${peer} already had ${budget.count} subaddresses assigned in this window of ${this.config.subaddressWindowBlocks} blocks`,
      };
    return undefined;
  }

  onRequest(db: WriteTx, peer: number, claimKey: Uint8Array, signature: Uint8Array): ModuleResult<void> {
    if (!isEd25519PublicKey(claimKey))
      return fail("invalid_claim_key", "the claim key is not an Ed25519 public key", { peer });
    if (!this.verifyRequest(claimKey, signature))
      return fail("bad_signature", "the address request is not signed by its claim key", { peer });
    const subs = new SubaddressStateWriter(db);
    if (subs.binding(claimKey)) return ok(undefined); // bound already: the same index
    const refused = this.refusal(db, peer);
    if (refused) return fail(refused.code, refused.message, { peer });
    const agreed = new MoneroState(db).agreedHeight();
    const window = this.window(agreed);
    const budget = subs.budget(peer);
    subs.setBudget(peer, { window, count: budget.window === window ? budget.count + 1 : 1 });
    subs.bind(claimKey, { index: subs.count() + 1, requestedBy: peer, assignedAt: agreed });
    return ok(undefined);
  }

  onSeen(
    db: WriteTx,
    peer: number,
    seen: { txid: Uint8Array; index: number; amount: bigint; txHeight: number },
  ): ModuleResult<void> {
    const { txid, index, amount, txHeight } = seen;
    const subs = new SubaddressStateWriter(db);
    const where = `${toHex(txid)} at subaddress ${index}`;
    // Invariant 7: a payout's transaction paying one of the federation's subaddresses is no deposit.
    if (new MoneroState(db).isOwnTransaction(txid))
      return fail(
        "own_transaction",
        `Monero transaction ${toHex(txid)} was sent by the federation itself (a payout): not a deposit`,
        { peer, txid: toHex(txid) },
      );
    if (index > subs.count())
      return fail("unknown_subaddress", `subaddress ${index} is not assigned (${subs.count()} are)`, {
        peer,
      });
    if (amount < this.config.depositMinPiconero)
      return fail(
        "below_minimum",
        `${amount} is below the minimum deposit ${this.config.depositMinPiconero}`,
        {
          peer,
        },
      );
    const rec = subs.deposit(txid, index);
    if (rec && rec.state !== "pending") return ok(undefined); // settled: a late attestation changes nothing
    const previous = subs.attestation(txid, index, peer);
    if (previous)
      return previous.amount === amount && previous.txHeight === txHeight
        ? ok(undefined)
        : fail("already_attested", `guardian ${peer} already attested ${where} differently`, { peer });
    if (subs.pendingOf(peer, this.config.openClaimsPerGuardianMax) >= this.config.openClaimsPerGuardianMax)
      return fail(
        "too_many_open_claims",
        `guardian ${peer} already has ${this.config.openClaimsPerGuardianMax} pending subaddress deposits`,
        { peer },
      );
    const firstAt = rec?.firstAt ?? new MoneroState(db).agreedHeight();
    if (!rec) {
      subs.putDeposit(txid, index, { state: "pending", amount: 0n, txHeight: 0, firstAt });
      subs.setPendingAge(firstAt, txid, index);
      subs.listUnder(index, txid);
    }
    subs.addAttestation(txid, index, peer, amount, txHeight);
    const agreeing = subs
      .attestations(txid, index)
      .filter((a) => a.amount === amount && a.txHeight === txHeight).length;
    if (agreeing >= this.t) {
      subs.clearPending(txid, index, firstAt);
      subs.putDeposit(txid, index, { state: "credited", amount, txHeight, firstAt });
      new MoneroStateWriter(db).addCreditedOutstanding(amount);
    }
    return ok(undefined);
  }

  /** At each new agreed height: pending deposits t guardians did not settle in time are forgotten. */
  onHeight(db: WriteTx, agreed: number): void {
    const subs = new SubaddressStateWriter(db);
    const expired = [];
    for (const p of subs.pendingByAge()) {
      if (p.firstAt + this.config.claimExpiryBlocks > agreed || expired.length >= EXPIRE_PER_STEP_MAX) break;
      expired.push(p);
    }
    for (const p of expired) {
      subs.clearPending(p.txid, p.index, p.firstAt);
      subs.deleteDeposit(p.txid, p.index);
      db.delete(key(K_OF_INDEX, { u32: p.index }, p.txid));
    }
  }

  processInput(db: WriteTx, txid: Uint8Array, index: number, spender: Uint8Array): ModuleResult<InputMeta> {
    const subs = new SubaddressStateWriter(db);
    const state = new MoneroStateWriter(db);
    const where = `${toHex(txid)} to subaddress ${index}`;
    const rec = subs.deposit(txid, index);
    const claimKey = subs.claimKeyOf(index);
    if (!rec || !claimKey) return fail("unknown_deposit", `no deposit ${where} is known to the federation`);
    if (rec.state === "spent") return fail("spent_input", `deposit ${where} was already turned into e-cash`);
    if (rec.state === "pending")
      return fail(
        "deposit_not_credited",
        `deposit ${where} is not verified yet: ${subs.attestations(txid, index).length} of ${this.t} guardians attested it`,
      );
    const agreed = state.agreedHeight();
    const confirmations = confirmationsAt(agreed, rec.txHeight);
    if (confirmations < this.config.confirmations)
      return fail(
        "deposit_unconfirmed",
        `deposit ${where} has ${confirmations} of ${this.config.confirmations} confirmations at the agreed height ${agreed}`,
        { confirmations, confirmationsRequired: this.config.confirmations, agreedHeight: agreed },
      );
    subs.putDeposit(txid, index, { ...rec, state: "spent" });
    if (spender.length === 32) db.put(key(K_SPENT_IN, txid, { u32: index }), Uint8Array.from(spender));
    state.addCreditedOutstanding(-rec.amount);
    const totals = state.totals();
    state.setTotals({ deposited: totals.deposited + rec.amount, count: totals.count + 1n });
    return ok({ amount: rec.amount, fee: 0n, signers: [claimKey] });
  }
}
