// Simulated e-cash wallets, driven by the seed. Each builds its transactions with the modules'
// own client code (the mint's note encoders and signers, the dummy's faucet and coin encoders,
// core-common's buildTransaction) and finishes notes with the mint's threshold blind signatures.
// A wallet does one operation at a time and keeps it on its own "disk" before it sends anything:
//   issue      faucet money (the dummy module's deposit) into new notes;
//   reissue    some of its notes into new notes (the remainder below the smallest note is donated);
//   give       hand notes to another wallet out of band; that wallet reissues them (receive). A
//              cheating giver also reissues them itself: a double spend, exactly one may succeed;
//   to-coin    notes into a dummy coin; from-coin: the coin back into notes.
// It submits to a random guardian (Byzantine ones too), polls random guardians, resubmits the same
// transaction elsewhere when nobody knows it, takes "rejected" only from f + 1 guardians (counting a
// guardian's refusal before consensus only when its state cannot change it: see NOT_YET), and
// collects t blind shares per note, checking them and naming bad ones. It crashes now and then,
// between writing an operation down and sending it or (while the network is faulty: the safety
// phase) anywhere later, and resumes from its disk.
import { buildTransaction, encodeConsensusItem, fromHex, toHex, transactionId } from "@conclave/core-common";
import type { Signer, Transaction, TxInput, TxOutput } from "@conclave/core-common";
import { coinOutput, faucetInput, spendInput } from "@conclave/module-dummy";
import { denominationAmount, noteInput, noteOutput } from "@conclave/module-mint";
import type { DenominationKey, PendingNote, SpendableNote } from "@conclave/module-mint";
import { sha256 } from "../consensus.js";
import { walletSigner } from "../memo-verifier.js";
import type { Rng } from "../rng.js";
import {
  DENOMINATIONS_LOG2,
  DUMMY_FEE_PER_INPUT,
  DUMMY_ID,
  MINT_FEE_PER_INPUT,
  MINT_ID,
  NOTES_PER_TX_MAX,
  simTbs,
} from "./setup.js";

/** What a guardian answers a wallet (through its API, in the real system). */
export type StatusAnswer =
  | { readonly state: "unknown" }
  | { readonly state: "accepted" }
  | { readonly state: "rejected"; readonly code: string };

/**
 * What a guardian answers a submission: a status it knows, "proposed", or "refused": its checks on
 * its state now failed (the API's 422 before consensus, where "rejected" is consensus's verdict).
 */
export type SubmitAnswer =
  StatusAnswer | { readonly state: "proposed" } | { readonly state: "refused"; readonly code: string };

/**
 * Refusal codes a guardian's checks give that its state may still turn around: an input it does not
 * know may come from a block it has not processed yet. Such a refusal says nothing about the
 * transaction; the wallet asks again later. (Seed 214, N = 4, 1 Byzantine: a wallet spent its new
 * coin as soon as one guardian knew its to-coin transaction accepted; a guardian behind it refused
 * with unknown_input, the Byzantine one lied spent_input, and the wallet took the f + 1 refusals as
 * a rejection of a valid transaction.) The monero module's deposit_not_credited (a claimed deposit
 * a guardian behind has not credited yet) and reserves_short (the pause while the agreed reserves
 * are short, which ends when fresh reports move the figure) turn around the same way: seeds 11, 14
 * and 20 of `--evm --monero` (N = 4, one Byzantine), where a notes user's wallet took one of them
 * and the Byzantine guardian's spent_input as f + 1 refusals of its valid deposit or withdrawal.
 * Every other code is final: an input once spent stays spent, a signature or an amount does not
 * depend on the state. The real client cannot be led there: it spends only outputs of a transaction
 * t guardians agreed on, so at most 2f < t guardians can refuse with unknown_input, and it needs t
 * refusals with one code (core-client answers.ts decideSubmit).
 */
const NOT_YET = new Set(["unknown_input", "deposit_not_credited", "reserves_short"]);

export interface FederationApi {
  readonly n: number;
  /** t: blind shares needed per note. */
  readonly threshold: number;
  /** f + 1: guardians that must say "rejected" before a wallet believes it. */
  readonly rejectionQuorum: number;
  readonly itemBytesMax: number;
  readonly keys: readonly DenominationKey[];
  submit(g: number, tx: Transaction): SubmitAnswer | undefined;
  status(g: number, txid: string): StatusAnswer | undefined;
  /** Guardian g's blind share (hex) for output `index` of an accepted transaction; undefined: none yet. */
  blindShare(g: number, txid: string, index: number): string | undefined;
  honest(g: number): boolean;
  now(): number;
  phase(): "safety" | "liveness";
  schedule(atMs: number, fn: () => void): void;
  violation(what: string): void;
  note(line: string): void;
}

