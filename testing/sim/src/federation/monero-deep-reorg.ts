// Reorgs of the simulated Monero chain deeper than the confirmation depth (issue 11: "reorgs below
// and above the confirmation depth"), the world `--monero-deep-reorg` (monero.ts `deepReorg`; its
// own random stream, so the other worlds' seeds do not move). Two kinds, each at most once per seed:
//   - a deposit the guardians credited at depth is taken away: the fork double-spends it back to
//     the depositor (MoneroChain.reorg's `drop`), picked among credited deposits whose outputs
//     nothing spends yet (mined or pooled);
//   - a mined federation transaction (a payout) is taken out of the chain: its inputs are unspent
//     again, and the node re-mines it from its pool as monerod does once its inputs are unlocked.
// What the product promises (docs/monero.md): a credit is not undone ("Reorgs deeper than
// `confirmations` after t guardians attested are not undone"), and agreed reserves `short` pause
// new payouts and deposit spends (reserves-agreement.ts). So the checkers expect the deposit
// "credited but not in the canonical chain" and the shortfall it makes, and check instead that
// the guardians agree the reserves are short, that no payout is accepted while they do, and that
// a removed payout is mined again exactly once (paid once, not lost).
import { SPENDABLE_AGE_BLOCKS } from "../chains/monero-chain.js";
import type { MoneroChain, SimTransaction } from "../chains/monero-chain.js";
import type { Rng } from "../rng.js";

/** What the deep reorgs did and what the checkers saw of them. */
export interface DeepReorgStats {
  xmrDeepReorgs: number;
  /** Credited deposits a deep reorg took away (double-spent by the depositor on the fork). */
  xmrDeepDepositsDropped: number;
  /** Federation transactions (payouts) a deep reorg took out of the chain. */
  xmrDeepPayoutsRemoved: number;
  /** Of those, mined again by the end of the run. */
  xmrDeepPayoutsRemined: number;
  /** Checks (guardian, block) at which the agreed reserves were `short`. */
  xmrReservesShortChecks: number;
  /** 1 when every honest guardian that runs agrees the reserves are short at the end. */
  xmrReservesShortAtEnd: number;
  /** Users whose deposit spend was refused until the end because the reserves are short (paused). */
  xmrPausedUsers: number;
  /**
   * Users whose claim was still open at the end, its honest verdicts split by a deep reorg that
   * moved the deposit's block after fewer than t guardians attested (docs/monero.md: the claim
   * expires, claimExpiryBlocks, and is claimed again; not a liveness violation).
   */
  xmrDeepClaimsSplit: number;
  /**
   * `--monero-deep-reorg-detach`: deep reorgs that only detached a payout's input's source (back in
   * the pool, its inputs unspent, censored by the miner) while the payout was in flight.
   */
  xmrDeepDetaches: number;
  /** Of those sources, released by the miner (mined again). */
  xmrDeepReleases: number;
  /** Gone votes of honest guardians seen in consensus (distinct batch, attempt, guardian; detach world). */
  xmrHonestGoneVotes: number;
  /** Gone votes a Byzantine guardian sent as the t-th (detach world). */
  xmrByzHelpingGone: number;
  /** Final sets of attempts the federation left that a Byzantine guardian broadcast late (sent; taken or not). */
  xmrByzLateFinalSets: number;
}

export function emptyDeepReorgStats(): DeepReorgStats {
  return {
    xmrDeepReorgs: 0,
    xmrDeepDepositsDropped: 0,
    xmrDeepPayoutsRemoved: 0,
    xmrDeepPayoutsRemined: 0,
    xmrReservesShortChecks: 0,
    xmrReservesShortAtEnd: 0,
    xmrPausedUsers: 0,
    xmrDeepClaimsSplit: 0,
    xmrDeepDetaches: 0,
    xmrDeepReleases: 0,
    xmrHonestGoneVotes: 0,
    xmrByzHelpingGone: 0,
    xmrByzLateFinalSets: 0,
  };
}

