// Server half of the Monero custody module, first slice: the agreed chain height, and deposits
// proven by a payment proof bound to the claim key (txid + OutProofV2 for claimProofMessage(claimKey),
// made from the tx key in the user's wallet: the tx key never reaches a guardian) that become
// transaction inputs (e.g. into e-cash).
//
// Deterministic part (consensus items, inputs, audit): a function of the ordered history alone.
//   Height{h}   from guardian g: g's latest report (monotonic: a lower one changes nothing). The
//               agreed height is position 2f of the reports sorted descending (common.ts).
//   Claim       the first ordered claim of a txid binds its claim key (state open). Later claims of
//               the txid are refused and recorded (GET shows them) while it is open, credited or
//               spent. A claim that t guardians reject, or that expires, RELEASES the txid: otherwise
//               anyone who saw a txid on chain could block its real owner forever with a garbage key.
//   Attest      one verdict per guardian per claim round (counted once). t equal Valid{amount,
//               txHeight} credit the deposit; t Invalid reject the claim. f liars can neither credit
//               (they are fewer than t) nor block (t honest guardians remain).
//   Deposit{txid} input: credited, confirmed at the agreed height, unspent -> worth the attested
//               amount, signed by the bound claim key; then spent forever.
// Background part (start/stop): the ChainWatcher polls this guardian's own nodes; its findings
// enter consensus only through consensusProposal.
//
// Audit: assets = Σ deposits spent into the federation (piconero the federation's wallet now holds
// for it), liabilities 0: the mint carries the notes they became, the core checks the sum.
import {
  ConclaveError,
  InvalidRequestError,
  UnavailableError,
  decodeSealed,
  fromHex,
  toHex,
} from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { fail, ok } from "@conclave/core-server";
import type {
  Audit,
  InputMeta,
  ModuleAlert,
  ModuleApiEndpoint,
  ModuleContext,
  ModuleResult,
  OutPoint,
  OutputMeta,
  PayoutProgress,
  PayoutService,
  ReadTx,
  ServerModule,
  WriteTx,
} from "@conclave/core-server";
import type { z } from "zod";
import {
  ClaimAnswerSchema,
  ClaimKeyParamsSchema,
  ClaimRequestSchema,
  DepositViewSchema,
  HeightViewSchema,
  MoneroTxidParamsSchema,
  PayoutParamsSchema,
  PayoutTermsSchema,
  ReservesViewSchema,
  SEALED_CLAIM_PURPOSE,
  SealedClaimRequestSchema,
  SubaddressAnswerSchema,
  SubaddressSeenViewSchema,
  SubaddressTxViewSchema,
  SubaddressViewSchema,
} from "./api.js";
import { sha256 } from "@conclave/core-server";
import type {
  AttestationView,
  ClaimAnswer,
  DepositView,
  HeightView,
  PayoutTerms,
  ReservesView,
} from "./api.js";
import {
  MONERO_KIND,
  agreedFeeRate,
  agreedHeight,
  quorumThreshold,
  confirmationsAt,
  decodeMoneroInput,
  decodeMoneroItem,
  encodeMoneroItem,
  feeRateChanged,
  reservesFresh,
  claimProofMessage,
  isClaimProofShape,
  isWellFormedClaimProof,
  isEd25519PublicKey,
} from "./common.js";
import type { InvalidReason, MoneroConfig, MoneroItem, Verdict } from "./common.js";
import {
  FEE_OVERPAY_FACTOR_MAX,
  PAYOUT_ITEM_TAGS,
  chunksOf,
  decodePayoutItem,
  encodePayoutItem,
  payoutFee,
} from "./payout-common.js";
import type { PayoutItem, PayoutOutcome } from "./payout-common.js";
import { PayoutStatusSchema, payoutStatusOf } from "./payout-status.js";
import type { PayoutStatus } from "./payout-status.js";
import { PayoutSigner } from "./payout-watcher.js";
import type { ByzantineLastSigner } from "./payout-watcher.js";
import type { PayoutWallet } from "./payout-watcher.js";
import { Payouts } from "./payouts.js";
import { MoneroState, MoneroStateWriter, REFUSED_LISTED_MAX, sameVerdict } from "./state.js";
import type { DepositRecord, RefusalReason } from "./state.js";
import { ChainWatcher } from "./watcher.js";
import { MoneroTxWatches, depthSource } from "./tx-watch.js";
import { AddressRequestBounds, ClaimChecks } from "./intake.js";
import type { ChainSource, SubaddressSource } from "./watcher.js";
import { SubaddressRequestSchema } from "./api.js";
import type {
  SubaddressAnswer,
  SubaddressDepositView,
  SubaddressSeenView,
  SubaddressTxView,
  SubaddressView,
} from "./api.js";
import {
  SUBADDRESS_DEPOSITS_LISTED_MAX,
  SubaddressState,
  Subaddresses,
  TX_DEPOSITS_LISTED_MAX,
} from "./subaddresses.js";
import { ReservesMonitor } from "./reserves.js";
import { agreeReserves, reservesReportDue, reservesShort } from "./reserves-agreement.js";
import type { AgreedReserves } from "./reserves-agreement.js";
import type { Owed, ReservesReport, ReservesSource } from "./reserves.js";

/** Claims this guardian holds for proposing at once (the API refuses more: 503, try another guardian). */
export const CLAIM_QUEUE_MAX = 256;
/** A queued claim that consensus never ordered is forgotten after this long (the client re-posts). */
export const CLAIM_QUEUE_TTL_MS = 10 * 60_000;
/** Items in one proposal. */
export const ITEMS_PER_PROPOSAL_MAX = 128;
/** Closed claims pruned per agreed-height step (the rest go at the next steps). */
const PRUNE_PER_STEP_MAX = 256;

/** The background part's settings (this guardian's own nodes), or a ready-made chain for tests. */
export interface MoneroBackground {
  readonly chain: ChainSource;
  readonly pollMs: number;
  /** How often the node's block count alone is read between polls (ChainWatcher's `tipPollMs`). */
  readonly tipPollMs?: number;
  readonly backoffMaxMs?: number;
  /** False: the watcher does not poll by itself (tests call chainWatcher.poll()). Default true. */
  readonly autoPoll?: boolean;
  /** This guardian's share of the multisig wallet: without it the guardian signs no payout. */
  readonly payoutWallet?: PayoutWallet;
  /** This guardian's share of the multisig wallet for subaddress deposits (create_address, get_transfers). */
  readonly subaddresses?: SubaddressSource;
  /** This guardian's wallet balance, checked against what is owed (reserves.ts). */
  readonly reserves?: ReservesSource;
  /** How often the reserves are read (default 30 s). */
  readonly reservesPollMs?: number;
  /** TEST ONLY: this guardian misbehaves as a last signer (payout-byzantine.ts; dev federations only). */
  readonly payoutByzantine?: ByzantineLastSigner;
  /**
   * TEST ONLY: this guardian's wallet is not its share of the federation's wallet, so the module has
   * no `reserves` source (factory.ts, `testWalletNotFederation`; dev federations only).
   */
  readonly testWalletNotFederation?: boolean;
}

interface QueuedClaim {
  readonly txid: Uint8Array;
  readonly claimKey: Uint8Array;
  readonly proof: Uint8Array;
  readonly queuedAtMs: number;
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  throw new InvalidRequestError(`request body: ${where}${issue?.message ?? "invalid"}`);
}

function txidParam(params: Record<string, string>): Uint8Array {
  const txid = params["txid"] ?? "";
  if (!/^[0-9a-f]{64}$/.test(txid))
    throw new InvalidRequestError("a Monero txid is 64 lowercase hex characters", {
      txid: txid.slice(0, 80),
    });
  return fromHex(txid);
}

