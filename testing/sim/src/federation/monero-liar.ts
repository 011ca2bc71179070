// An honest guardian whose own Monero node lies (`--monero-lying-node`, run-seed mode
// `monero-lying-node`): the Monero counterpart of evm-liar.ts.
//
// Every other fault of the simulated Monero nodes is honest (lag, outages, slow answers: a prefix
// of the true chain or no answer). Here one honest guardian, drawn from the seed when the Byzantine
// guardians leave room in f (B < f), runs the real monero module against a monerod and wallet-rpc
// that answer falsely: a compromised or buggy node, or a wallet file gone wrong. Its engine is
// honest; its module's reports (heights, fee rates, attestations, subaddress sightings, reserves,
// payout votes and blobs) carry the lies into consensus through the module's own code, not through
// forged items as a Byzantine guardian's do (monero-byzantine.ts). The federation must treat it as
// one faulty guardian: every money checker holds, and the liar itself must not crash.
//
// Each lie is something the real RPC surface can return (ChainSource, SubaddressSource,
// ReservesSource of watcher.ts / reserves.ts, PayoutWallet of payout-watcher.ts), drawn per seed on
// the liar's own stream (profile `MoneroLies`):
//   - the head (get_height): far ahead of the chain, or stuck at a block for good;
//   - the fee estimate (get_fee_estimate): far above or below the chain's;
//   - phantom deposits by proof: get_transactions finds a txid no chain has, deep in a block, and
//     check_tx_proof finds it good and paying the federation (an attacker posts such claims at the
//     liar's API: its intake lets them into consensus);
//   - real deposits by proof inflated (check_tx_proof's `received` doubled) or at a wrong depth
//     (get_transactions answers a block deeper than the real one, or mined while in the pool);
//   - subaddress deposits (get_transfers): phantom transfers to assigned subaddresses, real ones with
//     doubled amounts or deeper heights, real ones missing, the `sent` mark of its own payouts lost;
//     get_transfer_by_txid denies its own payouts;
//   - reserves (incoming_transfers): a balance far above or below the wallet's;
//   - the payout rounds: garbage exports, refused imports, refused or garbage sets and signatures,
//     false refusals of good sets (a false fault accusation), a submit answering a txid it never
//     broadcast, a payout reported mined when it is not (get_transactions) or not found when it is,
//     reported unmineable (gone) while mined, made-up spenders of the inputs (key images reported
//     spent), a wrong tx key.
import { MoneroMultisigError, WalletRpcErrorCode, MoneroRpcError } from "@conclave/monero";
import { FEE_PER_BYTE_MAX, isWellFormedClaimProof, ProofRefusedError } from "@conclave/module-monero";
import type {
  ChainSource,
  CreatedSet,
  GoneCheck,
  IncomingToSubaddress,
  OwnTransactionCheck,
  PayoutWallet,
  ReservesSource,
  SubaddressSource,
  TxLocation,
  WalletReserves,
} from "@conclave/module-monero";
import type { Rng } from "../rng.js";
import type { MoneroChain } from "../chains/monero-chain.js";
import type { SimMoneroShare } from "../chains/monero-wallet.js";

export type MoneroHeadLie = "true" | "ahead" | "stuck";

export interface MoneroLies {
  readonly head: MoneroHeadLie;
  /** For `ahead`: blocks the node claims beyond its real head. For `stuck`: blocks above the start it stays at. */
  readonly headBlocks: number;
  /** get_fee_estimate: the chain's, FEE_PER_BYTE_MAX, or 1 piconero per byte. */
  readonly fee: "true" | "high" | "low";
  /** Unknown txids found deep in a block, their proofs good and paying the federation. */
  readonly phantomProofs: boolean;
  /** check_tx_proof's received doubled for real transactions. */
  readonly inflatedProofs: boolean;
  /** Real transactions answered in a deeper block than theirs (or mined while in the pool). */
  readonly wrongDepth: boolean;
  /** get_transfers: phantom transfers, doubled amounts, deeper heights, missing ones, `sent` lost. */
  readonly falseTransfers: boolean;
  /** get_transfer_by_txid: every transaction "not ours". */
  readonly denyOwn: boolean;
  /** incoming_transfers: the balance times 10, or a tenth of it. */
  readonly reserves: "true" | "high" | "low";
  /** Per call of a payout step: how often the wallet or its node lies there (0: never). */
  readonly payoutLieRate: number;
}

