// Server half of the EVM bridge module (issue 13).
//
// Deterministic part (a function of the ordered history alone):
//   Output "wXMR to <address>"  accepted like any output when the agreed EVM time is known: the
//                  mint record (recipient, amount, deadline = agreed EVM time + mintDeadlineSeconds,
//                  set index) is consensus state; each guardian's signature of its EIP-712 Mint is
//                  computed from it when asked (outputOutcome, GET mints/:txid/:index), like the
//                  mint's blind shares: deterministic (RFC 6979), and no secret enters the state.
//   scanned{block, timestamp}  guardian g's report that it voted every burn up to `block` (monotonic).
//                  It is g's persisted last-scanned block, and the agreed EVM block and time are
//                  position 2f of every guardian's report (f liars move them past no honest one).
//   burn{…}        guardian g's vote for a Burned log it saw at its confirmation depth, keyed by
//                  (tx hash, log index); one vote per guardian per key (a duplicate counts once, a
//                  different second vote is refused). t equal votes accept the burn: f Byzantine
//                  guardians voting a burn that never happened never reach t.
//   accepted burn  kind 0 to a valid Monero address of the federation's network: handed over, in the
//                  same state transition, to the monero module's payout queue (core ModuleLinks): the
//                  Monero fee at the agreed rate is deducted from the burned amount, the rest is paid,
//                  and the liability leaves this module as it enters the monero module's paid-out sum;
//                  a payout the monero module refuses (below its minimum once the fee is deducted, no
//                  agreed fee rate, reserves short, an address it does not pay) is re-minted; kind 1
//                  (claim key, an Ed25519 public key): claimable, an input of this module signed by
//                  that key; anything else (a bad address, a claim key that is not a point): a
//                  re-mint to the burner's EVM address.
//   expiry{txid, index, used}  guardian g's vote on a refundable (0x02) mint whose deadline is below
//                  the agreed EVM time: at g's depth block, whose timestamp is past the deadline, the
//                  contract's depositStatus(depositId) is minted, or queued past the time a guardian
//                  may cancel it (`used`), or unused or cancelled (not `used`; watcher.ts). One vote
//                  per guardian per mint (each guardian's queue of mints to vote on, by deadline,
//                  bounds its work); t equal votes
//                  decide: unused -> returnable (input 0x02 signed by the output's refund key is worth
//                  the amount, once), used -> minted. f liars reach t neither way.
//                  A mint without refund key (a 0x01 output, or the re-mint of a burn) is voted the
//                  same way, attempt by attempt: t "unused" re-issue it (attempt + 1: a fresh deadline,
//                  a deposit id derived from the first and the attempt, the current set index; the
//                  value stays in Σ signed, owed once), t "used" decide it minted. A re-issue's window
//                  doubles per attempt up to REISSUE_DEADLINE_SECONDS_MAX, so one mint costs at most
//                  one vote round per window.
// Background part: the BurnWatcher reads this guardian's own EVM node.
//
// Audit: assets 0 (the reserve is the monero module's), liabilities = Σ signed mints − Σ accepted
// burns + Σ accepted burns still owed (claimable; a burn handed to a payout is owed no more here)
// + Σ returned mints not yet refunded. A signed mint counts in Σ signed until the burn of its tokens
// is accepted, submitted or not, or until t guardians see it expired unminted: then it moves from
// Σ signed to Σ returnable, and leaves when its refund input is spent (into notes, the mint's).
import { InvalidRequestError, NotFoundError, fromHex, toHex } from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { fail, ok } from "@conclave/core-server";
import type {
  Audit,
  InputMeta,
  ModuleApiEndpoint,
  ModuleContext,
  ModuleLinks,
  ModuleResult,
  OutPoint,
  OutputMeta,
  ReadTx,
  ServerModule,
  WriteTx,
} from "@conclave/core-server";
import { parseAddress } from "@conclave/monero";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "viem";
import {
  BRIDGE_KIND,
  BURN_TO_CLAIM,
  BURN_TO_MONERO,
  agreedReport,
  decodeBridgeInput,
  decodeBridgeItem,
  decodeMintOutput,
  encodeBridgeItem,
  sameBurn,
  sortedSigners,
} from "./common.js";
import type { BridgeConfig, BridgeItem, BurnKey, BurnSeen, ExpirySeen, Hex32, MintKey } from "./common.js";
import {
  BurnParamsSchema,
  BurnViewSchema,
  ChainViewSchema,
  MintParamsSchema,
  MintSignatureSchema,
  SupplyViewSchema,
  REFUND_KEY_PAGES_MAX,
  REFUND_KEY_PAGE_ENTRIES,
  RefundKeyMintsSchema,
  RefundKeyPageParamsSchema,
  RefundKeyParamsSchema,
} from "./api.js";
import type {
  BurnPayoutView,
  BurnView,
  ChainView,
  MintExpiryView,
  MintReissueView,
  MintSignatureView,
  SupplyView,
  RefundKeyMintsView,
} from "./api.js";
import {
  burnPayoutRef,
  mintRefundPayoutRef,
  evmAddressOfKey,
  outputDepositId,
  reissueDepositId,
  remintDepositId,
  signMint,
} from "./eip712-mint.js";
import { checkChain } from "./chain-check.js";
import { BridgeState, BridgeStateWriter, QUEUE_BACKFILL_VERSION, REFUND_KEY_ENTRIES_MAX } from "./state.js";
import type { AcceptedBurn, MintRecord, MintRef, Reissue } from "./state.js";
import { BurnWatcher, EXPIRY_CHECKS_PER_POLL_MAX } from "./watcher.js";
import { BridgeWatches } from "./watch.js";
import { MintLogIndex, indexBurnByAddress, indexOutputDeposit, indexRemintDeposit } from "./lookup-index.js";
import type { MintLogSource } from "./lookup-index.js";
import { lookupEndpoints } from "./lookup.js";
import type { EvmSource } from "./watcher.js";

/** Items in one proposal. */
export const ITEMS_PER_PROPOSAL_MAX = 128;

/** A re-issue's window (deadline − agreed time) doubles per attempt up to this (30 days), or mintDeadlineSeconds if longer. */
export const REISSUE_DEADLINE_SECONDS_MAX = 30 * 86_400;

/** How long attempt `attempt` of a re-issuable mint stays valid: mintDeadlineSeconds × 2^attempt, bounded. */
export function reissueWindowSeconds(mintDeadlineSeconds: number, attempt: number): bigint {
  const cap = BigInt(Math.max(REISSUE_DEADLINE_SECONDS_MAX, mintDeadlineSeconds));
  const window = BigInt(mintDeadlineSeconds) << BigInt(Math.min(attempt, 40));
  return window < cap ? window : cap;
}