/** The deposits (by proof, index 0) consensus credited, as the first honest guardian that runs sees them. */
export type CreditedDeposits = () => readonly { txid: string; amount: bigint }[] | undefined;

/** Draws and makes the deep reorgs of one seed, and remembers what they took away. */
export class DeepReorgs {
  readonly stats = emptyDeepReorgStats();
  /** Credited deposits taken away: txid -> the amount consensus credited. */
  readonly dropped = new Map<string, bigint>();
  /** Federation txids a deep reorg took out of the chain. */
  readonly removed = new Set<string>();
  /** Every transaction a deep reorg took out of its block: txid -> the heights it was mined at before. */
  private readonly movedFrom = new Map<string, Set<number>>();
  private running = false;
  /** `detach`: the source detached and censored, and when the miner releases it (simulated ms). */
  detached: { readonly source: string; readonly payout: string; readonly releaseAt: number } | undefined;

  constructor(
    private readonly chain: MoneroChain,
    private readonly confirmations: number,
    private readonly schedule: (delayMs: number, fn: () => void) => void,
    private readonly rng: Rng,
    private readonly credited: CreditedDeposits,
    /** Told the txid of each credited deposit taken away (its depositor may try to withdraw it). */
    private readonly onDropped: (txid: string) => void = () => {},
    /**
     * "unspent": the deposit taken is one whose outputs nothing spends (up to 40 blocks deep);
     * "spent": one whose output a mined federation transaction (a payout) spent (up to 400 blocks
     * deep), so that payout's input vanishes with it (`--monero-deep-reorg-spent`: the finding in
     * docs/simulator.md).
     */
    private readonly target: "unspent" | "spent" | "detach" | "signing" = "unspent",
    private readonly now: () => number = () => 0,
    private readonly note: (line: string) => void = () => {},
    /** `detach`: the guardians whose first submission may be the one caught by the reorg (the honest). */
    private readonly honest: (g: number) => boolean = () => true,
    /**
     * "signing": the key images the batch in flight names while it is signed with no txid agreed
     * (`--monero-deep-reorg-signing`): the deposit taken is one of whose outputs that set spends, so
     * an input of a transaction still being signed vanishes (every later attempt is bound to it).
     */
    private readonly namedInFlight: () => ReadonlySet<string> = () => new Set(),
  ) {}

  start(): void {
    this.running = true;
    if (this.target === "detach") {
      // After a quiet start, at a payout's first submission (its txid not agreed yet: one node has it).
      const from = this.now() + this.rng.range(2_000, 6_000);
      this.chain.onSubmitted = (tx, guardian) => {
        if (this.running && this.detached === undefined && this.now() >= from) this.detach(tx, guardian);
      };
      return;
    }
    if (this.target === "signing") {
      // The window is a few signing rounds: looked for every 250 ms, no payout removed.
      this.schedule(this.rng.range(2_000, 6_000), () => this.stepSigning());
      return;
    }
    this.schedule(this.rng.range(2_000, 6_000), () => this.step());
  }