export interface MoneroLiarStats {
  xmrLiar: number;
  xmrLiarHeadAhead: number;
  xmrLiarHeadStuck: number;
  xmrLiarFeeLies: number;
  xmrLiarPhantomProofs: number;
  /** Phantom claims the attacker posted at the liar's API, and those its intake took. */
  xmrLiarPhantomClaims: number;
  xmrLiarPhantomClaimsTaken: number;
  xmrLiarInflatedProofs: number;
  xmrLiarWrongDepth: number;
  xmrLiarPhantomTransfers: number;
  xmrLiarInflatedTransfers: number;
  xmrLiarMissingTransfers: number;
  xmrLiarOwnDenied: number;
  xmrLiarReservesLies: number;
  xmrLiarGarbageExports: number;
  xmrLiarRefusedImports: number;
  xmrLiarRefusedCreates: number;
  xmrLiarFalseRefusals: number;
  xmrLiarBadSignatures: number;
  xmrLiarFalseSubmits: number;
  xmrLiarFalseMined: number;
  xmrLiarFalseNotFound: number;
  xmrLiarFalseGone: number;
  xmrLiarFalseSpenders: number;
  xmrLiarWrongTxKeys: number;
  /** Blocks at which the agreed reserves were checked against the truthful reports (monero.ts). */
  xmrLiarReservesChecks: number;
}

export const emptyMoneroLiarStats = (): MoneroLiarStats => ({
  xmrLiar: 0,
  xmrLiarHeadAhead: 0,
  xmrLiarHeadStuck: 0,
  xmrLiarFeeLies: 0,
  xmrLiarPhantomProofs: 0,
  xmrLiarPhantomClaims: 0,
  xmrLiarPhantomClaimsTaken: 0,
  xmrLiarInflatedProofs: 0,
  xmrLiarWrongDepth: 0,
  xmrLiarPhantomTransfers: 0,
  xmrLiarInflatedTransfers: 0,
  xmrLiarMissingTransfers: 0,
  xmrLiarOwnDenied: 0,
  xmrLiarReservesLies: 0,
  xmrLiarGarbageExports: 0,
  xmrLiarRefusedImports: 0,
  xmrLiarRefusedCreates: 0,
  xmrLiarFalseRefusals: 0,
  xmrLiarBadSignatures: 0,
  xmrLiarFalseSubmits: 0,
  xmrLiarFalseMined: 0,
  xmrLiarFalseNotFound: 0,
  xmrLiarFalseGone: 0,
  xmrLiarFalseSpenders: 0,
  xmrLiarWrongTxKeys: 0,
  xmrLiarReservesChecks: 0,
});

