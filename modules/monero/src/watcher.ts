// The background half of a guardian's Monero module: it watches THIS guardian's own monerod and
// wallet-rpc, outside consensus, and turns what it sees into verdicts that enter consensus only as
// this guardian's proposals (Height, Attest). Nothing here decides anything: t guardians must agree.
//
// A verdict on a claim (txid, claim key, proof) against the federation's address:
//   - the transaction is unknown to this node: no verdict yet (it may still be relayed); the claim
//     expires if t guardians never settle it;
//   - check_tx_proof(txid, address, proof, claimProofMessage(claimKey)) says the proof is not good
//     (a wrong tx key, or a proof made for another claim key: a copied one), or good with nothing
//     received (another recipient), or less than the minimum: Invalid at once (the answer is a
//     function of the transaction, the proof and the message, so it is final even in the pool);
//   - otherwise Valid{amount, txHeight} once the transaction is `confirmations` deep on this node
//     (not merely in a block): an attestation says "buried deep on my node", so a shallow reorg that
//     moves or drops the transaction before t guardians attest cannot credit a stale height.
// RPC failures are logged and retried with exponential backoff; they never yield a verdict. A node
// that cannot be reached backs off the whole loop; an error the node answers about one claim (it
// is up, this claim troubles it) backs off that claim alone, so one bad claim cannot stall the
// height reports and the other claims.
//
// Subaddress deposits (SubaddressWatcher, with this guardian's share of the federation's wallet): it
// keeps the wallet's subaddress table up to the count consensus assigned (create_address), and lists
// the wallet's incoming transfers to those subaddresses; one `confirmations` deep on this node is
// attested (txid, index, amount, txHeight). No tx key is involved: the wallet's view key finds them.
import {
  DaemonRpc,
  MoneroRpcError,
  MoneroStatusError,
  TXIDS_PER_CALL_MAX,
  WalletRpc,
  WalletRpcErrorCode,
} from "@conclave/monero";
import { PollLoop } from "@conclave/core-server";
import { outProofText } from "@conclave/monero/tx-proof";
import { FEE_PER_BYTE_MAX, isWellFormedClaimProof } from "./common.js";
import type { Verdict } from "./common.js";
import { txKeyImages } from "./tx-inputs.js";

/** What the watcher needs from the chain: this guardian's own monerod and wallet-rpc. */
export interface ChainSource {
  /** monerod's block count (get_height "height"). */
  height(): Promise<number>;
  /** Where the node sees a transaction: unknown, in the pool, or in the block at `blockHeight`. */
  transaction(txid: string): Promise<{ readonly found: false } | TxLocation>;
  /**
   * check_tx_proof against `address` with the claim's proof (OutProofV2 parts, hex) and message:
   * whether the proof is good and how much `address` received in `txid`. Throws ProofRefusedError
   * when the wallet refuses the proof itself (its part count does not match the transaction's keys).
   */
  proven(
    txid: string,
    proof: string,
    message: string,
    address: string,
  ): Promise<{ readonly good: boolean; readonly received: bigint }>;
  /** get_fee_estimate: piconero per byte (without it, this guardian reports no fee rate). */
  feeRate?(): Promise<bigint>;
  /**
   * Whether the federation's wallet sent `txid` (it spends the wallet's outputs): such a transaction
   * is never a deposit, whatever a proof says of its outputs (invariant 7). Without it, only the
   * consensus state's record of payout txids protects this guardian.
   */
  ownTransaction?(txid: string, txHeight?: number): Promise<OwnTransactionCheck>;
  /**
   * Has the wallet scan the block at `txHeight` now, if it has not yet: called once per claim when
   * its transaction is first seen in a block short of its depth, so that ownTransaction at depth
   * finds that block scanned and skips the refresh. A warm-up only: failures are ignored.
   */
  scanThrough?(txHeight: number): Promise<void>;
}