/** This guardian's own EVM side: its signing key and its node (guardian.local.json). */
export interface BridgeBackground {
  readonly evmKey: Uint8Array;
  readonly source?: EvmSource;
  readonly pollMs: number;
  readonly blocksPerPollMax?: bigint;
  /** False: the watcher does not poll by itself (tests call burnWatcher.poll()). Default true. */
  readonly autoPoll?: boolean;
  /** This guardian's node for the look-up index of mint logs (lookup-index.ts); none: no such index. */
  readonly mintLogs?: MintLogSource;
}

const keyOf = (b: { txHash: Uint8Array; logIndex: number }): BurnKey => ({
  txHash: b.txHash,
  logIndex: b.logIndex,
});

export class BridgeServerModule implements ServerModule {
  readonly kind = BRIDGE_KIND;
  readonly testOnly = false;
  readonly api: readonly ModuleApiEndpoint[];
  private readonly n: number;
  private context: ModuleContext | undefined;
  private links: ModuleLinks = {};
  private watcher: BurnWatcher | undefined;
  /** Mint logs by recipient for GET lookup/address (lookup-index.ts). */
  private mintLogIndex: MintLogIndex | undefined;
  /** wxmr-mint and wxmr-burn watches (watch.ts), re-read after every committed block. */
  readonly watchable: BridgeWatches;
  /** Set once checkBooks found more wXMR on chain than the federation signed: nothing is signed after. */
  private booksBroken: string | undefined;

  constructor(
    readonly instanceId: number,
    readonly config: BridgeConfig,
    private readonly background?: BridgeBackground,
  ) {
    this.n = config.guardians.length;
    this.watchable = new BridgeWatches({
      mint: (db, key) => this.mintView(db, key, false),
      burn: (db, key) => this.burnView(db, key, false),
    });
    this.api = [
      {
        method: "GET",
        path: "mints/:txid/:index",
        params: MintParamsSchema,
        response: MintSignatureSchema,
        summary:
          "An accepted wXMR mint output: the EIP-712 Mint (recipient, amount, depositId, deadline, setIndex) and this guardian's signature; collect t, check each signer, sort by signer, call mint",
        handle: ({ params, db }): MintSignatureView => {
          const p = MintParamsSchema.safeParse(params);
          if (!p.success)
            throw new InvalidRequestError("a mint is named by a federation txid and an output index");
          const outPoint = { txid: fromHex(p.data.txid), index: Number(p.data.index) };
          const view = this.outputOutcome(db, outPoint);
          if (!view) throw new NotFoundError(`no wXMR mint at output ${outPoint.index} of ${p.data.txid}`);
          return view;
        },
      },
      {
        method: "GET",
        path: "burns/:txHash/:logIndex",
        params: BurnParamsSchema,
        response: BurnViewSchema,
        summary:
          "A burn (EVM tx hash, log index): the guardians' votes and, once t agree, what it became (payout_pending, claimable, claimed, or reminted with this guardian's signature of the re-mint)",
        handle: ({ params, db }): BurnView => {
          const p = BurnParamsSchema.safeParse(params);
          if (!p.success)
            throw new InvalidRequestError("a burn is named by its EVM tx hash (0x, 64 hex) and log index");
          return this.burnView(db, {
            txHash: fromHex(p.data.txHash.slice(2).toLowerCase()),
            logIndex: Number(p.data.logIndex),
          });
        },
      },
      {
        method: "GET",
        path: "refunds/:refundKey",
        params: RefundKeyParamsSchema,
        response: RefundKeyMintsSchema,
        summary: `The refundable (0x02) wXMR mint outputs naming this refund key (Ed25519, hex): page 0 of refunds/:refundKey/page/:page (${REFUND_KEY_PAGE_ENTRIES} a page, in acceptance order)`,
        handle: ({ params, db }): RefundKeyMintsView => {
          const p = RefundKeyParamsSchema.safeParse(params);
          if (!p.success) throw new InvalidRequestError("a refund key is 64 lowercase hex characters");
          return refundKeyPage(db, p.data.refundKey, 0);
        },
      },
      {
        method: "GET",
        path: "refunds/:refundKey/page/:page",
        params: RefundKeyPageParamsSchema,
        response: RefundKeyMintsSchema,
        summary: `Page N of the refundable (0x02) wXMR mint outputs naming this refund key: entries N × ${REFUND_KEY_PAGE_ENTRIES} on, in the order the federation accepted them (a full page never changes; at most ${REFUND_KEY_PAGES_MAX} pages). A wallet restored from its recovery phrase walks them with t equal answers a page`,
        handle: ({ params, db }): RefundKeyMintsView => {
          const p = RefundKeyPageParamsSchema.safeParse(params);
          if (!p.success)
            throw new InvalidRequestError("a refund key is 64 lowercase hex characters, a page a number");
          const page = Number(p.data.page);
          if (page >= REFUND_KEY_PAGES_MAX)
            throw new InvalidRequestError(
              `a refund key lists at most ${REFUND_KEY_PAGES_MAX} pages (0 to ${REFUND_KEY_PAGES_MAX - 1}): outputs past them are refused`,
            );
          return refundKeyPage(db, p.data.refundKey, page);
        },
      },
      {
        method: "GET",
        path: "chain",
        response: ChainViewSchema,
        summary: "Each guardian's scanned EVM block and timestamp, and the agreed ones",
        handle: ({ db }): ChainView => this.chainView(db),
      },
      {
        method: "GET",
        path: "supply",
        response: SupplyViewSchema,
        summary:
          "What the bridge owes (Σ signed, burned, owed burns, returnable mints) beside the wXMR totalSupply this guardian's node reads at its depth block; unsubmitted = signed − burned − supply",
        handle: ({ db }): SupplyView => this.supplyView(db),
      },
      ...lookupEndpoints({
        mintView: (db, key, sign) => this.mintView(db, key, sign),
        burnView: (db, key, sign) => this.burnView(db, key, sign),
        mintLogs: () => this.mintLogIndex,
      }),
    ];
  }

  /** The core's links to the other modules: the monero module's payouts (module.ts, ModuleLinks). */
  link(links: ModuleLinks): void {
    this.links = links;
  }

  // ---- background ------------------------------------------------------------------------------

