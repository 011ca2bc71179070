// Reorgs of the simulated EVM chain deeper than the watchers' confirmation depth (issue 11: "reorgs
// below and above the confirmation depth", the EVM part), the world `--evm-deep-reorg` (the bridge
// and the monero module together, plus these reorgs; its own random stream `evm-deep-reorg`, so the
// other worlds' seeds do not move). Two kinds, each at most once per seed:
//   - a mint taken out: a Minted log deeper than the depth (up to 40 blocks) is reorged away and
//     its transaction left out of the fork (SimEvmChain.reorg's `drop`), preferably one whose mint
//     the guardians already decided `minted`; half the time its sender sends the same signed mint
//     again (a wallet re-broadcasting), which mints it once more if its deadline has not passed;
//   - a burn taken out: an accepted burn deeper than the depth, preferably one paid in Monero
//     (payout confirmed), is reorged away and left out of the fork: the burner holds its wXMR
//     again, and the federation has paid (or owes) it all the same;
//   - a burn moved up: an accepted burn deeper than the depth is reorged away and the fork includes
//     its transaction again only in its new head block (after the other moved transactions when
//     that gives its log another index), above every watcher's last scanned block: the same burn,
//     the same transaction, at another block and log index, which the watchers find again.
// Every other transaction of the removed blocks runs again in the fork's first block (moved: a new
// block number and log index, below every watcher's last scanned block).
//
// What the product promises (docs/bridge.md, threat model 12e and 12zd): nothing for a reorg deeper
// than the confirmation depth ("not stopped"), except the accountant's rule, which holds whatever
// the cause: a guardian whose node shows more wXMR than Σ signed − Σ accepted burns signs nothing
// more and halts (checkBooks). So the checkers excuse what the federation cannot prevent (an
// accepted burn no longer on the chain, a mint decided minted whose deposit id is unused again, the
// supply and the reserves short by the burns taken out, the users and refundable mints those
// changes strand) and keep the rest: no deposit id minted twice on the chain, no mint the
// federation never signed, no burn transaction accepted under two keys (a moved burn paid again),
// each payout paid once; and, at the end, every running honest guardian's supply figures are the
// chain's (a supply that dropped or rose is shown as it is) and every one whose node shows more
// wXMR than its books allow has halted, while a halt is only excused by a burn taken out.
import { toHex } from "@conclave/core-common";
import { BridgeState } from "@conclave/module-bridge";
import type { BurnKey, Hex32 } from "@conclave/module-bridge";
import type { EvmCall, PlacedLog, SimEvmChain } from "../chains/evm-chain.js";
import type { Rng } from "../rng.js";
import type { BridgeWorld } from "./bridge.js";

export interface EvmDeepReorgStats {
  evmDeepReorgs: number;
  /** Mints (Minted logs) a deep reorg left out of the fork. */
  evmDeepMintsDropped: number;
  /** Of those, ones the guardians had already decided `minted` (refundable or re-issuable). */
  evmDeepMintsDroppedDecided: number;
  /** Dropped mints whose sender sent the same signed mint again. */
  evmDeepMintsResent: number;
  /** Dropped mints not minted again on the chain at the end (the value is lost to its owner). */
  evmDeepMintsLost: number;
  /** Accepted burns a deep reorg left out of the fork. */
  evmDeepBurnsDropped: number;
  /** Of those, burns whose Monero payout was confirmed: paid, and the burner holds its wXMR again. */
  evmDeepBurnsDroppedPaid: number;
  /** Accepted burns a deep reorg moved up to the fork's new head (another block and log index). */
  evmDeepBurnsMoved: number;
  /** Other transactions of the removed blocks, run again in the fork's first block. */
  evmDeepTxsMoved: number;
  /** Accepted burns whose Burned log a deep reorg moved or removed (checked as excused). */
  evmDeepBurnChecksExcused: number;
  /** Halts of honest guardians (the accountant: supply above Σ signed − Σ burned) after a burn was taken out. */
  evmDeepHalts: number;
  /** Running honest guardians halted at the end. */
  evmDeepHaltedAtEnd: number;
  /** Users and refundable mints stranded by the deep reorgs (not counted as liveness violations). */
  evmDeepStranded: number;
  /** `--evm-deep-reorg-notes`: mints to a notes bridge user (funded by its notes) left out of a fork. */
  evmDeepNotesMintsDropped: number;
  /** ... accepted burns of a notes bridge user (to its claim key) left out of a fork. */
  evmDeepNotesBurnsDropped: number;
  /** ... of those, burns already claimed into notes: the notes stay, the burner holds its wXMR again. */
  evmDeepNotesClaimedDropped: number;
  /** ... accepted burns of a notes bridge user moved up to the fork's new head. */
  evmDeepNotesBurnsMoved: number;
}

