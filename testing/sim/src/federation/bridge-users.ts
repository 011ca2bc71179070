// Simulated bridge users (issue 11). Each one, from its own stream of the seed:
//   fund     faucet money (a dummy-module deposit) into a "wXMR to <its EVM address>" output,
//            refundable (0x02, with a refund key) 80% of the time;
//   sign     asks every guardian for its signature of the accepted mint (Byzantine ones answer with
//            signatures of other mints or garbage), keeps those that recover to the guardian's
//            address, sends mint(m, t signatures sorted by signer) to the chain; a mint above the
//            single-mint cap is queued, executed after the delay (or cancelled by a Byzantine
//            guardian: frozen, threat model 12z);
//   abandon  (35% of refundable mints) never submits; once t guardians saw it unminted past its
//            deadline, spends input 0x02 signed by the refund key into a dummy coin. A Byzantine
//            guardian that submitted it first (public signatures) makes it minted instead;
//   burn     burns its wXMR to a claim key (its own Ed25519 key), a Monero address of the
//            federation's network, or of another network; a claimable burn is claimed into a coin
//            (input 0x01 signed by the claim key), a re-minted one is signed and minted again.
// With the monero module (`--evm --monero`) users fund by an XMR deposit instead of the faucet, and
// burns to a Monero address are paid from the multisig wallet. Notes bridge users (there only, their
// own streams) go XMR -> notes -> wXMR -> notes -> XMR through all three modules: an XMR deposit by
// proof into e-cash notes (their own driven wallet, wallets.ts), the notes into the mint output
// (mint inputs, the bridge's output), t signatures and the mint; then a burn of everything to their
// claim key, claimed into notes, and the notes withdrawn as a Monero payout. Half of them spend the
// deposit's notes into the mint output and, from a second device at once, into a withdrawal: one
// must be accepted, the other rejected (the winner's path goes on). Their wallets crash now and then
// mid-operation and resume from their disk.
// It reads state only from honest guardians (as a client deciding on t answers would), and acts on
// a chain receipt only once it is at the watchers' depth.
import { buildTransaction, fromHex, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import {
  encodeBurnClaimInput,
  encodeMintOutput,
  encodeRefundInput,
  evmAddressOfKey,
  mintDigest,
} from "@conclave/module-bridge";
import type {
  BurnKey,
  EvmAddress,
  Hex32,
  MintKey,
  MintMessage,
  MintSignatureView,
} from "@conclave/module-bridge";
import { hexToBytes } from "viem";
import { NodeSigner, sha256 } from "../consensus.js";
import type { Rng } from "../rng.js";
import { recoverSigner } from "../chains/evm-chain.js";
import { simAddress } from "../chains/monero-chain.js";
import { depositInput, encodePayoutOutput, payoutFee } from "@conclave/module-monero";
import type { TxOutput } from "@conclave/core-common";
import {
  BRIDGE_ID,
  DUMMY_FEE_PER_INPUT,
  DUMMY_ID,
  FAUCET_AMOUNT_MAX,
  MONERO_ID,
  REFUNDABLE_MINT_FEE_SIM,
} from "./setup.js";
import type { BridgeWorld } from "./bridge.js";
import type { Contest, Wallet } from "./wallets.js";

const USER_STEP_MS = 700;
/**
 * A notes user looks again this often: its path crosses three modules and both chains (about 15
 * waits), and must end, its payout confirmed, within the liveness bound after the heal (at 700 ms
 * seed 6, N = 4, one Byzantine, safety 13 s: its withdrawal accepted 34 s after the heal, its
 * payout still signing behind a Byzantine participant's batch at the bound).
 */
const NOTES_USER_STEP_MS = 300;

type Job =
  { readonly kind: "output"; readonly key: MintKey } | { readonly kind: "remint"; readonly key: BurnKey };

type Step =
  | "fund"
  | "xmr-claim"
  | "xmr-credit"
  | "funding"
  | "sign"
  | "onchain"
  | "delayed"
  | "abandon"
  | "refunding"
  | "burn"
  | "burning"
  | "settle-burn"
  | "claiming"
  | "payout"
  | "payout-claim"
  | "notes-issue"
  | "notes-issuing"
  | "notes-fund"
  | "notes-funding"
  | "notes-claim"
  | "notes-claiming"
  | "notes-refunding"
  | "withdraw"
  | "withdrawing"
  | "withdrawn"
  | "done";

/**
 * A notes bridge user's e-cash side (bridge.ts, the `--evm --monero` world): its driven wallet and,
 * when it attacks, its second device, which spends the same notes into a withdrawal at once.
 */
export interface NotesSide {
  readonly wallet: Wallet;
  readonly twin: Wallet | undefined;
  /** Its XMR deposit: four notes' worth of 2^10..2^12 (split into them, nothing donated). */
  readonly deposit: bigint;
  /** Its own Monero address (the withdrawals pay it). */
  readonly address: string;
}

/** A notes user's double spend of one set of notes: into the mint output and into a withdrawal. */
export interface NotesRace {
  readonly contest: Contest;
  readonly user: number;
  readonly mint: string;
  readonly withdraw: string;
  readonly mintWallet: Wallet;
  readonly withdrawWallet: Wallet;
}

export class BridgeUser {
  private readonly signer: NodeSigner;
  readonly evm: EvmAddress;
  private step: Step = "fund";
  private readonly refundable: boolean;
  private readonly submits: boolean;
  private amount: bigint;
  private job: Job | undefined;
  private tx: { tx: Transaction; txid: string } | undefined;
  private mintTx: { hash: Hex32; message: MintMessage } | undefined;
  private executeTx: Hex32 | undefined;
  private burnTx: Hex32 | undefined;
  private burn: (BurnKey & { amount: bigint }) | undefined;
  private reminted = false;
  /** The deadline whose miss was counted (a mint without refund key waits for its re-issue). */
  private missed: bigint | undefined;
  private delayCounted = false;
  private outcome = "";
  /** With the monero module: the XMR deposit (by proof) that funds the mint output. */
  private deposit: { txid: string; txidBytes: Uint8Array; txKey: Uint8Array; amount: bigint } | undefined;
  /** A claim by proof in flight (the intake answers through the simulated node). */
  private claiming = false;
  /** When it learned its burn settled as a Monero payout (simulated ms): its withdrawal bound's start. */
  private burnPayoutSeenAt: number | undefined;
  /** The confirmed Monero payout of this user's burn: txid and tx key, which it tries to claim. */
  private paid: { txid: string; txKey: string } | undefined;
  /** A notes user's wallet operation in flight (its txid; the wallet tells how it ended). */
  private noteTx: string | undefined;
  /** A notes user's double spend (its mint output against its withdrawal). */
  private race: NotesRace | undefined;
  /**
   * A notes user's accepted withdrawal (its payout is output 0) and its path: the whole one (a burn
   * claimed into notes), a returned mint's refund, or the withdrawal that won its double spend.
   */
  private withdrawal: { txid: string; path: "full" | "refund" | "race"; at: number } | undefined;
  private withdrawPath: "full" | "refund" = "full";
  /** The step a notes user's log last named. */
  private noted: Step | undefined;

  constructor(
    readonly id: number,
    private readonly world: BridgeWorld,
    private readonly rng: Rng,
    /** A notes bridge user (`--evm --monero`): XMR -> notes -> wXMR -> notes -> XMR. */
    private readonly notes?: NotesSide,
  ) {
    this.signer = new NodeSigner(rng.bytes(32));
    this.evm = evmAddressOfKey(rng.bytes(32));
    this.refundable = rng.chance(0.8);
    // A notes user always submits its mint (its path goes through wXMR); it still draws, as the others.
    this.submits = !this.refundable || !rng.chance(0.35) || notes !== undefined;
    // At most what the dummy faucet's one input can fund with the fees on top (FAUCET_AMOUNT_MAX):
    // a draw above it (7,979-7,990) was refused forever (seed 155, N = 4, no Byzantine guardian:
    // funding 8,002). Clamped, not redrawn, so every seed draws the same numbers as before.
    this.amount = BigInt(
      Math.min(
        rng.range(500, 7_990),
        Number(FAUCET_AMOUNT_MAX - DUMMY_FEE_PER_INPUT - REFUNDABLE_MINT_FEE_SIM),
      ),
    );
  }

  get settled(): boolean {
    return (
      this.step === "done" &&
      (this.notes === undefined || (this.notes.wallet.settled && (this.notes.twin?.settled ?? true)))
    );
  }

  /**
   * A notes user whose withdrawal was accepted and whose payout is not confirmed yet: when it learned
   * the withdrawal accepted (simulated ms), if its wallets are settled; a user whose burn is paid in
   * Monero, from when it learned the burn settled as a payout until it is done (its payout is judged
   * by the withdrawal bound, not by the 60 s after the heal: seed 11 of `--evm --monero`, N = 4, one
   * Byzantine, whose burn's payout was queued behind two batches, submitted at 127 s and not yet
   * confirmed when the run ended, a false violation); undefined otherwise.
   */
  get payoutPendingSince(): number | undefined {
    if (this.notes === undefined && (this.step === "payout" || this.step === "payout-claim"))
      return this.burnPayoutSeenAt;
    const n = this.notes;
    if (n === undefined || this.step !== "withdrawn" || this.withdrawal === undefined) return undefined;
    if (!n.wallet.settled || n.twin?.settled === false) return undefined;
    return this.withdrawal.at;
  }

  /** The EVM transactions this user sent (its mint, its delayed mint's execution, its burn). */
  evmTxs(): Hex32[] {
    return [this.mintTx?.hash, this.executeTx, this.burnTx].filter((h): h is Hex32 => h !== undefined);
  }

  describe(): string {
    if (this.notes !== undefined) {
      const w = this.world;
      const payout =
        this.withdrawal === undefined
          ? ""
          : `; its payout ${this.withdrawal.txid.slice(0, 12)}:0 ${w.firstMoneroState(this.withdrawal.txid) ?? "?"} (${w.xmr!.payoutProgress()})`;
      return `notes bridge user ${this.id} at step ${this.step} (${this.refundable ? "refundable" : "plain"}, ${this.notes.twin === undefined ? "honest" : "double-spending"}, deposit ${this.notes.deposit}; ${this.notes.wallet.describe()}${this.notes.twin === undefined ? "" : `; twin ${this.notes.twin.describe()}`}${payout})`;
    }
    return `bridge user ${this.id} at step ${this.step} (${this.refundable ? "refundable" : "plain"}, ${this.submits ? "submits" : "abandons"}, ${this.amount})`;
  }

  start(): void {
    this.world.host.schedule(this.world.host.now() + this.rng.range(0, 1_000), () => this.tick());
  }

  private tick(): void {
    if (this.settled) return;
    this.act();
    if (this.notes !== undefined && this.step !== this.noted) {
      this.noted = this.step;
      this.world.host.note(`t=${this.world.host.now()} notes bridge user ${this.id}: ${this.step}`);
    }
    const step = this.notes === undefined ? USER_STEP_MS : NOTES_USER_STEP_MS;
    if (!this.settled) this.world.host.schedule(this.world.host.now() + step, () => this.tick());
  }

  /**
   * A guardian processed a block: a user waiting for its funding or for t signatures looks again at once (a client
   * watching its mint, bridge.ts RaceProfile): its funding accepted, it signs at once, and submits
   * the moment t guardians signed.
   */
  nudge(): void {
    const w = this.world;
    if (
      this.step === "funding" &&
      w.host.honest.some((g) => w.app.status(g, this.tx!.txid)?.state === "accepted")
    )
      this.funded();
    if (this.step === "sign") this.sign();
  }

  /** The mint output's transaction was accepted: sign it, or abandon it. */
  private funded(txid = this.tx!.txid): void {
    const w = this.world;
    const key = { txid: fromHex(txid), index: 0 };
    this.job = { kind: "output", key };
    if (this.refundable) w.refundable.push(key);
    w.stats.evmMintOutputs++;
    // (A notes user's output is funded by notes: evmNotesFunded.)
    if (w.xmr !== undefined && this.notes === undefined) w.stats.evmXmrFunded++;
    if (this.submits) this.step = "sign";
    else {
      w.stats.evmAbandoned++;
      this.step = "abandon";
    }
  }

  private done(outcome: string): void {
    this.outcome = outcome;
    this.step = "done";
    this.world.host.note(`evm user ${this.id} done: ${outcome}`);
  }

  private act(): void {
    const w = this.world;
    switch (this.step) {
      case "fund": {
        if (w.xmr !== undefined) return this.fundByXmr();
        const tx = buildTransaction(
          [
            faucetInput(
              DUMMY_ID,
              // A refundable output pays the federation its fee on top of the amount (12w).
              this.amount + DUMMY_FEE_PER_INPUT + (this.refundable ? REFUNDABLE_MINT_FEE_SIM : 0n),
              this.rng.bytes(16),
            ),
          ],
          [
            {
              module: BRIDGE_ID,
              amount: this.amount,
              payload: encodeMintOutput(this.evm, this.refundable ? this.signer.publicKey : undefined),
            },
          ],
          [],
          sha256,
          this.rng.bytes(32),
        );
        this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
        this.step = "funding";
        return;
      }
      case "xmr-claim":
      case "xmr-credit":
        return this.fundByXmr();
      case "funding":
        return this.follow(() => this.funded(), w.xmr === undefined ? "fund" : "xmr-credit");
      case "sign":
        return this.sign();
      case "onchain":
        return this.onChain();
      case "delayed":
        return this.delayed();
      case "abandon": {
        const view = this.honestView();
        const state = view?.expiry?.state;
        if (state === "minted") {
          // A Byzantine guardian submitted it with the public signatures: it is on the chain.
          w.stats.evmFrontRun++;
          this.mintTx = { hash: "0x", message: messageOf(view!) };
          this.step = "delayed";
          return;
        }
        if (state !== "returnable") return;
        const key = (this.job as { key: MintKey }).key;
        if (this.notes !== undefined) {
          // Back into notes (refund input 0x02, signed by the refund key), then withdrawn as Monero.
          const txid = this.notes.wallet.issueFrom(
            [{ module: BRIDGE_ID, amount: this.amount, payload: encodeRefundInput(key) }],
            [this.signer],
            this.amount,
          );
          if (txid === undefined) return;
          this.noteTx = txid;
          this.step = "notes-refunding";
          return;
        }
        const tx = buildTransaction(
          [{ module: BRIDGE_ID, amount: this.amount, payload: encodeRefundInput(key) }],
          [coinOutput(DUMMY_ID, this.amount, this.signer.publicKey)],
          [this.signer],
          sha256,
          this.rng.bytes(32),
        );
        this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
        this.step = "refunding";
        return;
      }
      case "refunding":
        return this.follow(() => {
          w.stats.evmRefunded++;
          this.done("refunded");
        }, "abandon");
      case "burn": {
        const balance = w.chain.balanceOf(this.evm, Math.max(0, w.depthBlock()));
        if (balance < 2n) return this.done("holds nothing to burn");
        if (this.notes !== undefined) {
          // All of it to its claim key: claimed into notes, withdrawn as Monero.
          w.stats.evmBurnsToClaim++;
          this.burnTx = w.chain.send(this.evm, {
            kind: "burnToClaim",
            amount: balance,
            claimKey: this.signer.publicKey,
          });
          this.step = "burning";
          return;
        }
        const part = this.rng.chance(0.5) ? balance : balance / 2n;
        const kind = this.rng.pick(["claim", "monero", "other-network"] as const);
        // Beside the monero module a burn to a Monero address burns everything: a payout pays the
        // burn less a fee of 3,000 piconero and at least 500 (monero.ts `combined`), else it is re-minted.
        const amount = w.xmr !== undefined && kind === "monero" ? balance : part;
        if (kind === "claim") {
          w.stats.evmBurnsToClaim++;
          this.burnTx = w.chain.send(this.evm, {
            kind: "burnToClaim",
            amount,
            claimKey: this.signer.publicKey,
          });
        } else {
          w.stats.evmBurnsToMonero++;
          const network = kind === "monero" ? "mainnet" : "testnet";
          const address = simAddress(network, "standard", `evm-user-${w.host.seed}-${this.id}`);
          this.burnTx = w.chain.send(this.evm, { kind: "burn", amount, moneroAddress: address });
        }
        this.step = "burning";
        return;
      }
      case "burning": {
        const r = this.deepReceipt(this.burnTx!);
        if (r === undefined) return;
        const log = r.logs.find((l) => l.event === "Burned");
        if (r.error !== undefined || log === undefined || log.event !== "Burned") {
          // A deep reorg (--evm-deep-reorg) left out the mint that gave it the wXMR: its own loss.
          if (this.evmTxs().some((h) => w.deep?.touched(h) === true))
            return this.done(
              `burn reverted after a deep reorg took its wXMR (${r.error ?? "no Burned log"})`,
            );
          w.host.violation(`bridge user ${this.id}: its burn reverted (${r.error ?? "no Burned log"})`);
          return this.done("burn reverted");
        }
        this.burn = { txHash: hexToBytes(log.txHash), logIndex: log.logIndex, amount: log.amount };
        this.step = "settle-burn";
        return;
      }
      case "settle-burn": {
        const s = w.anyState(this.rng);
        if (s === undefined) return;
        const view = s.bridge.burnView(s.db, this.burn!);
        if (view.state !== "accepted") return;
        if (view.settlement === "claimable" && this.notes !== undefined) {
          this.step = "notes-claim";
          return this.notesStep();
        }
        if (view.settlement === "claimable") {
          const tx = buildTransaction(
            [{ module: BRIDGE_ID, amount: this.burn!.amount, payload: encodeBurnClaimInput(this.burn!) }],
            [coinOutput(DUMMY_ID, this.burn!.amount, this.signer.publicKey)],
            [this.signer],
            sha256,
            this.rng.bytes(32),
          );
          this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
          this.step = "claiming";
        } else if (view.settlement === "reminted") {
          w.stats.evmReminted++;
          this.reminted = true;
          this.job = { kind: "remint", key: this.burn! };
          this.step = "sign";
        } else if (view.settlement === "payout" && w.xmr !== undefined) {
          this.step = "payout";
          this.burnPayoutSeenAt = w.host.now();
        } else this.done(`burn settled as ${view.settlement ?? "?"}`);
        return;
      }
      case "payout": {
        // Paid from the multisig wallet: wait until t guardians confirm it (the withdrawal bound).
        const s = w.anyState(this.rng);
        if (s === undefined) return;
        const payout = s.bridge.burnView(s.db, this.burn!).payout;
        if (payout?.state !== "confirmed" || payout.moneroTxid === undefined) return;
        w.stats.evmBurnsPaidXmr++;
        if (payout.txKey === undefined) {
          // Paid by a completion a Byzantine signer kept and broadcast (payout_paid_earlier): no
          // honest wallet knows its tx key, so the outcome has none (docs/monero.md) and there is
          // no claim of it to try. Waiting for a key froze this user (seed 2 of
          // --evm-monero-refund once the fee top-up changed its batches: a false violation).
          this.done("paid in Monero (confirmed without a tx key: nothing to claim)");
          return;
        }
        this.paid = { txid: payout.moneroTxid, txKey: payout.txKey };
        this.step = "payout-claim";
        return;
      }
      case "payout-claim":
        return this.claimPayout();
      case "claiming":
        return this.follow(() => {
          w.stats.evmClaimed++;
          this.done("claimed");
        }, "settle-burn");
      case "notes-issue":
      case "notes-issuing":
      case "notes-fund":
      case "notes-funding":
      case "notes-claim":
      case "notes-claiming":
      case "notes-refunding":
      case "withdraw":
      case "withdrawing":
      case "withdrawn":
        return this.notesStep();
      case "done":
        return;
    }
  }

  /**
   * A notes user's steps through its wallet: the deposit into notes, the notes into the mint output
   * (and, when it attacks, into a withdrawal at once from its second device), the burn's claim into
   * notes (or a returned mint's refund), the notes withdrawn as a Monero payout, and that payout
   * confirmed. Each wallet operation is written down and followed by the wallet (resubmitted,
   * crashes resumed); the user reads how it ended.
   */
  private notesStep(): void {
    const w = this.world;
    const n = this.notes!;
    const ended = (txid: string | undefined, wallet = n.wallet) =>
      txid === undefined ? undefined : wallet.finished.get(txid);
    switch (this.step) {
      case "notes-issue": {
        const d = this.deposit!;
        const txid = n.wallet.issueFrom(
          [depositInput(MONERO_ID, d.amount, d.txidBytes)],
          [this.signer],
          d.amount,
        );
        if (txid === undefined) return;
        this.noteTx = txid;
        this.step = "notes-issuing";
        return;
      }
      case "notes-issuing": {
        const r = ended(this.noteTx);
        if (r === undefined) return;
        // A rejection of a valid spend is the wallet's violation already.
        if (r === "rejected") return this.done("its deposit into notes was rejected");
        w.stats.evmNotesIssued++;
        this.step = "notes-fund";
        return this.notesStep();
      }
      case "notes-fund":
        return this.notesFund();
      case "notes-funding":
        return this.notesFunding();
      case "notes-claim": {
        const b = this.burn!;
        const txid = n.wallet.issueFrom(
          [{ module: BRIDGE_ID, amount: b.amount, payload: encodeBurnClaimInput(b) }],
          [this.signer],
          b.amount,
        );
        if (txid === undefined) return;
        this.noteTx = txid;
        this.step = "notes-claiming";
        return;
      }
      case "notes-claiming":
      case "notes-refunding": {
        const r = ended(this.noteTx);
        if (r === undefined) return;
        if (r === "rejected")
          return this.done(
            `its ${this.step === "notes-claiming" ? "claim" : "refund"} into notes was rejected`,
          );
        if (this.step === "notes-claiming") w.stats.evmNotesClaimed++;
        else w.stats.evmRefunded++;
        this.withdrawPath = this.step === "notes-claiming" ? "full" : "refund";
        this.step = "withdraw";
        return this.notesStep();
      }
      case "withdraw": {
        const out = this.payoutOutputs();
        if (out === undefined) return;
        if (n.wallet.heldValue === 0n) return this.done("holds no notes to withdraw");
        let small = false;
        const txid = n.wallet.spendInto((value) => {
          const o = out(value);
          small = o === undefined;
          return o;
        });
        if (small) {
          w.stats.evmNotesTooSmall++;
          return this.done("its notes are below the payout minimum with the fee");
        }
        if (txid === undefined) return;
        this.noteTx = txid;
        this.step = "withdrawing";
        return;
      }
      case "withdrawing": {
        const r = ended(this.noteTx);
        if (r === undefined) return;
        if (r === "rejected") return this.done("its withdrawal was rejected");
        this.withdrawal = { txid: this.noteTx!, path: this.withdrawPath, at: w.host.now() };
        this.step = "withdrawn";
        return;
      }
      case "withdrawn": {
        const p = this.withdrawal!;
        if (w.xmr!.payoutState(this.rng, p.txid) !== "confirmed") return;
        w.xmr!.paidInTime(this.describe(), p.at);
        if (p.path === "full") {
          w.stats.evmNotesWithdrawnXmr++;
          return this.done("XMR -> notes -> wXMR -> notes -> XMR: withdrawn");
        }
        if (p.path === "refund") {
          w.stats.evmNotesRefundWithdrawnXmr++;
          return this.done("XMR -> notes -> a returned mint -> notes -> XMR: withdrawn");
        }
        w.stats.evmNotesRacePaid++;
        return this.done("its withdrawal won the double spend: paid in Monero");
      }
      default:
        return;
    }
  }

  /** A payout of `value` less the fee at the agreed rate to the user's address (undefined: no rate agreed yet). */
  private payoutOutputs(): ((value: bigint) => TxOutput[] | undefined) | undefined {
    const xmr = this.world.xmr!;
    const rate = xmr.agreedFeeRate(this.rng);
    const fee = rate === undefined ? undefined : payoutFee(xmr.config, rate);
    if (fee === undefined) return undefined;
    const address = this.notes!.address;
    return (value) =>
      value - fee < xmr.config.payoutMinPiconero
        ? undefined
        : [{ module: MONERO_ID, amount: value - fee, payload: encodePayoutOutput(address, fee) }];
  }

  /**
   * The deposit's notes into the "wXMR to <address>" output (the refundable one pays its fee on
   * top); an attacking user's second device spends the same notes into a withdrawal at once.
   */
  private notesFund(): void {
    const w = this.world;
    const n = this.notes!;
    const fee = this.refundable ? REFUNDABLE_MINT_FEE_SIM : 0n;
    const refundKey = this.refundable ? this.signer.publicKey : undefined;
    const mintOutput = (value: bigint): TxOutput[] => {
      this.amount = value - fee;
      return [{ module: BRIDGE_ID, amount: value - fee, payload: encodeMintOutput(this.evm, refundKey) }];
    };
    if (n.twin === undefined) {
      const txid = n.wallet.spendInto(mintOutput);
      if (txid === undefined) return;
      this.noteTx = txid;
      this.step = "notes-funding";
      return;
    }
    // Both devices at once: wait until both are up and idle, and a payout fee is agreed.
    const out = this.payoutOutputs();
    if (out === undefined || !n.wallet.idle || !n.twin.idle) return;
    const notes = n.wallet.heldNotes();
    const contest: Contest = {
      accepted: 0,
      rejected: 0,
      label: `notes bridge user ${this.id} (its notes into a mint output and a withdrawal)`,
    };
    const mint = n.wallet.spendInto(mintOutput, undefined, contest);
    const withdraw = n.twin.spendInto((value) => out(value), notes, contest);
    if (mint === undefined || withdraw === undefined) {
      w.host.violation(`notes bridge user ${this.id}: its idle wallets did not start the double spend`);
      return this.done("double spend not started");
    }
    this.race = { contest, user: this.id, mint, withdraw, mintWallet: n.wallet, withdrawWallet: n.twin };
    w.notesRaces.push(this.race);
    w.stats.evmNotesRaces++;
    this.step = "notes-funding";
  }

  /** The notes' spend into the mint output accepted (signed next), or, in a race, whichever won. */
  private notesFunding(): void {
    const w = this.world;
    const n = this.notes!;
    const race = this.race;
    if (race === undefined) {
      const txid: string = this.noteTx!;
      const r = n.wallet.finished.get(txid);
      if (r === undefined) return;
      if (r === "rejected") return this.done("its notes into the mint output were rejected");
      w.stats.evmNotesFunded++;
      return this.funded(txid);
    }
    const mint = race.mintWallet.finished.get(race.mint);
    const withdraw = race.withdrawWallet.finished.get(race.withdraw);
    if (mint === "accepted") {
      w.stats.evmNotesFunded++;
      w.stats.evmNotesRaceMintWon++;
      return this.funded(race.mint);
    }
    if (withdraw === "accepted") {
      w.stats.evmNotesRaceWithdrawWon++;
      this.withdrawal = { txid: race.withdraw, path: "race", at: w.host.now() };
      this.step = "withdrawn";
      return;
    }
    // Both rejected: the race checker reports it (bridge.ts finish).
    if (mint === "rejected" && withdraw === "rejected") this.done("both spends of its notes rejected");
  }

  /**
   * With the monero module: pays the federation's primary address the mint's amount (and the
   * refundable output's fee) on the Monero chain, claims it by proof (txid + tx key) through a
   * guardian's claim intake, and once it is spendable spends deposit input 0x01 (signed by the claim
   * key) into the "wXMR to <address>" output: an XMR deposit minted to wXMR.
   */
  private fundByXmr(): void {
    const w = this.world;
    const xmr = w.xmr!;
    const value = this.notes?.deposit ?? this.amount + (this.refundable ? REFUNDABLE_MINT_FEE_SIM : 0n);
    if (this.step === "fund" && this.deposit === undefined) {
      const paid = xmr.chain.payFederation(value);
      this.deposit = { txid: paid.txid, txidBytes: fromHex(paid.txid), txKey: paid.txKey, amount: value };
      this.step = "xmr-claim";
      return;
    }
    if (this.step === "xmr-claim") {
      if (this.claiming) return;
      this.claiming = true;
      void xmr
        .claimByProof(this.rng, this.deposit!, this.signer.publicKey, `evm-user-${this.id}`)
        .then((r) => {
          if (r === "posted" && this.step === "xmr-claim") this.step = "xmr-credit";
        })
        .finally(() => {
          this.claiming = false;
        });
      return;
    }
    const view = xmr.depositState(this.rng, this.deposit!.txidBytes);
    if (view === undefined) return;
    if (view.state === "rejected" || view.state === "expired" || view.state === "unclaimed") {
      this.step = "xmr-claim";
      return;
    }
    if (!view.spendable) return;
    if (this.notes !== undefined) {
      this.step = "notes-issue";
      return this.notesStep();
    }
    const d = this.deposit!;
    const tx = buildTransaction(
      [depositInput(MONERO_ID, d.amount, d.txidBytes)],
      [
        {
          module: BRIDGE_ID,
          amount: this.amount,
          payload: encodeMintOutput(this.evm, this.refundable ? this.signer.publicKey : undefined),
        },
      ],
      [this.signer],
      sha256,
      this.rng.bytes(32),
    );
    this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
    this.step = "funding";
  }

  /**
   * A paid user tries to turn its payout into a deposit: it claims the payout's transaction by proof
   * with the tx key the guardians published (the proof shows the change the federation's address
   * received). The federation sent it, so it must never be credited (the deposit checker).
   */
  private claimPayout(): void {
    const w = this.world;
    const xmr = w.xmr!;
    if (this.claiming) return;
    const p = this.paid!;
    this.claiming = true;
    void xmr
      .claimByProof(
        this.rng,
        { txid: p.txid, txidBytes: fromHex(p.txid), txKey: fromHex(p.txKey) },
        this.signer.publicKey,
        `evm-user-${this.id}`,
      )
      .then((r) => {
        if (r === "unavailable" || this.step !== "payout-claim") return;
        w.stats.evmPayoutClaims++;
        xmr.payoutClaims.add(p.txid);
        this.done(`paid in Monero (its claim of the payout ${r})`);
      })
      .finally(() => {
        this.claiming = false;
      });
  }

  /** The mint's view at a random honest guardian (undefined: none runs, or no signature yet). */
  private honestView(): MintSignatureView | undefined {
    const s = this.world.anyState(this.rng);
    if (s === undefined || this.job === undefined) return undefined;
    if (this.job.kind === "output") return s.bridge.outputOutcome(s.db, this.job.key);
    return s.bridge.burnView(s.db, this.job.key).remint;
  }

  /**
   * Asks every guardian for its signature, keeps the ones that recover to that guardian's address
   * (eip712-mint.ts collectMintSignatures does the same with viem's async recovery; here the
   * chain's synchronous one, so the run stays a function of the seed), sends t of them sorted.
   */
  private sign(): void {
    const w = this.world;
    const honest = this.honestView();
    if (honest === undefined || honest.signature === undefined) {
      if (honest?.expiry?.state === "returnable" || honest?.expiry?.state === "refunded")
        this.step = "abandon";
      return;
    }
    const message = messageOf(honest);
    if (w.chain.head().timestamp > message.deadline) {
      if (this.missed !== message.deadline) w.stats.evmDeadlineMissed++;
      this.missed = message.deadline;
      if (this.job?.kind === "output" && this.refundable) {
        this.step = "abandon";
        return;
      }
      // A 0x01 output or a re-mint: t guardians re-issue it once they see it unminted at depth past
      // its deadline (a new deadline and deposit id); the next view is that issue.
      return;
    }
    if ((honest.reissue?.attempt ?? 0) > 0 && this.missed !== undefined) {
      w.stats.evmReissuedSubmitted++;
      this.missed = undefined;
    }
    const digest = hexToBytes(
      mintDigest({ chainId: w.config.chainId, contract: w.config.contract }, message),
    );
    const good = new Map<string, `0x${string}`>();
    for (let g = 0; g < w.host.n; g++) {
      let signature: string | undefined;
      const byz = w.byzantine.get(g);
      if (byz !== undefined) signature = byz.signature(honest)?.signature;
      else {
        const at = w.app.bridgeAt(g);
        if (at === undefined) continue;
        const db = at.processor.moduleReadDb(w.host.disk(g).state, BRIDGE_ID);
        const view =
          this.job!.kind === "output"
            ? at.bridge.outputOutcome(db, this.job!.key)
            : at.bridge.burnView(db, this.job!.key).remint;
        signature = view?.signature;
      }
      if (signature === undefined) continue;
      const signer = /^0x[0-9a-fA-F]{130}$/.test(signature)
        ? recoverSigner(digest, hexToBytes(signature as `0x${string}`))
        : undefined;
      const expected = w.config.guardians[g]!;
      if (signer === undefined || signer.toLowerCase() !== expected.toLowerCase()) {
        w.stats.evmBadSignaturesSkipped++;
        continue;
      }
      good.set(expected, signature as `0x${string}`);
    }
    if (good.size < w.config.threshold) return;
    const signatures = [...good.entries()]
      .sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .slice(0, w.config.threshold)
      .map(([, s]) => s);
    this.mintTx = { hash: w.chain.send(this.evm, { kind: "mint", mint: message, signatures }), message };
    // A new mint (a re-mint after an output's): its own delay and execution.
    this.executeTx = undefined;
    this.delayCounted = false;
    w.stats.evmMintsSubmitted++;
    this.step = "onchain";
  }

  private onChain(): void {
    const w = this.world;
    const r = this.deepReceipt(this.mintTx!.hash);
    if (r === undefined) return;
    if (r.error === undefined || r.error === "DepositUsed") {
      if (r.error === "DepositUsed") w.stats.evmFrontRun++;
      this.step = "delayed";
      return this.delayed();
    }
    if (r.error === "Expired") {
      if (this.job?.kind === "output" && this.refundable) {
        this.step = "abandon";
        return;
      }
      // Not mined before its deadline: it is re-issued (above); sign that issue.
      this.step = "sign";
      return;
    }
    if (r.error === "RateLimited") {
      w.stats.evmUserRetries++;
      this.step = "sign";
      return;
    }
    w.host.violation(`bridge user ${this.id}: a mint with t good signatures reverted: ${r.error}`);
    this.done(`mint reverted ${r.error}`);
  }

  /** After the mint is in a block at depth (ours or an attacker's): queued, minted or cancelled. */
  private delayed(): void {
    const w = this.world;
    const id = this.mintTx!.message.depositId;
    const deep = Math.max(0, w.depthBlock());
    const logs = w.chain.logs(0, deep).filter((l) => "depositId" in l && l.depositId === id);
    if (logs.some((l) => l.event === "Minted")) {
      w.stats.evmMinted++;
      if (logs.some((l) => l.event === "MintDelayed")) w.stats.evmDelayedExecuted++;
      if (this.reminted) return this.done("re-minted");
      this.step = "burn";
      return;
    }
    if (logs.some((l) => l.event === "MintCancelled")) {
      w.stats.evmFrozenByCancel++;
      // A notes user's refundable output is returned to its refund key (since 3e0d993, threat model
      // 12z): taken back into notes and withdrawn. (A 0x01 one is re-issued and, above the cap,
      // cancelled again by the same guardian: frozen, as for the other users.)
      if (this.notes !== undefined && this.job?.kind === "output" && this.refundable) {
        this.step = "abandon";
        return;
      }
      return this.done("delayed mint cancelled by a guardian: frozen (threat model 12z)");
    }
    const queued = logs.find((l) => l.event === "MintDelayed");
    if (queued === undefined || queued.event !== "MintDelayed") return;
    if (!this.delayCounted) {
      this.delayCounted = true;
      w.stats.evmDelayed++;
    }
    if (w.chain.head().timestamp < queued.executeAfter) return;
    const pendingTx = this.executeTx === undefined ? undefined : w.chain.receipt(this.executeTx);
    if (this.executeTx === undefined || (pendingTx !== undefined && pendingTx.error !== undefined))
      this.executeTx = w.chain.send(this.evm, { kind: "executeDelayed", depositId: id });
  }

  /** A receipt whose block is at the watchers' depth (undefined: not yet, or reorged out meanwhile). */
  private deepReceipt(hash: Hex32) {
    const r = this.world.chain.receipt(hash);
    return r !== undefined && r.block <= this.world.depthBlock() ? r : undefined;
  }

  /** Submits a federation transaction to a random honest guardian until it is accepted. */
  private follow(accepted: () => void, retry: Step): void {
    const w = this.world;
    const t = this.tx!;
    const g = this.rng.pick(w.host.honest);
    const status = w.app.status(g, t.txid);
    if (status?.state === "accepted") return accepted();
    if (status?.state === "rejected") {
      w.stats.evmUserRetries++;
      this.step = retry;
      return;
    }
    const answer = w.app.submit(g, t.tx);
    if (answer?.state === "rejected" || answer?.state === "refused") {
      w.stats.evmUserRetries++;
      this.step = retry;
    }
  }

  get result(): string {
    return this.outcome;
  }
}

export function messageOf(view: MintSignatureView): MintMessage {
  return {
    recipient: view.recipient as EvmAddress,
    amount: BigInt(view.amount),
    depositId: view.depositId as Hex32,
    deadline: BigInt(view.deadline),
    setIndex: view.setIndex,
  };
}
