// Deposit-funded mints refunded in Monero (the `--evm --monero` world; docs/bridge.md, output form
// 0x03, `bridge-mint --from-deposit TXID --tx-key K --refund-to MONERO-ADDRESS`): a user pays the
// federation an XMR deposit, claims it by proof and spends it (deposit input, no notes) into a "wXMR
// to <address>" output that names a refund key and a Monero refund address, the fee for a refundable
// output taken out of the deposit. It never uses the mint ("never"), or it races a late use against
// the refund ("late": it collects t signatures and sends the mint only when the chain's head is
// within a drawn window of the deadline: mined in time it is minted, else the contract refuses it,
// Expired). Past the deadline t guardians' "unused" votes pay the mint's value back in Monero to the
// refund address, less the payout fee, with no client involved (`paid_out`).
// Each user checks, from the god view of both chains: the refund is paid exactly once on the Monero
// chain (pool included), to its refund address, for the amount the guardians queued (amount + fee =
// the mint), within the withdrawal bound after the decision; a mint used on the chain is never paid
// back (and one paid back never minted: also bridge.ts afterBlock, at every block); and, while the
// refund is being paid, it tries the other refund, input 0x02 signed by its refund key, which must be
// rejected (`not_returnable`): paid back twice otherwise. Own streams (`evm-refund-users`, `evm-refund-user-<i>`).
import { buildTransaction, fromHex, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { coinOutput } from "@conclave/module-dummy";
import { encodeMintOutput, encodeRefundInput, evmAddressOfKey } from "@conclave/module-bridge";
import type { EvmAddress, Hex32, MintKey } from "@conclave/module-bridge";
import { depositInput } from "@conclave/module-monero";
import { NodeSigner, sha256 } from "../consensus.js";
import type { Rng } from "../rng.js";
import { simAddress } from "../chains/monero-chain.js";
import { BRIDGE_ID, DUMMY_ID, MONERO_ID, REFUNDABLE_MINT_FEE_SIM } from "./setup.js";
import type { BridgeWorld } from "./bridge.js";
import { messageOf } from "./bridge-users.js";

const STEP_MS = 300;

export interface RefundUserStats {
  /** Users who mint from an XMR deposit with a Monero refund address (output form 0x03). */
  evmRefundXmrUsers: number;
  /** Their 0x03 outputs accepted (funded by the deposit, the refundable fee taken out of it). */
  evmRefundXmrOutputs: number;
  /** Of them, users racing a late use of the mint against the refund (sent near its deadline). */
  evmRefundXmrLateSent: number;
  /** Mints decided `paid_out` (t unused votes), seen by their user. */
  evmRefundXmrPaidOut: number;
  /** Refunds confirmed on the Monero chain, checked: paid once, to the address, the amount. */
  evmRefundXmrConfirmed: number;
  /** Late uses that won: minted on the chain, decided minted, never paid back. */
  evmRefundXmrLateMinted: number;
  /** Late uses refused by the contract (Expired): the refund paid instead. */
  evmRefundXmrLateExpired: number;
  /** Mints the monero module would not pay (decided returnable to the refund key instead). */
  evmRefundXmrReturnable: number;
  /** After the refund in Monero, the refund key's input 0x02 tried and rejected (never refunded twice). */
  evmRefundXmrSecondRefused: number;
  /** Refund payouts still being made at the end, within their bound (the run's extension capped). */
  evmRefundXmrPendingAtEnd: number;
}

export function emptyRefundUserStats(): RefundUserStats {
  return {
    evmRefundXmrUsers: 0,
    evmRefundXmrOutputs: 0,
    evmRefundXmrLateSent: 0,
    evmRefundXmrPaidOut: 0,
    evmRefundXmrConfirmed: 0,
    evmRefundXmrLateMinted: 0,
    evmRefundXmrLateExpired: 0,
    evmRefundXmrReturnable: 0,
    evmRefundXmrSecondRefused: 0,
    evmRefundXmrPendingAtEnd: 0,
  };
}

type Step = "fund" | "xmr-claim" | "xmr-credit" | "funding" | "wait" | "paid-out" | "second-refund" | "done";

export class RefundUser {
  private readonly signer: NodeSigner;
  readonly evm: EvmAddress;
  /** Its own Monero address of the federation's network: the refund goes there. */
  readonly refundAddress: string;
  /** "late": races a use of the mint against the refund; "never": leaves it unused. */
  readonly kind: "never" | "late";
  /** "late": sends the mint once the head's timestamp is within this many seconds of the deadline. */
  private readonly lateWindow: bigint;
  /** The mint's amount (the deposit less the refundable output's fee). */
  private readonly amount: bigint;
  private step: Step = "fund";
  private deposit: { txid: string; txidBytes: Uint8Array; txKey: Uint8Array; amount: bigint } | undefined;
  private claiming = false;
  private tx: { tx: Transaction; txid: string } | undefined;
  /** The funding transactions built (a rejected one is built again while the deposit is spendable). */
  private readonly built: { tx: Transaction; txid: string }[] = [];
  private key: MintKey | undefined;
  private lateTx: Hex32 | undefined;
  private depositId: Hex32 | undefined;
  /** When the user first saw the mint decided paid_out (the refund's acceptance). */
  paidOutAt: number | undefined;
  private payout: { amount: bigint; fee: bigint } | undefined;
  private outcome = "";

  constructor(
    readonly id: number,
    private readonly world: BridgeWorld,
    private readonly rng: Rng,
    private readonly stats: RefundUserStats,
  ) {
    this.signer = new NodeSigner(rng.bytes(32));
    this.evm = evmAddressOfKey(rng.bytes(32));
    this.refundAddress = simAddress("mainnet", "standard", `evm-refund-user-${world.host.seed}-${id}`);
    this.kind = rng.chance(0.5) ? "late" : "never";
    // The head moves 12-14 s a block, and a user may see only every second block: from a few seconds
    // (mostly too late: Expired) to three blocks ahead (mostly in time: minted).
    this.lateWindow = BigInt(rng.range(5, 45));
    // A payout pays the value less a fee of 3,000 piconero and at least 500 (monero.ts `combined`).
    this.amount = BigInt(rng.range(4_000, 7_900));
  }

  get settled(): boolean {
    return this.step === "done";
  }

  /** A refund accepted (paid_out) whose payout is not confirmed yet: since when. */
  get payoutPendingSince(): number | undefined {
    return this.step === "paid-out" || this.step === "second-refund" ? this.paidOutAt : undefined;
  }

  /** Its EVM transactions (the late mint): a deep reorg touching one strands it. */
  evmTxs(): Hex32[] {
    return this.lateTx === undefined ? [] : [this.lateTx];
  }

  describe(): string {
    return `refund-in-Monero user ${this.id} at step ${this.step} (${this.kind}${this.kind === "late" ? `, window ${this.lateWindow} s` : ""}, ${this.amount})`;
  }

  get result(): string {
    return this.outcome;
  }

  start(): void {
    this.world.host.schedule(this.world.host.now() + this.rng.range(0, 1_000), () => this.tick());
  }

  private tick(): void {
    if (this.settled) return;
    const before = this.step;
    this.act();
    if (this.step !== before)
      this.world.host.note(`t=${this.world.host.now()} refund user ${this.id}: ${before} -> ${this.step}`);
    if (!this.settled) this.world.host.schedule(this.world.host.now() + STEP_MS, () => this.tick());
  }

  private done(outcome: string): void {
    this.outcome = outcome;
    this.step = "done";
    this.world.host.note(`evm refund user ${this.id} done: ${outcome}`);
  }

  private act(): void {
    switch (this.step) {
      case "fund":
      case "xmr-claim":
      case "xmr-credit":
        return this.fundByXmr();
      case "funding": {
        // One of the transactions built so far may have been accepted at a guardian that answered
        // later (another one refused it while behind, a rejection of an older one): whichever is.
        const g = this.rng.pick(this.world.host.honest);
        const won = this.built.find((b) => this.world.app.status(g, b.txid)?.state === "accepted");
        if (won !== undefined) this.tx = won;
        return this.follow(() => {
          this.key = { txid: fromHex(this.tx!.txid), index: 0 };
          this.depositId = this.world.depositIdOf(this.key);
          this.world.refundable.push(this.key);
          this.world.stats.evmMintOutputs++;
          this.stats.evmRefundXmrOutputs++;
          this.step = "wait";
        }, "xmr-credit");
      }
      case "wait":
        return this.waitDecision();
      case "paid-out":
        return this.paidOut();
      case "second-refund":
        return this.follow(
          () => {
            this.world.host.violation(
              `${this.describe()}: its mint was paid back in Monero and its refund key's input 0x02 was accepted too: refunded twice`,
            );
            this.done("refunded twice");
          },
          undefined,
          () => {
            this.stats.evmRefundXmrSecondRefused++;
            this.step = "paid-out";
          },
        );
      case "done":
        return;
    }
  }

  /** The deposit paid on the Monero chain, claimed by proof, then spent into the 0x03 output. */
  private fundByXmr(): void {
    const w = this.world;
    const xmr = w.xmr!;
    const value = this.amount + REFUNDABLE_MINT_FEE_SIM;
    if (this.step === "fund") {
      const paid = xmr.chain.payFederation(value);
      this.deposit = { txid: paid.txid, txidBytes: fromHex(paid.txid), txKey: paid.txKey, amount: value };
      this.step = "xmr-claim";
      return;
    }
    if (this.step === "xmr-claim") {
      if (this.claiming) return;
      this.claiming = true;
      void xmr
        .claimByProof(this.rng, this.deposit!, this.signer.publicKey, `evm-refund-user-${this.id}`)
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
    // Spent by one of its transactions (a guardian that refused it was behind): follow them.
    if (view.state === "spent" && this.built.length > 0) {
      this.step = "funding";
      return;
    }
    if (!view.spendable) return;
    const d = this.deposit!;
    // What bridgeMintFromDeposit writes with --refund-to: the deposit (no notes) into the 0x03 output,
    // the refundable output's fee the transaction's fee.
    const tx = buildTransaction(
      [depositInput(MONERO_ID, d.amount, d.txidBytes)],
      [
        {
          module: BRIDGE_ID,
          amount: this.amount,
          payload: encodeMintOutput(this.evm, this.signer.publicKey, this.refundAddress),
        },
      ],
      [this.signer],
      sha256,
      this.rng.bytes(32),
    );
    this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
    this.built.push(this.tx);
    this.step = "funding";
  }

  /** Until t guardians decide: a late use sent near the deadline; then paid_out, minted or returnable. */
  private waitDecision(): void {
    const w = this.world;
    const s = w.anyState(this.rng);
    if (s === undefined) return;
    const view = s.bridge.outputOutcome(s.db, this.key!);
    const state = view?.expiry?.state;
    if (state === "paid_out") {
      const p = view!.expiry!.payout;
      if (p === undefined) {
        w.host.violation(`${this.describe()}: decided paid_out with no payout in its view`);
        return this.done("paid_out without a payout");
      }
      this.payout = { amount: BigInt(p.amount), fee: BigInt(p.fee) };
      if (this.payout.amount + this.payout.fee !== this.amount)
        w.host.violation(
          `${this.describe()}: its refund pays ${this.payout.amount} + fee ${this.payout.fee}, the mint was ${this.amount}`,
        );
      this.paidOutAt = w.host.now();
      this.stats.evmRefundXmrPaidOut++;
      if (this.lateTx !== undefined) this.stats.evmRefundXmrLateExpired++;
      return this.secondRefund();
    }
    if (state === "minted") {
      if (this.lateTx !== undefined) this.stats.evmRefundXmrLateMinted++;
      else w.stats.evmFrontRun++;
      return this.done(
        this.lateTx !== undefined ? "its late use won: minted, not refunded" : "front-run: minted by another",
      );
    }
    if (state === "returnable" || state === "refunded") {
      this.stats.evmRefundXmrReturnable++;
      return this.done(`decided ${state} (the refund in Monero refused)`);
    }
    if (this.kind !== "late" || this.lateTx !== undefined || view?.signature === undefined) return;
    // The late use: t honest guardians' signatures, sent when the head is near the deadline.
    const message = messageOf(view);
    const head = w.chain.head().timestamp;
    if (head > message.deadline || head + this.lateWindow < message.deadline) return;
    const signatures = new Map<string, `0x${string}`>();
    for (const g of w.host.honest) {
      const at = w.app.bridgeAt(g);
      if (at === undefined) continue;
      const sig = at.bridge.outputOutcome(
        at.processor.moduleReadDb(w.host.disk(g).state, BRIDGE_ID),
        this.key!,
      )?.signature;
      if (sig !== undefined) signatures.set(w.config.guardians[g]!, sig as `0x${string}`);
    }
    if (signatures.size < w.config.threshold) return;
    const sorted = [...signatures.entries()]
      .sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .slice(0, w.config.threshold)
      .map(([, sig]) => sig);
    this.lateTx = w.chain.send(this.evm, { kind: "mint", mint: message, signatures: sorted });
    w.host.note(
      `evm refund user ${this.id}: its late use sent at head timestamp ${head}, deadline ${message.deadline} (window ${this.lateWindow} s)`,
    );
    this.stats.evmRefundXmrLateSent++;
  }

  /** The refund's payout confirmed: paid once, to the refund address, the amount; within the bound. */
  private paidOut(): void {
    const w = this.world;
    const s = w.anyState(this.rng);
    if (s === undefined) return;
    const p = s.bridge.outputOutcome(s.db, this.key!)?.expiry?.payout;
    if (p?.state !== "confirmed") return;
    w.xmr!.paidInTime(this.describe(), this.paidOutAt!);
    const chain = w.xmr!.chain;
    const all = chain.paymentsTo(this.refundAddress, undefined, { pool: true });
    const exact = chain.paymentsTo(this.refundAddress, this.payout!.amount, { pool: true });
    if (all.length !== 1 || exact.length !== 1)
      w.host.violation(
        `${this.describe()}: its refund address received ${all.length} payment(s) (${exact.length} of the refund's ${this.payout!.amount}); the refund must be paid exactly once`,
      );
    if (this.minted())
      w.host.violation(`${this.describe()}: its mint is minted on the chain and was paid back in Monero`);
    this.stats.evmRefundXmrConfirmed++;
    this.done("refunded in Monero, paid once; the second refund (input 0x02) rejected");
  }

  /** The other refund, to the refund key, while the one in Monero is being paid: must be refused. */
  private secondRefund(): void {
    const tx = buildTransaction(
      [{ module: BRIDGE_ID, amount: this.amount, payload: encodeRefundInput(this.key!) }],
      [coinOutput(DUMMY_ID, this.amount, this.signer.publicKey)],
      [this.signer],
      sha256,
      this.rng.bytes(32),
    );
    this.tx = { tx, txid: toHex(transactionId(tx, sha256)) };
    this.step = "second-refund";
  }

  /** A Minted log of its deposit id on the canonical chain. */
  minted(): boolean {
    const id = this.depositId;
    return (
      id !== undefined && this.world.chain.logs().some((l) => l.event === "Minted" && l.depositId === id)
    );
  }

  /** At the end: a user whose mint was minted never had its refund address paid. */
  finish(): void {
    if (this.depositId === undefined || !this.minted()) return;
    const paid = this.world.xmr!.chain.paymentsTo(this.refundAddress, undefined, { pool: true });
    if (paid.length > 0)
      this.world.host.violation(
        `${this.describe()}: its mint is minted on the chain and its refund address was paid ${paid.length} time(s)`,
      );
  }

  /**
   * Submits the user's transaction to a random honest guardian until it is accepted; rejected:
   * `retry` (a new transaction from that step) or `rejected`.
   */
  private follow(accepted: () => void, retry: Step | undefined, rejected?: () => void): void {
    const w = this.world;
    const t = this.tx!;
    const g = this.rng.pick(w.host.honest);
    const status = w.app.status(g, t.txid);
    if (status?.state === "accepted") return accepted();
    if (status?.state === "rejected") {
      if (rejected !== undefined) return rejected();
      w.stats.evmUserRetries++;
      if (retry !== undefined) this.step = retry;
      return;
    }
    const answer = w.app.submit(g, t.tx);
    // Refused by a guardian's checks: its state may be behind (the deposit not yet spendable there,
    // or already spent by this very transaction at the others); the same transaction again later.
    if (answer?.state === "rejected" || (answer?.state === "refused" && rejected !== undefined)) {
      if (rejected !== undefined) return rejected();
      w.stats.evmUserRetries++;
      if (retry !== undefined) this.step = retry;
    }
  }
}