  /**
   * `--monero-deep-reorg-detach`: a payout just taken into the pool by one guardian's node (the first
   * to submit its final set), one of whose inputs comes from a deposit mined deeper than the
   * confirmation depth (up to 400 blocks): a fork that leaves the deposit out (not double-spent: it
   * goes back to the pool, its own inputs unspent) takes the deposit's block away, and the miner
   * censors the deposit for 10-30 s, then releases it. The payout waits in the submitter's pool
   * alone (every other node refuses it: its input is no output of the chain) and is mined once the
   * deposit is mined again and unlocked. Each later transaction the fork took out is mined again.
   */
  private detach(tx: SimTransaction, guardian: number | undefined): void {
    if (!tx.fromFederation || guardian === undefined || !this.honest(guardian)) return;
    const sources = [...new Set(tx.keyImages.map((k) => this.chain.sourceOf(k)))].filter((s): s is string => {
      if (s === undefined) return false;
      const src = this.chain.transaction(s);
      const h = this.chain.minedHeight(s);
      if (src === undefined || src.fromFederation || h === undefined) return false;
      const depth = this.depthFor(h);
      if (depth <= this.confirmations || depth > 400) return false;
      // Nothing but this payout spends its outputs (a mined spender would go with it).
      return src.outputs.every((o) => {
        const by = this.chain.spenderOf(o.keyImage);
        return by === undefined || by === tx.txid;
      });
    });
    if (sources.length === 0 || !this.rng.chance(0.7)) return;
    const source = this.rng.pick(sources);
    const h = this.chain.minedHeight(source)!;
    const before = this.chain.federationTxsFrom(h).map((t) => t.txid);
    const depth = this.depthFor(h);
    this.noteMoved(depth);
    const releaseAt = this.now() + this.rng.range(10_000, 30_000);
    this.detached = { source, payout: tx.txid, releaseAt };
    this.chain.reorg(depth, { censor: [source], onlyAt: [[tx.txid, guardian]] });
    this.stats.xmrDeepReorgs++;
    this.stats.xmrDeepDetaches++;
    for (const txid of before) {
      this.removed.add(txid);
      this.stats.xmrDeepPayoutsRemoved++;
    }
    this.note(
      `xmr deep reorg ${depth}: deposit ${source.slice(0, 8)} detached and censored until ${releaseAt} ms; payout ${tx.txid.slice(0, 8)} only in guardian ${guardian}'s pool`,
    );
    this.schedule(releaseAt - this.now(), () => {
      this.note(`xmr deep reorg: deposit ${source.slice(0, 8)} released`);
      this.chain.release(source);
      this.stats.xmrDeepReleases++;
    });
  }

  /**
   * `detach`: the detached source while it is out of the chain (censored, or not yet mined again)
   * and what it pays the federation: a shortfall and a credited deposit not in the chain the
   * federation cannot prevent for that while, as for a deposit a fork double-spent.
   */
  detachedOut(): { readonly txid: string; readonly amount: bigint } | undefined {
    const d = this.detached;
    if (d === undefined || this.chain.minedHeight(d.source) !== undefined) return undefined;
    const amount = (this.chain.transaction(d.source)?.outputs ?? [])
      .filter((o) => o.owner.kind === "federation")
      .reduce((a, o) => a + o.amount, 0n);
    return { txid: d.source, amount };
  }

  /**
   * `detach`: whether the run may end: the source released, mined again, and far enough below the
   * tip that a completion kept anywhere (a pool, a Byzantine guardian) had time to be mined.
   */
  detachSettled(): boolean {
    const d = this.detached;
    if (d === undefined || this.chain.isCensored(d.source)) return false;
    const h = this.chain.minedHeight(d.source);
    return h !== undefined && this.chain.height() >= h + SPENDABLE_AGE_BLOCKS + 2 * this.confirmations;
  }

  private stepSigning(): void {
    if (!this.running || this.stats.xmrDeepDepositsDropped > 0) return;
    this.schedule(250, () => this.stepSigning());
    this.dropDeposit();
  }

  stop(): void {
    this.running = false;
  }

  private step(): void {
    if (!this.running) return;
    const depositDone = this.stats.xmrDeepDepositsDropped > 0;
    const payoutDone = this.stats.xmrDeepPayoutsRemoved > 0;
    if (depositDone && payoutDone) return;
    this.schedule(1_000, () => this.step());
    if (!payoutDone && this.rng.chance(0.3) && this.removePayout()) return;
    if (!depositDone && this.rng.chance(0.3)) this.dropDeposit();
  }

  /** Depth of a reorg that takes the block at `height` away: more than the confirmations. */
  private depthFor(height: number): number {
    return this.chain.height() - height;
  }

