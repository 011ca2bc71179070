// The monero module in the whole-federation simulation (issue 11): one seed-driven MoneroChain,
// every honest guardian's real MoneroServerModule on its own SimMoneroShare (config from
// parseMoneroConfig, as guardiand's factory parses it), its watcher, reserves monitor and payout
// signer driven by simulated-time calls (autoPoll off: no real timers); blocks at exponential gaps
// with reorgs below the confirmation depth, node faults per guardian during the safety phase,
// healed at the liveness phase. XMR users deposit by proof through the real claim intake, spend the
// credited deposit into a payout to their own address (the rest into a dummy coin), and wait for it
// to be confirmed. Money checks after every block at every honest guardian: deposits credited only
// if really paid to the federation by someone else, payouts paid at most once on the chain, and the
// module's audit assets equal the XMR the checker saw enter (deposit inputs) minus what it saw leave
// (payout outputs and their fees).
import {
  ConclaveError,
  encodeConsensusItem,
  faultTolerance,
  toHex,
  transactionId,
} from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import type { FederationProcessor, ReadTx } from "@conclave/core-server";
import { NodeSigner } from "@conclave/core-server";
import { buildTransaction, coinOutput } from "@conclave/module-dummy";
import {
  ITEM_GONE,
  MoneroServerModule,
  MoneroState,
  PAYOUT_ITEM_TAGS,
  PayoutStore,
  quorumThreshold,
  claimProof,
  decodeCreatorSet,
  decodeMoneroItem,
  decodePayoutItem,
  FEE_PER_BYTE_MAX,
  depositInput,
  encodeMoneroItem,
  encodePayoutItem,
  encodePayoutOutput,
  parseMoneroConfig,
  payoutFee,
  txsetOfBlob,
} from "@conclave/module-monero";
import type { DepositRecord, MoneroConfig, MoneroStateWriter } from "@conclave/module-monero";
import type { ModuleResult, WriteTx } from "@conclave/core-server";
import { sha256 } from "../consensus.js";
import { Rng } from "../rng.js";
import type { SimHost } from "../application.js";
import { BlockProducer, NodeFaultDriver, schedulerAt } from "../chains/chain.js";
import { MoneroChain, simAddress } from "../chains/monero-chain.js";
import { simMoneroShares } from "../chains/monero-wallet.js";
import type { SimMoneroShare } from "../chains/monero-wallet.js";
import { depositViolations, payoutViolations } from "../chains/monero-checks.js";
import type { DepositCredited, PayoutClaimed } from "../chains/monero-checks.js";
import { DUMMY_ID, MONERO_ID } from "./setup.js";
import { ByzantinePayoutParticipant } from "./monero-byzantine.js";
import { XmrNoteUser, emptyXmrNoteStats } from "./xmr-notes.js";
import type { NoteFunding, XmrNoteStats } from "./xmr-notes.js";
import { SubaddressState } from "../../../../modules/monero/src/subaddresses.js";
import type { ByzantinePayoutStats } from "./monero-byzantine.js";
import { DeepReorgs } from "./monero-deep-reorg.js";
import { LyingMoneroShare, drawMoneroLies, emptyMoneroLiarStats } from "./monero-liar.js";
import type { MoneroLiarStats, MoneroLies } from "./monero-liar.js";
import type { StatusAnswer, SubmitAnswer } from "./wallets.js";

const XMR = 10n ** 12n;
/**
 * Consensus item size limit for runs with the monero module (SimOptions.itemBytesMax): a signed
 * payout set is about 1 KiB in the simulation, above SIM_LIMITS' 1024-byte items.
 */
export const MONERO_ITEM_BYTES_MAX = 8 * 1024;
/** How often a guardian's background steps run (the module's pollMs in the simulation). */
const MONERO_POLL_MS = 1_000;
/** Mean simulated ms between Monero blocks: fast, so that confirmations fit the liveness bound. */
const MEAN_BLOCK_MS = 500;
/** Confirmations a deposit and a payout need (the chain's finality depth: reorgs stay below it). */
const CONFIRMATIONS = 4;
/**
 * Blocks a payout round waits for a participant before passing over it (default): about 10 s at
 * MEAN_BLOCK_MS, well above an honest guardian's step (a poll every MONERO_POLL_MS, then a
 * consensus block of 1-2 s). At 8 blocks (about 4 s) honest signers are passed over, and seed 4
 * (N = 5, one Byzantine) freezes a batch: docs/simulator.md, "Found by the simulation".
 */
export const PAYOUT_ROUND_BLOCKS = 20;
/**
 * payoutExportWaitBlocks in the deep-reorg worlds: 6 blocks (about 3 s), above an honest guardian's
 * export (a poll every MONERO_POLL_MS, then a consensus block of 1-2 s), as the product's default of
 * 2 Monero blocks (4 minutes) is in production. The default's 2 blocks are 1 s here: honest exports
 * 0.8 s apart missed it, and an attempt started with the excluded (most blamed) exporter in place
 * of the late honest one (seed 48 of `--monero-deep-reorg-spent`: a silent Byzantine guardian, the
 * last of exactly t participants, so the attempt could only end by two pass-overs and a new one).
 * The other worlds keep the default so that their seeds replay (docs/simulator.md).
 */
export const DEEP_REORG_EXPORT_WAIT_BLOCKS = 6;
/** How often an XMR user looks at its deposit or payout again. */
const USER_STEP_MS = 700;
/** Module-level deposit record key (state.ts K_DEPOSIT): the checker lists every deposit record. */
const K_DEPOSIT = 0x03;

/**
 * Deliberate bugs (tests of the checkers only; nothing in the module reads them):
 *   monero-credits-own-payout  the guardian forgets that it sent a payout: consensus drops its
 *     own-transaction marks (state.ts K_OWN_TX, 0x1e) after every item, and the watcher's wallet
 *     check `ownTransaction` answers "not ours", so a claim of a payout's change can be credited.
 *   monero-attestation-per-message  deposit attestations are counted per message, not per
 *     guardian: a guardian's repeated attestation of an open claim counts as one more verdict
 *     (booked to a guardian that has not attested yet), so one guardian's verdict sent t times
 *     credits the deposit.
 *   monero-unbound-attempt  "a new payout attempt is started without reusing a conflicting input":
 *     Payouts.nextBound answers no bound, so an attempt started after one that could still be
 *     finished may spend other inputs; a completion of the old one broadcast later pays the batch
 *     a second time.
 *   monero-pays-while-short  "pay out while the agreed reserves are short": the module's pause
 *     (server.ts reservesPause) never answers short, so payouts and deposit spends are accepted
 *     after a deep reorg took a credited deposit away (the `--monero-deep-reorg` world's check).
 *   monero-verdict-ignores-amount  "deposit attestations agree on the block alone": t valid
 *     verdicts with the same txHeight credit the deposit, with the amount of the first of them in
 *     guardian order, whatever the others attested (sameVerdict without its amount): one
 *     guardian whose node inflates what a proof received credits more than was paid when it comes
 *     first (the `--monero-lying-node` world's check, federation-monero-liar.test.ts).
 *   monero-gone-per-message  "count one guardian's Gone vote twice": a guardian's repeated Gone
 *     (payout transaction unmineable) is booked to a guardian that has not voted, so a Byzantine
 *     guardian's false Gone sent t times re-opens a confirmed batch whose transaction is mined, and
 *     the batch is paid a second time (the deep-reorg worlds' Byzantine guardians send it).
 *   monero-gone-unagreed-detached  "an unagreed watch counts a detached source" (the rule before
 *     0511462): every honest share's wallet model counts every kind of evidence for a completion
 *     voted before a txid is agreed (SimMoneroShare.goneRule in place of the product's
 *     goneEvidenceCounts), so a named input whose source a deep reorg merely detached counts as gone
 *     (the `--monero-deep-reorg-detach` world's check: the batch paid twice).
 */
export type MoneroBug =
  | "monero-credits-own-payout"
  | "monero-attestation-per-message"
  | "monero-unbound-attempt"
  | "monero-refusal-unvoted"
  | "monero-sighting-per-message"
  | "monero-pays-while-short"
  | "monero-gone-per-message"
  | "monero-verdict-ignores-amount"
  | "monero-gone-unagreed-detached";

/**
 * monero-verdict-ignores-amount: the module's private `settle` (server.ts) with valid verdicts
 * compared by txHeight alone; the rest as the product's (own transactions, t invalid ones close).
 */
function settleIgnoringAmount(
  this: MoneroServerModule,
  state: MoneroStateWriter,
  txid: Uint8Array,
  rec: DepositRecord,
): void {
  // The module's private members, read as the harness's own (the rule is the product's but one line).
  const t = Reflect.get(this, "t") as number;
  const closeRule = Reflect.get(this, "close") as (
    state: MoneroStateWriter,
    txid: Uint8Array,
    rec: DepositRecord,
    reason: string,
  ) => void;
  const self = { t, close: (...a: Parameters<typeof closeRule>) => closeRule.apply(this, a) };
  if (state.isOwnTransaction(txid)) {
    self.close(state, txid, rec, "own_transaction");
    return;
  }
  const all = state.attestations(txid);
  for (const a of all) {
    const v = a.verdict;
    if (!v.valid) continue;
    const agreeing = all.filter((b) => b.verdict.valid && b.verdict.txHeight === v.txHeight).length;
    if (agreeing >= self.t) {
      state.putDeposit(txid, { ...rec, state: "credited", amount: v.amount, txHeight: v.txHeight });
      state.setOpen(rec.claimedBy, txid, false);
      return;
    }
  }
  const invalid = all.filter((a) => !a.verdict.valid);
  if (invalid.length >= self.t) {
    const first = invalid[0]!.verdict;
    self.close(state, txid, rec, first.valid ? "nothing_received" : first.reason);
  }
}