/** How this guardian's own nodes tell that the federation's wallet sent a transaction. */
export type OwnTransactionCheck =
  | { readonly own: false }
  /** wallet: the wallet lists it as sent (out, pending, failed); key_image: it spends an output of the wallet. */
  | { readonly own: true; readonly by: "wallet" | "key_image" };

/** An incoming transfer to subaddress (0, index), as this guardian's wallet sees it. */
export interface IncomingToSubaddress {
  readonly txid: string;
  /** The minor index (account 0); 0 is the primary address. */
  readonly index: number;
  readonly amount: bigint;
  /** The block holding it; undefined while in the pool. */
  readonly txHeight: number | undefined;
  /** The wallet itself sent the transaction (a payout paying the federation's own subaddress): never a deposit. */
  readonly sent?: boolean;
}

/** This guardian's share of the federation's wallet, for subaddress deposits (account 0). */
export interface SubaddressSource {
  /** Subaddresses in account 0, the primary address included. */
  subaddressCount(): Promise<number>;
  /** Makes `count` more subaddresses at the next indexes; returns the new count. */
  createSubaddresses(count: number): Promise<number>;
  /** The addresses of subaddresses (0, index). */
  subaddresses(indexes: readonly number[]): Promise<Map<number, string>>;
  /**
   * Scans new blocks, then lists incoming transfers of account 0: in the pool, and in blocks above
   * minHeight; those of a transaction the wallet itself sent (a payout's change, or a payout to one
   * of the federation's own subaddresses) marked `sent`.
   */
  incoming(minHeight: number): Promise<IncomingToSubaddress[]>;
  /** As ChainSource.ownTransaction: checked once more before a transfer is attested. */
  ownTransaction?(txid: string): Promise<OwnTransactionCheck>;
}

export type TxLocation =
  | { readonly found: true; readonly inPool: true }
  | { readonly found: true; readonly inPool: false; readonly blockHeight: number };

/** The wallet refused the proof itself (not an RPC or network failure): a final verdict, not a retry. */
export class ProofRefusedError extends Error {
  override readonly name = "ProofRefusedError";
}

/**
 * wallet2::check_tx_proof's own refusals of a proof's text (after our checks, only "Signature size
 * mismatch with additional tx pubkeys": a part count that is not the transaction's key count), and
 * "Tx pubkey was not found". Anything else (e.g. "Failed to get transaction from daemon") is retried.
 */
const PROOF_REFUSALS = /signature|tx pubkey was not found/i;

/** get_transfers / get_transfer_by_txid types of a transfer the wallet sent. */
const SENT_TYPES = new Set(["out", "pending", "failed"]);

/** The real chain: a guardian's monerod and monero-wallet-rpc (any open wallet can run check_tx_key). */
export class RpcChainSource implements ChainSource, SubaddressSource {
  private readonly daemon: DaemonRpc;
  private readonly wallet: WalletRpc;

  constructor(daemonUrl: string, walletRpcUrl: string) {
    this.daemon = new DaemonRpc({ url: daemonUrl, timeoutMs: 15_000 });
    this.wallet = new WalletRpc({ url: walletRpcUrl, timeoutMs: 30_000 });
  }

  async height(): Promise<number> {
    return (await this.daemon.getHeight()).height;
  }

  /**
   * get_fee_estimate's `fee`: the lowest priority's piconero per byte, the rate a transfer at the
   * default priority pays when the pool is not congested (its fee is then rounded up to a multiple of
   * quantization_mask, 10^4 piconero: noise next to the 3000-byte margin of payoutFeeBytes).
   */
  async feeRate(): Promise<bigint> {
    return (await this.daemon.getFeeEstimate()).feePerByte;
  }

  async transaction(txid: string): Promise<{ readonly found: false } | TxLocation> {
    const r = await this.daemon.getTransactions([txid]);
    const tx = r.found.find((t) => t.txid === txid);
    if (!tx) return { found: false };
    if (tx.inPool || tx.blockHeight === undefined) return { found: true, inPool: true };
    return { found: true, inPool: false, blockHeight: tx.blockHeight };
  }