  /**
   * Refuses to run (throws) when this guardian's key is not its address in the config, or its EVM
   * node shows another chain, no contract, or another guardian set or threshold than the config.
   */
  async preflight(context: ModuleContext): Promise<void> {
    const bg = this.background;
    if (!bg) return;
    const own = evmAddressOfKey(bg.evmKey);
    const expected = this.config.guardians[context.self];
    if (expected === undefined || own.toLowerCase() !== expected.toLowerCase())
      throw new Error(
        `bridge module: this guardian's EVM key is ${own}, but the federation config names ${expected ?? "no address"} for guardian ${context.self}`,
      );
    if (bg.source) await checkChain(bg.source, this.config);
  }

  start(context: ModuleContext): void {
    this.context = context;
    if (context.readState) this.watchable.start(context.readState);
    const source = this.background?.source;
    if (!source) {
      context.log("no_evm_node", { message: "no rpcUrl for the bridge module: this guardian votes no burn" });
      return;
    }
    this.watcher = new BurnWatcher({
      source,
      confirmations: this.config.confirmations,
      blocksPerPollMax: this.background.blocksPerPollMax ?? 2_000n,
      pollMs: this.background.pollMs,
      log: context.log,
      onChange: () => context.wake(),
    });
    if (this.background.autoPoll !== false) this.watcher.start();
    if (this.background.mintLogs) {
      this.mintLogIndex = new MintLogIndex({
        source: this.background.mintLogs,
        confirmations: this.config.confirmations,
        blocksPerPollMax: this.background.blocksPerPollMax ?? 2_000n,
        pollMs: this.background.pollMs,
        log: context.log,
      });
      if (this.background.autoPoll !== false) this.mintLogIndex.start();
    }
  }

  async stop(): Promise<void> {
    await this.watcher?.stop();
    await this.mintLogIndex?.stop();
  }

  /** The look-up index of mint logs (undefined without a node for it); tests call its poll(). */
  get mintLogs(): MintLogIndex | undefined {
    return this.mintLogIndex;
  }

  get burnWatcher(): BurnWatcher | undefined {
    return this.watcher;
  }

  /**
   * This guardian's votes for the burns its watcher found that the state does not show yet, then,
   * once every one of them is in the state, its `scanned` report: so the state's report is a
   * last-scanned block below which every burn this guardian saw is voted.
   */
  consensusProposal(db: ReadTx): Uint8Array[] {
    const self = this.context?.self;
    const watcher = this.watcher;
    if (self === undefined || !watcher) return [];
    this.checkBooks(db);
    const state = new BridgeState(db);
    const reported = state.scanned(self);
    watcher.setResume(reported?.block ?? 0n);
    watcher.forget((b) => state.burn(keyOf(b)) !== undefined || state.vote(keyOf(b), self) !== undefined);
    const { burns, block, timestamp } = watcher.findings;
    const items: BridgeItem[] = burns.slice(0, ITEMS_PER_PROPOSAL_MAX).map((b) => ({ kind: "burn", ...b }));
    if (burns.length === 0 && block !== undefined && block > (reported?.block ?? 0n) && timestamp > 0n)
      items.push({ kind: "scanned", block, timestamp });
    items.push(...this.expiryVotes(state, self, watcher));
    return items.map(encodeBridgeItem);
  }

  /**
   * This guardian's votes on refundable mints past the agreed EVM time that it has not voted on (its
   * own queue in the state, by deadline, at most EXPIRY_CHECKS_PER_POLL_MAX): the watcher reads each
   * one's depositStatus at its depth block once that block's timestamp is past the deadline.
   */
  private expiryVotes(state: BridgeState, self: number, watcher: BurnWatcher): BridgeItem[] {
    const federationId = this.context?.federationId;
    if (!federationId) return [];
    const due = state.dueMints(self, this.agreed(state).timestamp, EXPIRY_CHECKS_PER_POLL_MAX);
    watcher.wantExpiries(
      due.map((m) => {
        if (m.remint !== true && state.mint(m.txid, m.index)?.refundKey)
          return { ...m, depositId: outputDepositId(federationId, m.txid, m.index) };
        const attempt = state.reissue(m)?.attempt ?? 0;
        return { ...m, attempt, depositId: reissueDepositId(this.firstDepositId(federationId, m), attempt) };
      }),
    );
    return watcher.expiryFindings.map(({ check, used }) => ({
      kind: "expiry",
      txid: check.txid,
      index: check.index,
      used,
      ...(check.remint === true ? { remint: true } : {}),
      ...(check.attempt === undefined ? {} : { attempt: check.attempt }),
    }));
  }

  /** Attempt 0's deposit id of a re-issuable mint (a 0x01 output's, or a re-mint's). */
  private firstDepositId(federationId: Uint8Array, ref: MintRef): Hex32 {
    return ref.remint === true
      ? remintDepositId(federationId, ref.txid, ref.index)
      : outputDepositId(federationId, ref.txid, ref.index);
  }

  processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.n)
      return fail("unknown_guardian", `guardian ${peer} is not one of this module's ${this.n}`);
    let item: BridgeItem;
    try {
      item = decodeBridgeItem(payload);
    } catch (e) {
      return fail("malformed_item", `not a bridge consensus item: ${(e as Error).message}`, { peer });
    }
    const state = new BridgeStateWriter(db);
    // A store written before the re-issue version has expired 0x01 mints and re-mints in no queue:
    // the first ordered bridge item this version processes queues them, at the same height at every
    // guardian (a write at start would not be: guardians restart at different heights, and the state
    // is compared key by key). docs/bridge.md "Re-issue", threat model 12zk.
    if (state.queueBackfilled() < QUEUE_BACKFILL_VERSION) {
      const written = state.enqueueUnqueued(this.n);
      if (written > 0) this.context?.log("expiry_queue_backfilled", { entries: written });
    }
    if (item.kind === "scanned") {
      const previous = state.scanned(peer);
      // A lower report changes nothing (a resubmission, or a liar pulling the agreed block down).
      if (previous && (item.block <= previous.block || item.timestamp < previous.timestamp))
        return ok(undefined);
      state.setScanned(peer, item.block, item.timestamp);
      return ok(undefined);
    }
    if (item.kind === "expiry") return this.onExpiryVote(state, peer, item);
    return this.onBurnVote(state, peer, item);
  }

  /**
   * A guardian's vote on a refundable mint past the agreed EVM time. Costs the state one lookup of
   * the mint, at most n of its votes, and one write; a vote no rule allows is refused with its
   * reason (an error of that guardian, counted, nothing stored). t equal votes decide, once.
   */
  private onExpiryVote(state: BridgeStateWriter, peer: number, vote: ExpirySeen): ModuleResult<void> {
    const key: MintKey = { txid: vote.txid, index: vote.index };
    const name = `${vote.remint === true ? "re-mint " : ""}${toHex(vote.txid)}:${vote.index}`;
    const record =
      vote.remint === true
        ? state.remint({ txHash: vote.txid, logIndex: vote.index })
        : state.mint(vote.txid, vote.index);
    if (!record)
      return fail("unknown_mint", `guardian ${peer} voted on mint ${name}, which does not exist`, { peer });
    if (!record.refundKey) return this.onReissueVote(state, peer, vote, record, name);
    if ((vote.attempt ?? 0) !== 0)
      return fail(
        "unknown_attempt",
        `guardian ${peer} voted on attempt ${vote.attempt} of refundable mint ${name}`,
        {
          peer,
        },
      );
    const outcome = state.expiryOutcome(key);
    if (outcome !== undefined)
      return (outcome === "minted") === vote.used
        ? ok(undefined) // a late vote that agrees with the decision
        : fail(
            "expiry_vote_differs",
            `guardian ${peer} voted mint ${name} unlike the decision (${outcome})`,
            {
              peer,
            },
          );
    const agreed = this.agreed(state).timestamp;
    if (record.deadline >= agreed)
      return fail(
        "expiry_not_due",
        `guardian ${peer} voted on mint ${name} before its deadline ${record.deadline} is below the agreed EVM time ${agreed}`,
        { peer },
      );
    const votes = state.expiryVotes(key);
    const previous = votes.find((v) => v.guardian === peer);
    if (previous)
      return previous.used === vote.used
        ? ok(undefined) // the same vote again counts once
        : fail("already_voted", `guardian ${peer} already voted on mint ${name} differently`, { peer });
    state.putExpiryVote(key, peer, vote.used);
    state.deleteDue(peer, record.deadline, key);
    votes.push({ guardian: peer, used: vote.used });
    if (votes.filter((v) => v.used === vote.used).length < this.config.threshold) return ok(undefined);
    // Decided: the votes and every guardian's queue entry go.
    for (const v of votes) state.deleteExpiryVote(key, v.guardian);
    for (let g = 0; g < this.n; g++) state.deleteDue(g, record.deadline, key);
    if (vote.used) {
      state.setExpiryOutcome(key, "minted");
      return ok(undefined);
    }
    // It can never be on chain: it leaves Σ signed (which also tightens checkBooks' bound) and is
    // owed instead: paid back in Monero to a 0x03 output's refund address, in this state transition
    // (the liability moves to the monero module's payouts, as a burn's does), or, for a 0x02 output
    // or a payout the monero module refuses, to the refund key as input 0x02.
    const totals = state.totals();
    const payout = this.refundInMonero(state, key, record);
    if (payout) {
      state.setPaidOut(key, payout);
      state.setTotals({ ...totals, signed: totals.signed - record.amount });
      return ok(undefined);
    }
    state.setExpiryOutcome(key, "returnable");
    state.setTotals({
      ...totals,
      signed: totals.signed - record.amount,
      returnable: totals.returnable + record.amount,
    });
    return ok(undefined);
  }

  /**
   * A vote on attempt `vote.attempt` of a mint without refund key (a 0x01 output or a re-mint). Only
   * the current attempt is voted on: a vote on an earlier one is a late vote (ignored if "unused",
   * the decision that re-issued it; else `expiry_vote_differs`), a later one is `unknown_attempt`.
   * t equal votes decide: "used" -> minted for good; "unused" -> re-issued: attempt + 1, deadline =
   * agreed EVM time + its window, this config's set index, back in every guardian's queue. Σ signed
   * is unchanged (the same value, owed once, signed under another deposit id).
   */
  private onReissueVote(
    state: BridgeStateWriter,
    peer: number,
    vote: ExpirySeen,
    record: MintRecord,
    name: string,
  ): ModuleResult<void> {
    const ref: MintRef = {
      txid: vote.txid,
      index: vote.index,
      ...(vote.remint === true ? { remint: true } : {}),
    };
    const current = this.currentIssue(state, ref, record);
    const attempt = vote.attempt ?? 0;
    if (attempt > current.attempt)
      return fail(
        "unknown_attempt",
        `guardian ${peer} voted on attempt ${attempt} of mint ${name}, whose current attempt is ${current.attempt}`,
        { peer },
      );
    if (current.minted || attempt < current.attempt) {
      // Decided already: attempt < current was decided unused (re-issued), the current one minted.
      const agrees = attempt < current.attempt ? !vote.used : vote.used;
      return agrees
        ? ok(undefined)
        : fail(
            "expiry_vote_differs",
            `guardian ${peer} voted attempt ${attempt} of mint ${name} unlike the decision`,
            {
              peer,
            },
          );
    }
    const agreed = this.agreed(state).timestamp;
    if (current.deadline >= agreed)
      return fail(
        "expiry_not_due",
        `guardian ${peer} voted on attempt ${attempt} of mint ${name} before its deadline ${current.deadline} is below the agreed EVM time ${agreed}`,
        { peer },
      );
    const votes = state.reissueVotes(ref);
    const previous = votes.find((v) => v.guardian === peer);
    if (previous)
      return previous.used === vote.used
        ? ok(undefined)
        : fail(
            "already_voted",
            `guardian ${peer} already voted on attempt ${attempt} of mint ${name} differently`,
            {
              peer,
            },
          );
    state.putReissueVote(ref, peer, vote.used);
    state.deleteDue(peer, current.deadline, ref);
    votes.push({ guardian: peer, used: vote.used });
    if (votes.filter((v) => v.used === vote.used).length < this.config.threshold) return ok(undefined);
    for (const v of votes) state.deleteReissueVote(ref, v.guardian);
    for (let g = 0; g < this.n; g++) state.deleteDue(g, current.deadline, ref);
    if (vote.used) {
      state.putReissue(ref, { ...current, minted: true });
      return ok(undefined);
    }
    // Never minted, and it never can be (its deadline is past at t guardians' depth blocks, its
    // deposit id unused or cancelled there): the next attempt is signed instead.
    const next = current.attempt + 1;
    const deadline = agreed + reissueWindowSeconds(this.config.mintDeadlineSeconds, next);
    state.putReissue(ref, { attempt: next, deadline, setIndex: this.config.setIndex, minted: false });
    state.putDue(this.n, deadline, ref);
    // GET lookup/deposit/:depositId finds the mint by the new id too.
    const federationId = this.context?.federationId;
    if (federationId) {
      const depositId = reissueDepositId(this.firstDepositId(federationId, ref), next);
      if (ref.remint === true)
        indexRemintDeposit(state.tx, depositId, { txHash: ref.txid, logIndex: ref.index });
      else indexOutputDeposit(state.tx, depositId, ref);
    }
    return ok(undefined);
  }

  /** The issue of a re-issuable mint signed now: attempt 0 (the record's) until t guardians decide it. */
  private currentIssue(state: BridgeState, ref: MintRef, record: MintRecord): Reissue {
    return (
      state.reissue(ref) ?? {
        attempt: 0,
        deadline: record.deadline,
        setIndex: record.setIndex,
        minted: false,
      }
    );
  }

  private onBurnVote(state: BridgeStateWriter, peer: number, burn: BurnSeen): ModuleResult<void> {
    const key = keyOf(burn);
    const accepted = state.burn(key);
    if (accepted)
      return sameBurn(accepted.burn, burn)
        ? ok(undefined)
        : fail(
            "burn_vote_differs",
            `guardian ${peer} voted burn ${toHex(burn.txHash)}:${burn.logIndex} unlike the accepted one`,
            { peer },
          );
    const previous = state.vote(key, peer);
    if (previous)
      return sameBurn(previous, burn)
        ? ok(undefined) // the same vote again counts once
        : fail(
            "already_voted",
            `guardian ${peer} already voted burn ${toHex(burn.txHash)}:${burn.logIndex} differently`,
            { peer },
          );
    const open = state.openVotes(peer);
    if (open >= this.config.openVotesPerGuardianMax)
      return fail("too_many_open_votes", `guardian ${peer} has ${open} burn votes no one else confirmed`, {
        peer,
      });
    state.putVote(key, peer, burn);
    state.setOpenVotes(peer, open + 1);
    const votes = state.votes(key);
    const agreeing = votes.filter((v) => sameBurn(v.burn, burn)).length;
    if (agreeing >= this.config.threshold)
      this.accept(
        state,
        burn,
        votes.map((v) => v.guardian),
      );
    return ok(undefined);
  }

  /** t equal votes: the burn is final; the votes go (their guardians' open counts with them). */
  private accept(state: BridgeStateWriter, burn: BurnSeen, voters: readonly number[]): void {
    const key = keyOf(burn);
    for (const g of voters) {
      state.deleteVote(key, g);
      state.setOpenVotes(g, Math.max(0, state.openVotes(g) - 1));
    }
    const accepted = this.handOver(state, this.settlementOf(burn));
    state.putBurn(key, accepted);
    indexBurnByAddress(state.tx, burn.from, key);
    const totals = state.totals();
    if (accepted.settlement === "payout") {
      // The liability leaves this module here and enters the monero module's paid-out sum in the
      // same state transition (its assets fall by the same amount): counted once, never zero times.
      state.setTotals({ ...totals, burned: totals.burned + burn.amount });
    } else if (accepted.settlement === "reminted") {
      const agreed = this.agreed(state);
      const deadline = agreed.timestamp + BigInt(this.config.mintDeadlineSeconds);
      state.putRemint(key, {
        recipient: burn.from,
        amount: burn.amount,
        deadline,
        setIndex: this.config.setIndex,
      });
      const federationId = this.context?.federationId;
      if (federationId)
        indexRemintDeposit(state.tx, remintDepositId(federationId, key.txHash, key.logIndex), key);
      // Unsubmitted past its deadline, it is re-issued (onReissueVote).
      state.putDue(this.n, deadline, { txid: key.txHash, index: key.logIndex, remint: true });
      state.setTotals({
        ...totals,
        signed: totals.signed + burn.amount,
        burned: totals.burned + burn.amount,
      });
    } else {
      state.setTotals({
        ...totals,
        burned: totals.burned + burn.amount,
        unsettled: totals.unsettled + burn.amount,
      });
    }
  }

  /**
   * A 0x03 mint decided unminted is paid back to its refund address by the monero module, in this
   * state transition: the whole amount, the Monero fee deducted there (so only what the federation
   * received for the output, less the fees, goes back). Undefined for a 0x02 mint, with no module
   * that pays Monero, or when the monero module refuses (e.g. below its minimum once the fee is
   * deducted): the mint is then returnable to its refund key, so the value is never stuck.
   */
  private refundInMonero(
    state: BridgeStateWriter,
    key: MintKey,
    record: MintRecord,
  ): { amount: bigint; fee: bigint } | undefined {
    if (record.refundAddress === undefined || !this.links.payouts) return undefined;
    const r = this.links.payouts.request(state.tx, {
      ref: mintRefundPayoutRef(key),
      address: record.refundAddress,
      value: record.amount,
    });
    return r.ok ? { amount: r.value.amount, fee: r.value.fee } : undefined;
  }

  /**
   * A burn to a Monero address becomes a payout of the monero module, in this state transition: its
   * value leaves this module's liabilities whole, the fee is deducted from it there. A refusal (or
   * no module that pays Monero) re-mints it, as a refused withdrawal leaves the notes.
   */
  private handOver(state: BridgeStateWriter, accepted: AcceptedBurn): AcceptedBurn {
    if (accepted.settlement !== "payout_pending") return accepted;
    const { burn } = accepted;
    const payouts = this.links.payouts;
    if (!payouts)
      return { burn, settlement: "reminted", reason: "this federation runs no module that pays Monero" };
    const address = new TextDecoder().decode(burn.destination);
    const r = payouts.request(state.tx, { ref: burnPayoutRef(keyOf(burn)), address, value: burn.amount });
    if (!r.ok)
      return { burn, settlement: "reminted", reason: `the Monero payout was refused: ${r.error.message}` };
    return { burn, settlement: "payout", payout: { amount: r.value.amount, fee: r.value.fee } };
  }

  private settlementOf(burn: BurnSeen): AcceptedBurn {
    if (burn.burnKind === BURN_TO_CLAIM) {
      if (burn.destination.length === 32 && isEd25519Point(burn.destination))
        return { burn, settlement: "claimable" };
      return {
        burn,
        settlement: "reminted",
        reason:
          "the claim key is not an Ed25519 public key of prime order (of small order anyone could sign for it)",
      };
    }
    if (burn.burnKind === BURN_TO_MONERO) {
      const text = new TextDecoder("utf-8", { fatal: false }).decode(burn.destination);
      try {
        parseAddress(text, this.config.moneroNetwork);
        return { burn, settlement: "payout_pending" };
      } catch (e) {
        return { burn, settlement: "reminted", reason: `not a Monero address: ${(e as Error).message}` };
      }
    }
    return { burn, settlement: "reminted", reason: `unknown burn kind ${burn.burnKind}` };
  }

  /** The agreed EVM block and time: position 2f of every guardian's scanned report. */
  agreed(state: BridgeState): { block: bigint; timestamp: bigint } {
    const reports = Array.from({ length: this.n }, (_, g) => state.scanned(g));
    return {
      block: agreedReport(
        reports.map((r) => r?.block ?? 0n),
        this.n,
      ),
      timestamp: agreedReport(
        reports.map((r) => r?.timestamp ?? 0n),
        this.n,
      ),
    };
  }

  // ---- transactions ----------------------------------------------------------------------------

  /**
   * Input 0x01: the e-cash value of an accepted burnToClaim, signed by its claim key, once.
   * Input 0x02: the value of a returned mint (t guardians saw it unminted past its deadline), signed
   * by the refund key its output named, once.
   */
  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    let decoded;
    try {
      decoded = decodeBridgeInput(input.payload);
    } catch (e) {
      return fail(
        "malformed_input",
        `a bridge input is 0x01 | burn tx hash (32) | log index u32, or 0x02 | txid (32) | output index u32: ${(e as Error).message}`,
      );
    }
    const state = new BridgeStateWriter(db);
    if (decoded.kind === "refund") return this.spendRefund(state, decoded.key);
    const key = decoded.key;
    const accepted = state.burn(key);
    const name = `${bytesToHex(key.txHash)}:${key.logIndex}`;
    if (!accepted)
      return fail("unknown_burn", `no accepted burn ${name}: it needs t guardians' votes at depth first`);
    if (accepted.settlement === "claimed") return fail("spent_input", `burn ${name} was already claimed`);
    if (accepted.settlement !== "claimable")
      return fail("not_claimable", `burn ${name} is not a burn to a claim key (${accepted.settlement})`);
    state.putBurn(key, { ...accepted, settlement: "claimed" });
    const totals = state.totals();
    state.setTotals({ ...totals, unsettled: totals.unsettled - accepted.burn.amount });
    return ok({ amount: accepted.burn.amount, fee: 0n, signers: [accepted.burn.destination] });
  }

  /** A returned mint's value, whole (no fee), to whoever signs with its refund key; then refunded. */
  private spendRefund(state: BridgeStateWriter, key: MintKey): ModuleResult<InputMeta> {
    const name = `${toHex(key.txid)}:${key.index}`;
    const record = state.mint(key.txid, key.index);
    if (!record) return fail("unknown_mint", `no wXMR mint output ${name}`);
    if (!record.refundKey)
      return fail(
        "not_refundable",
        `mint ${name} names no refund key (output form 0x01): it is never returned`,
      );
    const outcome = state.expiryOutcome(key);
    if (outcome === "refunded") return fail("spent_input", `mint ${name} was already refunded`);
    if (outcome === "paid_out")
      return fail(
        "not_returnable",
        `mint ${name} was paid back in Monero to the refund address its output named`,
      );
    if (outcome === "minted")
      return fail("not_returnable", `mint ${name} was minted on chain (t guardians saw its deposit id used)`);
    if (outcome === undefined)
      return fail(
        "not_returnable",
        `mint ${name} is not returned: t guardians must first see it unminted at their depth past its deadline ${record.deadline}`,
        { deadline: record.deadline.toString() },
      );
    state.setExpiryOutcome(key, "refunded");
    const totals = state.totals();
    state.setTotals({ ...totals, returnable: totals.returnable - record.amount });
    return ok({ amount: record.amount, fee: 0n, signers: [record.refundKey] });
  }

  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    let decoded;
    try {
      decoded = decodeMintOutput(output.payload);
    } catch (e) {
      return fail(
        "malformed_output",
        `a bridge output is 0x01 | EVM recipient (20), 0x02 | EVM recipient (20) | refund key (32), or 0x03 | EVM recipient (20) | refund key (32) | u8 length | Monero refund address: ${(e as Error).message}`,
      );
    }
    const { recipient, refundKey, refundAddress } = decoded;
    if (refundAddress !== undefined) {
      // Checked at acceptance, so that the refund can be paid when it is due: an address of this
      // federation's network (checksum, network byte), not integrated (a payout carries no payment id).
      try {
        parseAddress(refundAddress, this.config.moneroNetwork, ["standard", "subaddress"]);
      } catch (e) {
        return fail(
          "malformed_output",
          `the refund address is not a standard address or subaddress of this federation's Monero network: ${(e as Error).message}`,
        );
      }
    }
    // A key the index lists already passed this check when its first output was accepted: a flood of
    // outputs naming one key (threat model 12zf) costs the guardians no point check each.
    const listed = refundKey ? new BridgeState(db).refundKeyEntries(refundKey) : 0;
    if (refundKey && listed === 0 && !isEd25519Point(refundKey))
      return fail(
        "malformed_output",
        "the refund key is not an Ed25519 public key of prime order (nothing could sign its return, or anyone could)",
      );
    if (output.amount < this.config.mintMinPiconero)
      return fail("below_minimum", `a wXMR mint is at least ${this.config.mintMinPiconero} piconero`, {
        mintMinPiconero: this.config.mintMinPiconero.toString(),
      });
    // A refundable output costs every guardian a record, a queue entry, an eth_call and a vote
    // (threat-model 12w): it has its own minimum and pays the federation a fee on top of its amount,
    // which the core's balance check makes the transaction's inputs cover.
    const { refundableMintMinPiconero: refundableMin, refundableMintFeePiconero: refundableFee } =
      this.config;
    if (refundKey && output.amount < refundableMin)
      return fail(
        "below_minimum",
        `a refundable wXMR mint (output form 0x02) is at least ${refundableMin} piconero and pays the federation ${refundableFee} piconero on top`,
        {
          refundableMintMinPiconero: refundableMin.toString(),
          refundableMintFeePiconero: refundableFee.toString(),
        },
      );
    const state = new BridgeStateWriter(db);
    // A refund key lists at most REFUND_KEY_ENTRIES_MAX mints (threat model 12zf): a wallet names each
    // key once, before the key is public, so its own mint is among the first; the rest were made by
    // someone who read the key off that mint, each paying the fee above. Past the bound: refused.
    if (refundKey && listed >= REFUND_KEY_ENTRIES_MAX)
      return fail(
        "refund_key_full",
        `${REFUND_KEY_ENTRIES_MAX} refundable mints name this refund key already (the most one key lists): a wallet uses a fresh refund key for each mint`,
        { refundKeyEntriesMax: REFUND_KEY_ENTRIES_MAX.toString() },
      );
    const agreed = this.agreed(state);
    if (agreed.timestamp === 0n)
      return fail(
        "evm_time_unknown",
        "the guardians have not agreed on the EVM chain's time yet; retry shortly",
      );
    const deadline = agreed.timestamp + BigInt(this.config.mintDeadlineSeconds);
    state.putMint(outPoint.txid, outPoint.index, {
      recipient,
      amount: output.amount,
      deadline,
      setIndex: this.config.setIndex,
      ...(refundKey ? { refundKey } : {}),
      ...(refundAddress !== undefined ? { refundAddress } : {}),
    });
    const federationId = this.context?.federationId;
    if (federationId)
      indexOutputDeposit(state.tx, outputDepositId(federationId, outPoint.txid, outPoint.index), outPoint);
    // Every guardian's queue of mints to vote on once the agreed EVM time passes the deadline:
    // a refundable one is then returned, a 0x01 one re-issued.
    state.putDue(this.n, deadline, outPoint);
    if (refundKey) state.putByRefundKey(refundKey, outPoint);
    const totals = state.totals();
    state.setTotals({ ...totals, signed: totals.signed + output.amount });
    return ok({ amount: output.amount, fee: refundKey ? refundableFee : 0n });
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): MintSignatureView | undefined {
    return this.mintView(db, outPoint, true);
  }

  /** A mint's view; `sign` false leaves this guardian's signature out (a watch's state: no signing per block). */
  mintView(db: ReadTx, outPoint: MintKey, sign: boolean): MintSignatureView | undefined {
    const state = new BridgeState(db);
    const record = state.mint(outPoint.txid, outPoint.index);
    if (!record) return undefined;
    this.checkBooks(db);
    if (!record.refundKey) return this.reissuableView(state, outPoint, record, sign);
    const expiry = this.expiryView(db, state, outPoint, record);
    // A returned mint is never signed again (the contract would refuse it, Expired, all the same).
    const returned =
      expiry.state === "returnable" || expiry.state === "refunded" || expiry.state === "paid_out";
    const view = this.signed(
      record,
      (fed) => outputDepositId(fed, outPoint.txid, outPoint.index),
      sign && !returned,
    );
    return view ? { ...view, expiry } : view;
  }

  /**
   * A mint without refund key (0x01 output, or a re-mint with `ref.remint`): the Mint of its current
   * attempt (deadline, set index and deposit id of that issue) and this guardian's signature of it;
   * earlier attempts are never signed again.
   */
  private reissuableView(
    state: BridgeState,
    ref: MintRef,
    record: MintRecord,
    sign: boolean,
  ): MintSignatureView | undefined {
    const current = this.currentIssue(state, ref, record);
    const issue: MintRecord = { ...record, deadline: current.deadline, setIndex: current.setIndex };
    const view = this.signed(
      issue,
      (fed) => reissueDepositId(this.firstDepositId(fed, ref), current.attempt),
      sign,
    );
    const federationId = this.context?.federationId;
    if (!view || !federationId) return view;
    const votes = current.minted ? [] : state.reissueVotes(ref);
    const reissue: MintReissueView = {
      attempt: current.attempt,
      state: current.minted ? "minted" : current.deadline < this.agreed(state).timestamp ? "due" : "open",
      firstDepositId: this.firstDepositId(federationId, ref),
      votesUnused: votes.filter((v) => !v.used).length,
      votesUsed: votes.filter((v) => v.used).length,
      votesRequired: this.config.threshold,
    };
    return { ...view, reissue };
  }

  private expiryView(db: ReadTx, state: BridgeState, key: MintKey, record: MintRecord): MintExpiryView {
    const outcome = state.expiryOutcome(key);
    const votes = state.expiryVotes(key);
    const paid = state.refundPayout(key);
    // Never the refund address: only its owner knows it (the view says where the payout got).
    const progress = paid ? this.links.payouts?.progress(db, mintRefundPayoutRef(key)) : undefined;
    return {
      state: outcome ?? (record.deadline < this.agreed(state).timestamp ? "due" : "open"),
      refundKey: bytesToHex(record.refundKey!),
      ...(record.refundAddress !== undefined ? { refundInMonero: true } : {}),
      ...(paid
        ? {
            payout: {
              amount: paid.amount.toString(),
              fee: paid.fee.toString(),
              state: progress?.state ?? "queued",
              ...(progress?.moneroTxid ? { moneroTxid: progress.moneroTxid } : {}),
              ...(progress?.txKey ? { txKey: progress.txKey } : {}),
              ...(progress?.confirmations !== undefined ? { confirmations: progress.confirmations } : {}),
            },
          }
        : {}),
      votesUnused: votes.filter((v) => !v.used).length,
      votesUsed: votes.filter((v) => v.used).length,
      votesRequired: this.config.threshold,
    };
  }

  /**
   * The accountant, against this guardian's own EVM node: the wXMR on chain can never exceed what
   * the federation signed minus the burns it accepted (burns not yet accepted only lower the
   * supply). More means a mint the federation never signed (stolen keys, a contract bug): this
   * guardian signs nothing more and halts, as a failed audit halts it. The reserve side (Monero
   * held >= e-cash + wXMR signed and unburned + owed burns) is the federation audit after every
   * block, which counts this module's liabilities. Returns the reason, or undefined.
   */
  checkBooks(db: ReadTx): string | undefined {
    const supply = this.watcher?.totalSupply;
    if (supply === undefined) return undefined;
    const t = new BridgeState(db).totals();
    const backed = t.signed - t.burned;
    if (supply <= backed) return undefined;
    const reason = `wXMR total supply on chain ${supply} exceeds the ${backed} piconero the federation signed and has not seen burned: a mint it never signed`;
    if (this.booksBroken === undefined) {
      this.booksBroken = reason;
      this.context?.log("books_broken", { supply: supply.toString(), backed: backed.toString() });
      this.context?.halt?.(reason);
    }
    return reason;
  }

  alerts(): { code: string; message: string }[] {
    return this.booksBroken === undefined
      ? []
      : [{ code: "wxmr_supply_exceeds_signed", message: this.booksBroken }];
  }

  /** The Mint of `record` and this guardian's signature of it (none before start or without a key). */
  private signed(
    record: MintRecord,
    depositIdOf: (federationId: Uint8Array) => `0x${string}`,
    sign = true,
  ): MintSignatureView | undefined {
    const federationId = this.context?.federationId;
    if (!federationId) return undefined;
    const message = {
      recipient: record.recipient,
      amount: record.amount,
      depositId: depositIdOf(federationId),
      deadline: record.deadline,
      setIndex: record.setIndex,
    };
    const domain = { chainId: this.config.chainId, contract: this.config.contract };
    // No signature once the books are broken (checkBooks halts the guardian; this covers the meantime).
    const key = this.booksBroken === undefined && sign ? this.background?.evmKey : undefined;
    return {
      chainId: this.config.chainId,
      contract: this.config.contract,
      recipient: record.recipient,
      amount: record.amount.toString(),
      depositId: message.depositId,
      deadline: record.deadline.toString(),
      setIndex: record.setIndex,
      guardian: this.context?.self ?? -1,
      ...(key ? { signer: evmAddressOfKey(key), signature: signMint(key, domain, message) } : {}),
    };
  }

  /** After each committed block: watched mints and burns whose view changed are told (never rejects). */
  committed(): void {
    if (this.watchable.size > 0) void this.watchable.refresh();
  }

  audit(db: ReadTx): Audit {
    const t = new BridgeState(db).totals();
    return { assets: 0n, liabilities: t.signed - t.burned + t.unsettled + t.returnable };
  }

  // ---- views -----------------------------------------------------------------------------------

  /** A burn's view; `sign` false leaves out this guardian's signature of a re-mint (a watch's state). */
  burnView(db: ReadTx, key: BurnKey, sign = true): BurnView {
    const state = new BridgeState(db);
    const base = {
      txHash: bytesToHex(key.txHash),
      logIndex: key.logIndex,
      votesRequired: this.config.threshold,
    };
    const accepted = state.burn(key);
    if (!accepted) {
      const votes = state.votes(key).length;
      return { ...base, state: votes === 0 ? "unknown" : "voting", votes };
    }
    const b = accepted.burn;
    const remint = state.remint(key);
    if (remint) this.checkBooks(db);
    const signed =
      remint &&
      this.reissuableView(state, { txid: key.txHash, index: key.logIndex, remint: true }, remint, sign);
    return {
      ...base,
      state: "accepted",
      votes: this.config.threshold,
      burnId: b.burnId.toString(),
      from: b.from,
      amount: b.amount.toString(),
      kind: b.burnKind,
      settlement: accepted.settlement,
      ...(accepted.reason === undefined ? {} : { reason: accepted.reason }),
      ...(signed ? { remint: signed } : {}),
      ...(accepted.payout ? { payout: this.payoutView(db, key, accepted.payout) } : {}),
    };
  }

  /** A burn's Monero payout: what it pays, the fee deducted, and how far the monero module got. */
  private payoutView(db: ReadTx, key: BurnKey, payout: { amount: bigint; fee: bigint }): BurnPayoutView {
    const progress = this.links.payouts?.progress(db, burnPayoutRef(key));
    return {
      amount: payout.amount.toString(),
      fee: payout.fee.toString(),
      state: progress?.state ?? "queued",
      ...(progress?.moneroTxid === undefined ? {} : { moneroTxid: progress.moneroTxid }),
      ...(progress?.txKey === undefined ? {} : { txKey: progress.txKey }),
      ...(progress?.confirmations === undefined ? {} : { confirmations: progress.confirmations }),
    };
  }

  chainView(db: ReadTx): ChainView {
    const state = new BridgeState(db);
    const agreed = this.agreed(state);
    return {
      chainId: this.config.chainId,
      contract: this.config.contract,
      confirmations: this.config.confirmations,
      agreedBlock: agreed.block.toString(),
      agreedTimestamp: agreed.timestamp.toString(),
      scanned: Array.from({ length: this.n }, (_, g) => {
        const s = state.scanned(g);
        return s ? { block: s.block.toString(), timestamp: s.timestamp.toString() } : null;
      }),
    };
  }

  supplyView(db: ReadTx): SupplyView {
    const state = new BridgeState(db);
    const t = state.totals();
    const outstanding = t.signed - t.burned;
    const deep = this.watcher?.totalSupplyAtDepth;
    return {
      guardian: this.context?.self ?? -1,
      chainId: this.config.chainId,
      contract: this.config.contract,
      signed: t.signed.toString(),
      burned: t.burned.toString(),
      unsettled: t.unsettled.toString(),
      returnable: t.returnable.toString(),
      outstanding: outstanding.toString(),
      agreedBlock: this.agreed(state).block.toString(),
      ...(deep
        ? {
            chain: { block: deep.block.toString(), totalSupply: deep.supply.toString() },
            unsubmitted: (outstanding - deep.supply).toString(),
          }
        : {}),
    };
  }

  /** The guardian set as the contract holds it (ascending addresses). */
  get signers(): `0x${string}`[] {
    return sortedSigners(this.config.guardians);
  }
}