/** monero-gone-per-message: a repeated Gone vote is booked to the next guardian without one. */
class PerMessageGone extends MoneroServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    if (payload[0] === ITEM_GONE) {
      try {
        const item = decodePayoutItem(payload);
        const store = new PayoutStore(db);
        if (item.kind === "gone" && store.gone(item.batch, peer, item.scope)) {
          const free = Array.from({ length: this.config.guardians }, (_, g) => g).find(
            (g) => !store.gone(item.batch, g, item.scope),
          );
          if (free !== undefined) return super.processConsensusItem(db, payload, free);
        }
      } catch {
        // Not a payout item: the module's own answer.
      }
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

/**
 * monero-sighting-per-message: "count one guardian's subaddress sighting twice": a guardian's
 * repeated `subaddress_seen` of a pending deposit is booked as the sighting of a guardian that has
 * not reported it yet, so a Byzantine guardian's false sighting sent t times credits the deposit.
 */
class PerMessageSightings extends MoneroServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    const tag = payload[0];
    if (tag === undefined || PAYOUT_ITEM_TAGS.has(tag)) return super.processConsensusItem(db, payload, peer);
    let seen: { txid: Uint8Array; index: number } | undefined;
    try {
      const item = decodeMoneroItem(payload);
      if (item.kind === "subaddress_seen") seen = { txid: item.txid, index: item.index };
    } catch {
      // Not a monero item: the module's own answer.
    }
    if (seen !== undefined) {
      const subs = new SubaddressState(db);
      if (subs.attestation(seen.txid, seen.index, peer) !== undefined) {
        const free = Array.from({ length: this.config.guardians }, (_, g) => g).find(
          (g) => subs.attestation(seen.txid, seen.index, g) === undefined,
        );
        if (free !== undefined) return super.processConsensusItem(db, payload, free);
      }
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

/**
 * monero-refusal-unvoted: "a guardian whose node refuses the final set waits instead of voting the
 * refusal": its Fault(t) votes never leave it (filtered from its consensus proposals), so a garbage
 * final set is never passed over and the batch stays in `submit` (no round timeout there).
 */
class RefusalUnvoted extends MoneroServerModule {
  override consensusProposal(db: ReadTx): Uint8Array[] {
    const t = quorumThreshold(this.config.guardians);
    return super.consensusProposal(db).filter((p) => {
      if (p[0] === undefined || !PAYOUT_ITEM_TAGS.has(p[0])) return true;
      try {
        const item = decodePayoutItem(p);
        return !(item.kind === "fault" && item.slot === t);
      } catch {
        return true;
      }
    });
  }
}

/** monero-attestation-per-message: a repeated attestation is booked to the next guardian without one. */
class PerMessageAttestations extends MoneroServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    const tag = payload[0];
    if (tag === undefined || PAYOUT_ITEM_TAGS.has(tag)) return super.processConsensusItem(db, payload, peer);
    let txid: Uint8Array | undefined;
    try {
      const item = decodeMoneroItem(payload);
      if (item.kind === "attest") txid = item.txid;
    } catch {
      // Not a monero item: the module's own answer.
    }
    const state = new MoneroState(db);
    if (txid !== undefined && state.deposit(txid)?.state === "open" && state.attestation(txid, peer)) {
      const free = Array.from({ length: this.config.guardians }, (_, g) => g).find(
        (g) => state.attestation(txid, g) === undefined,
      );
      if (free !== undefined) return super.processConsensusItem(db, payload, free);
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

const K_OWN_TX = 0x1e;

class ForgetfulMonero extends MoneroServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    const r = super.processConsensusItem(db, payload, peer);
    for (const [k] of [...db.scan(Uint8Array.of(K_OWN_TX))]) db.delete(k);
    return r;
  }
}

/** What the monero world needs of the federation application. */
export interface MoneroHostApi {
  submit(g: number, tx: Transaction): SubmitAnswer | undefined;
  status(g: number, txid: string): StatusAnswer | undefined;
  /** Honest guardian g's process, if it runs: its processor and its monero module. */
  moneroAt(g: number): { processor: FederationProcessor; monero: MoneroServerModule } | undefined;
}

export interface MoneroStats extends ByzantinePayoutStats, XmrNoteStats {
  xmrDeposits: number;
  xmrCredited: number;
  /** Withdrawals (deposit spends into a payout) accepted. */
  xmrWithdrawals: number;
  xmrPaid: number;
  xmrClaimsRefused: number;
  xmrSpendRetries: number;
  xmrStepFailures: number;
  xmrChecks: number;
  xmrReorgs: number;
  xmrFaultEpisodes: number;
  /** False chain heights and fee rates Byzantine guardians put in their bundles. */
  xmrByzLies: number;
  /** Claims of a payout's change (the federation's own transaction) Byzantine guardians made. */
  xmrByzChangeClaims: number;
  /** False attestations Byzantine guardians sent (each sent t times in one bundle). */
  xmrByzFalseAttests: number;
  /** False payout votes Byzantine guardians sent: fault accusations, txids, confirmations. */
  xmrByzFalseVotes: number;
  /** False Gone votes (a payout transaction claimed unmineable) Byzantine guardians sent (deep-reorg worlds). */
  xmrByzFalseGone: number;
  /** False subaddress sightings Byzantine guardians sent (twice the amount, t times in one bundle). */
  xmrByzFalseSightings: number;
  /** Final sets an honest guardian's node refused with nothing spending their inputs (its Fault(t)). */
  xmrSubmitRefusals: number;
  /** Longest time from the heal (or acceptance, if later) to a payout's confirmation, ms. */
  xmrPayoutAfterHealMsMax: number;
  /** The most the chain's fees of the federation's transactions exceeded the fees its payouts were charged. */
  xmrFeeShortfall: number;
  /** Confirmed batches whose Monero fee was topped up from the fee fund (above their payouts' fees). */
  xmrFeeTopUps: number;
}

/** One XMR user: deposits by proof, spends the credit into a payout, waits for it to be confirmed. */
class XmrUser {
  private readonly signer: NodeSigner;
  readonly address: string;
  private step: "pay" | "claim" | "credit" | "spend" | "wait" | "done" = "pay";
  private deposit: { txid: string; txidBytes: Uint8Array; txKey: Uint8Array; amount: bigint } | undefined;
  private spend: { tx: Transaction; txid: string; acceptedAt?: number } | undefined;
  private rounds: number;
  /** A deep reorg took its credited deposit away (monero-deep-reorg.ts). */
  private dropped = false;

  constructor(
    readonly id: number,
    private readonly world: MoneroWorld,
    private readonly rng: Rng,
    /** A holder: deposits this much, is credited and keeps it (the federation's spare reserves). */
    private readonly holds?: bigint,
  ) {
    this.signer = new NodeSigner(rng.bytes(32));
    this.address = simAddress("mainnet", "standard", `sim-user-${world.seed}-${id}`);
    // One deposit and withdrawal per user: with one payout batch in flight (about 10-16 s each after
    // the heal, measured), more rounds queue batches past the 60 s liveness bound (seed 3, N = 4,
    // one Byzantine, safety 4 s: a third batch still submitting at the end).
    this.rounds = 1;
  }

  get settled(): boolean {
    return this.step === "done";
  }

  /**
   * A deep reorg double-spent this holder's credited deposit back to it (monero-deep-reorg.ts): it
   * now tries to withdraw the credit it no longer paid for, which the reserves pause must refuse.
   */
  withdrawAfterDrop(txid: string): void {
    if (this.deposit?.txid !== txid) return;
    this.dropped = true;
    if (this.holds === undefined || this.step !== "done") return;
    // It waits for the fork to settle (10 s): withdrawing at once races the guardians' reports, and
    // a withdrawal accepted before they agree the reserves are short cannot be funded (the wallet
    // lacks the deposit): its batch retries until the reserves are back (docs/simulator.md).
    this.world.host.schedule(this.world.host.now() + 10_000, () => {
      this.step = "spend";
      this.tick();
    });
  }

  /**
   * What the reserves pause holds back: credited and trying to spend with no spend accepted, or a
   * withdrawal of a deposit a deep reorg took away (the wallet cannot fund it while short).
   */
  get heldByShortfall(): boolean {
    return (
      this.step === "spend" ||
      (this.step === "wait" && (this.spend?.acceptedAt === undefined || this.dropped))
    );
  }

  /** When its withdrawal in flight was accepted (step `wait`), if one is. */
  get withdrawalAcceptedAt(): number | undefined {
    return this.step === "wait" ? this.spend?.acceptedAt : undefined;
  }

  /** The deposit whose claim it waits to see credited (step `credit`), if any. */
  get awaitingCredit(): string | undefined {
    return this.step === "credit" ? this.deposit?.txid : undefined;
  }

  describe(): string {
    return `xmr user ${this.id} at step ${this.step}${this.deposit ? ` (deposit ${this.deposit.txid.slice(0, 8)})` : ""}`;
  }

  start(): void {
    this.world.host.schedule(this.world.host.now() + this.rng.range(0, 1_000), () => this.tick());
  }

  private later(): void {
    this.world.host.schedule(this.world.host.now() + USER_STEP_MS, () => this.tick());
  }

  private tick(): void {
    if (this.step === "done") return;
    void this.act()
      .catch((e: unknown) => {
        // A bug of the simulated user (or an answer it does not expect): a violation, not a rejection
        // lost in the event loop (before: the run went on without the user, or the CLI process ended).
        this.world.host.violation(`THE SIMULATOR THREW: ${this.describe()}: ${String(e)}`);
        this.step = "done";
      })
      .finally(() => {
        if (this.step !== "done") this.later();
      });
  }

  private async act(): Promise<void> {
    const w = this.world;
    switch (this.step) {
      case "pay": {
        const amount = this.holds ?? BigInt(this.rng.range(1, 9)) * (XMR / 10n);
        const paid = w.chain.payFederation(amount);
        this.deposit = {
          txid: paid.txid,
          txidBytes: Uint8Array.from(Buffer.from(paid.txid, "hex")),
          txKey: paid.txKey,
          amount,
        };
        w.stats.xmrDeposits++;
        this.step = "claim";
        return;
      }
      case "claim": {
        const d = this.deposit!;
        const r = await w.claimByProof(this.rng, d, this.signer.publicKey, `xmr-user-${this.id}`);
        if (r === "posted") this.step = "credit";
        return;
      }
      case "credit": {
        const view = w.depositView(this.rng, this.deposit!.txidBytes);
        if (view === undefined) return;
        if (view.state === "rejected" || view.state === "expired" || view.state === "unclaimed") {
          // Released (a reorg took the payment away for a while, or the claim aged out): claim again.
          this.step = "claim";
          return;
        }
        if (view.spendable) {
          w.stats.xmrCredited++;
          this.step = this.holds === undefined ? "spend" : "done";
        }
        return;
      }
      case "spend":
        this.trySpend();
        return;
      case "wait": {
        const s = this.spend!;
        if (s.acceptedAt === undefined) {
          this.followSpend();
          return;
        }
        const outcome = w.payoutState(this.rng, s.txid);
        if (outcome === "confirmed") {
          w.stats.xmrPaid++;
          w.paidInTime(this.describe(), s.acceptedAt);
          const from = Math.max(s.acceptedAt, w.healedAt ?? Infinity);
          if (Number.isFinite(from))
            w.stats.xmrPayoutAfterHealMsMax = Math.max(w.stats.xmrPayoutAfterHealMsMax, w.host.now() - from);
          this.step = --this.rounds > 0 ? "pay" : "done";
          this.deposit = undefined;
          this.spend = undefined;
        }
        return;
      }
      case "done":
        return;
    }
  }

  /** Spends the whole credited deposit: a payout to the user's own address, the rest into a dummy coin. */
  private trySpend(): void {
    const w = this.world;
    const d = this.deposit!;
    const feeRate = w.agreedFeeRate(this.rng);
    if (feeRate === undefined) return;
    const fee = payoutFee(w.config, feeRate);
    if (fee === undefined || fee * 2n >= d.amount) return;
    const amount = ((d.amount - fee) * BigInt(this.rng.range(50, 100))) / 100n;
    const rest = d.amount - amount - fee;
    const tx = buildTransaction(
      [depositInput(MONERO_ID, d.amount, d.txidBytes)],
      [
        { module: MONERO_ID, amount, payload: encodePayoutOutput(this.address, fee) },
        ...(rest > 0n ? [coinOutput(DUMMY_ID, rest, this.signer.publicKey)] : []),
      ],
      [this.signer],
      sha256,
      this.rng.bytes(32),
    );
    this.spend = { tx, txid: toHex(transactionId(tx, sha256)) };
    this.step = "wait";
    this.followSpend();
  }