export function emptyEvmDeepReorgStats(): EvmDeepReorgStats {
  return {
    evmDeepReorgs: 0,
    evmDeepMintsDropped: 0,
    evmDeepMintsDroppedDecided: 0,
    evmDeepMintsResent: 0,
    evmDeepMintsLost: 0,
    evmDeepBurnsDropped: 0,
    evmDeepBurnsDroppedPaid: 0,
    evmDeepBurnsMoved: 0,
    evmDeepTxsMoved: 0,
    evmDeepBurnChecksExcused: 0,
    evmDeepHalts: 0,
    evmDeepHaltedAtEnd: 0,
    evmDeepStranded: 0,
    evmDeepNotesMintsDropped: 0,
    evmDeepNotesBurnsDropped: 0,
    evmDeepNotesClaimedDropped: 0,
    evmDeepNotesBurnsMoved: 0,
  };
}

/** How deep (in blocks) a reorg may go: the target's block is more than the depth and at most this deep. */
const DEEPEST = 40;
/**
 * A mint the guardians already decided `minted` is decided only once the depth block is past its
 * deadline (75 blocks of validity): such a mint may be taken out up to this deep.
 */
const DEEPEST_DECIDED = 150;
/** A burn paid in Monero is paid long after its acceptance (batches, rounds, confirmations): up to this deep. */
const DEEPEST_PAID = 400;
/** After the heal, a burn taken out need not be one paid in Monero any more. */
const ANY_BURN_AFTER_HEAL_MS = 10_000;
/** ... unless a burn handed to a Monero payout is still being paid: then up to this long. */
const PAID_BURN_WAIT_AFTER_HEAL_MS = 45_000;
/** After the heal, the world stops waiting for reorgs it found no target for. */
const GIVE_UP_AFTER_HEAL_MS = 55_000;

export class EvmDeepReorgs {
  readonly stats = emptyEvmDeepReorgStats();
  /** Transactions left out of a fork (dropped mints and burns), by hash. */
  readonly dropped = new Set<Hex32>();
  /** Transactions run again in a fork's first block (new block number and log index). */
  readonly moved = new Set<Hex32>();
  /** Deposit ids whose Minted log a deep reorg took away. */
  readonly droppedMintIds = new Set<Hex32>();
  /** The latest deep reorg: the first block it replaced, and when (a figure read before may be the old branch's). */
  lastFork: { block: number; atMs: number } | undefined;
  private mintDone = false;
  private burnDone = false;
  private moveDone = false;
  private running = false;

  constructor(
    private readonly world: BridgeWorld,
    private readonly chain: SimEvmChain,
    private readonly confirmations: number,
    private readonly rng: Rng,
    /**
     * `--evm-deep-reorg-notes`: the notes bridge users' EVM addresses; a target of theirs (a mint to
     * one, a burn by one, a claimed burn first) is preferred to any other.
     */
    private readonly notesUsers?: () => ReadonlySet<string>,
  ) {}

  /** The candidates of a notes bridge user when there are any (the notes world), else all. */
  private notesFirst<T>(all: T[], address: (c: T) => string): T[] {
    const notes = this.notesUsers?.();
    if (notes === undefined) return all;
    const mine = all.filter((c) => notes.has(address(c).toLowerCase()));
    return mine.length > 0 ? mine : all;
  }

  private isNotes(address: string): boolean {
    return this.notesUsers?.().has(address.toLowerCase()) === true;
  }

  start(): void {
    this.running = true;
    this.world.host.schedule(this.world.host.now() + this.rng.range(2_000, 6_000), () => this.step());
  }

  /** Every reorg made, or the time to find targets is over. */
  finished(): boolean {
    if (this.mintDone && this.burnDone && this.moveDone) return true;
    const healed = this.world.healedAt;
    return healed !== undefined && this.world.host.now() > healed + GIVE_UP_AFTER_HEAL_MS;
  }

  stop(): void {
    this.running = false;
  }

  private step(): void {
    if (!this.running || (this.mintDone && this.burnDone && this.moveDone)) return;
    this.world.host.schedule(this.world.host.now() + 1_000, () => this.step());
    if (!this.mintDone && this.rng.chance(0.3) && this.dropMint()) return;
    if (!this.moveDone && this.rng.chance(0.3) && this.moveBurn()) return;
    if (!this.burnDone && this.rng.chance(0.3)) this.dropBurn();
  }

  private depthOf(block: number): number {
    return this.chain.height() - block;
  }

  private deepEnough(block: number, deepest = DEEPEST): boolean {
    const d = this.depthOf(block);
    return d > this.confirmations && d <= deepest;
  }