export interface WalletStats {
  opsStarted: number;
  opsDone: number;
  opsRejected: number;
  doubleSpends: number;
  crashes: number;
  resubmits: number;
  badShares: number;
  notesIssued: number;
}

export function emptyWalletStats(): WalletStats {
  return {
    opsStarted: 0,
    opsDone: 0,
    opsRejected: 0,
    doubleSpends: 0,
    crashes: 0,
    resubmits: 0,
    badShares: 0,
    notesIssued: 0,
  };
}

interface Coin {
  readonly txid: Uint8Array;
  readonly index: number;
  readonly amount: bigint;
  readonly seed: Uint8Array;
}

interface Op {
  /** spend: notes into another module's outputs (a wXMR mint output, a Monero payout; spendInto). */
  readonly kind: "issue" | "reissue" | "receive" | "to-coin" | "from-coin" | "spend";
  readonly tx: Transaction;
  readonly txid: string;
  readonly spends: readonly SpendableNote[];
  readonly spendsCoin: Coin | null;
  readonly issues: readonly { readonly note: PendingNote; readonly index: number }[];
  readonly coinOut: { readonly index: number; readonly amount: bigint; readonly seed: Uint8Array } | null;
  /** Set when another transaction spends the same notes (a double spend): one of them must lose. */
  readonly contest: Contest | null;
  readonly startedAt: number;
}

/** Two transactions spending the same notes. */
export interface Contest {
  accepted: number;
  rejected: number;
  readonly label: string;
}

/** What a wallet keeps only in memory: lost when it crashes. */
interface Volatile {
  lastSubmitAt: number;
  accepted: boolean;
  /** Guardian -> the code of its rejection or final refusal. */
  readonly rejectedBy: Map<number, string>;
  readonly shares: Map<number, Map<number, Uint8Array>>;
}

const POLL_MS = { min: 60, max: 400 } as const;
/** A transaction nobody has heard of this long after it was sent is sent again, elsewhere. */
const RESUBMIT_MS = 1_500;

export class Wallet {
  // ------------------------------------------------ its disk
  private notes: SpendableNote[] = [];
  private coins: Coin[] = [];
  private op: Op | null = null;
  /** How each operation asked for by txid ended (issueFrom, spendInto): its owner reads it here. */
  readonly finished = new Map<string, "accepted" | "rejected">();
  private readonly incoming: { notes: SpendableNote[]; contest: Contest | null }[] = [];
  // ------------------------------------------------ its memory
  private up = true;
  private generation = 0;
  private volatile: Volatile = freshVolatile();

  constructor(
    readonly index: number,
    private readonly api: FederationApi,
    private readonly rng: Rng,
    private readonly peers: () => readonly Wallet[],
    private readonly plan: {
      readonly opGapMs: number;
      readonly crashRate: number;
      readonly cheatRate: number;
      /**
       * A wallet driven by its owner (a notes bridge user, bridge-users.ts): it starts no operation
       * of its own, only those asked for (issueFrom, spendInto).
       */
      readonly driven?: boolean;
    },
    private readonly stats: WalletStats,
    private readonly contests: Contest[],
  ) {}

  start(): void {
    this.loop(this.generation);
  }

  /** Nothing outstanding: no operation in flight and no notes handed to it waiting to be reissued. */
  get settled(): boolean {
    return this.op === null && this.incoming.length === 0;
  }

  describe(): string {
    const op = this.op;
    if (op === null) return `wallet ${this.index}: ${this.incoming.length} gifts not yet reissued`;
    return (
      `wallet ${this.index}: ${op.kind} ${op.txid.slice(0, 12)} started at t=${op.startedAt} ` +
      `(${this.volatile.accepted ? "accepted, collecting shares" : "not known accepted"}, up ${this.up})`
    );
  }