function claimKeyParam(params: Record<string, string>): Uint8Array {
  const claimKey = params["claimKey"] ?? "";
  if (!/^[0-9a-f]{64}$/.test(claimKey))
    throw new InvalidRequestError("a claim key is 64 lowercase hex characters", {
      claimKey: claimKey.slice(0, 80),
    });
  return fromHex(claimKey);
}

/** Why a claim of one of the federation's own transactions is refused (API and consensus). */
export function ownTransactionMessage(txid: string): string {
  return `Monero transaction ${txid} was sent by the federation itself (a payout): its outputs, the change included, are not a deposit`;
}

function verdictView(guardian: number, v: Verdict): AttestationView {
  return v.valid
    ? { guardian, verdict: "valid", amount: v.amount.toString(), txHeight: v.txHeight }
    : { guardian, verdict: v.reason };
}

export class MoneroServerModule implements ServerModule {
  readonly kind = MONERO_KIND;
  /** A guardian made to misbehave, or set up short of a share, for a test is refused outside a dev federation (guardian.ts). */
  readonly testOnly: boolean;
  readonly api: readonly ModuleApiEndpoint[];
  private readonly t: number;
  private context: ModuleContext | undefined;
  private watcher: ChainWatcher | undefined;
  private signer: PayoutSigner | undefined;
  private reservesMonitor: ReservesMonitor | undefined;
  /** What is owed as of the latest audit (after every block): the reserves monitor compares against it. */
  private owedCache: Owed | undefined;
  /** The agreed reserves state at the latest audit: a pause is logged once when it starts and once when it ends. */
  private agreedReservesState: AgreedReserves["state"] | undefined;
  readonly payouts: Payouts;
  private readonly queue = new Map<string, QueuedClaim>();
  /** Claims posted to the API are checked against this guardian's own nodes first (intake.ts). */
  private readonly claimChecks: ClaimChecks;
  /** New address requests per client per window (intake.ts). */
  private readonly addressRequests: AddressRequestBounds;
  readonly subaddresses: Subaddresses;
  /** Address requests this guardian's API took, until consensus binds their key (or they age out). */
  private readonly addressQueue = new Map<
    string,
    { claimKey: Uint8Array; signature: Uint8Array; queuedAtMs: number }
  >();

  /** The monero-tx watch: a txid's depth on this guardian's own monerod (tx-watch.ts). */
  readonly watchable: MoneroTxWatches;

  constructor(
    readonly instanceId: number,
    readonly config: MoneroConfig,
    private readonly background?: MoneroBackground,
    private readonly now: () => number = Date.now,
  ) {
    this.watchable = new MoneroTxWatches(
      background ? depthSource(background.chain) : undefined,
      background?.pollMs ?? 1000,
      (event, fields) => this.context?.log(event, fields),
    );
    this.testOnly = background?.payoutByzantine !== undefined || background?.testWalletNotFederation === true;
    this.t = quorumThreshold(config.guardians);
    this.payouts = new Payouts(config);
    this.subaddresses = new Subaddresses(config, this.t);
    this.claimChecks = new ClaimChecks({
      chain: () => (this.watcher ? this.background?.chain : undefined),
      address: config.address,
      depositMin: config.depositMinPiconero,
      now: () => this.now(),
    });
    this.addressRequests = new AddressRequestBounds();
    this.api = [
      {
        method: "POST",
        path: "claims",
        body: ClaimRequestSchema,
        response: ClaimAnswerSchema,
        summary:
          "Claim a deposit by a payment proof bound to the claim key: { txid, claimKey, proof } (OutProofV2 parts for the message conclave-claim-v1:<claimKey>) -> { txid, state }; the first claim ordered binds claimKey",
        handle: ({ body, db, client }): Promise<ClaimAnswer> => this.postClaim(body, db, client),
      },
      {
        method: "POST",
        path: "sealed-claims",
        body: SealedClaimRequestSchema,
        response: ClaimAnswerSchema,
        summary:
          "Claim a deposit with a claim sealed to this guardian (csealed1..., HPKE to its identity key), from any relay: { sealed } -> { txid, state }; refused, naming the right guardian, if sealed to another",
        handle: ({ body, db, client }): Promise<ClaimAnswer> => this.postSealedClaim(body, db, client),
      },
      {
        method: "GET",
        path: "height",
        response: HeightViewSchema,
        summary: "The agreed Monero chain height (block count) and each guardian's latest report",
        handle: ({ db }): HeightView => this.heightView(db),
      },
      {
        method: "GET",
        path: "deposits/:txid",
        params: MoneroTxidParamsSchema,
        response: DepositViewSchema,
        summary:
          "A deposit's claim, attestations, credited amount, confirmations at the agreed height, and whether it is spendable or spent",
        handle: ({ params, db }): DepositView => this.depositView(db, txidParam(params)),
      },
      {
        method: "GET",
        path: "reserves",
        response: ReservesViewSchema,
        summary:
          "The reserves: this guardian's own view (its multisig wallet's balance, confirmed, unlocked, locked, against what is owed: e-cash backing + credited deposits: ok, short, stale or unknown) and the figure agreed in consensus from every guardian's report (agreed: ok, short (payouts and deposit spends paused) or unknown)",
        handle: ({ db }): ReservesView => this.reservesView(db),
      },
      {
        method: "GET",
        path: "payouts/terms",
        response: PayoutTermsSchema,
        summary:
          "What a payout costs now: { minimum, fee, feeMax, feeRate, feeBytes, feeMin, reportedFeeRates, agreedHeight }; fee = max(feeMin, ⌈feeRate × feeBytes⌉) at the agreed fee rate (piconero per byte)",
        handle: ({ db }): PayoutTerms => this.payoutTerms(db),
      },
      {
        method: "GET",
        path: "payouts/:txid/:index",
        params: PayoutParamsSchema,
        response: PayoutStatusSchema,
        summary:
          "A payout output's status, for the user who made the transaction (federation transaction id and output index; a payout another module asked for: its ref and 0xffff0000 | module): queued, signing (round), submitted {moneroTxid}, confirmed {moneroTxid, txKey, confirmations}; never the destination address or amount (payout-status.ts)",
        handle: ({ params, db }): PayoutStatus => payoutStatusOf(this.payoutView(db, params)),
      },
      {
        method: "POST",
        path: "subaddresses",
        body: SubaddressRequestSchema,
        response: SubaddressAnswerSchema,
        summary:
          "Ask for the deposit subaddress of a claim key: { claimKey, signature } -> { state: queued | assigned, index, address }; the same key always gets the same subaddress",
        handle: ({ body, db, client }): SubaddressAnswer => this.postSubaddress(body, db, client),
      },
      {
        method: "GET",
        path: "subaddresses/:claimKey",
        params: ClaimKeyParamsSchema,
        response: SubaddressViewSchema,
        summary:
          "A claim key's deposit subaddress (index, address) and the deposits to it: pending (attestations), credited, spent, confirmations at the agreed height, spendable",
        handle: ({ params, db }): SubaddressView => this.subaddressView(db, claimKeyParam(params)),
      },
      {
        method: "GET",
        path: "subaddress-deposits/:txid",
        params: MoneroTxidParamsSchema,
        response: SubaddressTxViewSchema,
        summary:
          "A Monero transaction's deposits to the federation's per-user subaddresses, for anyone holding its txid: pending (attestations), credited, spent (spentIn), confirmations at the agreed height, and whether this guardian's wallet sees it (pool or depth on its node); never the subaddress, its index, the claim key or the amount",
        handle: ({ params, db }): SubaddressTxView => this.subaddressTxView(db, txidParam(params)),
      },
      {
        method: "GET",
        path: "subaddresses/:claimKey/seen",
        params: ClaimKeyParamsSchema,
        response: SubaddressSeenViewSchema,
        summary:
          "Transfers to a claim key's subaddress that this guardian's own wallet sees (in the pool, confirmations on its node): progress only, not consensus",
        handle: ({ params, db }): SubaddressSeenView => this.subaddressSeenView(db, claimKeyParam(params)),
      },
    ];
  }