  /** transaction() for many txids: one get_transactions call per 100 (the monero-tx watch, tx-watch.ts). */
  async transactions(txids: readonly string[]): Promise<Map<string, { readonly found: false } | TxLocation>> {
    const out = new Map<string, { readonly found: false } | TxLocation>();
    for (let i = 0; i < txids.length; i += TXIDS_PER_CALL_MAX) {
      const r = await this.daemon.getTransactions(txids.slice(i, i + TXIDS_PER_CALL_MAX));
      for (const tx of r.found)
        out.set(
          tx.txid,
          tx.inPool || tx.blockHeight === undefined
            ? { found: true, inPool: true }
            : { found: true, inPool: false, blockHeight: tx.blockHeight },
        );
    }
    for (const t of txids) if (!out.has(t)) out.set(t, { found: false });
    return out;
  }

  async proven(
    txid: string,
    proof: string,
    message: string,
    address: string,
  ): Promise<{ readonly good: boolean; readonly received: bigint }> {
    // Consensus never orders a malformed proof; this guard keeps wallet-rpc away from one whatever
    // happens above (0.18 crashed on malformed secrets before: docs/monero.md, Traps).
    const bytes = /^([0-9a-f]{192})+$/.test(proof) ? Uint8Array.from(Buffer.from(proof, "hex")) : undefined;
    if (!bytes || !isWellFormedClaimProof(bytes))
      throw new ProofRefusedError("not a well-formed claim proof");
    try {
      const r = await this.wallet.checkTxProof({ txid, address, signature: outProofText(bytes), message });
      return { good: r.good, received: r.received };
    } catch (e) {
      if (MoneroRpcError.hasCode(e, WalletRpcErrorCode.UnknownError) && PROOF_REFUSALS.test(e.rpcMessage))
        throw new ProofRefusedError(e.rpcMessage);
      throw e;
    }
  }

  /**
   * Invariant 7 at this guardian: the federation's wallet sent `txid` when its wallet lists it as an
   * outgoing transfer (out, pending or failed: every guardian submits each payout's final set, which
   * records it), or when one of the transaction's key images (read from monerod's copy of it) is the
   * key image of an output of the wallet (a multisig wallet knows those after import_multisig_info:
   * this covers a transaction a guardian did not submit itself, e.g. one a Byzantine signer completed
   * privately and broadcast). docs/monero.md, "Nothing the federation sent is a deposit".
   *
   * With `txHeight` (the block holding `txid`, as the watcher asks at depth), the wallet is refreshed
   * only when it has not scanned that block yet (a refresh costs ~90 ms of wallet-rpc time even with
   * nothing new; the later blocks say nothing about this transaction), and its sent transfers are
   * read from that block and the unconfirmed ones (get_transfers without the pool, ~2 ms) instead of
   * get_transfer_by_txid (~48 ms: it updates the pool state first). Issue 13's deposit latency.
   */
  async scanThrough(txHeight: number): Promise<void> {
    if ((await this.wallet.getHeight()) <= txHeight) await this.wallet.refresh();
  }

  async ownTransaction(txid: string, txHeight?: number): Promise<OwnTransactionCheck> {
    if (txHeight !== undefined) {
      await this.scanThrough(txHeight);
      const r = await this.wallet.getTransfers({
        in: false,
        out: true,
        pending: true,
        failed: true,
        pool: false,
        accountIndex: 0,
        minHeight: Math.max(0, txHeight - 1),
        maxHeight: txHeight,
      });
      if ([...r.out, ...r.pending, ...r.failed].some((t) => t.txid === txid))
        return { own: true, by: "wallet" };
    } else {
      await this.wallet.refresh();
      try {
        const mine = await this.wallet.getTransferByTxid(txid);
        if (mine.some((t) => SENT_TYPES.has(t.type))) return { own: true, by: "wallet" };
      } catch (e) {
        // -8: the wallet has no transfer in it (it neither sent nor received anything there).
        if (!MoneroRpcError.hasCode(e, WalletRpcErrorCode.WrongTxid)) throw e;
      }
    }
    const r = await this.daemon.getTransactions([txid]);
    const tx = r.found.find((t) => t.txid === txid);
    if (!tx) return { own: false };
    const images = txKeyImages(tx.hex);
    if (images.length === 0) return { own: false };
    const outputs = await this.wallet.incomingTransfers({ transferType: "all" });
    const known = new Set(outputs.map((o) => o.keyImage).filter((k): k is string => k !== undefined));
    return images.some((k) => known.has(k)) ? { own: true, by: "key_image" } : { own: false };
  }

