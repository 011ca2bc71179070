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
//
// Split: the consensus items are server-consensus.ts, a transaction's inputs and outputs
// server-transactions.ts, the views server-views.ts, the API routes server-routes.ts, what they share
// server-common.ts; this file holds the module itself (its background and the calls into those).
import type { TxInput, TxOutput } from "@conclave/core-common";
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
import { BRIDGE_KIND, encodeBridgeItem, sortedSigners } from "./common.js";
import type { BridgeConfig, BridgeItem, BurnKey, MintKey, SupplyCheck } from "./common.js";
import type { BurnView, ChainView, MintSignatureView, SupplyView } from "./api.js";
import { evmAddressOfKey } from "./eip712-mint.js";
import { checkChain } from "./chain-check.js";
import { BridgeState } from "./state.js";
import { BurnWatcher } from "./watcher.js";
import { BridgeWatches } from "./watch.js";
import { MintLogIndex } from "./lookup-index.js";
import type { MintLogSource } from "./lookup-index.js";
import type { EvmSource } from "./watcher.js";
import { ITEMS_PER_PROPOSAL_MAX, agreedOf, keyOf } from "./server-common.js";
import { expiryVoteItems, processBridgeItem } from "./server-consensus.js";
import { processBridgeInput, processMintOutput } from "./server-transactions.js";
import { burnViewOf, chainViewOf, mintViewOf, supplyViewOf } from "./server-views.js";
import type { BridgeViewCore } from "./server-views.js";
import { bridgeEndpoints } from "./server-routes.js";

export {
  ITEMS_PER_PROPOSAL_MAX,
  REISSUE_DEADLINE_SECONDS_MAX,
  reissueWindowSeconds,
} from "./server-common.js";

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