  /** Reorgs from `block` up, leaving `drop` out (or including `late` only in the new head); records what moved. */
  private reorgFrom(block: number, target: { drop: Hex32 } | { late: Hex32[] }): void {
    const drop = "drop" in target ? target.drop : undefined;
    for (let b = block; b < this.chain.height(); b++)
      for (const tx of this.chain.block(b)!.txs)
        if (tx.hash !== drop) {
          this.moved.add(tx.hash);
          this.stats.evmDeepTxsMoved++;
        }
    if (drop !== undefined) this.dropped.add(drop);
    this.lastFork = { block, atMs: this.world.host.now() };
    this.chain.reorg(
      this.depthOf(block),
      drop !== undefined ? { drop: [drop] } : { late: (target as { late: Hex32[] }).late },
    );
    this.stats.evmDeepReorgs++;
  }

  /**
   * An accepted burn (the newest deeper than the depth) moved up to the fork's new head: above every
   * watcher's last scanned block, at another block and (when another transaction's log can precede
   * it) another log index. False when there is none yet.
   */
  private moveBurn(): boolean {
    const s = this.world.firstState();
    if (s === undefined) return false;
    const candidates: { hash: Hex32; block: number; logIndex: number; others: Hex32[]; from: string }[] = [];
    for (const [k] of s.db.scan(Uint8Array.of(0x03))) {
      if (k.length !== 37) continue;
      const hash: Hex32 = `0x${toHex(k.subarray(1, 33))}`;
      const r = this.chain.receipt(hash);
      if (r === undefined || !this.deepEnough(r.block) || this.touched(hash)) continue;
      const log = r.logs.find((l) => l.event === "Burned");
      if (log === undefined) continue;
      // The others of the removed blocks that emit a log: they go first when the burn's log was the
      // first of its block, so that its log index changes.
      const others: Hex32[] = [];
      for (let b = r.block; b < this.chain.height(); b++)
        for (const o of this.chain.block(b)!.receipts)
          if (o.hash !== hash && o.logs.length > 0) others.push(o.hash);
      candidates.push({ hash, block: r.block, logIndex: log.logIndex, others, from: log.from });
    }
    // The newest whose log index will change, else the newest (same key, another block); a notes
    // user's first in the notes world.
    const mine = this.notesFirst(candidates, (c) => c.from);
    const changes = mine.filter((c) => c.logIndex > 0 || c.others.length > 0);
    const pool = changes.length > 0 ? changes : mine;
    const target = pool.reduce<(typeof pool)[number] | undefined>(
      (a, c) => (a === undefined || c.block > a.block ? c : a),
      undefined,
    );
    if (target === undefined) return false;
    const others = target.others;
    const late = target.logIndex === 0 ? [...others, target.hash] : [target.hash];
    this.reorgFrom(target.block, { late });
    this.moveDone = true;
    this.stats.evmDeepBurnsMoved++;
    if (this.isNotes(target.from)) this.stats.evmDeepNotesBurnsMoved++;
    const after = this.chain.receipt(target.hash);
    this.world.host.note(
      `evm deep reorg: accepted burn ${target.hash.slice(0, 12)} (block ${target.block}, log ${target.logIndex}) moved to block ${after?.block ?? "?"}, log ${after?.logs.find((l) => l.event === "Burned")?.logIndex ?? "?"}`,
    );
    return true;
  }

  private dropMint(): boolean {
    const s = this.world.firstState();
    if (s === undefined) return false;
    const records = new BridgeState(s.db);
    const decided = new Set<Hex32>();
    for (const [k] of s.db.scan(Uint8Array.of(0x0a))) {
      if (k.length !== 37) continue;
      const key = { txid: k.subarray(1, 33), index: new DataView(k.buffer, k.byteOffset + 33).getUint32(0) };
      if (records.expiryOutcome(key) === "minted") decided.add(this.world.depositIdOf(key));
    }
    // Mints without refund key (0x01 outputs) decided minted at their current attempt.
    for (const [k] of s.db.scan(Uint8Array.of(0x10, 0x00))) {
      if (k.length !== 38) continue;
      const key = { txid: k.subarray(2, 34), index: new DataView(k.buffer, k.byteOffset + 34).getUint32(0) };
      const r = records.reissue(key);
      if (r?.minted === true) decided.add(this.world.depositIdOf(key, r.attempt));
    }
    const candidates = this.chain
      .logs()
      .filter(
        (l): l is PlacedLog & { event: "Minted"; depositId: Hex32 } =>
          l.event === "Minted" &&
          this.deepEnough(l.block, decided.has(l.depositId) ? DEEPEST_DECIDED : DEEPEST) &&
          !this.dropped.has(l.txHash),
      );
    if (candidates.length === 0) return false;
    const mine = this.notesFirst(candidates, (l) => l.recipient);
    const preferred = mine.filter((l) => decided.has(l.depositId));
    const target = this.rng.pick(preferred.length > 0 ? preferred : mine);
    const tx = this.chain.block(target.block)!.txs.find((t) => t.hash === target.txHash);
    if (tx === undefined) return false;
    this.reorgFrom(target.block, { drop: target.txHash });
    this.mintDone = true;
    this.droppedMintIds.add(target.depositId);
    this.stats.evmDeepMintsDropped++;
    if (decided.has(target.depositId)) this.stats.evmDeepMintsDroppedDecided++;
    if (this.isNotes(target.recipient)) this.stats.evmDeepNotesMintsDropped++;
    this.world.host.note(
      `evm deep reorg: mint ${target.depositId.slice(0, 12)} (${target.amount}) in block ${target.block} left out of the fork (depth ${this.chain.height() - 1 - target.block})`,
    );
    if (tx.call.kind === "mint" && this.rng.chance(0.5)) {
      const call: EvmCall = {
        kind: "mint",
        mint: tx.call.mint,
        signatures: tx.call.signatures,
      };
      this.world.host.schedule(this.world.host.now() + this.rng.range(100, 2_000), () => {
        this.chain.send(tx.from, call);
        this.stats.evmDeepMintsResent++;
      });
    }
    return true;
  }