  async subaddressCount(): Promise<number> {
    return (await this.wallet.getAddress({ accountIndex: 0 })).addresses.length;
  }

  async createSubaddresses(count: number): Promise<number> {
    const r = await this.wallet.createAddress({ accountIndex: 0, count });
    return Math.max(...r.addressIndices) + 1;
  }

  async subaddresses(indexes: readonly number[]): Promise<Map<number, string>> {
    const r = await this.wallet.getAddress({ accountIndex: 0, addressIndices: indexes });
    return new Map(r.addresses.map((a) => [a.addressIndex, a.address]));
  }

  async incoming(minHeight: number): Promise<IncomingToSubaddress[]> {
    await this.wallet.refresh();
    const r = await this.wallet.getTransfers({
      in: true,
      out: true,
      pending: true,
      failed: true,
      pool: true,
      accountIndex: 0,
      minHeight,
    });
    // A transaction the wallet sent (a payout) that pays the wallet: its change, or a payout to one
    // of the federation's own subaddresses. Never a deposit (invariant 7).
    const sent = new Set([...r.out, ...r.pending, ...r.failed].map((t) => t.txid));
    return [...r.in, ...r.pool]
      .filter((t) => t.subaddrIndex.major === 0)
      .map((t) => ({
        txid: t.txid,
        index: t.subaddrIndex.minor,
        amount: t.amount,
        txHeight: t.type === "pool" || t.height === 0 ? undefined : t.height,
        ...(sent.has(t.txid) ? { sent: true } : {}),
      }));
  }
}

export interface WatcherOptions {
  readonly chain: ChainSource;
  readonly address: string;
  readonly confirmations: number;
  readonly depositMin: bigint;
  readonly pollMs: number;
  /** Longest wait between polls after repeated failures. */
  readonly backoffMaxMs?: number;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  /** Called when something new can be proposed (a height, a verdict). */
  readonly onChange: () => void;
  /**
   * How often the node's block count alone is read between full polls (`get_height`, about 1 ms
   * and 0.15 ms of monerod's CPU a call here): a new block starts a full poll at once instead of
   * after the rest of `pollMs`, so a deposit reaching its depth is attested within about this
   * long rather than within `pollMs` (2 s by default). Without it, blocks are seen at full polls.
   */
  readonly tipPollMs?: number;
  /** Called when the tip poll sees a new block (the payout signer's confirmations wait on blocks). */
  readonly onNewBlock?: () => void;
  readonly now?: () => number;
  /** This guardian's share of the federation's wallet: without it, no subaddress deposit is attested. */
  readonly subaddresses?: SubaddressSource;
}

/** One claim this guardian has yet to attest: what consensus ordered (txid, round, proof and its message). */
export interface WantedClaim {
  readonly txid: string;
  readonly round: number;
  /** The claim's proof parts, hex. */
  readonly proof: string;
  /** claimProofMessage(claim key). */
  readonly message: string;
}

/** Claims checked per poll, so that a burst of claims cannot starve the height updates. */
export const CLAIMS_PER_POLL_MAX = 32;
/** How long stop() waits for a poll in flight. */
export const STOP_WAIT_MS = 2_000;
/** Claims remembered at once (consensus bounds open claims; this bounds the watcher's memory). */
export const WANTED_MAX = 8192;