/**
 * A key that only its owner can sign for: a canonical Ed25519 point of the prime-order subgroup, not
 * of small order. A small-order key (the identity 01 00…00, the all-zero bytes, five more) lets
 * anyone sign: k·A is a small-order point for every k, and for the identity s·B = R + k·A holds
 * with R = B, s = 1 whatever the message (node:crypto's cofactorless verification accepts it), so
 * a refund or claim to it is anyone's. A key with a torsion part (a·B + T) fails its owner's
 * signatures 7 times in 8: the value would be stuck. Both are refused.
 */
function isEd25519Point(bytes: Uint8Array): boolean {
  try {
    const point = ed25519.Point.fromBytes(bytes);
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}

/** Page `page` of the refundable mints naming `refundKeyHex`, with each one's recipient and amount. */
function refundKeyPage(db: ReadTx, refundKeyHex: string, page: number): RefundKeyMintsView {
  const state = new BridgeState(db);
  const keys = state.mintsByRefundKey(
    fromHex(refundKeyHex),
    page * REFUND_KEY_PAGE_ENTRIES,
    REFUND_KEY_PAGE_ENTRIES,
  );
  return {
    refundKey: refundKeyHex,
    page,
    mints: keys.map((k) => {
      const record = state.mint(k.txid, k.index);
      if (!record) throw new Error("bridge state: a refund-key entry without its mint record");
      return {
        txid: toHex(k.txid),
        index: k.index,
        recipient: record.recipient,
        amount: record.amount.toString(),
      };
    }),
  };
}