  /** Submits the spend to a random honest guardian; a rejection starts over with a fresh transaction. */
  private followSpend(): void {
    const w = this.world;
    const s = this.spend!;
    const g = this.rng.pick(w.host.honest);
    const status = w.app.status(g, s.txid);
    if (status?.state === "accepted") {
      s.acceptedAt = w.host.now();
      w.noteWithdrawal();
      return;
    }
    if (status?.state === "rejected") {
      // Honest guardians only: a rejection is the state's answer (not yet spendable at the agreed
      // height, reserves paused, fee rate moved): build a fresh transaction.
      w.stats.xmrSpendRetries++;
      this.step = "spend";
      return;
    }
    const answer = w.app.submit(g, s.tx);
    if (answer?.state === "rejected" || answer?.state === "refused") {
      w.stats.xmrSpendRetries++;
      this.step = "spend";
    }
  }
}

/** The chain, the shares, the users and the XMR money checkers of one simulated federation. */
export class MoneroWorld {
  readonly chain: MoneroChain;
  readonly config: MoneroConfig;
  readonly shares: readonly SimMoneroShare[];
  readonly seed: number;
  readonly stats: MoneroStats = {
    xmrDeposits: 0,
    xmrCredited: 0,
    xmrWithdrawals: 0,
    xmrPaid: 0,
    xmrClaimsRefused: 0,
    xmrSpendRetries: 0,
    xmrStepFailures: 0,
    xmrChecks: 0,
    xmrReorgs: 0,
    xmrFaultEpisodes: 0,
    xmrByzLies: 0,
    xmrByzChangeClaims: 0,
    xmrByzFalseAttests: 0,
    xmrByzFalseVotes: 0,
    xmrByzFalseGone: 0,
    xmrByzKept: 0,
    xmrByzLateBroadcasts: 0,
    xmrByzLateAccepted: 0,
    xmrByzPayoutItems: 0,
    xmrByzAccusations: 0,
    xmrByzGarbageSets: 0,
    xmrSubmitRefusals: 0,
    xmrByzFalseSightings: 0,
    ...emptyXmrNoteStats(),
    xmrPayoutAfterHealMsMax: 0,
    xmrFeeShortfall: 0,
    xmrFeeTopUps: 0,
  };
  healedAt: number | undefined;
  private readonly producer: BlockProducer;
  /** The deep reorgs of the `--monero-deep-reorg` world. */
  readonly deep: DeepReorgs | undefined = undefined;
  /** The honest guardian whose monerod and wallet-rpc lie (`--monero-lying-node`, monero-liar.ts). */
  readonly liar:
    { g: number; lies: MoneroLies; rng: Rng; stats: MoneroLiarStats; share: LyingMoneroShare } | undefined =
    undefined;
  /** Per honest guardian: the height, payouts counted and agreed reserves `short` at its last check. */
  private readonly lastCheck = new Map<
    number,
    { height: number; payouts: number; short: boolean; agreed: bigint | undefined; required: bigint }
  >();
  private readonly faults: NodeFaultDriver;
  /** The `--monero-deep-reorg-detach` world. */
  private readonly deepDetach: boolean;
  private readonly users: XmrUser[] = [];
  private readonly noteUsers: XmrNoteUser[] = [];
  /** Per guardian, a pump running its background steps (one at a time), by process generation. */
  private readonly busy = new Set<number>();
  /** Payout txids Byzantine guardians claimed as deposits. */
  private readonly changeClaims = new Set<string>();
  /** Txids no chain has whose claims the liar's intake took (monero-liar.ts): never credited. */
  private readonly phantomClaims = new Set<string>();
  /** Payout txids the users paid by them claimed as deposits (bridge-users.ts, the burn's payout). */
  readonly payoutClaims = new Set<string>();

  constructor(
    readonly host: SimHost,
    readonly app: MoneroHostApi,
    payoutRoundBlocks = PAYOUT_ROUND_BLOCKS,
    private readonly bug?: MoneroBug,
    /**
     * The world as before the Byzantine payout participants and the holder (their own streams):
     * seeds found before them (seed 7's freeze) replay exactly.
     */
    classic = false,
    /**
     * The garbage last signer (garbageSigner): "only": every Byzantine guardian is one and nothing
     * else in the payout rounds (no false payout votes, no other participant), its own fixed-seed
     * world (federation-monero-garbage.test.ts), where the garbage final set gets in often;
     * "drawn": the ordinary world plus a garbage signer drawn for 80% of the Byzantine guardians
     * that are no participant (`--monero-garbage`; it changes those seeds' worlds, so it is not the
     * default: seed 3 of moneroPlan freezes there, docs/simulator.md); "off": neither.
     */
    garbage: "off" | "drawn" | "only" = "off",
    /** XMR note users (xmr-notes.ts), funding these e-cash wallets: the `moneroNotes` world. */
    notes?: NoteFunding,
    /**
     * The world beside the bridge (`--evm --monero`, bridge.ts): the chain's fee rate is 1 piconero
     * per byte and the payout minimum 500 piconero, so that burns of the bridge's sizes (500..8,000
     * piconero) are paid in Monero (a payout's fee is then 3,000 piconero).
     */
    readonly combined = false,
    /**
     * Reorgs deeper than the confirmation depth (monero-deep-reorg.ts, `--monero-deep-reorg`): a
     * credited deposit double-spent on a fork, a mined payout taken out of the chain.
     */
    deepReorg: boolean | "spent" | "detach" | "signing" = false,
    /** One honest guardian's monerod and wallet-rpc lie (monero-liar.ts), when B < f. */
    lyingNode = false,
  ) {
    this.seed = host.seed;
    this.deepDetach = deepReorg === "detach";
    const rng = new Rng(host.seed, "monero");
    const scheduler = schedulerAt(host);
    this.chain = new MoneroChain({
      rng: rng.fork(),
      guardians: host.n,
      confirmations: CONFIRMATIONS,
      startHeight: 100,
      now: () => host.now(),
      ...(combined ? { feePerByte: 1n } : {}),
    });
    this.config = parseMoneroConfig({
      network: "mainnet",
      address: this.chain.federationAddress,
      guardians: host.n,
      confirmations: CONFIRMATIONS,
      payoutBatchMax: 4,
      payoutRoundBlocks,
      payoutConfirmations: CONFIRMATIONS,
      ...(combined ? { payoutMinPiconero: "500", payoutFeeMinPiconero: "100" } : {}),
      ...(deepReorg !== false ? { payoutExportWaitBlocks: DEEP_REORG_EXPORT_WAIT_BLOCKS } : {}),
    });
    this.shares = simMoneroShares({
      chain: this.chain,
      guardians: host.n,
      threshold: quorumThreshold(host.n),
      scheduler,
      rng: rng.fork(),
    });
    if (bug === "monero-gone-unagreed-detached")
      for (const g of host.honest) this.shares[g]!.goneRule = () => true;
    this.producer = new BlockProducer(this.chain, scheduler, rng.fork(), {
      meanBlockMs: MEAN_BLOCK_MS,
      reorgProbability: 0.05,
      reorgDepthMax: CONFIRMATIONS - 2,
    });
    this.faults = new NodeFaultDriver(this.chain, scheduler, rng.fork(), host.honest, {
      gapMs: 4_000,
      durationMsMax: 3_000,
      lagBlocksMax: 3,
      slowProbability: 0.2,
      slowMs: 20_000,
    });
    this.producer.start();
    this.faults.start();
    const users = rng.range(1, 3);
    for (let i = 0; i < users; i++)
      this.users.push(new XmrUser(i, this, new Rng(host.seed, `xmr-user-${i}`)));
    // A holder (its own stream): 3 XMR deposited and kept, so the wallet holds more than the
    // withdrawals in flight, as a real federation's does (users holding e-cash). An attempt that
    // spent other inputs than an earlier finishable one could then pay a batch twice.
    if (!classic) this.users.push(new XmrUser(users, this, new Rng(host.seed, "xmr-holder"), 3n * XMR));
    for (const u of this.users) u.start();
    if (deepReorg !== false) {
      // Its own stream: the worlds without it keep their seeds.
      this.deep = new DeepReorgs(
        this.chain,
        CONFIRMATIONS,
        (delayMs, fn) => host.schedule(host.now() + delayMs, fn),
        new Rng(host.seed, "xmr-deep-reorg"),
        () => this.creditedByProof(),
        (txid) => {
          for (const u of this.users) u.withdrawAfterDrop(txid);
        },
        deepReorg === true ? "unspent" : deepReorg,
        () => host.now(),
        (line) => host.note(line),
        (g) => host.honest.includes(g),
        () => this.namedInFlight(),
      );
      this.deep.start();
      // The deep-reorg worlds only (the others keep their seeds): false Gone votes.
      for (const b of host.byzantine) this.byzantineGoneVotes(b);
      // The detach world: a Gone vote whenever it is the t-th, and every final set broadcast late.
      if (deepReorg === "detach") {
        this.watchGoneVotes();
        for (const b of host.byzantine) {
          this.byzantineHelpingGone(b);
          this.byzantineLateFinalSets(b);
        }
      }
    }
    if (lyingNode) this.liar = this.drawLiar();
    for (const b of host.byzantine) this.byzantineReports(b, new Rng(host.seed, `xmr-byzantine-${b}`));
    // Streams of their own: a strategy added later leaves every earlier draw of a seed as it was.
    for (const b of host.byzantine) this.byzantineAttests(b, new Rng(host.seed, `xmr-byzantine-attest-${b}`));
    if (notes !== undefined) {
      // Streams of their own: the world without them is unchanged.
      const count = new Rng(host.seed, "xmr-notes").range(1, 3);
      for (let i = 0; i < count; i++)
        this.noteUsers.push(
          new XmrNoteUser(i, this, notes, new Rng(host.seed, `xmr-note-user-${i}`), this.stats),
        );
      for (const u of this.noteUsers) u.start();
      for (const b of host.byzantine)
        this.byzantineSightings(b, new Rng(host.seed, `xmr-byzantine-sightings-${b}`));
    }
    if (garbage === "only") {
      for (const b of host.byzantine)
        this.garbageSigner(b, new Rng(host.seed, `xmr-byzantine-garbage-${b}`), 1);
      return;
    }
    for (const b of host.byzantine)
      this.byzantinePayoutVotes(b, new Rng(host.seed, `xmr-byzantine-votes-${b}`));
    if (!classic)
      for (const b of host.byzantine)
        this.byzantineSigner(b, new Rng(host.seed, `xmr-byzantine-signer-${b}`), garbage === "drawn");
  }