  private dropBurn(): void {
    const s = this.world.firstState();
    if (s === undefined) return;
    const records = new BridgeState(s.db);
    const healed = this.world.healedAt;
    const since = healed === undefined ? -1 : this.world.host.now() - healed;
    let paying = false;
    const candidates: {
      key: BurnKey;
      block: number;
      amount: bigint;
      paid: boolean;
      from: string;
      claimed: boolean;
    }[] = [];
    for (const [k] of s.db.scan(Uint8Array.of(0x03))) {
      if (k.length !== 37) continue;
      const key = {
        txHash: k.subarray(1, 33),
        logIndex: new DataView(k.buffer, k.byteOffset + 33).getUint32(0),
      };
      const accepted = records.burn(key)!;
      const paid =
        accepted.settlement === "payout" && s.bridge.burnView(s.db, key, false).payout?.state === "confirmed";
      if (accepted.settlement === "payout" && !paid) paying = true;
      const r = this.chain.receipt(`0x${toHex(key.txHash)}`);
      // A burn a reorg moved may still be taken out (it is still on the chain, elsewhere).
      if (
        r === undefined ||
        !this.deepEnough(r.block, paid ? DEEPEST_PAID : DEEPEST) ||
        this.dropped.has(r.hash)
      )
        continue;
      candidates.push({
        key,
        block: r.block,
        amount: accepted.burn.amount,
        paid,
        from: accepted.burn.from,
        claimed: accepted.settlement === "claimed",
      });
    }
    const paid = candidates.filter((c) => c.paid);
    const anyBurn = since > (paying ? PAID_BURN_WAIT_AFTER_HEAL_MS : ANY_BURN_AFTER_HEAL_MS);
    // The notes world: a notes user's burn first, one already claimed into notes before that.
    const notes = candidates.filter((c) => this.isNotes(c.from));
    const claimed = notes.filter((c) => c.claimed);
    const pool =
      claimed.length > 0
        ? claimed
        : notes.length > 0
          ? notes
          : paid.length > 0
            ? paid
            : anyBurn
              ? candidates
              : [];
    if (pool.length === 0) return;
    const target = this.rng.pick(pool);
    const hash: Hex32 = `0x${toHex(target.key.txHash)}`;
    this.reorgFrom(target.block, { drop: hash });
    this.burnDone = true;
    this.stats.evmDeepBurnsDropped++;
    if (target.paid) this.stats.evmDeepBurnsDroppedPaid++;
    if (this.isNotes(target.from)) this.stats.evmDeepNotesBurnsDropped++;
    if (target.claimed) this.stats.evmDeepNotesClaimedDropped++;
    this.world.host.note(
      `evm deep reorg: accepted burn ${hash.slice(0, 12)} (${target.amount}${target.paid ? ", paid in Monero" : ""}${target.claimed ? ", claimed into notes" : ""}) in block ${target.block} left out of the fork`,
    );
  }

  /** Whether a deep reorg moved or removed this transaction. */
  touched(hash: Hex32): boolean {
    return this.moved.has(hash) || this.dropped.has(hash);
  }

  /** At the end: dropped mints not minted again. */
  finish(): void {
    this.stop();
    const minted = new Set(this.chain.logs().flatMap((l) => (l.event === "Minted" ? [l.depositId] : [])));
    this.stats.evmDeepMintsLost = [...this.droppedMintIds].filter((id) => !minted.has(id)).length;
  }
}