interface Work {
  readonly claim: WantedClaim;
  /** Known once check_tx_proof answered (good, positive and at least the minimum). */
  received?: bigint;
  /** The block the wallet was asked to scan through before the depth (ChainSource.scanThrough). */
  scannedThrough?: number;
  verdict?: Verdict;
  /** Errors the nodes answered about this claim in a row, and when to try it again (ms). */
  failures: number;
  retryAtMs: number;
}

/** The node answered (it is up) but refused this one request: back off the claim, not the loop. */
function isClaimError(e: unknown): boolean {
  return e instanceof MoneroRpcError || e instanceof MoneroStatusError;
}

export class ChainWatcher {
  /** This node's block count (undefined until the first successful poll). */
  nodeHeight: number | undefined;
  /** This node's fee estimate, piconero per byte (undefined until read, or when out of range). */
  nodeFeeRate: number | undefined;
  /** Subaddress deposits (undefined without a SubaddressSource). */
  readonly subaddresses: SubaddressWatcher | undefined;
  private readonly work = new Map<string, Work>();
  private readonly loop: PollLoop;
  /** The tip poll (with `tipPollMs`): the block count alone, poking `loop` on a new block. */
  private readonly tipLoop: PollLoop | undefined;
  /** The block count the tip poll read last. */
  private tipHeight: number | undefined;
  /** Set by stop(): a poll in flight gives up between claims. */
  private stopped = false;
  private feeRateRefused = false;
  /** Claims checked least recently first. */
  private cursor = 0;

  private readonly now: () => number;

  constructor(private readonly options: WatcherOptions) {
    this.now = options.now ?? Date.now;
    this.subaddresses = options.subaddresses
      ? new SubaddressWatcher(options.subaddresses, options.confirmations, options.depositMin, options.log)
      : undefined;
    this.loop = new PollLoop(() => this.poll(), {
      pollMs: options.pollMs,
      backoffExponentMax: 16,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
      stopWaitMs: STOP_WAIT_MS,
      onRecovered: (after) => options.log("rpc_recovered", { after }),
      onFailure: (e, failures, retryInMs) =>
        options.log("rpc_failed", { error: e instanceof Error ? e.message : String(e), failures, retryInMs }),
    });
    // A node that fails is reported (and backed off) by the full poll; the tip poll backs off quietly.
    this.tipLoop =
      options.tipPollMs === undefined
        ? undefined
        : new PollLoop(() => this.pollTip(), {
            pollMs: options.tipPollMs,
            backoffExponentMax: 16,
            backoffMaxMs: options.backoffMaxMs ?? 60_000,
            stopWaitMs: STOP_WAIT_MS,
          });
  }

  start(): void {
    this.stopped = false;
    this.loop.start();
    this.tipLoop?.start();
  }

  /** Stops polling; waits for a poll in flight at most STOP_WAIT_MS (a hung node must not hold up a shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.loop.stop(), this.tipLoop?.stop()]);
  }

  /**
   * One tip poll: the node's block count; a count the full poll has not seen yet runs the full poll
   * now (coalesced with one in flight: PollLoop.poke) and tells `onNewBlock`. Nothing is proposed
   * from here: heights and verdicts still come from the full poll, with all its checks.
   */
  async pollTip(): Promise<void> {
    const height = await this.options.chain.height();
    if (height === this.tipHeight) return;
    this.tipHeight = height;
    if (height === this.nodeHeight) return;
    this.loop.poke();
    this.options.onNewBlock?.();
  }

  /**
   * The claims this guardian must still attest (from the consensus state). Work on claims no longer
   * listed (settled, expired, or a newer round) is dropped.
   */
  setWanted(claims: readonly WantedClaim[]): void {
    const keep = new Set<string>();
    let added = false;
    for (const c of claims.slice(0, WANTED_MAX)) {
      const id = `${c.txid}:${c.round}`;
      keep.add(id);
      if (this.work.has(id)) continue;
      this.work.set(id, { claim: c, failures: 0, retryAtMs: 0 });
      added = true;
    }
    for (const id of [...this.work.keys()]) if (!keep.has(id)) this.work.delete(id);
    // A claim consensus just ordered is checked now, not at the next poll (one poke per change of
    // the wanted set, which only consensus changes; a poll checks at most CLAIMS_PER_POLL_MAX).
    if (added) this.loop.poke();
  }