  /** Wakes a crashed wallet (the network healed: everyone is back). */
  resume(): void {
    if (this.up) return;
    this.up = true;
    this.volatile = freshVolatile();
    this.api.note(
      `t=${this.api.now()} wallet ${this.index} resumes${this.op ? ` ${this.op.kind} ${this.op.txid.slice(0, 12)}` : ""}`,
    );
    this.loop(++this.generation);
  }

  /**
   * An issue funded from outside (an XMR note user's credited subaddress deposit, xmr-notes.ts):
   * `inputs`, signed by `signers`, into notes worth up to `value` (the rest below the smallest
   * note is donated). Its txid, or undefined while the wallet is down or busy: the caller tries
   * again later. How it ends is in `finished` (accepted once its notes are signed).
   */
  issueFrom(inputs: TxInput[], signers: Signer[], value: bigint): string | undefined {
    if (!this.up || this.op !== null) return undefined;
    const denoms = split(value);
    if (denoms.length === 0) return undefined;
    this.begin("issue", inputs, [], signers, null, denoms, null, null);
    return this.current()?.txid;
  }

  /**
   * Notes into other modules' outputs (a notes bridge user: a "wXMR to <address>" mint output, a
   * Monero payout): `notes` (a copy handed to this wallet, its owner's second device spending them
   * too: a double spend in `contest`), or all of its own notes (at most NOTES_PER_TX_MAX), worth
   * `value` after the mint's fee per input, into `outputs(value)` (undefined: not now, the notes
   * stay). Its txid, or undefined while down or busy; how it ends is in `finished`.
   */
  spendInto(
    outputs: (value: bigint) => TxOutput[] | undefined,
    notes?: readonly SpendableNote[],
    contest: Contest | null = null,
  ): string | undefined {
    if (!this.up || this.op !== null) return undefined;
    const own = notes === undefined;
    const spends = own ? this.notes.splice(0, NOTES_PER_TX_MAX) : [...notes];
    if (spends.length === 0) return undefined;
    const out = outputs(noteValue(spends) - BigInt(spends.length) * MINT_FEE_PER_INPUT);
    if (out === undefined) {
      if (own) this.notes.unshift(...spends);
      return undefined;
    }
    this.begin(
      "spend",
      spends.map((n) => noteInput(MINT_ID, n)),
      own ? spends : [],
      spends.map((n) => walletSigner(n.spendSeed)),
      null,
      [],
      null,
      contest,
      out,
    );
    return this.current()?.txid;
  }

  /** The notes it holds now (a driven wallet's owner hands them to its second device). */
  heldNotes(): readonly SpendableNote[] {
    return [...this.notes];
  }

  /** The operation in flight (read again after `begin`, which may drop it). */
  private current(): Op | null {
    return this.op;
  }

  /** Up and doing nothing: an operation asked for now starts at once. */
  get idle(): boolean {
    return this.up && this.op === null;
  }

  /** Σ of the notes it holds. */
  get heldValue(): bigint {
    return noteValue(this.notes);
  }

  receive(notes: SpendableNote[], contest: Contest | null): void {
    this.incoming.push({ notes, contest });
  }

  private loop(generation: number): void {
    if (generation !== this.generation || !this.up) return;
    this.work();
    this.api.schedule(this.api.now() + this.rng.range(POLL_MS.min, POLL_MS.max), () => this.loop(generation));
  }

  private crash(): void {
    this.up = false;
    this.generation++;
    this.stats.crashes++;
    const down = this.rng.range(50, 3_000);
    this.api.note(`t=${this.api.now()} wallet ${this.index} crashes for ${down}ms`);
    this.api.schedule(this.api.now() + down, () => this.resume());
  }

  private work(): void {
    if (this.op === null) {
      const gift = this.incoming.shift();
      if (gift !== undefined) {
        this.startReceive(gift.notes, gift.contest);
        return;
      }
      if (
        this.plan.driven !== true &&
        this.api.phase() === "safety" &&
        this.rng.chance(POLL_MS.max / this.plan.opGapMs)
      )
        this.startOp();
      return;
    }
    // Crashes are a fault of the safety phase: after the heal every wallet is back for good (as every
    // honest guardian is), or a wallet that crashes every few seconds never gathers t shares at large
    // N and the liveness bound judges the crashes, not the federation (`--monero` seed 11, N = 16:
    // 15 crashes after the heal, an issue's shares lost each time). The draw is made either way.
    if (this.rng.chance(this.plan.crashRate / 4) && this.api.phase() === "safety") {
      this.crash();
      return;
    }
    this.advance(this.op);
  }