  /**
   * The liar of `--monero-lying-node` (monero-liar.ts), on its own stream: an honest guardian drawn
   * when the Byzantine guardians leave room in f, its lies drawn, and an attacker who posts claims of
   * transactions no chain has at its API (its intake checks them on its lying node) every few
   * seconds, a few per seed.
   */
  private drawLiar(): NonNullable<MoneroWorld["liar"]> | undefined {
    const host = this.host;
    const rng = new Rng(host.seed, "xmr-liar");
    if (host.byzantine.length >= faultTolerance(host.n)) return undefined;
    const g = rng.pick(host.honest);
    const lies = drawMoneroLies(rng);
    const stats = emptyMoneroLiarStats();
    stats.xmrLiar = 1;
    const share = new LyingMoneroShare(
      this.shares[g]!,
      this.chain,
      g,
      lies,
      rng.fork(),
      stats,
      CONFIRMATIONS,
    );
    host.note(`xmr ${g}'s node lies: ${JSON.stringify(lies)}`);
    const attacker = rng.fork();
    const claimKey = new NodeSigner(attacker.bytes(32)).publicKey;
    let left = attacker.range(2, 5);
    const post = (): void => {
      if (left <= 0) return;
      host.schedule(host.now() + attacker.range(2_000, 8_000), post);
      const at = this.app.moneroAt(g);
      if (at === undefined) return;
      left--;
      stats.xmrLiarPhantomClaims++;
      const txid = attacker.bytes(32);
      // A canonical scalar (below 2^252, under the group order) as the made-up tx key.
      const txKey = attacker.bytes(32);
      txKey[31] = txKey[31]! & 0x0f;
      txKey[0] = txKey[0]! | 1;
      const proof = claimProof({ federationAddress: this.chain.federationAddress, txid, txKey, claimKey });
      const endpoint = at.monero.api.find((e) => e.method === "POST" && e.path === "claims")!;
      void Promise.resolve()
        .then(() =>
          endpoint.handle({
            params: {},
            body: { txid: toHex(txid), claimKey: toHex(claimKey), proof: toHex(proof) },
            db: at.processor.moduleReadDb(host.disk(g).state, MONERO_ID),
            client: "xmr-phantom-claimer",
          }),
        )
        .then(
          () => {
            stats.xmrLiarPhantomClaimsTaken++;
            this.phantomClaims.add(toHex(txid));
            host.note(`xmr ${g} took the phantom claim ${toHex(txid).slice(0, 8)}`);
          },
          (e: unknown) =>
            host.note(`xmr ${g} refused the phantom claim ${toHex(txid).slice(0, 8)}: ${String(e)}`),
        );
    };
    host.schedule(host.now() + attacker.range(1_000, 5_000), post);
    return { g, lies, rng, stats, share };
  }

  /**
   * A Byzantine guardian that takes part in the payout rounds with its own share (60% of them,
   * monero-byzantine.ts): it exports, imports and signs as an honest one would, but as the last
   * signer it keeps the completed transaction (silent, or accusing the previous signer), and (70%)
   * completes any set of t - 1 signatures in the state privately, out of turn; it broadcasts what it
   * kept once the federation has moved on to another attempt. And (40%) it accuses falsely: the
   * previous signer's set on each of its turns, the final set when submitting.
   */
  private byzantineSigner(b: number, rng: Rng, garbage: boolean): void {
    if (!rng.chance(0.6)) {
      if (garbage) this.garbageSigner(b, new Rng(this.host.seed, `xmr-byzantine-garbage-${b}`));
      return;
    }
    const mode = rng.pick(["silent", "accuse"] as const);
    const privately = rng.chance(0.7);
    const accuser = rng.chance(0.4);
    new ByzantinePayoutParticipant(
      this.host,
      b,
      this.shares[b]!,
      this.config,
      rng,
      mode,
      MONERO_POLL_MS,
      (r) => this.anyState(r)?.db,
      this.stats,
      privately,
      accuser,
    ).start();
  }

  /**
   * A Byzantine guardian that is no participant above (its own stream, so that the seeds drawn
   * before keep their worlds): 80% of them take part in the payout rounds as a last signer that
   * keeps its completion and proposes garbage as the final set (modules/monero payout-byzantine.ts
   * `garbage`). Every submitter's node refuses it; their Fault(t) votes pass the last signer over
   * and another participant completes the set; the kept completion, broadcast once the federation
   * moved on, is a double spend of the batch's inputs.
   */
  private garbageSigner(b: number, rng: Rng, probability = 0.8): void {
    if (!rng.chance(probability)) return;
    new ByzantinePayoutParticipant(
      this.host,
      b,
      this.shares[b]!,
      this.config,
      rng,
      "garbage",
      MONERO_POLL_MS,
      (r) => this.anyState(r)?.db,
      this.stats,
      false,
      false,
    ).start();
  }

  /**
   * A Byzantine guardian's false subaddress sightings (the notes world): every payment to an
   * assigned subaddress it sees in the chain (god view, pool included) gets a `subaddress_seen` for
   * twice what it pays, confirmed long ago, sent t times in one bundle. One guardian's sighting
   * counts once; f false ones never reach t.
   */
  private byzantineSightings(b: number, rng: Rng): void {
    const t = quorumThreshold(this.host.n);
    const sent = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const s = this.anyState(rng);
      if (s === undefined) return;
      const assigned = new SubaddressState(s.db).count();
      const txHeight = Math.max(1, new MoneroState(s.db).agreedHeight() - 10 * CONFIRMATIONS);
      const items: Uint8Array[] = [];
      for (const { tx } of this.chain.visible(this.chain.height())) {
        if (tx.fromFederation) continue;
        for (let index = 1; index <= assigned; index++) {
          const paid = this.chain.depositTruth(tx.txid, index).amount;
          const key = `${tx.txid}:${index}`;
          if (paid === 0n || sent.has(key)) continue;
          sent.add(key);
          const seen = encodeMoneroItem({
            kind: "subaddress_seen",
            txid: Uint8Array.from(Buffer.from(tx.txid, "hex")),
            index,
            amount: 2n * paid,
            txHeight,
          });
          for (let i = 0; i < t; i++)
            items.push(encodeConsensusItem({ kind: "module", module: MONERO_ID, payload: seen }));
          this.stats.xmrByzFalseSightings++;
        }
      }
      if (items.length > 0) this.host.submitByzantine(b, items);
    };
    this.host.schedule(rng.range(0, MONERO_POLL_MS), step);
  }