  /** This guardian's verdict on a claim, once it has one. */
  verdict(txid: string, round: number): Verdict | undefined {
    return this.work.get(`${txid}:${round}`)?.verdict;
  }

  /** One poll: the height, then up to CLAIMS_PER_POLL_MAX claims without a verdict. Throws on RPC failure. */
  async poll(): Promise<void> {
    const { chain } = this.options;
    let changed = false;
    const height = await chain.height();
    if (height !== this.nodeHeight) {
      this.nodeHeight = height;
      changed = true;
    }
    if (chain.feeRate && (await this.pollFeeRate(chain.feeRate.bind(chain)))) changed = true;
    const now = this.now();
    const pending = [...this.work.values()].filter((w) => w.verdict === undefined && w.retryAtMs <= now);
    const start = pending.length === 0 ? 0 : this.cursor % pending.length;
    const batch = [...pending.slice(start), ...pending.slice(0, start)].slice(0, CLAIMS_PER_POLL_MAX);
    this.cursor = start + batch.length;
    for (const w of batch) {
      if (this.stopped) break;
      try {
        if (await this.check(w, height)) changed = true;
        w.failures = 0;
      } catch (e) {
        if (!isClaimError(e)) throw e;
        w.failures++;
        const delay = Math.min(
          this.options.pollMs * 2 ** Math.min(w.failures, 16),
          this.options.backoffMaxMs ?? 60_000,
        );
        w.retryAtMs = this.now() + delay;
        // Logged at the first failure and then at powers of two, so a stuck claim cannot flood the log.
        if ((w.failures & (w.failures - 1)) === 0)
          this.options.log("claim_check_failed", {
            txid: w.claim.txid,
            error: e instanceof Error ? e.message : String(e),
            failures: w.failures,
            retryInMs: delay,
          });
      }
    }
    // Heights and verdicts are proposed now, not after the subaddress scan (a wallet refresh and
    // get_transfers with the pool, ~150 ms here, on every poll once any subaddress is assigned).
    if (changed) this.options.onChange();
    if (this.subaddresses && !this.stopped && (await this.subaddresses.poll(height))) this.options.onChange();
  }

  /** Reads the node's fee estimate; true when it changed. A value no item can carry is logged, not kept. */
  private async pollFeeRate(read: () => Promise<bigint>): Promise<boolean> {
    const perByte = await read();
    const inRange = perByte >= 1n && perByte <= BigInt(FEE_PER_BYTE_MAX);
    if (!inRange && !this.feeRateRefused)
      this.options.log("fee_rate_refused", { perByte: perByte.toString(), max: FEE_PER_BYTE_MAX });
    this.feeRateRefused = !inRange;
    const next = inRange ? Number(perByte) : undefined;
    if (next === this.nodeFeeRate) return false;
    this.nodeFeeRate = next;
    return true;
  }