  // ---------------------------------------------------------------- starting operations

  private startOp(): void {
    const choice = this.rng.int(10);
    if (this.notes.length === 0 || choice < 2) this.startIssue();
    else if (choice < 5) this.startReissue();
    else if (choice < 7) this.give();
    else if (choice < 8) this.startToCoin();
    else if (this.coins.length > 0) this.startFromCoin();
    else this.startReissue();
  }

  private startIssue(): void {
    const denoms = this.rng.shuffle([...DENOMINATIONS_LOG2]).slice(0, this.rng.range(1, NOTES_PER_TX_MAX));
    const total = denoms.reduce((a, d) => a + denominationAmount(d), 0n);
    const inputs = [faucetInput(DUMMY_ID, total + DUMMY_FEE_PER_INPUT, this.rng.bytes(16))];
    this.begin("issue", inputs, [], [], null, denoms, null, null);
  }

  private takeNotes(): SpendableNote[] {
    const k = this.rng.range(1, Math.min(NOTES_PER_TX_MAX, this.notes.length));
    this.rng.shuffle(this.notes);
    return this.notes.splice(0, k);
  }

  private startReissue(): void {
    const spends = this.takeNotes();
    const value = noteValue(spends) - BigInt(spends.length) * MINT_FEE_PER_INPUT;
    const denoms = split(value);
    if (denoms.length === 0) {
      this.notes.push(...spends);
      return;
    }
    this.begin(
      "reissue",
      spends.map((n) => noteInput(MINT_ID, n)),
      spends,
      spends.map((n) => walletSigner(n.spendSeed)),
      null,
      denoms,
      null,
      null,
    );
  }

  private startReceive(notes: SpendableNote[], contest: Contest | null): void {
    const value = noteValue(notes) - BigInt(notes.length) * MINT_FEE_PER_INPUT;
    const denoms = split(value);
    if (denoms.length === 0) return;
    this.begin(
      "receive",
      notes.map((n) => noteInput(MINT_ID, n)),
      [],
      notes.map((n) => walletSigner(n.spendSeed)),
      null,
      denoms,
      null,
      contest,
    );
  }

  /** Hands notes to another wallet; a cheating wallet also spends them itself at once. */
  private give(): void {
    const others = this.peers().filter((w) => w !== this);
    if (others.length === 0 || this.notes.length === 0) return;
    const notes = this.takeNotes();
    const cheat = this.rng.chance(this.plan.cheatRate);
    const contest: Contest | null = cheat
      ? { accepted: 0, rejected: 0, label: `wallet ${this.index} t=${this.api.now()}` }
      : null;
    this.rng.pick(others).receive(notes, contest);
    if (contest === null) return;
    this.contests.push(contest);
    this.stats.doubleSpends++;
    const value = noteValue(notes) - BigInt(notes.length) * MINT_FEE_PER_INPUT;
    const denoms = split(value);
    this.begin(
      "reissue",
      notes.map((n) => noteInput(MINT_ID, n)),
      [],
      notes.map((n) => walletSigner(n.spendSeed)),
      null,
      denoms,
      null,
      contest,
    );
  }

  private startToCoin(): void {
    const spends = this.takeNotes();
    const amount = noteValue(spends) - BigInt(spends.length) * MINT_FEE_PER_INPUT;
    if (amount <= 0n) {
      this.notes.push(...spends);
      return;
    }
    const seed = this.rng.bytes(32);
    const output = coinOutput(DUMMY_ID, amount, walletSigner(seed).publicKey);
    this.begin(
      "to-coin",
      spends.map((n) => noteInput(MINT_ID, n)),
      spends,
      spends.map((n) => walletSigner(n.spendSeed)),
      null,
      [],
      { output, seed },
      null,
    );
  }

  private startFromCoin(): void {
    const coin = this.coins.shift()!;
    const denoms = split(coin.amount - DUMMY_FEE_PER_INPUT);
    if (denoms.length === 0) return;
    const input = spendInput(DUMMY_ID, coin.amount, coin.txid, coin.index);
    this.begin("from-coin", [input], [], [walletSigner(coin.seed)], coin, denoms, null, null);
  }