/** What the liar's node lies about, drawn from its own stream. At least one lie is always drawn. */
export function drawMoneroLies(rng: Rng): MoneroLies {
  const head = rng.pick(["true", "ahead", "stuck"] as const);
  const lies: MoneroLies = {
    head,
    headBlocks: head === "ahead" ? rng.range(5, 100_000) : rng.range(2, 40),
    fee: rng.pick(["true", "high", "low"] as const),
    phantomProofs: rng.chance(0.6),
    inflatedProofs: rng.chance(0.5),
    wrongDepth: rng.chance(0.5),
    falseTransfers: rng.chance(0.6),
    denyOwn: rng.chance(0.4),
    reserves: rng.pick(["true", "high", "low"] as const),
    payoutLieRate: rng.chance(0.7) ? rng.pick([0.1, 0.3, 0.6]) : 0,
  };
  return lies;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * The liar's monerod and wallet-rpc: the honest share's answers (its lag, outages and slow answers
 * included: `inner`) with the drawn lies applied. It is the module's chain, subaddress source,
 * reserves source and payout wallet.
 */
export class LyingMoneroShare implements ChainSource, SubaddressSource, ReservesSource, PayoutWallet {
  /** Phantom transactions it found (txid -> block), answered the same each time. */
  private readonly phantomTxs = new Map<string, number>();
  /** Phantom subaddress transfers it lists (made once, listed from then on). */
  private readonly phantomTransfers: IncomingToSubaddress[] = [];
  /** Real transfers it drops from its list (drawn once per txid). */
  private readonly missing = new Map<string, boolean>();
  /** Subaddresses in its table (the watcher keeps it at the assigned count). */
  private table = 1;

  constructor(
    private readonly inner: SimMoneroShare,
    private readonly chain: MoneroChain,
    private readonly g: number,
    readonly lies: MoneroLies,
    private readonly rng: Rng,
    private readonly stats: MoneroLiarStats,
    private readonly confirmations: number,
  ) {}

  /** The node's true block count (its lag included). */
  private realView(): number {
    return this.chain.viewHeight(this.g);
  }

  /** Whether a payout step lies this time (the drawn rate). */
  private payoutLie(): boolean {
    return this.lies.payoutLieRate > 0 && this.rng.chance(this.lies.payoutLieRate);
  }

  private rpcError(method: string, code: number, message: string): MoneroRpcError {
    return new MoneroRpcError({
      url: `sim://wallet-rpc-${this.g}`,
      method,
      rpcCode: code,
      rpcMessage: message,
    });
  }

  // ---- ChainSource ------------------------------------------------------------------------------

  async height(): Promise<number> {
    const real = await this.inner.height();
    if (this.lies.head === "ahead") {
      this.stats.xmrLiarHeadAhead++;
      return real + this.lies.headBlocks;
    }
    const stuck = 100 + this.lies.headBlocks;
    if (this.lies.head === "stuck" && real > stuck) {
      this.stats.xmrLiarHeadStuck++;
      return stuck;
    }
    return real;
  }

  async feeRate(): Promise<bigint> {
    const real = await this.inner.feeRate();
    if (this.lies.fee === "true") return real;
    this.stats.xmrLiarFeeLies++;
    return this.lies.fee === "high" ? BigInt(FEE_PER_BYTE_MAX) : 1n;
  }

  async transaction(txid: string): Promise<{ readonly found: false } | TxLocation> {
    const real = await this.inner.transaction(txid);
    if (!real.found) {
      if (!this.lies.phantomProofs || this.chain.transaction(txid) !== undefined) return real;
      // A txid no chain has: found deep in a block (one drawn once per txid).
      let at = this.phantomTxs.get(txid);
      if (at === undefined) {
        at = Math.max(1, this.realView() - this.confirmations - this.rng.range(1, 20));
        this.phantomTxs.set(txid, at);
      }
      this.stats.xmrLiarPhantomProofs++;
      return { found: true, inPool: false, blockHeight: at };
    }
    if (!this.lies.wrongDepth) return real;
    this.stats.xmrLiarWrongDepth++;
    const view = this.realView();
    if (real.inPool)
      return { found: true, inPool: false, blockHeight: Math.max(1, view - this.confirmations) };
    return { found: true, inPool: false, blockHeight: Math.max(1, real.blockHeight - this.confirmations) };
  }

  async proven(
    txid: string,
    proof: string,
    message: string,
    address: string,
  ): Promise<{ readonly good: boolean; readonly received: bigint }> {
    if (this.lies.phantomProofs && this.chain.transaction(txid) === undefined) {
      const bytes = /^([0-9a-f]{192})+$/.test(proof) ? Uint8Array.from(Buffer.from(proof, "hex")) : undefined;
      if (!bytes || !isWellFormedClaimProof(bytes))
        throw new ProofRefusedError("not a well-formed claim proof");
      this.stats.xmrLiarPhantomProofs++;
      // As much as a real deposit, more than the minimum.
      return { good: true, received: BigInt(this.rng.range(1, 9)) * 10n ** 11n };
    }
    const real = await this.inner.proven(txid, proof, message, address);
    if (!this.lies.inflatedProofs || !real.good || real.received === 0n) return real;
    this.stats.xmrLiarInflatedProofs++;
    return { good: true, received: real.received * 2n };
  }

  async ownTransaction(txid: string): Promise<OwnTransactionCheck> {
    const real = await this.inner.ownTransaction(txid);
    if (!this.lies.denyOwn || !real.own) return real;
    this.stats.xmrLiarOwnDenied++;
    return { own: false };
  }

  // ---- SubaddressSource ---------------------------------------------------------------------

  async subaddressCount(): Promise<number> {
    this.table = await this.inner.subaddressCount();
    return this.table;
  }

  async createSubaddresses(count: number): Promise<number> {
    this.table = await this.inner.createSubaddresses(count);
    return this.table;
  }

  subaddresses(indexes: readonly number[]): Promise<Map<number, string>> {
    return this.inner.subaddresses(indexes);
  }

  async incoming(minHeight: number): Promise<IncomingToSubaddress[]> {
    const real = await this.inner.incoming(minHeight);
    if (!this.lies.falseTransfers) return real;
    const out: IncomingToSubaddress[] = [];
    for (const t of real) {
      let drop = this.missing.get(t.txid);
      if (drop === undefined) {
        drop = this.rng.chance(0.2);
        this.missing.set(t.txid, drop);
      }
      if (drop && t.index > 0) {
        this.stats.xmrLiarMissingTransfers++;
        continue;
      }
      if (t.sent === true) {
        // Its own payout's output, the mark lost.
        this.stats.xmrLiarOwnDenied++;
        out.push({ txid: t.txid, index: t.index, amount: t.amount, txHeight: t.txHeight });
        continue;
      }
      if (t.index > 0 && this.rng.chance(0.5)) {
        this.stats.xmrLiarInflatedTransfers++;
        out.push({
          ...t,
          amount: t.amount * 2n,
          txHeight: t.txHeight === undefined ? undefined : Math.max(1, t.txHeight - this.confirmations),
        });
        continue;
      }
      out.push(t);
    }
    // Now and then a new phantom transfer to an assigned subaddress, deep in a block.
    if (this.table > 1 && this.rng.chance(0.1)) {
      this.phantomTransfers.push({
        txid: hex(this.rng.bytes(32)),
        index: this.rng.range(1, this.table - 1),
        amount: BigInt(this.rng.range(1, 9)) * 10n ** 11n,
        txHeight: Math.max(minHeight + 1, this.realView() - this.confirmations - 2),
      });
    }
    for (const p of this.phantomTransfers)
      if (p.txHeight === undefined || p.txHeight > minHeight) {
        this.stats.xmrLiarPhantomTransfers++;
        out.push(p);
      }
    return out;
  }

  // ---- ReservesSource -----------------------------------------------------------------------

  async read(): Promise<WalletReserves> {
    const real = await this.inner.read();
    if (this.lies.reserves === "true") return real;
    this.stats.xmrLiarReservesLies++;
    const f = (x: bigint): bigint => (this.lies.reserves === "high" ? x * 10n : x / 10n);
    return { ...real, balance: f(real.balance), unlocked: f(real.unlocked) };
  }

  // ---- PayoutWallet -------------------------------------------------------------------------

  async exportInfo(): Promise<string> {
    const real = await this.inner.exportInfo();
    if (!this.payoutLie()) return real;
    this.stats.xmrLiarGarbageExports++;
    return hex(this.rng.bytes(real.length / 2 > 0 ? Math.min(real.length / 2, 256) : 64));
  }

  async importInfos(infos: readonly string[]): Promise<void> {
    if (this.payoutLie()) {
      this.stats.xmrLiarRefusedImports++;
      throw this.rpcError(
        "import_multisig_info",
        WalletRpcErrorCode.BadMultisigInfo,
        "Failed to import multisig info",
      );
    }
    return this.inner.importInfos(infos);
  }

  async create(
    destinations: readonly { address: string; amount: bigint }[],
    only?: readonly string[],
  ): Promise<CreatedSet> {
    if (this.payoutLie()) {
      this.stats.xmrLiarRefusedCreates++;
      throw this.rpcError("transfer", WalletRpcErrorCode.NotEnoughMoney, "not enough money");
    }
    return this.inner.create(destinations, only);
  }

  async check(
    txset: string,
    expected: {
      destinations: readonly { address: string; amount: bigint }[];
      feeMax: bigint;
      root?: string;
      keyImages?: readonly string[];
    },
  ): Promise<void> {
    await this.inner.check(txset, expected);
    if (!this.payoutLie()) return;
    // A good set refused: the named inputs "not this wallet's outputs" (key images it misreports).
    this.stats.xmrLiarFalseRefusals++;
    throw new MoneroMultisigError("the set's inputs are not the outputs its creator named", {});
  }

  async sign(txset: string): Promise<{ txset: string; complete: boolean }> {
    const real = await this.inner.sign(txset);
    if (!this.payoutLie()) return real;
    this.stats.xmrLiarBadSignatures++;
    // A signed set whose signature part is garbage (the same length, the flag as the wallet said).
    const bytes = Buffer.from(real.txset, "hex");
    const at = this.rng.int(Math.max(1, bytes.length));
    if (bytes.length > 0) bytes[at] = bytes[at]! ^ 0xff;
    return { txset: bytes.toString("hex"), complete: real.complete };
  }

  /** Reads the set as it is (a garbled one it signed included: then it cannot be read). */
  signedKeyImages(txset: string): Promise<readonly string[]> {
    return this.inner.signedKeyImages(txset);
  }

  async submit(txset: string): Promise<string> {
    if (this.payoutLie()) {
      // "Submitted", and nothing was relayed: a txid no chain has.
      this.stats.xmrLiarFalseSubmits++;
      return hex(this.rng.bytes(32));
    }
    return this.inner.submit(txset);
  }

  async spentBy(txset: string): Promise<string | undefined> {
    const real = await this.inner.spentBy(txset);
    if (!this.payoutLie()) return real;
    this.stats.xmrLiarFalseSpenders++;
    return hex(this.rng.bytes(32));
  }

  async spenderOf(keyImages: readonly string[]): Promise<string | undefined> {
    const real = await this.inner.spenderOf(keyImages);
    if (!this.payoutLie()) return real;
    this.stats.xmrLiarFalseSpenders++;
    return hex(this.rng.bytes(32));
  }

  async minedSpenderAmong(
    txids: readonly string[],
    keyImages: readonly string[],
  ): Promise<string | undefined> {
    const real = await this.inner.minedSpenderAmong(txids, keyImages);
    if (real !== undefined || txids.length === 0 || !this.payoutLie()) return real;
    // One of the voted txids, "mined spending them".
    this.stats.xmrLiarFalseSpenders++;
    return this.rng.pick(txids);
  }

  async unmineable(txs: readonly GoneCheck[]): Promise<string[]> {
    const real = await this.inner.unmineable(txs);
    if (this.lies.payoutLieRate === 0) return real;
    // Every watched transaction "gone", mined or not, while it lies about them.
    const extra = txs.filter((t) => !real.includes(t.txid));
    if (extra.length === 0 || !this.payoutLie()) return real;
    this.stats.xmrLiarFalseGone += extra.length;
    return [...real, ...extra.map((t) => t.txid)];
  }

  async txKey(txid: string): Promise<string> {
    const real = await this.inner.txKey(txid);
    if (!this.payoutLie()) return real;
    this.stats.xmrLiarWrongTxKeys++;
    return hex(this.rng.bytes(32));
  }

  async location(txid: string): Promise<number | undefined> {
    const real = await this.inner.location(txid);
    if (!this.payoutLie()) return real;
    const deep = Math.max(1, this.realView() - this.confirmations - 1);
    if (real === undefined || real === 0 || (real > deep && this.rng.chance(0.5))) {
      // Mined (deep enough), it says: in the pool, unknown, or not yet at its depth.
      this.stats.xmrLiarFalseMined++;
      return deep;
    }
    this.stats.xmrLiarFalseNotFound++;
    return undefined;
  }

  remember(duty: string, blob: string): Promise<void> {
    return this.inner.remember(duty, blob);
  }

  recall(duty: string): Promise<string | undefined> {
    return this.inner.recall(duty);
  }
}