  /**
   * A Byzantine guardian's false votes in the payout rounds (60% of them), once per batch attempt,
   * phase and step it sees: a fault accusation against the set before the current slot and against
   * the final set (slot t), a txid vote for a transaction that does not exist, and a confirmation
   * ("seen") at a made-up height with a made-up tx key. One guardian's vote counts once, a fault
   * from a guardian whose turn it is not is refused, and none of them can reach t.
   */
  private byzantinePayoutVotes(b: number, rng: Rng): void {
    if (!rng.chance(0.6)) return;
    const t = quorumThreshold(this.host.n);
    const sent = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const s = this.anyState(rng);
      if (s === undefined) return;
      const store = new PayoutStore(s.db);
      const batch = store.counters().current;
      const rec = batch === 0 ? undefined : store.batch(batch);
      if (rec === undefined || (rec.phase !== "sign" && rec.phase !== "submit")) return;
      const key = `${batch}:${rec.attempt}:${rec.phase}:${rec.signers.length}`;
      if (sent.has(key)) return;
      sent.add(key);
      const { attempt } = rec;
      const votes = [
        ...(rec.signers.length > 0
          ? [encodePayoutItem({ kind: "fault", batch, attempt, slot: rec.signers.length - 1 })]
          : []),
        encodePayoutItem({ kind: "fault", batch, attempt, slot: t }),
        encodePayoutItem({ kind: "txid", batch, attempt, txid: rng.bytes(32) }),
        encodePayoutItem({
          kind: "seen",
          batch,
          attempt,
          txHeight: Math.max(1, this.chain.height() + rng.range(-3, 3)),
          txKey: rng.bytes(32),
        }),
      ];
      this.stats.xmrByzFalseVotes += votes.length;
      this.host.submitByzantine(
        b,
        votes.map((payload) => encodeConsensusItem({ kind: "module", module: MONERO_ID, payload })),
      );
    };
    this.host.schedule(rng.range(0, MONERO_POLL_MS), step);
  }

  /**
   * A Byzantine guardian's false Gone votes (the deep-reorg worlds): every agreed payout transaction
   * it sees (the batch in flight once its txid is agreed, and every confirmed batch), mined or not,
   * is claimed unmineable, t times in one bundle, once per batch attempt: re-opening a mined batch
   * would pay it twice. So is the attempt being signed (before a txid) and an attempt's bound
   * (before a creator's set): dropping a live bound lets two attempts both be mined. One guardian's
   * vote counts once; f never reach t. No random draw.
   */
  private byzantineGoneVotes(b: number): void {
    const t = quorumThreshold(this.host.n);
    const sent = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const db = this.firstHonestDb();
      if (db === undefined) return;
      const store = new PayoutStore(db);
      const items: Uint8Array[] = [];
      for (let batch = 1; batch < store.counters().nextBatch; batch++) {
        const rec = store.batch(batch);
        if (rec === undefined) continue;
        // The agreed transaction; before a txid, the attempt being signed (its named inputs); before
        // a creator's set, the attempt's bound.
        const agreed = rec.txid !== undefined && (rec.phase === "submit" || rec.phase === "done");
        const signing = rec.txid === undefined && (rec.phase === "sign" || rec.phase === "submit");
        const named = agreed || (signing && rec.signers.length > 0);
        const bound =
          rec.bound.length > 0 &&
          (rec.phase === "export" || (rec.phase === "sign" && rec.signers.length === 0));
        for (const scope of [...(named ? ["tx" as const] : []), ...(bound ? ["bound" as const] : [])]) {
          const key = `${batch}:${rec.attempt}:${scope}`;
          if (sent.has(key)) continue;
          sent.add(key);
          const gone = encodePayoutItem({
            kind: "gone",
            batch,
            attempt: rec.attempt,
            ...(scope === "bound" ? { scope } : {}),
          });
          for (let i = 0; i < t; i++)
            items.push(encodeConsensusItem({ kind: "module", module: MONERO_ID, payload: gone }));
          this.stats.xmrByzFalseGone++;
        }
      }
      if (items.length > 0) this.host.submitByzantine(b, items);
    };
    this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
  }

  /** The detach world: counts the honest guardians' Gone votes consensus ordered (no random draw). */
  private watchGoneVotes(): void {
    const seen = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const db = this.firstHonestDb();
      if (db === undefined) return;
      const store = new PayoutStore(db);
      for (let batch = 1; batch < store.counters().nextBatch; batch++) {
        const rec = store.batch(batch);
        if (rec === undefined) continue;
        for (const v of store.goneVoters(batch)) {
          const key = `${batch}:${rec.attempt}:${v}`;
          if (!this.host.honest.includes(v) || seen.has(key)) continue;
          seen.add(key);
          this.deep!.stats.xmrHonestGoneVotes++;
        }
      }
    };
    this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
  }

  /**
   * The detach world: a Byzantine guardian votes Gone on the batch in flight (a submitted attempt,
   * its txid agreed or not) or a recently confirmed one whenever its vote is the t-th: t − 1 others
   * voted and it has not. Once per batch attempt; no random draw.
   */
  private byzantineHelpingGone(b: number): void {
    const t = quorumThreshold(this.host.n);
    const sent = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const db = this.firstHonestDb();
      if (db === undefined) return;
      const store = new PayoutStore(db);
      const items: Uint8Array[] = [];
      for (let batch = 1; batch < store.counters().nextBatch; batch++) {
        const rec = store.batch(batch);
        if (rec === undefined || (rec.phase !== "submit" && rec.phase !== "done")) continue;
        const key = `${batch}:${rec.attempt}`;
        const voters = store.goneVoters(batch);
        if (sent.has(key) || voters.includes(b) || voters.length !== t - 1) continue;
        sent.add(key);
        const gone = encodePayoutItem({ kind: "gone", batch, attempt: rec.attempt });
        items.push(encodeConsensusItem({ kind: "module", module: MONERO_ID, payload: gone }));
        this.deep!.stats.xmrByzHelpingGone++;
      }
      if (items.length > 0) this.host.submitByzantine(b, items);
    };
    this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
  }

  /**
   * The detach world: a Byzantine guardian keeps every final set it sees in consensus (the last
   * signer's blob of a submitted attempt) and, once the federation has left that attempt (a later
   * attempt, or the batch confirmed), broadcasts its completion through its own node every 2 s until
   * the chain takes it or 60 tries passed: a completion held back and sent late. No random draw.
   */
  private byzantineLateFinalSets(b: number): void {
    const t = quorumThreshold(this.host.n);
    const kept = new Map<string, { batch: number; attempt: number; txset: string; tries: number }>();
    const step = (): void => {
      this.host.schedule(this.host.now() + 2 * MONERO_POLL_MS, step);
      const db = this.firstHonestDb();
      if (db === undefined) return;
      const store = new PayoutStore(db);
      for (let batch = 1; batch < store.counters().nextBatch; batch++) {
        const rec = store.batch(batch);
        const last = rec?.signers[t - 1];
        if (rec === undefined || last === undefined || rec.phase !== "submit") continue;
        const key = `${batch}:${rec.attempt}`;
        const blob = store.blob(batch, t - 1, last);
        if (kept.has(key) || blob === undefined) continue;
        kept.set(key, { batch, attempt: rec.attempt, txset: toHex(txsetOfBlob(t - 1, blob)), tries: 0 });
      }
      for (const [key, k] of kept) {
        const rec = store.batch(k.batch);
        if (rec === undefined || (rec.attempt === k.attempt && rec.phase !== "done")) continue;
        if (k.tries++ >= 60) {
          kept.delete(key);
          continue;
        }
        if (k.tries === 1) this.deep!.stats.xmrByzLateFinalSets++;
        this.shares[b]!.submit(k.txset).then(
          (txid) => {
            if (!kept.has(key)) return;
            kept.delete(key);
            this.host.note(
              `xmr byzantine ${b} broadcast the final set of batch ${k.batch} attempt ${k.attempt} late: ${txid.slice(0, 8)} taken`,
            );
          },
          () => {},
        );
      }
    };
    this.host.schedule(this.host.now() + 2 * MONERO_POLL_MS, step);
  }

  /**
   * A Byzantine guardian's false attestations (60% of them): every open claim it sees (the
   * adversary reads an honest guardian's state) gets a Valid verdict for twice what the chain pays
   * (1 XMR if nothing), confirmed long ago, sent t times in one bundle. One guardian, one verdict:
   * the repeats must count for nothing, and f false verdicts never reach t.
   */
  private byzantineAttests(b: number, rng: Rng): void {
    if (!rng.chance(0.6)) return;
    const t = quorumThreshold(this.host.n);
    const sent = new Set<string>();
    const step = (): void => {
      this.host.schedule(this.host.now() + MONERO_POLL_MS, step);
      const s = this.anyState(rng);
      if (s === undefined) return;
      const records = new MoneroState(s.db);
      const txHeight = Math.max(1, records.agreedHeight() - 10 * CONFIRMATIONS);
      const items: Uint8Array[] = [];
      for (const [k] of s.db.scan(Uint8Array.of(K_DEPOSIT))) {
        if (k.length !== 33) continue;
        const txid = k.subarray(1);
        const rec = records.deposit(txid);
        const key = `${toHex(txid)}:${rec?.round ?? 0}`;
        if (rec?.state !== "open" || sent.has(key)) continue;
        sent.add(key);
        const paid = this.chain.depositTruth(toHex(txid), 0).amount;
        const verdict = { valid: true as const, amount: paid > 0n ? 2n * paid : XMR, txHeight };
        const attest = encodeMoneroItem({ kind: "attest", txid: txid.slice(), round: rec.round, verdict });
        for (let i = 0; i < t; i++)
          items.push(encodeConsensusItem({ kind: "module", module: MONERO_ID, payload: attest }));
        this.stats.xmrByzFalseAttests++;
      }
      if (items.length > 0) this.host.submitByzantine(b, items);
    };
    this.host.schedule(rng.range(0, MONERO_POLL_MS), step);
  }

  /**
   * A Byzantine guardian's false chain heights and fee rates, every MONERO_POLL_MS for the whole
   * run: far above the tip (or at 1), and the highest fee rate the codec allows (or 1 piconero per
   * byte); drawn per guardian from the seed. The agreed values must stay within the honest reports.
   */
  private byzantineReports(b: number, rng: Rng): void {
    const height = rng.pick(["high", "low", "none"] as const);
    const fee = rng.pick(["high", "low", "none"] as const);
    // The custody issue's attack: a participant that submitted a payout holds its tx key, whose
    // proof shows the change received at the federation's address; it claims the change as a
    // deposit of its own, as soon as the payout is in the pool.
    const claimChange = rng.chance(0.7);
    const claimKey = new NodeSigner(rng.bytes(32)).publicKey;
    const claimed = this.changeClaims;
    if (height === "none" && fee === "none" && !claimChange) return;
    const lie = (): void => {
      const items: Uint8Array[] = [];
      if (claimChange)
        for (const { tx } of this.chain.visible(this.chain.height())) {
          if (!tx.fromFederation || claimed.has(tx.txid)) continue;
          claimed.add(tx.txid);
          const txid = Uint8Array.from(Buffer.from(tx.txid, "hex"));
          const proof = claimProof({
            federationAddress: this.chain.federationAddress,
            txid,
            txKey: Uint8Array.from(Buffer.from(tx.txKey, "hex")),
            claimKey,
          });
          items.push(encodeMoneroItem({ kind: "claim", txid, claimKey, proof }));
          this.stats.xmrByzChangeClaims++;
        }
      if (height !== "none")
        items.push(
          encodeMoneroItem({ kind: "height", height: height === "high" ? this.chain.height() + 1_000 : 1 }),
        );
      if (fee !== "none")
        items.push(encodeMoneroItem({ kind: "fee_rate", perByte: fee === "high" ? FEE_PER_BYTE_MAX : 1 }));
      this.stats.xmrByzLies += (height === "none" ? 0 : 1) + (fee === "none" ? 0 : 1);
      if (items.length > 0)
        this.host.submitByzantine(
          b,
          items.map((payload) => encodeConsensusItem({ kind: "module", module: MONERO_ID, payload })),
        );
      this.host.schedule(this.host.now() + MONERO_POLL_MS, lie);
    };
    this.host.schedule(rng.range(0, MONERO_POLL_MS), lie);
  }

  /** Guardian g's monero module, built fresh at each (re)start on its share (its wallet survives). */
  module(g: number): MoneroServerModule {
    const liar = this.liar?.g === g ? this.liar.share : undefined;
    const share = this.shares[g]!;
    const chain =
      liar !== undefined
        ? liar
        : this.bug === "monero-credits-own-payout"
          ? Object.assign(Object.create(share) as SimMoneroShare, {
              ownTransaction: () => Promise.resolve({ own: false as const }),
            })
          : share;
    const Module =
      this.bug === "monero-credits-own-payout"
        ? ForgetfulMonero
        : this.bug === "monero-attestation-per-message"
          ? PerMessageAttestations
          : this.bug === "monero-refusal-unvoted"
            ? RefusalUnvoted
            : this.bug === "monero-sighting-per-message"
              ? PerMessageSightings
              : this.bug === "monero-gone-per-message"
                ? PerMessageGone
                : MoneroServerModule;
    const m = new Module(
      MONERO_ID,
      this.config,
      {
        chain,
        subaddresses: liar ?? this.shares[g]!,
        payoutWallet: liar ?? this.shares[g]!,
        reserves: liar ?? this.shares[g]!,
        pollMs: MONERO_POLL_MS,
        autoPoll: false,
      },
      () => this.host.now(),
    );
    if (this.bug === "monero-pays-while-short")
      // The harness replaces the module's private pause on this instance only: never short.
      Object.defineProperty(m, "reservesPause", { value: () => undefined });
    if (this.bug === "monero-verdict-ignores-amount")
      // The harness replaces the module's private rule on this instance only.
      Object.defineProperty(m, "settle", { value: settleIgnoringAmount });
    if (this.bug === "monero-unbound-attempt")
      // The harness replaces the module's private rule on this instance only: no bound, ever.
      Object.defineProperty(m.payouts, "nextBound", { value: () => [] });
    m.start({
      self: g,
      wake: () => {},
      log: (event, fields) => {
        // An honest node refused a final set and nothing spent its inputs: the Fault(t) vote.
        if (event === "payout_submit_refused" && fields["spentBy"] === undefined)
          this.stats.xmrSubmitRefusals++;
        this.host.note(
          `xmr ${g} ${event} ${JSON.stringify(fields, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x)).slice(0, 300)}`,
        );
      },
    });
    // No real timers in a simulated run: start() also starts the monero-tx watch's setInterval
    // (tx-watch.ts, autoPoll or not), which nothing here uses and nothing stops (a crash drops the
    // module object; the product's guardian stops its modules). Running, it kept this module, and
    // through its context the whole run, for the rest of the process: 25-55 MB a seed of the
    // Monero worlds (docs/simulator.md "Memory"; run-memory.test.ts).
    m.watchable.stop();
    return m;
  }

  /** Runs guardian g's watcher, reserves monitor and payout signer every MONERO_POLL_MS while `alive`. */
  started(g: number, alive: () => boolean): void {
    const pump = (): void => {
      if (!alive()) return;
      this.host.schedule(this.host.now() + MONERO_POLL_MS, pump);
      const at = this.app.moneroAt(g);
      if (at === undefined || this.busy.has(g)) return;
      this.busy.add(g);
      void this.steps(g, at, alive).finally(() => this.busy.delete(g));
    };
    this.host.schedule(this.host.now() + MONERO_POLL_MS, pump);
  }

  private async steps(
    g: number,
    at: { processor: FederationProcessor; monero: MoneroServerModule },
    alive: () => boolean,
  ): Promise<void> {
    const db = (): ReadTx => at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID);
    const m = at.monero;
    // The proposal sets the signer's duty and the watcher's wanted claims (as the daemon's loop does).
    m.consensusProposal(db());
    await m.chainWatcher!.poll().catch((e: unknown) => {
      this.stats.xmrStepFailures++;
      this.host.note(`xmr ${g} poll failed: ${String(e)}`);
    });
    if (!alive()) return;
    await m.reserves!.poll();
    if (!alive()) return;
    m.consensusProposal(db());
    await m.payoutSigner!.work().catch((e: unknown) => {
      this.stats.xmrStepFailures++;
      this.host.note(`xmr ${g} payout step failed: ${String(e)}`);
    });
  }

  /** The network healed: node faults end. */
  heal(): void {
    this.healedAt = this.host.now();
    this.faults.heal();
  }

  /**
   * The bound within which a withdrawal accepted while the network is healthy is paid, from the
   * payout rules (docs/monero.md "Payouts"): it waits at most for the batch in flight, then its own
   * batch; each takes at most f + 1 attempts (a Byzantine participant that fails an attempt is blamed
   * and left out of the next, and the blame is kept when a batch is re-opened), an attempt at most
   * the export wait, t signers' rounds and the submit round (payoutRoundBlocks each), then the
   * confirmations; in blocks of MEAN_BLOCK_MS, plus 10 s for consensus to order each step. N = 4:
   * 2 x 2 x (2 + 4 x 20) + 4 = 332 blocks, 176 s. Before it, every world used the liveness bound
   * alone (60 s after the heal), shorter than a batch that starts late and whose Byzantine last
   * signer withholds its completion (--evm-deep-reorg seed 11).
   */
  withdrawalBoundMs(): number {
    const t = quorumThreshold(this.host.n);
    const f = this.host.n - t;
    const attempt = this.config.payoutExportWaitBlocks + (t + 1) * this.config.payoutRoundBlocks;
    return (2 * (f + 1) * attempt + this.config.payoutConfirmations) * MEAN_BLOCK_MS + 10_000;
  }

  /**
   * When a withdrawal accepted at `acceptedAt` must be paid: withdrawalBoundMs after the later of its
   * acceptance and the heal (undefined before the heal).
   */
  payoutDeadline(acceptedAt: number): number | undefined {
    const healed = this.healedAt;
    return healed === undefined ? undefined : Math.max(acceptedAt, healed) + this.withdrawalBoundMs();
  }

  /** A withdrawal accepted at `acceptedAt`, paid now: a violation past its deadline. */
  paidInTime(who: string, acceptedAt: number): void {
    const deadline = this.payoutDeadline(acceptedAt);
    if (deadline !== undefined && this.host.now() > deadline)
      this.host.violation(
        `liveness: ${who}: its withdrawal accepted at ${acceptedAt} ms was paid at ${this.host.now()} ms, past its bound (${deadline} ms)`,
      );
  }

  /** The latest deadline of the withdrawals in flight accepted at `acceptedAts` (undefined: none). */
  latestDeadline(acceptedAts: Iterable<number | undefined>): number | undefined {
    let until: number | undefined;
    for (const at of acceptedAts) {
      const deadline = at === undefined ? undefined : this.payoutDeadline(at);
      if (deadline !== undefined && (until === undefined || deadline > until)) until = deadline;
    }
    return until;
  }

  /** The run goes on until every withdrawal in flight is past its deadline (SimApplication.runsUntil). */
  runsUntil(): number | undefined {
    return this.latestDeadline(this.users.map((u) => u.withdrawalAcceptedAt));
  }

  settled(): boolean {
    if (this.deep !== undefined && !this.deepSettled()) return false;
    return this.users.every((u) => u.settled) && this.noteUsers.every((u) => u.settled);
  }

  /**
   * The deep-reorg world runs on until both deep reorgs happened and, after a deposit was taken
   * away, the honest guardians agree the reserves are short; a user whose spend that pause holds
   * back counts as settled then (finish checks the pause).
   */
  private deepSettled(): boolean {
    const deep = this.deep!;
    if (deep.detached !== undefined || this.deepDetach)
      return (
        deep.detachSettled() && this.users.every((u) => u.settled) && this.noteUsers.every((u) => u.settled)
      );
    if (deep.stats.xmrDeepDepositsDropped === 0 || deep.stats.xmrDeepPayoutsRemoved === 0) return false;
    // (A removed payout that can never be mined again, an input taken away, keeps the world running
    // to the liveness bound: its batch is paid again in a new transaction, checked at the end.)
    if ([...deep.removed].some((t) => this.chain.minedHeight(t) === undefined)) return false;
    const g = this.host.honest.find((h) => this.app.moneroAt(h) !== undefined);
    const at = g === undefined ? undefined : this.app.moneroAt(g);
    if (g === undefined || at === undefined) return false;
    const short =
      at.monero.agreedReserves(at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID)).state ===
      "short";
    if (!short) return false;
    return this.users.every((u) => u.settled || u.heldByShortfall) && this.noteUsers.every((u) => u.settled);
  }

  finish(): void {
    for (const u of this.noteUsers)
      if (!u.settled)
        this.host.violation(
          `liveness: ${u.describe()}, not finished within the liveness bound after the heal`,
        );
    const shortAtEnd = this.deep === undefined ? false : this.deepReorgEnd();
    for (const u of this.users)
      if (!u.settled && shortAtEnd && u.heldByShortfall) this.deep!.stats.xmrPausedUsers++;
      else if (!u.settled && this.claimSplitByDeepReorg(u.awaitingCredit))
        this.deep!.stats.xmrDeepClaimsSplit++;
      else if (!u.settled)
        this.host.violation(
          `liveness: ${u.describe()}, not finished within the liveness bound after the heal (${this.payoutProgress()})`,
        );
    this.producer.stop();
  }

  statsRecord(): Record<string, number> {
    // Where the Byzantine claims of payouts' change stand at the end, at the first honest guardian
    // that runs (a credited one is a violation of the deposit checker already).
    const states: Record<string, number> = {};
    const g = this.host.honest.find((h) => this.app.moneroAt(h) !== undefined);
    const at = g === undefined ? undefined : this.app.moneroAt(g);
    if (g !== undefined && at !== undefined)
      for (const txid of this.changeClaims) {
        const state = at.monero.depositView(
          at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID),
          Uint8Array.from(Buffer.from(txid, "hex")),
        ).state;
        const k = `xmrChangeClaim_${state}`;
        states[k] = (states[k] ?? 0) + 1;
      }
    if (g !== undefined && at !== undefined)
      for (const txid of this.phantomClaims) {
        const state = at.monero.depositView(
          at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID),
          Uint8Array.from(Buffer.from(txid, "hex")),
        ).state;
        const k = `xmrLiarPhantomClaim_${state}`;
        states[k] = (states[k] ?? 0) + 1;
      }
    if (g !== undefined && at !== undefined)
      for (const txid of this.payoutClaims) {
        const state = at.monero.depositView(
          at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID),
          Uint8Array.from(Buffer.from(txid, "hex")),
        ).state;
        const k = `xmrPayoutClaim_${state}`;
        states[k] = (states[k] ?? 0) + 1;
      }
    // Batches confirmed in a later attempt, and those of them whose attempt was bound to an
    // earlier attempt's inputs (payouts.ts: the earlier one could still have been finished).
    if (g !== undefined && at !== undefined) {
      const store = new PayoutStore(at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID));
      for (let n = 1; n < store.counters().nextBatch; n++) {
        const b = store.batch(n);
        if (b?.phase !== "done" || b.attempt === 0) continue;
        states.xmrBatchesRetried = (states.xmrBatchesRetried ?? 0) + 1;
        if (b.bound.length > 0) states.xmrBatchesBound = (states.xmrBatchesBound ?? 0) + 1;
      }
    }
    this.stats.xmrReorgs = [...this.producer.reorgs.values()].reduce((a, b) => a + b, 0);
    this.stats.xmrFaultEpisodes = [...this.faults.episodes.values()].reduce((a, b) => a + b, 0);
    return { ...this.stats, ...states, ...(this.deep?.stats ?? {}), ...(this.liar?.stats ?? {}) };
  }

  /**
   * The agreed height and fee rate are 0 (not yet agreed) or within the honest guardians' reports:
   * never above the highest, and, once every honest guardian reported, never below the lowest.
   */
  private agreedWithinHonest(records: MoneroState, at: string, violation: (what: string) => void): void {
    const check = (what: string, agreed: number, reports: (number | undefined)[]): void => {
      if (agreed === 0) return;
      // The liar's reports are its lying node's: a faulty guardian's for this check (the agreed
      // value must stay within the guardians whose nodes tell the truth).
      const honest = this.host.honest.filter((g) => g !== this.liar?.g).map((g) => reports[g]);
      const known = honest.filter((r): r is number => r !== undefined);
      const max = Math.max(0, ...known);
      if (agreed > max)
        violation(`${at}: agreed ${what} ${agreed} above every honest report (highest ${max})`);
      if (known.length === honest.length && agreed < Math.min(...known))
        violation(`${at}: agreed ${what} ${agreed} below every honest report (lowest ${Math.min(...known)})`);
    };
    check("height", records.agreedHeight(), records.reportedHeights(this.host.n));
    check("fee rate", records.agreedFeeRate(), records.reportedFeeRates(this.host.n));
  }

  /**
   * The lying-node world: the agreed reserves figure (when 2f + 1 fresh reports give one) lies within
   * the latest reports of the guardians whose wallets tell the truth (neither the liar nor a
   * Byzantine one): the order statistic leaves f + 1 fresh reports at or above it and f + 1 at or
   * below, so the liar's balance x 10 or / 10 cannot move it outside them (threat model 11b, 3g).
   */
  private reservesWithinTruthful(
    records: MoneroState,
    agreed: bigint | undefined,
    at: string,
    violation: (what: string) => void,
  ): void {
    if (agreed === undefined) return;
    const truthful = this.host.honest
      .filter((g) => g !== this.liar?.g)
      .map((g) => records.reportedReserves(g)?.balance)
      .filter((b): b is bigint => b !== undefined);
    if (truthful.length === 0) return;
    const max = truthful.reduce((a, b) => (b > a ? b : a));
    const min = truthful.reduce((a, b) => (b < a ? b : a));
    this.liar!.stats.xmrLiarReservesChecks++;
    if (agreed > max || agreed < min)
      violation(
        `${at}: agreed reserves ${agreed} outside the truthful guardians' reports (${min} .. ${max})`,
      );
  }

  /**
   * What the federation owes in XMR is on the chain: the monero module's e-cash backing (what backs
   * notes, wXMR and signed mints funded by XMR: deposits spent in minus payouts and their fees) +
   * credited deposits not yet spent + payouts accepted and not yet mined (amount) + the fees charged
   * to every payout <= the federation's unspent outputs of the canonical chain + the fees its own
   * transactions paid. The fees are on both sides because the charge (payoutFeeBytes x rate) and the
   * chain's fee (weight x rate) differ: the difference is the federation's cost, not a debt (counted
   * as xmrFeeShortfall when the chain took more). The two sides differ by what was paid to the
   * federation and not credited (>= 0): a deposit credited for more than it paid, or a payout paid
   * twice, makes the chain side smaller.
   */
  private reservesOnChain(
    db: ReadTx,
    monero: MoneroServerModule,
    store: PayoutStore,
    payouts: readonly PayoutClaimed[],
    at: string,
    violation: (what: string) => void,
  ): void {
    const owed = monero.owed(db);
    let fees = 0n;
    for (let seq = 0; seq < store.counters().nextSeq; seq++) fees += store.payout(seq)!.fee;
    const groups = new Map<string, { amount: bigint; address: string; count: number }>();
    for (const p of payouts) {
      const k = `${p.address}:${p.amount}`;
      const gr = groups.get(k) ?? { amount: p.amount, address: p.address, count: 0 };
      gr.count++;
      groups.set(k, gr);
    }
    let unpaid = 0n;
    for (const gr of groups.values()) {
      const mined = this.chain.paymentsTo(gr.address, gr.amount).length;
      unpaid += BigInt(Math.max(0, gr.count - mined)) * gr.amount;
    }
    const chainFees = this.chain.federationFeesPaid();
    // What deep reorgs took away from credited deposits: the shortfall the federation cannot
    // prevent (docs/monero.md: credits are not undone); the pause is checked instead (pauseHolds).
    // (And a deposit a deep reorg only detached, while it is out of the chain: detach world.)
    const taken =
      [...(this.deep?.dropped.values() ?? [])].reduce((a, b) => a + b, 0n) +
      (this.deep?.detachedOut()?.amount ?? 0n);
    const held = this.chain.federationBalance() + chainFees + taken;
    const due = owed.ecashBacking + owed.credited + unpaid + fees;
    if (chainFees > fees && chainFees - fees > BigInt(this.stats.xmrFeeShortfall))
      this.stats.xmrFeeShortfall = Number(chainFees - fees);
    if (held < due)
      violation(
        `${at}: XMR owed ${due} (backing ${owed.ecashBacking} + credited ${owed.credited} + unpaid payouts ${unpaid} + fees charged ${fees}) ` +
          `exceeds what the chain holds for the federation ${held} (unspent ${held - chainFees - taken} + fees its transactions paid ${chainFees} + credited deposits deep reorgs took away ${taken})`,
      );
  }

  /** Batches counted in xmrFeeTopUps (once each, whichever guardian's state shows them first). */
  private readonly toppedUp = new Set<number>();

  /**
   * The fee fund (docs/monero.md "Fee top-up") against the chain: each batch whose agreed
   * transaction is in the canonical chain paid at most the fee its creators declared (what the
   * signers were held to: a creator that declared less than its set pays, or a signer that did not
   * check, shows here), and the fees the chain took for the confirmed batches are at most what the
   * fund was charged for them, which is at most what the payouts were charged (the fund is never
   * below 0: the wallet keeps every payout's amount and the backing). Only batches this state
   * knows count, so a guardian behind sees no false shortfall.
   */
  private feeFundHolds(store: PayoutStore, at: string, violation: (what: string) => void): void {
    const c = store.counters();
    let confirmedFees = 0n;
    for (let n = 1; n < c.nextBatch; n++) {
      const b = store.batch(n);
      if (b?.txid === undefined) continue;
      const txid = toHex(b.txid);
      const tx = this.chain.transaction(txid);
      if (tx === undefined || this.chain.where(txid).where !== "block") continue;
      const bound = b.fee > b.feeAccounted ? b.fee : b.feeAccounted;
      if (tx.fee > bound)
        violation(
          `${at}: batch ${n}'s transaction ${txid.slice(0, 8)} paid a Monero fee of ${tx.fee}, above the ${bound} its creator declared`,
        );
      if (b.phase !== "done") continue;
      confirmedFees += tx.fee;
      const reserves = store.payoutsOf(b).reduce((a, p) => a + p.fee, 0n);
      if (b.feeAccounted > reserves && !this.toppedUp.has(n)) {
        this.toppedUp.add(n);
        this.stats.xmrFeeTopUps++;
      }
    }
    if (confirmedFees > c.feesPaid)
      violation(
        `${at}: the chain took ${confirmedFees} in fees for the confirmed batches, the fee fund was charged ${c.feesPaid} for them`,
      );
    if (c.feesPaid > c.feesCharged)
      violation(
        `${at}: the fee fund was charged ${c.feesPaid}, more than the payouts' fees ${c.feesCharged}`,
      );
  }

  /** Every payout consensus accepted, with the txid it confirmed, if any. */
  private payoutsClaimed(db: ReadTx, monero: MoneroServerModule, store: PayoutStore): PayoutClaimed[] {
    const payouts: PayoutClaimed[] = [];
    const agreedHeight = new MoneroState(db).agreedHeight();
    for (let seq = 0; seq < store.counters().nextSeq; seq++) {
      const p = store.payout(seq)!;
      // The outcome, not the API's payoutView: a payout another module asked for (a burn's) has an
      // outpoint index above any output's (requestOutPoint), which the API's parser refuses.
      const view = monero.payouts.outcome(db, { txid: p.txid, index: p.index }, agreedHeight) ?? {
        state: "queued",
      };
      payouts.push({
        address: p.address,
        amount: p.amount,
        ...(view.state === "confirmed" && view.moneroTxid !== undefined
          ? { moneroTxid: view.moneroTxid }
          : {}),
      });
    }
    return payouts;
  }

  /**
   * The key images the batch in flight names while it is signed with no txid agreed (its creator's
   * set ordered and at least t − f signatures on it, so that a next attempt is bound to them), at
   * the first honest guardian that runs (`--monero-deep-reorg-signing`).
   */
  private namedInFlight(): ReadonlySet<string> {
    const db = this.firstHonestDb();
    if (db === undefined) return new Set();
    const store = new PayoutStore(db);
    const current = store.counters().current;
    const b = current === 0 ? undefined : store.batch(current);
    const t = quorumThreshold(this.host.n);
    const creator = b?.signers[0];
    if (b === undefined || b.txid !== undefined || creator === undefined) return new Set();
    if ((b.phase !== "sign" && b.phase !== "submit") || b.signers.length < t - (this.host.n - t))
      return new Set();
    const blob = store.blob(current, 0, creator);
    const named = blob === undefined ? undefined : decodeCreatorSet(blob)?.keyImages;
    return new Set((named ?? []).map(toHex));
  }

  /** The monero module's state at the first honest guardian that runs (the adversary's and checkers' view). */
  private firstHonestDb(): ReadTx | undefined {
    const g = this.host.honest.find((h) => this.app.moneroAt(h) !== undefined);
    const at = g === undefined ? undefined : this.app.moneroAt(g);
    return g === undefined || at === undefined
      ? undefined
      : at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID);
  }

  /** The deposits by proof consensus credited (or spent), at the first honest guardian that runs. */
  private creditedByProof(): { txid: string; amount: bigint }[] | undefined {
    const db = this.firstHonestDb();
    if (db === undefined) return undefined;
    const records = new MoneroState(db);
    const out: { txid: string; amount: bigint }[] = [];
    for (const [k] of db.scan(Uint8Array.of(K_DEPOSIT))) {
      if (k.length !== 33) continue;
      const d = records.deposit(k.subarray(1));
      if (d !== undefined && (d.state === "credited" || d.state === "spent"))
        out.push({ txid: toHex(k.subarray(1)), amount: d.amount });
    }
    return out;
  }

  /**
   * The pause (docs/monero.md "Reserves agreed in consensus"): no payout is accepted in a block
   * that starts with the agreed reserves short, unless a report in it moved the agreed figure (it
   * may have ended the shortfall before the payout). Not "short after the block" too: accepting a
   * payout takes its amount off what is owed, which can end the shortfall on the books alone.
   */
  private pauseHolds(
    g: number,
    height: number,
    db: ReadTx,
    monero: MoneroServerModule,
    store: PayoutStore,
    at: string,
    violation: (what: string) => void,
  ): void {
    const agreed = monero.agreedReserves(db);
    const short = agreed.state === "short";
    if (short) this.deep!.stats.xmrReservesShortChecks++;
    const payouts = store.counters().nextSeq;
    const last = this.lastCheck.get(g);
    if (last?.height === height - 1 && last.short && last.agreed === agreed.agreed && payouts > last.payouts)
      violation(
        `${at}: ${payouts - last.payouts} payout(s) accepted while the agreed reserves are short (${last.agreed} agreed, owed ${last.required} before the block)`,
      );
    this.lastCheck.set(g, { height, payouts, short, agreed: agreed.agreed, required: agreed.required });
  }

  /**
   * The deep reorgs' end checks: where the chain holds less than what is owed (a credited deposit
   * taken away), every honest guardian that runs agrees the reserves are short; every confirmed
   * payout, removed by a deep reorg or not, is mined in the txid consensus confirmed (not lost;
   * paid at most once is checked after every block). Answers whether every honest guardian that
   * runs agrees the reserves are short.
   */
  private deepReorgEnd(): boolean {
    const deep = this.deep!;
    deep.finish();
    let running = 0;
    let short = 0;
    const balance = this.chain.federationBalance();
    for (const g of this.host.honest) {
      const at = this.app.moneroAt(g);
      if (at === undefined) continue;
      running++;
      const db = at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID);
      const agreed = at.monero.agreedReserves(db);
      if (agreed.state === "short") short++;
      else if (balance < agreed.required)
        this.host.violation(
          `deep reorg: at the end the chain holds ${balance} for the federation, ${agreed.required - balance} less than the ${agreed.required} owed, ` +
            `but guardian ${g}'s agreed reserves are ${agreed.state} (${agreed.detail})`,
        );
      const payouts = this.payoutsClaimed(db, at.monero, new PayoutStore(db));
      for (const v of payoutViolations(this.chain, payouts, { pool: true }))
        this.host.violation(`deep reorg: guardian ${g} at the end: ${v}`);
    }
    deep.stats.xmrReservesShortAtEnd = running > 0 && short === running ? 1 : 0;
    return deep.stats.xmrReservesShortAtEnd === 1;
  }

  /**
   * Whether the claim of deposit `txid` waits for its expiry because a deep reorg split its honest
   * verdicts (docs/monero.md, "Reorgs deeper than `confirmations`": "a reorg that moves a
   * transaction before t attest splits honest verdicts and the claim expires (claim again)"). At
   * every honest guardian that runs: the claim is open and not yet expired; the deposit is in the
   * canonical chain at height H; an honest guardian attested a txHeight other than H at which a deep
   * reorg took the deposit out of its block (not a wrong attestation: that stays a violation); and
   * the honest guardians that attested H or have not attested yet are fewer than t, so no t equal
   * honest verdicts can come before the expiry. Nothing is credited (the deposit checker still holds
   * every credit to the chain): the user's payment waits for the expiry and a claim again.
   */
  private claimSplitByDeepReorg(txid: string | undefined): boolean {
    const deep = this.deep;
    if (deep === undefined || txid === undefined) return false;
    const height = this.chain.minedHeight(txid);
    if (height === undefined) return false;
    const t = quorumThreshold(this.host.n);
    const txidBytes = Uint8Array.from(Buffer.from(txid, "hex"));
    let running = 0;
    for (const g of this.host.honest) {
      const at = this.app.moneroAt(g);
      if (at === undefined) continue;
      running++;
      const state = new MoneroState(at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID));
      const rec = state.deposit(txidBytes);
      if (rec?.state !== "open" || state.agreedHeight() >= rec.claimedAt + this.config.claimExpiryBlocks)
        return false;
      const honest = new Map(
        state
          .attestations(txidBytes)
          .filter((a) => this.host.honest.includes(a.guardian))
          .map((a) => [a.guardian, a.verdict]),
      );
      const moved = [...honest.values()].filter(
        (v) => v.valid && v.txHeight !== height && deep.wasMovedFrom(txid, v.txHeight),
      );
      const wrong = [...honest.values()].filter(
        (v) => v.valid && v.txHeight !== height && !deep.wasMovedFrom(txid, v.txHeight),
      );
      const canAgree = this.host.honest.filter((h) => {
        const v = honest.get(h);
        return v === undefined || (v.valid && v.txHeight === height);
      }).length;
      if (moved.length === 0 || wrong.length > 0 || canAgree >= t) return false;
    }
    return running > 0;
  }

  /** The current payout batch at the first honest guardian that runs: for a liveness violation's text. */
  payoutProgress(): string {
    for (const g of this.host.honest) {
      const at = this.app.moneroAt(g);
      if (at === undefined) continue;
      const store = new PayoutStore(at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID));
      const c = store.counters();
      const b = c.current === 0 ? undefined : store.batch(c.current);
      const agreed = new MoneroState(
        at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID),
      ).agreedHeight();
      return (
        `guardian ${g}: agreed height ${agreed}, chain ${this.chain.height()}, payouts ${c.nextSeq}, batch ${c.current}` +
        (b === undefined
          ? ""
          : ` ${b.phase} attempt ${b.attempt} since ${b.phaseHeight} order [${b.order.join(",")}] signers [${b.signers.join(",")}] passed [${b.passed.join(",")}] spent [${b.spent.join(",")}]` +
            `; duties ${this.host.honest.map((h) => `${h}: ${this.dutyOf(h)}`).join(", ")}`)
      );
    }
    return "no honest guardian runs";
  }

  private dutyOf(g: number): string {
    const at = this.app.moneroAt(g);
    if (at === undefined) return "down";
    const d = at.monero.payouts.duty(at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID), g);
    return d === undefined
      ? "none"
      : JSON.stringify(d, (_, x: unknown) =>
          x instanceof Uint8Array ? x.length : typeof x === "bigint" ? x.toString() : x,
        ).slice(0, 160);
  }

  noteWithdrawal(): void {
    this.stats.xmrWithdrawals++;
  }

  /**
   * Claims a payment to the federation's primary address by proof (txid + tx key) through the real
   * `POST claims` intake of a random honest guardian whose node is healthy and sees it mined (the
   * intake retries a failed proof check once on a real 400 ms timer, which must not run here).
   * "unavailable": no such guardian now; "refused": the intake refused it (counted).
   */
  async claimByProof(
    rng: Rng,
    d: { readonly txid: string; readonly txidBytes: Uint8Array; readonly txKey: Uint8Array },
    claimKey: Uint8Array,
    client: string,
  ): Promise<"posted" | "refused" | "unavailable"> {
    const g = this.healthyGuardian(rng, d.txid);
    if (g === undefined) return "unavailable";
    const at = this.app.moneroAt(g);
    if (at === undefined) return "unavailable";
    const proof = claimProof({
      federationAddress: this.chain.federationAddress,
      txid: d.txidBytes,
      txKey: d.txKey,
      claimKey,
    });
    const endpoint = at.monero.api.find((e) => e.method === "POST" && e.path === "claims")!;
    try {
      await endpoint.handle({
        params: {},
        body: { txid: d.txid, claimKey: toHex(claimKey), proof: toHex(proof) },
        db: at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID),
        client,
      });
      return "posted";
    } catch {
      this.stats.xmrClaimsRefused++;
      return "refused";
    }
  }

  /** A random honest guardian's view of a deposit by proof, if its process runs. */
  depositState(rng: Rng, txid: Uint8Array): { state: string; spendable: boolean } | undefined {
    const v = this.depositView(rng, txid);
    return v === undefined ? undefined : { state: v.state, spendable: v.spendable === true };
  }

  /** An honest guardian that is up, whose node is healthy and has the txid mined; undefined if none. */
  healthyGuardian(rng: Rng, txid: string): number | undefined {
    if (!this.chain.depositTruth(txid, 0).mined) return undefined;
    const ok = this.host.honest.filter((g) => {
      const f = this.chain.faults(g);
      return (
        this.host.up(g) && !f.daemonDown && !f.walletDown && f.lagBlocks === 0 && f.slowProbability === 0
      );
    });
    return ok.length === 0 ? undefined : rng.pick(ok);
  }

  private anyState(rng: Rng): { g: number; db: ReadTx; monero: MoneroServerModule } | undefined {
    const g = rng.pick(this.host.honest);
    const at = this.app.moneroAt(g);
    if (at === undefined) return undefined;
    return { g, db: at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID), monero: at.monero };
  }

  depositView(rng: Rng, txid: Uint8Array) {
    const s = this.anyState(rng);
    return s === undefined ? undefined : s.monero.depositView(s.db, txid);
  }

  /**
   * A withdrawal's payout state at a random honest guardian; undefined where that guardian does not
   * know the payout yet (it has not processed the height that accepted it: a 404 `unknown_payout`,
   * which a wallet reads as "ask again", not as an error; seed 16 of `--evm-deep-reorg`, N = 4, one
   * Byzantine, threw it out of the simulated user and ended the process).
   */
  payoutState(rng: Rng, txid: string): string | undefined {
    const s = this.anyState(rng);
    if (s === undefined) return undefined;
    try {
      return s.monero.payoutView(s.db, { txid, index: "0" }).state;
    } catch (e) {
      if (e instanceof ConclaveError && e.code === "unknown_payout") return undefined;
      throw e;
    }
  }

  agreedFeeRate(rng: Rng): number | undefined {
    const s = this.anyState(rng);
    if (s === undefined) return undefined;
    const rate = new MoneroState(s.db).agreedFeeRate();
    return rate > 0 ? rate : undefined;
  }

  // ---------------------------------------------------------------- the XMR money checkers

  /**
   * After guardian g processed `height`: every credited deposit really paid to the federation by
   * someone else and credited once; every accepted payout paid at most once on the chain (pool
   * included) and, once confirmed, by the txid consensus confirmed; the module's audit assets equal
   * the XMR deposits spent into the federation minus payouts and their fees, from the checker's own
   * ledger.
   */
  afterBlock(
    g: number,
    height: number,
    state: ReadTx,
    processor: FederationProcessor,
    monero: MoneroServerModule | undefined,
    xmrLedger: bigint,
    violation: (what: string) => void,
  ): void {
    if (monero === undefined) return;
    this.stats.xmrChecks++;
    const db = processor.moduleReadDb(state, MONERO_ID);
    const at = `guardian ${g} at height ${height}`;
    const records = new MoneroState(db);
    const credited: DepositCredited[] = [];
    for (const [k] of db.scan(Uint8Array.of(K_DEPOSIT))) {
      if (k.length !== 33) continue;
      const txid = k.subarray(1);
      const d = records.deposit(txid);
      if (d !== undefined && (d.state === "credited" || d.state === "spent"))
        credited.push({ txid: toHex(txid), index: 0, amount: d.amount });
    }
    // Subaddress deposits (each assigned subaddress's, by (txid, index)).
    const subs = new SubaddressState(db);
    for (let index = 1; index <= subs.count(); index++) {
      const claimKey = subs.claimKeyOf(index);
      if (claimKey === undefined) continue;
      for (const d of monero.subaddressView(db, claimKey).deposits)
        if ((d.state === "credited" || d.state === "spent") && d.amount !== undefined)
          credited.push({ txid: d.txid, index, amount: BigInt(d.amount) });
    }
    const deep = this.deep;
    for (const v of depositViolations(this.chain, credited))
      if (
        deep === undefined ||
        ![...deep.dropped.keys(), ...[deep.detachedOut()?.txid ?? []].flat()].some(
          (t) => v === `deposit ${t.slice(0, 8)} index 0 credited but not in the canonical chain`,
        )
      )
        violation(`${at}: ${v}`);
    const store = new PayoutStore(db);
    const payouts = this.payoutsClaimed(db, monero, store);
    // A confirmed payout a deep reorg took out may wait in the pool to be mined again, or, when the
    // reorg took an output it spent away (`--monero-deep-reorg-spent`), be unmineable until t
    // guardians agree it is gone and re-open its batch (the end check and liveness bound that).
    for (const v of payoutViolations(this.chain, payouts, { pool: true }))
      if (
        deep === undefined ||
        ![...deep.removed].some(
          (t) => (deep.remining(t) || deep.unmineable(t)) && v.includes(`confirmed as ${t.slice(0, 8)},`),
        )
      )
        violation(`${at}: ${v}`);
    // A batch re-opened as gone: its old transaction must be in neither chain nor pool and unmineable.
    for (let n = 1; n < store.counters().nextBatch; n++) {
      const gone = store.batch(n)?.goneTxid;
      if (gone === undefined) continue;
      const txid = toHex(gone);
      if (!this.chain.unmineable(txid))
        violation(
          `${at}: batch ${n} re-opened as gone, but its transaction ${txid.slice(0, 8)} is ${this.chain.where(txid).where === "unknown" ? "still mineable" : `in the ${this.chain.where(txid).where}`}`,
        );
    }
    this.reservesOnChain(db, monero, store, payouts, at, violation);
    this.feeFundHolds(store, at, violation);
    if (deep !== undefined) this.pauseHolds(g, height, db, monero, store, at, violation);
    this.agreedWithinHonest(records, at, violation);
    if (this.liar !== undefined)
      this.reservesWithinTruthful(records, monero.agreedReserves(db).agreed, at, violation);
    const audit = monero.audit(db);
    if (audit.assets !== xmrLedger)
      violation(
        `${at}: XMR conservation broken: the monero module's assets are ${audit.assets}, ` +
          `deposits spent minus payouts and fees are ${xmrLedger}`,
      );
  }
}
