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
import { depositInput } from "@conclave/module-monero";
import {
  BRIDGE_ID,
  DUMMY_FEE_PER_INPUT,
  DUMMY_ID,
  FAUCET_AMOUNT_MAX,
  MONERO_ID,
  REFUNDABLE_MINT_FEE_SIM,
} from "./setup.js";
import type { BridgeWorld } from "./bridge.js";

const USER_STEP_MS = 700;

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
  | "done";

export class BridgeUser {
  private readonly signer: NodeSigner;
  readonly evm: EvmAddress;
  private step: Step = "fund";
  private readonly refundable: boolean;
  private readonly submits: boolean;
  private readonly amount: bigint;
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
  /** The confirmed Monero payout of this user's burn: txid and tx key, which it tries to claim. */
  private paid: { txid: string; txKey: string } | undefined;

  constructor(
    readonly id: number,
    private readonly world: BridgeWorld,
    private readonly rng: Rng,
  ) {
    this.signer = new NodeSigner(rng.bytes(32));
    this.evm = evmAddressOfKey(rng.bytes(32));
    this.refundable = rng.chance(0.8);
    this.submits = !this.refundable || !rng.chance(0.35);
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
    return this.step === "done";
  }

  /** The EVM transactions this user sent (its mint, its delayed mint's execution, its burn). */
  evmTxs(): Hex32[] {
    return [this.mintTx?.hash, this.executeTx, this.burnTx].filter((h): h is Hex32 => h !== undefined);
  }

  describe(): string {
    return `bridge user ${this.id} at step ${this.step} (${this.refundable ? "refundable" : "plain"}, ${this.submits ? "submits" : "abandons"}, ${this.amount})`;
  }

  start(): void {
    this.world.host.schedule(this.world.host.now() + this.rng.range(0, 1_000), () => this.tick());
  }

  private tick(): void {
    if (this.step === "done") return;
    this.act();
    if (!this.settled) this.world.host.schedule(this.world.host.now() + USER_STEP_MS, () => this.tick());
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
  private funded(): void {
    const w = this.world;
    const key = { txid: fromHex(this.tx!.txid), index: 0 };
    this.job = { kind: "output", key };
    if (this.refundable) w.refundable.push(key);
    w.stats.evmMintOutputs++;
    if (w.xmr !== undefined) w.stats.evmXmrFunded++;
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
        } else if (view.settlement === "payout" && w.xmr !== undefined) this.step = "payout";
        else this.done(`burn settled as ${view.settlement ?? "?"}`);
        return;
      }
      case "payout": {
        // Paid from the multisig wallet: wait until t guardians confirm it (the withdrawal bound).
        const s = w.anyState(this.rng);
        if (s === undefined) return;
        const payout = s.bridge.burnView(s.db, this.burn!).payout;
        if (payout?.state !== "confirmed" || payout.moneroTxid === undefined || payout.txKey === undefined)
          return;
        w.stats.evmBurnsPaidXmr++;
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
      case "done":
        return;
    }
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
    const value = this.amount + (this.refundable ? REFUNDABLE_MINT_FEE_SIM : 0n);
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

function messageOf(view: MintSignatureView): MintMessage {
  return {
    recipient: view.recipient as EvmAddress,
    amount: BigInt(view.amount),
    depositId: view.depositId as Hex32,
    deadline: BigInt(view.deadline),
    setIndex: view.setIndex,
  };
}