/** The largest u64: no Σ signed (state.ts) and no supply_check item's supply is above it. */
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * Readings of the node's supply below an accepted burn's block in a row before the alert
 * `wxmr_supply_unchecked` shows (a minute at the default poll of 2 s; a node a few blocks behind the
 * others' right after a burn is accepted is normal and brief).
 */
export const ACCOUNTANT_BLIND_READINGS = 30;

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
  /**
   * A reading of this guardian's node above its books, proposed as a supply_check item and judged
   * where consensus orders it (checkBooks); one at a time.
   */
  private supplyCheck: SupplyCheck | undefined;
  /**
   * Consecutive readings of the node's supply taken below the highest accepted burn's block (the
   * accountant cannot judge them: checkBooks), and the latest: from ACCOUNTANT_BLIND_READINGS on,
   * an alert says so (a node stuck or far behind, or lying about its head, leaves the books unchecked).
   */
  private blind: { readings: number; last: object; head: bigint; burnBlock: bigint } | undefined;
  /** What server-consensus.ts, server-transactions.ts and server-views.ts read of this module. */
  private readonly core: BridgeViewCore;

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
    this.api = bridgeEndpoints({
      outputOutcome: (db, outPoint) => this.outputOutcome(db, outPoint),
      mintView: (db, key, sign) => this.mintView(db, key, sign),
      burnView: (db, key, sign) => this.burnView(db, key, sign),
      chainView: (db) => this.chainView(db),
      supplyView: (db) => this.supplyView(db),
      mintLogs: () => this.mintLogIndex,
    });
    this.core = {
      config,
      n: this.n,
      links: () => this.links,
      federationId: () => this.context?.federationId,
      log: () => this.context?.log,
      self: () => this.context?.self ?? -1,
      signingKey: () => (this.booksBroken === undefined ? this.background?.evmKey : undefined),
      checkBooks: (db) => this.checkBooks(db),
      supplyChecked: (check, state, peer) => this.supplyChecked(check, state, peer),
      supplyAtDepth: () => this.watcher?.totalSupplyAtDepth,
    };
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
    watcher.forget(
      (b) =>
        state.burn(keyOf(b)) !== undefined ||
        state.vote(keyOf(b), self) !== undefined ||
        // An accepted burn moved by a reorg deeper than the confirmations: never voted again.
        state.movedFrom(b) !== undefined,
    );
    const { burns, block, timestamp } = watcher.findings;
    const items: BridgeItem[] = burns.slice(0, ITEMS_PER_PROPOSAL_MAX).map((b) => ({ kind: "burn", ...b }));
    if (this.supplyCheck) items.push({ kind: "supply_check", ...this.supplyCheck });
    if (burns.length === 0 && block !== undefined && block > (reported?.block ?? 0n) && timestamp > 0n)
      items.push({ kind: "scanned", block, timestamp });
    items.push(...expiryVoteItems(this.core, state, self, watcher));
    return items.map(encodeBridgeItem);
  }

  processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    return processBridgeItem(this.core, db, payload, peer);
  }

  /** The agreed EVM block and time: position 2f of every guardian's scanned report. */
  agreed(state: BridgeState): { block: bigint; timestamp: bigint } {
    return agreedOf(state, this.n);
  }

  // ---- transactions ----------------------------------------------------------------------------

  /**
   * Input 0x01: the e-cash value of an accepted burnToClaim, signed by its claim key, once.
   * Input 0x02: the value of a returned mint (t guardians saw it unminted past its deadline), signed
   * by the refund key its output named, once.
   */
  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    return processBridgeInput(db, input);
  }

  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    return processMintOutput(this.core, db, output, outPoint);
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): MintSignatureView | undefined {
    return this.mintView(db, outPoint, true);
  }

  /** A mint's view; `sign` false leaves this guardian's signature out (a watch's state: no signing per block). */
  mintView(db: ReadTx, outPoint: MintKey, sign: boolean): MintSignatureView | undefined {
    return mintViewOf(this.core, db, outPoint, sign);
  }

  /**
   * The accountant, against this guardian's own EVM node: the wXMR on chain can never exceed what
   * the federation signed minus the burns it accepted (burns not yet accepted only lower the
   * supply). More means a mint the federation never signed (stolen keys, a contract bug): this
   * guardian signs nothing more and halts, as a failed audit halts it. The reserve side (Monero
   * held >= e-cash + wXMR signed and unburned + owed burns) is the federation audit after every
   * block, which counts this module's liabilities. Returns the reason once the books are broken.
   *
   * A reading above the books here is not yet proof: the user may have submitted a mint that t
   * other guardians signed at a height this guardian has not processed yet (it lags a block; a
   * halt then took an honest guardian out for good: found by CI). So the reading (supply S after
   * block B, and Σ burned here, every accepted burn being on chain at or below B) is proposed as a
   * supply_check item and judged where consensus orders it (supplyChecked): every mint on chain
   * at B was signed after its height was decided, before the read, so before the item's height,
   * and the state there holds it. Mints on chain at B >= S + Σ burned then; more than Σ signed
   * there is a mint the federation never signed. A node behind the accepted burns (B below the
   * highest accepted burn's block) tells nothing: no check until it catches up.
   */
  checkBooks(db: ReadTx): string | undefined {
    if (this.booksBroken !== undefined) return this.booksBroken;
    const read = this.watcher?.totalSupplyAtHead;
    if (read === undefined) return undefined;
    const state = new BridgeState(db);
    const t = state.totals();
    // Σ signed is a u64 in every state (and a supply_check item carries the reading as one): a
    // supply above 2^64 − 1 is a mint the federation never signed, whatever height this guardian
    // has not processed yet, so it is judged at once (threat model 12zn).
    if (read.supply > U64_MAX) return this.breakBooks(read.supply, t.signed - t.burned, read.block);
    const burnBlock = state.highestBurnBlock();
    if (burnBlock > read.block) {
      // One count per reading (a poll), however many proposals read it.
      if (this.blind?.last !== read)
        this.blind = { readings: (this.blind?.readings ?? 0) + 1, last: read, head: read.block, burnBlock };
      return undefined;
    }
    this.blind = undefined;
    if (this.supplyCheck !== undefined) return undefined;
    if (read.supply <= t.signed - t.burned) return undefined;
    this.supplyCheck = { block: read.block, supply: read.supply, burned: t.burned, returned: t.returnedEver };
    this.context?.log("supply_check", {
      block: String(read.block),
      supply: String(read.supply),
      backed: String(t.signed - t.burned),
    });
    return undefined;
  }

  /**
   * Its own supply_check item, where consensus ordered it: the state holds every mint signed before
   * the reading. Another guardian's is ignored (it is that guardian's evidence of its own node).
   */
  private supplyChecked(check: SupplyCheck, state: BridgeState, peer: number): void {
    if (peer !== this.context?.self || this.booksBroken !== undefined) return;
    if (
      this.supplyCheck !== undefined &&
      this.supplyCheck.block === check.block &&
      this.supplyCheck.supply === check.supply
    )
      this.supplyCheck = undefined;
    // Σ signed here, plus what left it since the reading: a mint returned meanwhile may have been
    // on this node's chain at the reading's block (in a block a shallow reorg then took out) and
    // is counted as signed, as it was then (review of d378e6f).
    const t = state.totals();
    const signed = t.signed + (t.returnedEver - check.returned);
    if (check.supply + check.burned <= signed) {
      this.context?.log("supply_checked", { block: String(check.block), supply: String(check.supply) });
      return;
    }
    this.breakBooks(check.supply, signed - check.burned, check.block);
  }

  /** The books are broken: nothing is signed after, the alert shows, the guardian halts. */
  private breakBooks(supply: bigint, backed: bigint, block: bigint): string {
    const reason = `wXMR total supply on chain ${supply} exceeds the ${backed} piconero the federation signed and has not seen burned: a mint it never signed (EVM block ${block})`;
    this.booksBroken = reason;
    this.context?.log("books_broken", { supply: supply.toString(), backed: backed.toString() });
    this.context?.halt?.(reason);
    return reason;
  }

  /** Why the books broke (this guardian halted and signs nothing), or undefined. */
  get brokenBooks(): string | undefined {
    return this.booksBroken;
  }

  /** The reading above the books proposed and not yet judged (checkBooks): for the simulator's checkers. */
  get pendingSupplyCheck(): SupplyCheck | undefined {
    return this.supplyCheck;
  }

  alerts(): { code: string; message: string }[] {
    if (this.booksBroken !== undefined)
      return [{ code: "wxmr_supply_exceeds_signed", message: this.booksBroken }];
    const blind = this.blind;
    if (blind !== undefined && blind.readings >= ACCOUNTANT_BLIND_READINGS)
      return [
        {
          code: "wxmr_supply_unchecked",
          message: `the EVM node's head (block ${blind.head}) has been below block ${blind.burnBlock} of an accepted burn for ${blind.readings} readings: the wXMR supply cannot be checked against the books until the node catches up (is it stuck or on another chain?)`,
        },
      ];
    return [];
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
    return burnViewOf(this.core, db, key, sign);
  }

  chainView(db: ReadTx): ChainView {
    return chainViewOf(this.core, db);
  }

  supplyView(db: ReadTx): SupplyView {
    return supplyViewOf(this.core, db);
  }

  /** The guardian set as the contract holds it (ascending addresses). */
  get signers(): `0x${string}`[] {
    return sortedSigners(this.config.guardians);
  }
}