  private begin(
    kind: Op["kind"],
    inputs: TxInput[],
    spends: SpendableNote[],
    signers: Signer[],
    spendsCoin: Coin | null,
    denoms: readonly number[],
    coin: { output: TxOutput; seed: Uint8Array } | null,
    contest: Contest | null,
    /** Outputs of other modules, first (spendInto). */
    head: readonly TxOutput[] = [],
  ): void {
    const issues = denoms.map((d, i) => ({ note: this.prepare(d), index: head.length + i }));
    const outputs: TxOutput[] = [...head, ...issues.map((i) => noteOutput(MINT_ID, i.note))];
    let coinOut: Op["coinOut"] = null;
    if (coin !== null) {
      coinOut = { index: outputs.length, amount: coin.output.amount, seed: coin.seed };
      outputs.push(coin.output);
    }
    const tx = buildTransaction(inputs, outputs, signers, sha256, this.rng.bytes(32));
    const size = encodeConsensusItem({ kind: "transaction", tx }).length;
    if (size > this.api.itemBytesMax) {
      this.api.violation(
        `wallet ${this.index} built a ${size}-byte ${kind} transaction, above the item limit`,
      );
      return;
    }
    this.op = {
      kind,
      tx,
      txid: toHex(transactionId(tx, sha256)),
      spends,
      spendsCoin,
      issues,
      coinOut,
      contest,
      startedAt: this.api.now(),
    };
    this.volatile = freshVolatile();
    this.stats.opsStarted++;
    // Written down, not yet sent: a crash here must not lose the notes it spends.
    // (At most one crash per operation started, so it stays after the heal too: a driven wallet's
    // owner starts operations then, and the wallet resumes its disk's operation after it.)
    if (this.rng.chance(this.plan.crashRate)) this.crash();
    else this.submit(this.op);
  }

  private prepare(denominationLog2: number): PendingNote {
    const spendSeed = this.rng.bytes(32);
    const spendKey = walletSigner(spendSeed).publicKey;
    const { blindingKey, blindedMessage } = simTbs.blind(spendKey, (n) => this.rng.bytes(n));
    return { denominationLog2, spendSeed, spendKey, blindingKey, blindedMessage };
  }

  // ---------------------------------------------------------------- driving an operation

  private submit(op: Op): void {
    const g = this.rng.int(this.api.n);
    if (this.volatile.lastSubmitAt >= 0) this.stats.resubmits++;
    this.volatile.lastSubmitAt = this.api.now();
    const answer = this.api.submit(g, op.tx);
    if (answer?.state === "rejected") this.rejected(g, op, answer.code);
    else if (answer?.state === "refused") {
      if (!NOT_YET.has(answer.code)) this.rejected(g, op, answer.code);
      else
        this.api.note(
          `t=${this.api.now()} wallet ${this.index}: guardian ${g} does not know an input of ${op.kind} ` +
            `${op.txid.slice(0, 12)} yet (${answer.code}); asks again later`,
        );
    }
  }

  private advance(op: Op): void {
    const v = this.volatile;
    if (!v.accepted) {
      const g = this.rng.int(this.api.n);
      const answer = this.api.status(g, op.txid);
      if (answer?.state === "accepted") v.accepted = true;
      else if (answer?.state === "rejected") this.rejected(g, op, answer.code);
      else if (v.lastSubmitAt < 0 || this.api.now() - v.lastSubmitAt >= RESUBMIT_MS) this.submit(op);
      if (!v.accepted) return;
    }
    this.collectShares(op);
  }

  private rejected(g: number, op: Op, code: string): void {
    const v = this.volatile;
    v.rejectedBy.set(g, code);
    this.api.note(
      `t=${this.api.now()} wallet ${this.index}: guardian ${g} rejects ${op.kind} ${op.txid.slice(0, 12)} (${code}), ` +
        `${v.rejectedBy.size} of ${this.api.rejectionQuorum}`,
    );
    // f + 1 guardians: at least one of them is honest.
    if (v.rejectedBy.size < this.api.rejectionQuorum) return;
    this.stats.opsRejected++;
    this.finished.set(op.txid, "rejected");
    if (op.contest !== null) {
      op.contest.rejected++;
    } else {
      const by = [...v.rejectedBy].map(([guardian, c]) => `guardian ${guardian}: ${c}`).join(", ");
      this.api.violation(
        `wallet ${this.index}'s valid ${op.kind} transaction ${op.txid.slice(0, 12)} was rejected (${by})`,
      );
    }
    // The notes it spent were spent elsewhere (or are lost to the bug just reported).
    this.op = null;
  }