  // ---- background ------------------------------------------------------------------------------

  start(context: ModuleContext): void {
    this.context = context;
    if (!this.background) {
      context.log("no_local_settings", {
        message:
          "no daemonUrl / walletRpcUrl in guardian.local.json for this module: this guardian reports no height and attests no deposit",
      });
      return;
    }
    this.watcher = new ChainWatcher({
      chain: this.background.chain,
      address: this.config.address,
      ...(this.background.subaddresses ? { subaddresses: this.background.subaddresses } : {}),
      confirmations: this.config.confirmations,
      depositMin: this.config.depositMinPiconero,
      pollMs: this.background.pollMs,
      ...(this.background.tipPollMs === undefined ? {} : { tipPollMs: this.background.tipPollMs }),
      ...(this.background.backoffMaxMs === undefined ? {} : { backoffMaxMs: this.background.backoffMaxMs }),
      log: context.log,
      onChange: () => context.wake(),
      // A payout waiting for its depth (the confirm duty) is looked at on the new block, not at its next poll.
      onNewBlock: () => this.signer?.newBlock(),
      // The module's clock, not the watcher's Date.now default: a claim's retry backoff runs on it
      // (the simulator's clock in testing/sim; a wall clock read there made a seed replay differently).
      now: () => this.now(),
    });
    if (this.background.payoutWallet)
      this.signer = new PayoutSigner({
        wallet: this.background.payoutWallet,
        threshold: this.t,
        confirmations: this.config.payoutConfirmations,
        pollMs: this.background.pollMs,
        log: context.log,
        onChange: () => context.wake(),
        ...(this.background.payoutByzantine ? { byzantine: this.background.payoutByzantine } : {}),
      });
    if (this.background.reserves)
      this.reservesMonitor = new ReservesMonitor({
        source: this.background.reserves,
        pollMs: this.background.reservesPollMs ?? 30_000,
        owed: () => this.owedCache,
        now: () => this.now(),
        log: context.log,
        onRead: () => context.wake(),
      });
    // The monero-tx watch polls by itself even in tests that drive the chain watcher by hand.
    this.watchable.start();
    if (this.background.autoPoll !== false) {
      this.watcher.start();
      this.signer?.start();
      this.reservesMonitor?.start();
    }
  }

  async stop(): Promise<void> {
    this.watchable.stop();
    await Promise.all([this.watcher?.stop(), this.signer?.stop(), this.reservesMonitor?.stop()]);
  }

  /** The payout signer, for tests that drive its work by hand. */
  get payoutSigner(): PayoutSigner | undefined {
    return this.signer;
  }

  /** The watcher, for tests that drive its polls by hand. */
  get chainWatcher(): ChainWatcher | undefined {
    return this.watcher;
  }

  /**
   * What this guardian wants ordered: its node's height if newer than its last report, the claims
   * its API took, and its verdicts on open claims. Each item stays proposed until the consensus
   * state shows its effect, so a resubmission is harmless (every item is idempotent).
   */
  consensusProposal(db: ReadTx): Uint8Array[] {
    const self = this.context?.self;
    if (self === undefined) return [];
    const state = new MoneroState(db);
    const items: MoneroItem[] = [];
    const nodeHeight = this.watcher?.nodeHeight;
    if (nodeHeight !== undefined && nodeHeight > (state.reportedHeight(self) ?? -1))
      items.push({ kind: "height", height: nodeHeight });
    const nodeFeeRate = this.watcher?.nodeFeeRate;
    if (nodeFeeRate !== undefined && feeRateChanged(state.reportedFeeRate(self), nodeFeeRate))
      items.push({ kind: "fee_rate", perByte: nodeFeeRate });
    const reserves = this.reservesProposal(state, self);
    if (reserves) items.push(reserves);

    const now = this.now();
    for (const [id, q] of this.queue) {
      const rec = state.deposit(q.txid);
      const ordered = rec !== undefined && rec.state !== "rejected" && rec.state !== "expired";
      if (ordered || now - q.queuedAtMs > CLAIM_QUEUE_TTL_MS) this.queue.delete(id);
      else if (items.length < ITEMS_PER_PROPOSAL_MAX)
        items.push({ kind: "claim", txid: q.txid, claimKey: q.claimKey, proof: q.proof });
    }

    if (this.watcher) {
      // Claims with a verdict stay wanted until consensus shows the attestation (it is re-proposed).
      const wanted = [];
      for (const { txid } of state.openClaims()) {
        const rec = state.deposit(txid);
        if (!rec || rec.state !== "open" || state.attestation(txid, self)) continue;
        const hex = toHex(txid);
        wanted.push({
          txid: hex,
          round: rec.round,
          proof: toHex(rec.proof),
          message: claimProofMessage(rec.claimKey),
        });
        const verdict = this.watcher.verdict(hex, rec.round);
        if (verdict && items.length < ITEMS_PER_PROPOSAL_MAX)
          items.push({ kind: "attest", txid, round: rec.round, verdict });
      }
      this.watcher.setWanted(wanted);
    }
    items.push(...this.subaddressProposal(db, ITEMS_PER_PROPOSAL_MAX - items.length));
    return [...items.map(encodeMoneroItem), ...this.payoutProposal(db, self).map(encodePayoutItem)];
  }

  /** This guardian's part of the current payout round, once its job for it is done. */
  private payoutProposal(db: ReadTx, self: number): PayoutItem[] {
    if (!this.signer) return [];
    // Agreed payout transactions a deep reorg may have made unmineable (threat model 3e).
    this.signer.setWatched(this.payouts.watched(db, self, new MoneroState(db).agreedHeight()));
    const gone: PayoutItem[] = this.signer.goneVotes().map((v) => ({ kind: "gone", ...v }));
    return [...gone, ...this.dutyProposal(db, self)];
  }

  /** This guardian's part of the current payout round, once its job for it is done. */
  private dutyProposal(db: ReadTx, self: number): PayoutItem[] {
    const signer = this.signer;
    if (!signer) return [];
    const duty = this.payouts.duty(db, self);
    signer.setDuty(duty);
    const result = duty && signer.result(duty);
    if (!duty || !result) return [];
    const { batch, attempt } = duty;
    switch (result.kind) {
      case "blob": {
        const chunks = chunksOf(result.blob);
        const digest = sha256(result.blob);
        const missing = this.payouts.missingChunks(db, batch, result.slot, self, chunks.length);
        return missing.slice(0, ITEMS_PER_PROPOSAL_MAX).map((index) => ({
          kind: "chunk",
          batch,
          attempt,
          slot: result.slot,
          total: chunks.length,
          index,
          digest,
          data: chunks[index]!,
        }));
      }
      case "fault":
        return [{ kind: "fault", batch, attempt, slot: result.slot }];
      case "txid":
        return [{ kind: "txid", batch, attempt, txid: result.txid }];
      case "seen":
        return [{ kind: "seen", batch, attempt, txHeight: result.txHeight, txKey: result.txKey }];
    }
  }

  // ---- consensus items -------------------------------------------------------------------------

  processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.config.guardians)
      return fail(
        "unknown_guardian",
        `guardian ${peer} is not one of this module's ${this.config.guardians}`,
      );
    if (payload[0] !== undefined && PAYOUT_ITEM_TAGS.has(payload[0])) {
      let payout: PayoutItem;
      try {
        payout = decodePayoutItem(payload);
      } catch (e) {
        return fail("malformed_item", `not a monero payout item: ${(e as Error).message}`, { peer });
      }
      return this.payouts.processItem(db, payout, peer, new MoneroState(db).agreedHeight());
    }
    let item: MoneroItem;
    try {
      item = decodeMoneroItem(payload);
    } catch (e) {
      return fail("malformed_item", `not a monero consensus item: ${(e as Error).message}`, { peer });
    }
    const state = new MoneroStateWriter(db);
    switch (item.kind) {
      case "height":
        return this.onHeight(db, state, peer, item.height);
      case "claim":
        return this.onClaim(state, peer, item.txid, item.claimKey, item.proof);
      case "attest":
        return this.onAttest(state, peer, item.txid, item.round, item.verdict);
      case "address_request":
        return this.subaddresses.onRequest(db, peer, item.claimKey, item.signature);
      case "subaddress_seen":
        return this.subaddresses.onSeen(db, peer, item);
      case "fee_rate":
        return this.onFeeRate(state, peer, item.perByte);
      case "reserves":
        return this.onReserves(state, peer, item);
    }
  }

  /** Guardian g's latest wallet report (reserves-agreement.ts); its wallet height never goes back. */
  private onReserves(
    state: MoneroStateWriter,
    peer: number,
    item: Extract<MoneroItem, { kind: "reserves" }>,
  ): ModuleResult<void> {
    const previous = state.reportedReserves(peer);
    if (previous && item.walletHeight < previous.walletHeight)
      return fail(
        "stale_reserves",
        `guardian ${peer} reported its wallet at ${previous.walletHeight} blocks already, not ${item.walletHeight}`,
        { peer },
      );
    const { balance, unlocked, walletHeight } = item;
    state.setReportedReserves(peer, { balance, unlocked, walletHeight });
    return ok(undefined);
  }

  /** This guardian's wallet report, when reserves-agreement.ts's reservesReportDue says one is due. */
  private reservesProposal(state: MoneroState, self: number): MoneroItem | undefined {
    const wallet = this.reservesMonitor?.reportable();
    if (!wallet) return undefined;
    const last = state.reportedReserves(self);
    const lastFresh =
      last !== undefined &&
      reservesFresh(
        last.walletHeight,
        state.agreedHeight(),
        this.config.confirmations,
        state.creditedTxHeightMax(),
      );
    if (!reservesReportDue(last, wallet, lastFresh, this.config.confirmations)) return undefined;
    return {
      kind: "reserves",
      balance: wallet.balance,
      unlocked: wallet.unlocked,
      walletHeight: wallet.height,
    };
  }

  /** The agreed reserves (consensus state only) against what is owed now. */
  agreedReserves(db: ReadTx): AgreedReserves {
    const owed = this.owed(db);
    return agreeReserves(new MoneroState(db), this.config, owed.ecashBacking + owed.credited);
  }

  /** The agreed reserves when they are short (payouts and deposit spends are refused), else undefined. */
  private reservesPause(db: ReadTx): AgreedReserves | undefined {
    const a = this.agreedReserves(db);
    return a.state === "short" ? a : undefined;
  }

  /** Guardian g's latest fee rate; the agreed rate is agreedFeeRate of every guardian's latest. */
  private onFeeRate(state: MoneroStateWriter, peer: number, perByte: number): ModuleResult<void> {
    if (state.reportedFeeRate(peer) === perByte) return ok(undefined); // a resubmission
    state.setReportedFeeRate(peer, perByte);
    const rates = state.reportedFeeRates(this.config.guardians).map((r) => r ?? 0);
    const agreed = agreedFeeRate(rates, this.config.guardians);
    if (agreed !== state.agreedFeeRate()) state.setAgreedFeeRate(agreed);
    return ok(undefined);
  }

  private onHeight(db: WriteTx, state: MoneroStateWriter, peer: number, height: number): ModuleResult<void> {
    const previous = state.reportedHeight(peer);
    // A lower or equal report changes nothing (a resubmission, or a liar trying to pull it down).
    if (previous !== undefined && height <= previous) return ok(undefined);
    state.setReportedHeight(peer, height);
    const before = state.agreedHeight();
    const heights = state.reportedHeights(this.config.guardians).map((h) => h ?? 0);
    const agreed = agreedHeight(heights, this.config.guardians);
    // Monotonic by construction (each report only grows); the guard keeps a bug from rewinding it.
    if (agreed > before) {
      state.setAgreedHeight(agreed);
      this.expireClaims(state, agreed);
      this.pruneClosed(state, agreed);
      this.payouts.onHeight(db, agreed);
      this.subaddresses.onHeight(db, agreed);
    }
    return ok(undefined);
  }

  private expireClaims(state: MoneroStateWriter, agreed: number): void {
    const expired = [];
    const restarted = [];
    for (const open of state.openClaims()) {
      const rec = state.deposit(open.txid);
      if (!rec || rec.state !== "open") continue;
      // Claimed before any height was agreed (a new federation): its clock starts now, or the
      // first agreed height (the whole chain) would expire it at once.
      if (rec.claimedAt === 0) restarted.push({ txid: open.txid, rec });
      else if (agreed >= rec.claimedAt + this.config.claimExpiryBlocks) expired.push({ ...open, rec });
    }
    for (const { txid, rec } of restarted) state.putDeposit(txid, { ...rec, claimedAt: agreed });
    for (const { proposer, txid, rec } of expired) {
      state.setOpen(proposer, txid, false);
      state.putDeposit(txid, { ...rec, state: "expired", closedAt: agreed, closedReason: "expired" });
      state.setClosed(agreed, txid, true);
    }
  }

  /** Closed claims are kept claimExpiryBlocks for clients to see why, then forgotten. */
  private pruneClosed(state: MoneroStateWriter, agreed: number): void {
    const prune = [];
    for (const c of state.closedClaims()) {
      if (c.closedAt + this.config.claimExpiryBlocks > agreed || prune.length >= PRUNE_PER_STEP_MAX) break;
      prune.push(c);
    }
    for (const c of prune) state.prune(c.txid, c.closedAt);
  }

  private onClaim(
    state: MoneroStateWriter,
    peer: number,
    txid: Uint8Array,
    claimKey: Uint8Array,
    proof: Uint8Array,
  ): ModuleResult<void> {
    if (!isEd25519PublicKey(claimKey))
      return fail("invalid_claim_key", "the claim key is not an Ed25519 public key", { peer });
    // Only the cheap checks in consensus (common.ts isClaimProofShape); the watcher checks the points.
    if (!isClaimProofShape(proof))
      return fail(
        "invalid_proof",
        "the claim proof's c or s is not a canonical scalar (or its size is wrong)",
        {
          peer,
        },
      );
    // Invariant 7: a payout's transaction (its change, a payment to the federation's own address) is
    // never a deposit, whatever proof comes with it (the payout's tx key proves its change received).
    if (state.isOwnTransaction(txid))
      return fail("own_transaction", ownTransactionMessage(toHex(txid)), { peer, txid: toHex(txid) });
    const rec = state.deposit(txid);
    if (rec && rec.state !== "rejected" && rec.state !== "expired") {
      const sameKey = equalBytes(rec.claimKey, claimKey);
      if (sameKey && equalBytes(rec.proof, proof)) return ok(undefined); // the same claim, again
      const reason: RefusalReason = sameKey
        ? "other_proof"
        : rec.state === "open"
          ? "already_claimed"
          : "already_credited";
      if (rec.refusedCount < REFUSED_LISTED_MAX)
        state.addRefusedClaim(txid, rec.refusedCount, claimKey, peer, reason);
      state.putDeposit(txid, { ...rec, refusedCount: rec.refusedCount + 1 });
      return ok(undefined);
    }
    if (
      state.openClaimsOf(peer, this.config.openClaimsPerGuardianMax) >= this.config.openClaimsPerGuardianMax
    )
      return fail(
        "too_many_open_claims",
        `guardian ${peer} already has ${this.config.openClaimsPerGuardianMax} open claims`,
        { peer },
      );
    if (rec) {
      // A new round after a rejection or expiry: the old verdicts were about another claim.
      state.clearAttestations(txid);
      state.setClosed(rec.closedAt, txid, false);
    }
    state.putDeposit(txid, {
      state: "open",
      round: (rec?.round ?? 0) + 1,
      claimKey,
      proof,
      claimedBy: peer,
      claimedAt: state.agreedHeight(),
      amount: 0n,
      txHeight: 0,
      closedAt: 0,
      refusedCount: rec?.refusedCount ?? 0,
    });
    state.setOpen(peer, txid, true);
    return ok(undefined);
  }

  private onAttest(
    state: MoneroStateWriter,
    peer: number,
    txid: Uint8Array,
    round: number,
    verdict: Verdict,
  ): ModuleResult<void> {
    const rec = state.deposit(txid);
    if (!rec) return fail("unknown_claim", `no claim of ${toHex(txid)} to attest`, { peer });
    if (rec.round !== round)
      return fail("stale_attestation", `claim round ${round} of ${toHex(txid)} is over (now ${rec.round})`, {
        peer,
      });
    const previous = state.attestation(txid, peer);
    if (previous)
      return sameVerdict(previous, verdict)
        ? ok(undefined)
        : fail("already_attested", `guardian ${peer} already attested ${toHex(txid)} differently`, { peer });
    // Settled already: a late verdict (the t-th came first) changes nothing and is not kept.
    if (rec.state !== "open") return ok(undefined);
    state.putAttestation(txid, peer, verdict);
    this.settle(state, txid, rec);
    return ok(undefined);
  }

  /** Credits the deposit when t guardians agree it is valid, rejects it when t say it is not. */
  private settle(state: MoneroStateWriter, txid: Uint8Array, rec: DepositRecord): void {
    if (state.isOwnTransaction(txid)) {
      // Claimed before consensus agreed it is a payout's: no verdict can credit it; closed at once.
      this.close(state, txid, rec, "own_transaction");
      return;
    }
    const all = state.attestations(txid);
    const invalid = all.filter((a) => !a.verdict.valid);
    for (const a of all) {
      const v = a.verdict;
      if (!v.valid) continue;
      const agreeing = all.filter((b) => sameVerdict(b.verdict, v)).length;
      if (agreeing >= this.t) {
        state.putDeposit(txid, { ...rec, state: "credited", amount: v.amount, txHeight: v.txHeight });
        state.setOpen(rec.claimedBy, txid, false);
        return;
      }
    }
    if (invalid.length >= this.t) {
      // The most common reason names the claim's fault (ties: the first in guardian order).
      const counts = new Map<string, number>();
      for (const a of invalid)
        if (!a.verdict.valid) counts.set(a.verdict.reason, (counts.get(a.verdict.reason) ?? 0) + 1);
      const first = invalid[0]!.verdict;
      let reason = first.valid ? "nothing_received" : first.reason;
      for (const [r, c] of counts) if (c > (counts.get(reason) ?? 0)) reason = r as typeof reason;
      this.close(state, txid, rec, reason);
    }
  }

  /** Rejects an open claim (releasing the txid) for `reason`. */
  private close(state: MoneroStateWriter, txid: Uint8Array, rec: DepositRecord, reason: InvalidReason): void {
    const agreed = state.agreedHeight();
    state.putDeposit(txid, { ...rec, state: "rejected", closedAt: agreed, closedReason: reason });
    state.setOpen(rec.claimedBy, txid, false);
    state.setClosed(agreed, txid, true);
  }

  // ---- transactions ----------------------------------------------------------------------------

  processInput(db: WriteTx, input: TxInput, spender: Uint8Array): ModuleResult<InputMeta> {
    // Reserves agreed short: no e-cash is issued against Monero until they recover (reserves-agreement.ts).
    const paused = this.reservesPause(db);
    if (paused) return reservesShort(paused, "spending a Monero deposit into e-cash");
    let txid: Uint8Array;
    try {
      const decoded = decodeMoneroInput(input.payload);
      if (decoded.kind === "subaddress_deposit")
        return this.subaddresses.processInput(db, decoded.txid, decoded.index, spender);
      txid = decoded.txid;
    } catch (e) {
      return fail(
        "malformed_input",
        `a monero input is 0x01 | txid (32) or 0x02 | txid (32) | index u32: ${(e as Error).message}`,
      );
    }
    const state = new MoneroStateWriter(db);
    const rec = state.deposit(txid);
    const hex = toHex(txid);
    if (!rec) return fail("unknown_deposit", `no claim of Monero transaction ${hex}: claim it first`);
    switch (rec.state) {
      case "spent":
        return fail("spent_input", `deposit ${hex} was already turned into e-cash`);
      case "open":
        return fail(
          "deposit_not_credited",
          `deposit ${hex} is not verified yet: ${state.attestations(txid).length} of ${this.t} guardians attested it`,
        );
      case "rejected":
      case "expired":
        return fail("deposit_rejected", `the claim of ${hex} was ${rec.state} (${rec.closedReason ?? "?"})`);
      case "credited":
        break;
    }
    const agreed = state.agreedHeight();
    const confirmations = confirmationsAt(agreed, rec.txHeight);
    if (confirmations < this.config.confirmations)
      return fail(
        "deposit_unconfirmed",
        `deposit ${hex} has ${confirmations} of ${this.config.confirmations} confirmations at the agreed height ${agreed}`,
        { confirmations, confirmationsRequired: this.config.confirmations, agreedHeight: agreed },
      );
    state.putDeposit(txid, { ...rec, state: "spent" });
    state.setSpentIn(txid, spender);
    const totals = state.totals();
    state.setTotals({ deposited: totals.deposited + rec.amount, count: totals.count + 1n });
    return ok({ amount: rec.amount, fee: 0n, signers: [rec.claimKey] });
  }

  /** A payout: validated (address, network, minimum, fee at the agreed rate), queued; amount + fee leave the assets. */
  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    // Reserves agreed short: no new payout until they recover (batches accepted before keep being paid).
    const paused = this.reservesPause(db);
    if (paused) return reservesShort(paused, "a payout");
    return this.payouts.processOutput(db, output, outPoint, new MoneroState(db).agreedFeeRate());
  }

  /**
   * Payouts other modules ask for (core ModuleLinks; the bridge pays accepted burns): the fee at the
   * agreed rate is deducted from the value, the rest queued like a withdrawal; refused while the
   * agreed reserves are short, as withdrawals are. The payout's outpoint is `requestOutPoint`.
   */
  readonly payoutService: PayoutService = {
    requestPayout: (db, from, request) => {
      if (request.ref.length !== 32) throw new Error("monero: a payout request's ref is 32 bytes");
      const paused = this.reservesPause(db);
      if (paused) return reservesShort(paused, "a payout");
      return this.payouts.requestPayout(
        db,
        requestOutPoint(from, request.ref),
        request.address,
        request.value,
        new MoneroState(db).agreedFeeRate(),
      );
    },
    payoutProgress: (db, from, ref): PayoutProgress | undefined => {
      const o = this.payouts.outcome(db, requestOutPoint(from, ref), new MoneroState(db).agreedHeight());
      if (!o) return undefined;
      return {
        state: o.state,
        ...(o.moneroTxid === undefined ? {} : { moneroTxid: o.moneroTxid }),
        ...(o.txKey === undefined ? {} : { txKey: o.txKey }),
        ...(o.confirmations === undefined ? {} : { confirmations: o.confirmations }),
      };
    },
  };

  /** GET payouts/terms: the quote a client pays (consensus state: t guardians give the same). */
  payoutTerms(db: ReadTx): PayoutTerms {
    const state = new MoneroState(db);
    const feeRate = state.agreedFeeRate();
    const fee = payoutFee(this.config, feeRate);
    return {
      minimum: this.config.payoutMinPiconero.toString(),
      ...(fee === undefined
        ? {}
        : { fee: fee.toString(), feeMax: (fee * FEE_OVERPAY_FACTOR_MAX).toString() }),
      feeRate,
      feeBytes: this.config.payoutFeeBytes,
      feeMin: this.config.payoutFeeMinPiconero.toString(),
      reportedFeeRates: state.reportedFeeRates(this.config.guardians).map((r) => r ?? null),
      agreedHeight: state.agreedHeight(),
    };
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): unknown {
    const outcome = this.payouts.outcome(db, outPoint, new MoneroState(db).agreedHeight());
    return outcome && payoutStatusOf(outcome);
  }

  /**
   * Assets: Σ deposits spent into the federation − Σ (payout + fee paid) accepted. The Monero fee
   * actually paid is at most the batch's payout fees (the signers' check), so the wallet holds at least this.
   */
  audit(db: ReadTx): Audit {
    const owed = this.owed(db);
    this.owedCache = owed;
    this.noteAgreedReserves(db);
    return { assets: owed.ecashBacking, liabilities: 0n };
  }

  /** GET /v1/status: payouts and deposit spends paused while the agreed reserves are short. */
  alerts(db: ReadTx): ModuleAlert[] {
    const a = this.agreedReserves(db);
    return a.state === "short" ? [{ code: "reserves_short", message: a.detail }] : [];
  }

  /** Prometheus: the agreed reserves, what is owed, and whether payouts and deposit spends are paused. */
  metrics(db: ReadTx): string {
    const a = this.agreedReserves(db);
    const l = `instance="${this.instanceId}"`;
    return [
      "# HELP conclave_monero_reserves_paused 1 while the agreed reserves are below what is owed (payouts and deposit spends refused)",
      "# TYPE conclave_monero_reserves_paused gauge",
      `conclave_monero_reserves_paused{${l}} ${a.state === "short" ? 1 : 0}`,
      "# HELP conclave_monero_reserves_state the agreed reserves' state (1 for the current one)",
      "# TYPE conclave_monero_reserves_state gauge",
      ...(["ok", "short", "unknown"] as const).map(
        (s) => `conclave_monero_reserves_state{${l},state="${s}"} ${a.state === s ? 1 : 0}`,
      ),
      "# HELP conclave_monero_reserves_required_piconero what the multisig wallet must hold: e-cash backing + credited deposits",
      "# TYPE conclave_monero_reserves_required_piconero gauge",
      `conclave_monero_reserves_required_piconero{${l}} ${a.required}`,
      "# HELP conclave_monero_reserves_agreed_piconero the balance the guardians' wallet reports agree on (absent while unknown)",
      "# TYPE conclave_monero_reserves_agreed_piconero gauge",
      ...(a.agreed === undefined ? [] : [`conclave_monero_reserves_agreed_piconero{${l}} ${a.agreed}`]),
      "# TYPE conclave_monero_reserves_fresh_reports gauge",
      `conclave_monero_reserves_fresh_reports{${l}} ${a.freshReports}`,
      "# HELP conclave_monero_fee_fund_piconero the fee fund: fees charged to payouts minus the Monero fees of confirmed batches (a batch's fee above its payouts' fees is topped up from it)",
      "# TYPE conclave_monero_fee_fund_piconero gauge",
      `conclave_monero_fee_fund_piconero{${l}} ${this.payouts.feeFund(db).fund}`,
    ].join("\n");
  }

  /** Logs once when the agreed reserves turn short (the pause starts) and once when they stop being short. */
  private noteAgreedReserves(db: ReadTx): void {
    const a = this.agreedReserves(db);
    const before = this.agreedReservesState;
    this.agreedReservesState = a.state;
    if ((a.state === "short") === (before === "short")) return;
    const fields = {
      state: a.state,
      detail: a.detail,
      required: a.required.toString(),
      agreed: a.agreed?.toString(),
      freshReports: a.freshReports,
    };
    this.context?.log(a.state === "short" ? "reserves_pause_started" : "reserves_pause_ended", fields);
  }

  /** What the multisig wallet must hold (reserves.ts): the audit's assets plus credited, unspent deposits. */
  owed(db: ReadTx): Owed {
    const state = new MoneroState(db);
    const agreedHeight = state.agreedHeight();
    return {
      ecashBacking: state.totals().deposited - this.payouts.paidOut(db),
      credited: state.creditedOutstanding(),
      agreedHeight,
      // A deposit is credited once `confirmations` deep at the agreed height: in the first
      // agreedHeight − confirmations + 1 blocks.
      walletHeightMin: Math.max(0, agreedHeight - this.config.confirmations + 1),
    };
  }

  /** The reserves monitor, for tests that drive its reads by hand. */
  get reserves(): ReservesMonitor | undefined {
    return this.reservesMonitor;
  }

  reservesView(db: ReadTx): ReservesView {
    const owed = this.owed(db);
    const pending = this.payouts.pending(db);
    const r: ReservesReport = this.reservesMonitor
      ? this.reservesMonitor.report(owed)
      : {
          state: "unknown",
          detail: "this guardian has no wallet-rpc configured for the module (guardian.local.json)",
          required: owed.ecashBacking + owed.credited,
          owed,
        };
    return {
      state: r.state,
      detail: r.detail,
      required: r.required.toString(),
      ecashBacking: owed.ecashBacking.toString(),
      credited: owed.credited.toString(),
      agreedHeight: owed.agreedHeight,
      pendingPayouts: { count: pending.count, amount: pending.amount.toString(), summed: pending.summed },
      feeFund: this.feeFundView(db),
      ...(r.wallet
        ? {
            wallet: {
              balance: r.wallet.balance.toString(),
              unlocked: r.wallet.unlocked.toString(),
              locked: r.wallet.locked.toString(),
              height: r.wallet.height,
              multisigImportNeeded: r.wallet.importNeeded,
              checkedAt: new Date(r.wallet.checkedAtMs).toISOString(),
            },
          }
        : {}),
      ...(r.surplus === undefined ? {} : { surplus: r.surplus.toString() }),
      agreed: this.agreedReservesView(db),
    };
  }

  private feeFundView(db: ReadTx): NonNullable<ReservesView["feeFund"]> {
    const f = this.payouts.feeFund(db);
    return {
      charged: f.charged.toString(),
      paid: f.paid.toString(),
      available: f.fund.toString(),
      topUpMax: f.topUpMax.toString(),
    };
  }

  private agreedReservesView(db: ReadTx): ReservesView["agreed"] {
    const a = this.agreedReserves(db);
    return {
      state: a.state,
      detail: a.detail,
      required: a.required.toString(),
      ...(a.agreed === undefined
        ? {}
        : { balance: a.agreed.toString(), surplus: (a.agreed - a.required).toString() }),
      ...(a.agreedUnlocked === undefined ? {} : { unlocked: a.agreedUnlocked.toString() }),
      freshReports: a.freshReports,
      freshReportsMin: a.freshReportsMin,
      reports: a.reports.map((r) =>
        r
          ? {
              balance: r.balance.toString(),
              unlocked: r.unlocked.toString(),
              locked: (r.balance - r.unlocked).toString(),
              walletHeight: r.walletHeight,
              fresh: r.fresh,
            }
          : null,
      ),
    };
  }

  // ---- API -------------------------------------------------------------------------------------

  // ---- subaddress deposits (subaddresses.ts) ---------------------------------------------------

  /**
   * The address requests this guardian's API took (until consensus binds their key), and its wallet's
   * deep-enough transfers to assigned subaddresses that consensus has not settled nor shows its
   * attestation of. Also tells the watcher how many subaddresses its wallet must hold.
   */
  private subaddressProposal(db: ReadTx, room: number): MoneroItem[] {
    const self = this.context?.self;
    if (self === undefined || room <= 0) return [];
    const subs = new SubaddressState(db);
    const items: MoneroItem[] = [];
    const now = this.now();
    for (const [id, q] of this.addressQueue) {
      if (subs.binding(q.claimKey) || now - q.queuedAtMs > CLAIM_QUEUE_TTL_MS) this.addressQueue.delete(id);
      else if (items.length < room)
        items.push({ kind: "address_request", claimKey: q.claimKey, signature: q.signature });
    }
    const watcher = this.watcher?.subaddresses;
    if (!watcher) return items;
    watcher.setAssigned(subs.count());
    for (const found of [...watcher.attestable()]) {
      const txid = fromHex(found.txid);
      const rec = subs.deposit(txid, found.index);
      if (rec && rec.state !== "pending") watcher.forget(found);
      else if (!subs.attestation(txid, found.index, self) && items.length < room)
        items.push({
          kind: "subaddress_seen",
          txid,
          index: found.index,
          amount: found.amount,
          txHeight: found.txHeight,
        });
    }
    return items;
  }

  private postSubaddress(body: unknown, db: ReadTx, client?: string): SubaddressAnswer {
    const req = parseBody(SubaddressRequestSchema, body);
    const claimKey = fromHex(req.claimKey);
    if (!isEd25519PublicKey(claimKey))
      throw new InvalidRequestError("claimKey is not an Ed25519 public key", { claimKey: req.claimKey });
    if (!this.subaddresses.verifyRequest(claimKey, fromHex(req.signature)))
      throw new ConclaveError(
        "bad_signature",
        "the request is not signed by claimKey (sign subaddressRequestMessage(federation address, claimKey))",
        { status: 400 },
      );
    const self = this.context?.self;
    if (self === undefined) throw new UnavailableError("this guardian's monero module is not running yet");
    const binding = new SubaddressState(db).binding(claimKey);
    if (binding) {
      const address = this.watcher?.subaddresses?.address(binding.index);
      return {
        claimKey: req.claimKey,
        state: "assigned",
        index: binding.index,
        ...(address === undefined ? {} : { address }),
      };
    }
    if (!this.addressQueue.has(req.claimKey)) {
      // A new key: counted against the client's own bound first (issue 10, item 6), so that one
      // client cannot fill this guardian's window budget for everyone.
      this.addressRequests.take(client, this.subaddresses.window(new MoneroState(db).agreedHeight()));
      const refused = this.subaddresses.refusal(db, self);
      if (refused?.code === "subaddresses_exhausted")
        throw new ConclaveError(refused.code, refused.message, { status: 409 });
      if (refused || this.addressQueue.size >= CLAIM_QUEUE_MAX)
        throw new UnavailableError(
          `this guardian cannot propose more address requests now (${refused?.message ?? "queue full"}); retry later or at another guardian`,
        );
    }
    this.addressQueue.set(req.claimKey, {
      claimKey,
      signature: fromHex(req.signature),
      queuedAtMs: this.now(),
    });
    this.context?.wake();
    return { claimKey: req.claimKey, state: "queued" };
  }

  subaddressView(db: ReadTx, claimKey: Uint8Array): SubaddressView {
    const state = new MoneroState(db);
    const subs = new SubaddressState(db);
    const agreed = state.agreedHeight();
    const base = {
      claimKey: toHex(claimKey),
      agreedHeight: agreed,
      attestationsRequired: this.t,
      confirmationsRequired: this.config.confirmations,
    };
    const binding = subs.binding(claimKey);
    if (!binding) return { ...base, state: "unassigned", deposits: [], depositsNotListed: 0 };
    const address = this.watcher?.subaddresses?.address(binding.index);
    // Deposits not yet spent first (a wallet needs those), then spent ones, SUBADDRESS_DEPOSITS_LISTED_MAX in all.
    const deposits: SubaddressDepositView[] = [];
    let total = 0;
    for (const spentPass of [false, true])
      for (const { txid, deposit: d } of subs.depositsOf(binding.index)) {
        if ((d.state === "spent") !== spentPass) continue;
        total++;
        if (deposits.length >= SUBADDRESS_DEPOSITS_LISTED_MAX) continue;
        const settled = d.state !== "pending";
        const confirmations = settled ? confirmationsAt(agreed, d.txHeight) : 0;
        deposits.push({
          txid: toHex(txid),
          state: d.state,
          attestations: d.state === "pending" ? subs.attestations(txid, binding.index).length : this.t,
          ...(settled ? { amount: d.amount.toString(), txHeight: d.txHeight } : {}),
          confirmations,
          spendable: d.state === "credited" && confirmations >= this.config.confirmations,
        });
      }
    return {
      ...base,
      state: "assigned",
      index: binding.index,
      ...(address === undefined ? {} : { address }),
      deposits,
      depositsNotListed: total - deposits.length,
    };
  }

  /**
   * A Monero txid's subaddress deposits (the status page's look-up). Cost bounded: at most
   * TX_DEPOSITS_LISTED_MAX + 1 records read and one map read of the watcher's latest poll.
   */
  subaddressTxView(db: ReadTx, txid: Uint8Array): SubaddressTxView {
    const subs = new SubaddressState(db);
    const agreed = new MoneroState(db).agreedHeight();
    const { deposits, more } = subs.depositsOfTx(txid, TX_DEPOSITS_LISTED_MAX);
    const hex = toHex(txid);
    const height = this.watcher?.nodeHeight;
    const seen = this.watcher?.subaddresses?.seenTx(hex)[0];
    return {
      txid: hex,
      agreedHeight: agreed,
      attestationsRequired: this.t,
      confirmationsRequired: this.config.confirmations,
      deposits: deposits.map(({ index, deposit: d }) => {
        const settled = d.state !== "pending";
        const confirmations = settled ? confirmationsAt(agreed, d.txHeight) : 0;
        const spentIn = d.state === "spent" ? subs.spentIn(txid, index) : undefined;
        return {
          state: d.state,
          attestations: d.state === "pending" ? subs.attestations(txid, index).length : this.t,
          ...(settled ? { txHeight: d.txHeight } : {}),
          confirmations,
          spendable: d.state === "credited" && confirmations >= this.config.confirmations,
          ...(spentIn === undefined ? {} : { spentIn: toHex(spentIn) }),
        };
      }),
      more,
      ...(seen === undefined
        ? {}
        : {
            seen: {
              ...(seen.txHeight === undefined ? {} : { txHeight: seen.txHeight }),
              confirmations:
                seen.txHeight === undefined || height === undefined
                  ? 0
                  : confirmationsAt(height, seen.txHeight),
            },
          }),
    };
  }

  subaddressSeenView(db: ReadTx, claimKey: Uint8Array): SubaddressSeenView {
    const binding = new SubaddressState(db).binding(claimKey);
    const height = this.watcher?.nodeHeight;
    const seen = binding ? (this.watcher?.subaddresses?.seenAt(binding.index) ?? []) : [];
    return {
      claimKey: toHex(claimKey),
      ...(height === undefined ? {} : { nodeHeight: height }),
      seen: seen.map((t) => ({
        txid: t.txid,
        amount: t.amount.toString(),
        ...(t.txHeight === undefined ? {} : { txHeight: t.txHeight }),
        confirmations:
          t.txHeight === undefined || height === undefined ? 0 : confirmationsAt(height, t.txHeight),
      })),
    };
  }

  private postClaim(body: unknown, db: ReadTx, client?: string): Promise<ClaimAnswer> {
    const req = parseBody(ClaimRequestSchema, body);
    return this.takeClaim(fromHex(req.txid), fromHex(req.claimKey), fromHex(req.proof), db, client);
  }

  /**
   * POST sealed-claims: a claim sealed to this guardian, from any relay. Opened through the
   * guardian's unseal capability (it refuses, naming the right guardian, what is sealed to another),
   * then taken exactly as POST claims takes a claim in clear.
   */
  private async postSealedClaim(body: unknown, db: ReadTx, client?: string): Promise<ClaimAnswer> {
    const req = parseBody(SealedClaimRequestSchema, body);
    const sealed = decodeSealed(req.sealed);
    const unseal = this.context?.unseal;
    if (!unseal) throw new UnavailableError("this guardian's monero module cannot open sealed claims yet");
    const plaintext = await unseal(sealed, SEALED_CLAIM_PURPOSE);
    let item: MoneroItem | undefined;
    try {
      item = decodeMoneroItem(plaintext);
    } catch {
      item = undefined;
    }
    if (item?.kind !== "claim")
      throw new InvalidRequestError("the sealed message opened but holds no deposit claim", {
        bytes: plaintext.length,
      });
    return this.takeClaim(item.txid, item.claimKey, item.proof, db, client);
  }

  /** A claim from either endpoint: the same checks, the same queue, the same consensus item. */
  private async takeClaim(
    txid: Uint8Array,
    claimKey: Uint8Array,
    proof: Uint8Array,
    db: ReadTx,
    client?: string,
  ): Promise<ClaimAnswer> {
    const req = { txid: toHex(txid) };
    if (!isEd25519PublicKey(claimKey))
      throw new InvalidRequestError("claimKey is not an Ed25519 public key", { claimKey: toHex(claimKey) });
    if (!isWellFormedClaimProof(proof))
      throw new InvalidRequestError(
        "proof is not a claim proof (per part: D a prime-order curve point, c and s scalars below the group order); make it with the wallet's claimProof",
      );
    const self = this.context?.self;
    if (self === undefined) throw new UnavailableError("this guardian's monero module is not running yet");
    const state = new MoneroState(db);
    if (state.isOwnTransaction(txid))
      throw new ConclaveError("own_transaction", ownTransactionMessage(req.txid), {
        status: 400,
        details: { txid: req.txid },
      });
    const rec = state.deposit(txid);
    if (rec && rec.state !== "rejected" && rec.state !== "expired") {
      if (equalBytes(rec.claimKey, claimKey) && equalBytes(rec.proof, proof))
        return { txid: req.txid, state: "already" };
      throw new ConclaveError(
        "already_claimed",
        equalBytes(rec.claimKey, claimKey)
          ? `deposit ${req.txid} is already claimed by this key with another proof`
          : `deposit ${req.txid} is already claimed by another key (${rec.state})`,
        { status: 409, details: { txid: req.txid, state: rec.state } },
      );
    }
    const id = req.txid;
    if (!this.queue.has(id)) {
      const open = state.openClaimsOf(self, this.config.openClaimsPerGuardianMax);
      if (
        this.queue.size >= CLAIM_QUEUE_MAX ||
        open + this.queue.size >= this.config.openClaimsPerGuardianMax
      )
        throw new UnavailableError(
          "this guardian has too many claims in flight; retry later or at another guardian",
        );
      // Only a claim its own nodes find real takes a place in this guardian's budget (issue 10, item 6).
      await this.claimChecks.check({ txid, claimKey, proof }, client);
    }
    this.queue.set(id, { txid, claimKey, proof, queuedAtMs: this.now() });
    this.context?.wake();
    return { txid: req.txid, state: "queued" };
  }

  payoutView(db: ReadTx, params: Record<string, string>): PayoutOutcome {
    const txid = txidParam(params);
    const index = Number(params["index"] ?? "");
    if (!isPayoutIndex(index))
      throw new InvalidRequestError(
        "an output index is an integer from 0 to 65535, or 0xffff0000 | module (4294901760 to 4294967295) for a payout another module asked for",
        { index: String(params["index"]).slice(0, 20) },
      );
    const outcome = this.payouts.outcome(db, { txid, index }, new MoneroState(db).agreedHeight());
    if (!outcome)
      throw new ConclaveError(
        "unknown_payout",
        `no payout at output ${index} of transaction ${toHex(txid)}`,
        {
          status: 404,
        },
      );
    return outcome;
  }

  heightView(db: ReadTx): HeightView {
    const state = new MoneroState(db);
    return {
      agreedHeight: state.agreedHeight(),
      reported: state.reportedHeights(this.config.guardians).map((h) => h ?? null),
      confirmations: this.config.confirmations,
    };
  }

  depositView(db: ReadTx, txid: Uint8Array): DepositView {
    const state = new MoneroState(db);
    const agreed = state.agreedHeight();
    const rec = state.deposit(txid);
    const base = {
      txid: toHex(txid),
      agreedHeight: agreed,
      attestationsRequired: this.t,
      confirmationsRequired: this.config.confirmations,
    };
    if (!rec)
      return {
        ...base,
        state: "unclaimed",
        round: 0,
        attestations: [],
        confirmations: 0,
        spendable: false,
        spent: false,
        refusedClaims: [],
        refusedClaimsNotListed: 0,
      };
    const settled = rec.state === "credited" || rec.state === "spent";
    const confirmations = settled ? confirmationsAt(agreed, rec.txHeight) : 0;
    const refused = state.refusedClaims(txid);
    const spentIn = rec.state === "spent" ? state.spentIn(txid) : undefined;
    return {
      ...base,
      state: rec.state,
      round: rec.round,
      claimKey: toHex(rec.claimKey),
      claimedBy: rec.claimedBy,
      claimedAtHeight: rec.claimedAt,
      ...(rec.state === "open" ? { expiresAtHeight: rec.claimedAt + this.config.claimExpiryBlocks } : {}),
      attestations: state.attestations(txid).map((a) => verdictView(a.guardian, a.verdict)),
      ...(settled ? { amount: rec.amount.toString(), txHeight: rec.txHeight } : {}),
      confirmations,
      spendable: rec.state === "credited" && confirmations >= this.config.confirmations,
      spent: rec.state === "spent",
      ...(spentIn === undefined ? {} : { spentIn: toHex(spentIn) }),
      ...(rec.closedReason === undefined ? {} : { closedReason: rec.closedReason }),
      refusedClaims: refused.map((r) => ({
        claimKey: toHex(r.claimKey),
        guardian: r.guardian,
        reason: r.reason,
      })),
      refusedClaimsNotListed: Math.max(0, rec.refusedCount - refused.length),
    };
  }
}

/**
 * The outpoint of a payout module `from` asked for under `ref`: (ref, 0xffff0000 | from). No
 * transaction has 4 billion outputs, and a ref is the asker's domain-separated hash, so it never
 * names a transaction output's payout. The asker shows its progress (payoutProgress), and GET
 * payouts/:ref/:index shows it as it shows any payout: no address, no amount (payout-status.ts).
 */
export function requestOutPoint(from: number, ref: Uint8Array): OutPoint {
  return { txid: ref, index: (0xffff0000 | (from & 0xffff)) >>> 0 };
}

/** An index GET payouts/:txid/:index looks up: a transaction output's (0 to 65535) or a requested payout's. */
function isPayoutIndex(index: number): boolean {
  if (!Number.isInteger(index) || index < 0) return false;
  return index <= 0xffff || (index >= 0xffff0000 && index <= 0xffffffff);
}