  /** Advances one claim; true when it got a verdict. */
  private async check(w: Work, height: number): Promise<boolean> {
    const { chain, address, confirmations, depositMin } = this.options;
    const { txid, proof, message } = w.claim;
    const where = await chain.transaction(txid);
    if (!where.found) return false;
    if (w.received === undefined) {
      let received: bigint;
      try {
        const checked = await chain.proven(txid, proof, message, address);
        if (!checked.good) {
          w.verdict = { valid: false, reason: "bad_proof" };
          return true;
        }
        received = checked.received;
      } catch (e) {
        if (!(e instanceof ProofRefusedError)) throw e;
        w.verdict = { valid: false, reason: "bad_proof" };
        return true;
      }
      if (received === 0n) {
        w.verdict = { valid: false, reason: "nothing_received" };
        return true;
      }
      if (received < depositMin) {
        w.verdict = { valid: false, reason: "below_minimum" };
        return true;
      }
      w.received = received;
    }
    if (where.inPool) return false;
    if (height - where.blockHeight < confirmations) {
      // In a block, not deep enough: the wallet scans that block now, so that the check at depth
      // (below) needs no refresh (~100 ms of wallet-rpc time) on the block that brings it there.
      if (w.scannedThrough !== where.blockHeight && chain.scanThrough) {
        w.scannedThrough = where.blockHeight;
        await chain.scanThrough(where.blockHeight).catch(() => undefined);
      }
      return false;
    }
    // Asked at depth, not before: by then this guardian's wallet has seen the transaction in a block
    // (and recorded its own payout's set as sent). An own transaction's proof is good (the payout's tx
    // key proves its change received), so this is the check that refuses it here.
    const ownStart = this.now();
    const own = await chain.ownTransaction?.(txid, where.blockHeight);
    const ownCheckMs = this.now() - ownStart;
    if (own?.own) {
      w.verdict = { valid: false, reason: "own_transaction" };
      this.options.log("own_transaction_claimed", { txid, by: own.by });
      return true;
    }
    w.verdict = { valid: true, amount: w.received, txHeight: where.blockHeight };
    this.options.log("deposit_verified", {
      txid,
      amount: w.received.toString(),
      txHeight: where.blockHeight,
      height,
      ownCheckMs,
    });
    return true;
  }
}

/** Subaddresses made per create_address call (wallet-rpc 0.18's limit) and addresses read per get_address. */
export const SUBADDRESSES_PER_CALL_MAX = 64;
/** Subaddress addresses remembered (those the API was asked for). */
export const SUBADDRESS_CACHE_MAX = 4096;
/** Deep-enough transfers remembered until consensus settles them. */
export const FOUND_MAX = 8192;
/** Blocks below the last poll's unconfirmed range that the next poll lists again (a reorg margin). */
const RESCAN_MARGIN_BLOCKS = 20;

/** A transfer to an assigned subaddress that this guardian can attest. */
export interface FoundDeposit {
  readonly txid: string;
  readonly index: number;
  readonly amount: bigint;
  readonly txHeight: number;
}

/**
 * The subaddress half of the watcher: keeps the wallet's subaddress table covering every index
 * consensus assigned (create_address is idempotent by count: after a restart the wallet's count is
 * read again), reads the addresses the API is asked for, and finds incoming transfers to assigned
 * subaddresses (the pool and shallow ones only for progress views; deep ones to attest).
 */
export class SubaddressWatcher {
  private assigned = 0;
  private walletCount: number | undefined;
  private readonly addresses = new Map<number, string>();
  private readonly wantedAddresses = new Set<number>();
  private scanFrom = 0;
  private readonly found = new Map<string, FoundDeposit>();
  /** Transactions the wallet sent (never attested), so that each is checked once. */
  private readonly own = new Set<string>();
  private seen = new Map<number, IncomingToSubaddress[]>();
  /** The same transfers by txid (a look-up by Monero txid: one map read). */
  private seenByTx = new Map<string, IncomingToSubaddress[]>();

  constructor(
    private readonly source: SubaddressSource,
    private readonly confirmations: number,
    private readonly depositMin: bigint,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
  ) {}

  /** The count consensus assigned (from the state, at every proposal). */
  setAssigned(count: number): void {
    this.assigned = count;
  }

  /** The address of subaddress `index` when this guardian's wallet has given it; asks for it otherwise. */
  address(index: number): string | undefined {
    const a = this.addresses.get(index);
    if (a === undefined && this.wantedAddresses.size < SUBADDRESS_CACHE_MAX) this.wantedAddresses.add(index);
    return a;
  }