  /** The newest federation transaction mined deeper than the confirmation depth, taken out. */
  private removePayout(): boolean {
    const deep = this.chain
      .federationTxsFrom(0)
      .filter((t) => this.depthFor(t.height) > this.confirmations && this.depthFor(t.height) <= 40);
    const target = deep.at(-1);
    if (target === undefined) return false;
    const depth = this.depthFor(target.height);
    const before = this.chain.federationTxsFrom(target.height).map((t) => t.txid);
    this.noteMoved(depth);
    this.chain.reorg(depth);
    this.stats.xmrDeepReorgs++;
    for (const txid of before) {
      this.removed.add(txid);
      this.stats.xmrDeepPayoutsRemoved++;
    }
    return true;
  }

  /** A credited deposit mined deeper than the confirmation depth, whose outputs nothing spends: double-spent on a fork. */
  private dropDeposit(): void {
    const credited = this.credited();
    if (credited === undefined) return;
    const named = this.target === "signing" ? this.namedInFlight() : new Set<string>();
    if (this.target === "signing" && named.size === 0) return;
    const candidates = credited.filter((d) => {
      if (this.dropped.has(d.txid)) return false;
      const h = this.chain.minedHeight(d.txid);
      const deepest = this.target === "unspent" ? 40 : 400;
      if (h === undefined || this.depthFor(h) <= this.confirmations || this.depthFor(h) > deepest)
        return false;
      const tx = this.chain.transaction(d.txid);
      if (tx === undefined || tx.fromFederation) return false;
      if (this.target === "signing")
        return tx.outputs.some((o) => {
          if (o.owner.kind !== "federation" || !named.has(o.keyImage)) return false;
          const by = this.chain.spenderOf(o.keyImage);
          return by === undefined || this.chain.minedHeight(by) === undefined;
        });
      if (this.target === "spent")
        return tx.outputs.some((o) => {
          const by = o.owner.kind === "federation" ? this.chain.spenderOf(o.keyImage) : undefined;
          return by !== undefined && this.chain.minedHeight(by) !== undefined;
        });
      return tx.outputs.every(
        (o) => o.owner.kind !== "federation" || this.chain.spenderOf(o.keyImage) === undefined,
      );
    });
    if (candidates.length === 0) return;
    const d = this.rng.pick(candidates);
    const h = this.chain.minedHeight(d.txid)!;
    const federationBefore = this.chain.federationTxsFrom(h).map((t) => t.txid);
    this.noteMoved(this.depthFor(h));
    this.chain.reorg(this.depthFor(h), { drop: [d.txid] });
    this.stats.xmrDeepReorgs++;
    this.dropped.set(d.txid, d.amount);
    this.stats.xmrDeepDepositsDropped++;
    this.onDropped(d.txid);
    for (const txid of federationBefore) {
      this.removed.add(txid);
      this.stats.xmrDeepPayoutsRemoved++;
    }
  }

  /** Remembers where the top `depth` blocks' transactions were before a reorg of that depth. */
  private noteMoved(depth: number): void {
    const count = this.chain.height();
    for (let h = count - depth; h < count; h++)
      for (const txid of this.chain.block(h)?.txids ?? []) {
        const heights = this.movedFrom.get(txid) ?? new Set<number>();
        heights.add(h);
        this.movedFrom.set(txid, heights);
      }
  }

  /** Whether a deep reorg took `txid` out of the block at `height` (it was mined there before). */
  wasMovedFrom(txid: string, height: number): boolean {
    return this.movedFrom.get(txid)?.has(height) === true;
  }

  /** Whether a "not mined" payout finding is the removed transaction still waiting in the pool. */
  remining(txid: string): boolean {
    return this.removed.has(txid) && this.chain.where(txid).where === "pool";
  }

  /** Whether a "not mined" payout finding is a removed transaction that can never be mined (a re-opened batch pays it again). */
  unmineable(txid: string): boolean {
    return this.removed.has(txid) && this.chain.unmineable(txid);
  }

  /** At the end: how many removed federation transactions are mined again. */
  finish(): void {
    this.stop();
    this.stats.xmrDeepPayoutsRemined = [...this.removed].filter(
      (t) => this.chain.minedHeight(t) !== undefined,
    ).length;
  }
}