  private collectShares(op: Op): void {
    const v = this.volatile;
    const t = this.api.threshold;
    // Any guardian some unfinished note still lacks a share from: a share dropped as bad frees its
    // note's slot, and a guardian asked before may be the one it needs now (found by seed 5, N = 7:
    // a wallet that never asked a guardian again waited forever on a silent Byzantine one).
    const lacking = Array.from({ length: this.api.n }, (_, g) => g).filter((g) =>
      op.issues.some((i) => {
        const have = v.shares.get(i.index);
        return have === undefined || (have.size < t && !have.has(g));
      }),
    );
    const g = this.rng.pick(lacking.length > 0 ? lacking : [this.rng.int(this.api.n)]);
    for (const issue of op.issues) {
      const have = v.shares.get(issue.index) ?? new Map<number, Uint8Array>();
      v.shares.set(issue.index, have);
      if (have.size >= t) continue;
      const hex = this.api.blindShare(g, op.txid, issue.index);
      if (hex === undefined) continue;
      let share: Uint8Array;
      try {
        share = fromHex(hex);
      } catch {
        this.badShare(g, op);
        continue;
      }
      have.set(g, share);
    }
    for (const issue of op.issues) if ((v.shares.get(issue.index)?.size ?? 0) < t) return;
    const finished: SpendableNote[] = [];
    for (const issue of op.issues) {
      const note = this.finish(issue.note, v.shares.get(issue.index)!, op);
      if (note === undefined) return;
      finished.push(note);
    }
    this.complete(op, finished);
  }

  /** Combine t shares optimistically; if the note does not verify, check each share and drop bad ones. */
  private finish(note: PendingNote, shares: Map<number, Uint8Array>, op: Op): SpendableNote | undefined {
    const key = this.api.keys[DENOMINATIONS_LOG2.indexOf(note.denominationLog2)]!;
    const chosen = [...shares].slice(0, this.api.threshold).map(([guardian, share]) => ({ guardian, share }));
    const combined = simTbs.combineBlindShares(this.api.threshold, chosen);
    if (combined.ok) {
      const signature = simTbs.unblind(combined.value, note.blindingKey);
      if (signature.ok && simTbs.verifyNote(key.publicKey, note.spendKey, signature.value)) {
        return {
          denominationLog2: note.denominationLog2,
          spendSeed: note.spendSeed,
          spendKey: note.spendKey,
          signature: signature.value,
        };
      }
    }
    for (const [g, share] of shares) {
      if (!simTbs.verifyBlindShare(key.publicKeyShares[g]!, note.blindedMessage, share)) {
        shares.delete(g);
        this.badShare(g, op);
      }
    }
    return undefined;
  }

  private badShare(g: number, op: Op): void {
    this.stats.badShares++;
    if (this.api.honest(g)) {
      this.api.violation(
        `honest guardian ${g} gave wallet ${this.index} a blind share that does not verify (transaction ${op.txid.slice(0, 12)})`,
      );
    }
  }

  private complete(op: Op, notes: SpendableNote[]): void {
    this.notes.push(...notes);
    this.stats.notesIssued += notes.length;
    if (op.coinOut !== null) {
      this.coins.push({
        txid: fromHex(op.txid),
        index: op.coinOut.index,
        amount: op.coinOut.amount,
        seed: op.coinOut.seed,
      });
    }
    if (op.contest !== null) op.contest.accepted++;
    this.finished.set(op.txid, "accepted");
    this.stats.opsDone++;
    this.op = null;
    this.volatile = freshVolatile();
  }
}

function freshVolatile(): Volatile {
  return { lastSubmitAt: -1, accepted: false, rejectedBy: new Map(), shares: new Map() };
}

function noteValue(notes: readonly SpendableNote[]): bigint {
  return notes.reduce((a, n) => a + denominationAmount(n.denominationLog2), 0n);
}

/** The largest notes (at most NOTES_PER_TX_MAX) that fit in `value`; what is left over is donated. */
function split(value: bigint): number[] {
  const out: number[] = [];
  let left = value;
  for (const log2 of [...DENOMINATIONS_LOG2].reverse()) {
    const d = denominationAmount(log2);
    while (left >= d && out.length < NOTES_PER_TX_MAX) {
      out.push(log2);
      left -= d;
    }
  }
  return out;
}