  /** Transfers to subaddress `index` this wallet saw at its latest poll (the pool and shallow ones included). */
  seenAt(index: number): readonly IncomingToSubaddress[] {
    return this.seen.get(index) ?? [];
  }

  /** Transfers of transaction `txid` (hex) to assigned subaddresses this wallet saw at its latest poll. */
  seenTx(txid: string): readonly IncomingToSubaddress[] {
    return this.seenByTx.get(txid) ?? [];
  }

  /** Transfers deep enough to attest, until consensus settles them (forget). */
  attestable(): Iterable<FoundDeposit> {
    return this.found.values();
  }

  forget(d: FoundDeposit): void {
    this.found.delete(`${d.txid}:${d.index}`);
  }

  /** A transfer of a transaction the federation's wallet sent: never attested, logged once. */
  private setAsideOwn(t: IncomingToSubaddress, by: string): void {
    if (this.own.has(t.txid)) return;
    if (this.own.size >= FOUND_MAX) this.own.clear();
    this.own.add(t.txid);
    this.log("own_transaction_ignored", { txid: t.txid, index: t.index, amount: t.amount.toString(), by });
  }

  /** One poll; true when something new can be proposed. RPC failures throw (the loop backs off). */
  async poll(height: number): Promise<boolean> {
    if (this.assigned === 0) return false;
    this.walletCount ??= await this.source.subaddressCount();
    while (this.walletCount <= this.assigned) {
      const count = Math.min(SUBADDRESSES_PER_CALL_MAX, this.assigned + 1 - this.walletCount);
      this.walletCount = await this.source.createSubaddresses(count);
      this.log("subaddresses_created", { count, walletCount: this.walletCount });
    }
    const wanted = [...this.wantedAddresses]
      .filter((i) => i >= 1 && i <= this.assigned)
      .slice(0, SUBADDRESSES_PER_CALL_MAX);
    if (wanted.length > 0) {
      const got = await this.source.subaddresses(wanted);
      if (this.addresses.size + got.size > SUBADDRESS_CACHE_MAX) this.addresses.clear();
      for (const [i, a] of got) this.addresses.set(i, a);
      for (const i of wanted) this.wantedAddresses.delete(i);
    }
    let changed = wanted.length > 0;
    const seen = new Map<number, IncomingToSubaddress[]>();
    const byTx = new Map<string, IncomingToSubaddress[]>();
    for (const t of await this.source.incoming(this.scanFrom)) {
      if (t.index < 1 || t.index > this.assigned) continue;
      if (t.sent || this.own.has(t.txid)) {
        this.setAsideOwn(t, "wallet");
        continue;
      }
      const list = seen.get(t.index) ?? [];
      if (list.length < SUBADDRESSES_PER_CALL_MAX) {
        list.push(t);
        const ofTx = byTx.get(t.txid) ?? [];
        ofTx.push(t);
        byTx.set(t.txid, ofTx);
      }
      seen.set(t.index, list);
      const id = `${t.txid}:${t.index}`;
      if (
        t.txHeight === undefined ||
        height - t.txHeight < this.confirmations ||
        t.amount < this.depositMin ||
        this.found.has(id) ||
        this.found.size >= FOUND_MAX
      )
        continue;
      // Checked once more at depth: a payout this guardian's wallet did not submit (it was down, or a
      // Byzantine signer broadcast it privately) is recognised by its key images.
      const own = await this.source.ownTransaction?.(t.txid);
      if (own?.own) {
        this.setAsideOwn(t, own.by);
        continue;
      }
      this.found.set(id, { txid: t.txid, index: t.index, amount: t.amount, txHeight: t.txHeight });
      this.log("subaddress_deposit_seen", {
        txid: t.txid,
        index: t.index,
        amount: t.amount.toString(),
        txHeight: t.txHeight,
        height,
      });
      changed = true;
    }
    this.seen = seen;
    this.seenByTx = byTx;
    this.scanFrom = Math.max(0, height - this.confirmations - RESCAN_MARGIN_BLOCKS);
    return changed;
  }
}
