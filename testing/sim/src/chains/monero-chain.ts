// A simulated Monero chain, deterministic from the seed: outputs with owners and key images,
// transactions (inputs by key image, outputs, fee, txid, tx key), a pool shared by every node, blocks
// and reorgs, locked outputs (10 blocks; coinbase-like 60), and what monerod refuses (a key image
// spent in a block or the pool, an input that does not exist or is still locked). Each guardian's
// share of the multisig wallet (monero-wallet.ts) reads this chain through its own node's view
// (lag, outages). What is not modelled (ring signatures, decoys, real fees per byte, tx sizes beyond
// a formula, relay delays, alternative chains seen by lagging nodes): docs/simulator.md.
//
// Real parts: addresses (packages/monero's encoder, valid keys on the curve) and the tx keys and
// payment proofs (r·G is each transaction's public key; OutProofV2 parts are checked with
// packages/monero's checkTxProofPart), so a client's real claimProof() is what the guardians check.
import { createHash } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeAddress } from "@conclave/monero";
import { ED25519_ORDER } from "@conclave/monero/tx-proof";
import type { Rng } from "../rng.js";
import { HEALTHY_NODE, Trace } from "./chain.js";
import type { NodeFaults, SimBlockHeader, SimulatedChain } from "./chain.js";

/** An ordinary output can be spent once the chain has this many blocks on top (CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE; measured: change locked 10 blocks). */
export const SPENDABLE_AGE_BLOCKS = 10;
/** A coinbase output: 60 blocks (CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW; measured). */
export const COINBASE_UNLOCK_BLOCKS = 60;
/**
 * Transaction weight in bytes (measured on 0.18 regtest, docs/monero.md "Fees"): 1 input and 2
 * outputs 1507; each further CLSAG input (ring 16) +659; each further output ≈ +727 (8 payouts
 * and change weighed 6593).
 */
export function txWeightBytes(inputs: number, outputs: number): number {
  return 1507 + 659 * Math.max(0, inputs - 1) + 727 * Math.max(0, outputs - 2);
}

export type OutputOwner =
  | { readonly kind: "federation"; readonly index: number }
  | { readonly kind: "user"; readonly address: string };

export interface SimOutput {
  /** txid:n */
  readonly id: string;
  readonly txid: string;
  readonly n: number;
  readonly amount: bigint;
  readonly owner: OutputOwner;
  readonly keyImage: string;
  /** Blocks on top before it can be spent (10, or 60 for a coinbase-like output). */
  readonly unlockBlocks: number;
}

export interface SimTransaction {
  readonly txid: string;
  /** Key images spent (federation outputs' key images, or a user's). */
  readonly keyImages: readonly string[];
  readonly outputs: readonly SimOutput[];
  readonly fee: bigint;
  /** The tx secret key r (32 bytes, hex): whoever made or submitted it holds it. */
  readonly txKey: string;
  /** R = r·G, hex. */
  readonly txPublicKey: string;
  /** Spends federation outputs (a payout). */
  readonly fromFederation: boolean;
}

export interface SimBlock extends SimBlockHeader {
  readonly txids: readonly string[];
}

export type TxWhere =
  | { readonly where: "unknown" }
  | { readonly where: "pool" }
  | { readonly where: "block"; readonly height: number };

/** monerod refused a transaction (wallet-rpc answers -36 / -37 for it). */
export class TxRefused extends Error {
  override readonly name = "TxRefused";
  constructor(
    readonly reason: "double_spend" | "unknown_input" | "locked_input" | "bad_signatures",
    message: string,
  ) {
    super(message);
  }
}

export interface MoneroChainOptions {
  readonly rng: Rng;
  /** Guardians (each has a node view with its own faults). */
  readonly guardians: number;
  /** The federation's multisig address; generated from the rng when absent. */
  readonly federationAddress?: string;
  readonly network?: "mainnet" | "testnet" | "stagenet";
  /** Blocks the guardians' code waits (the module's confirmations): the finality depth. */
  readonly confirmations: number;
  /** Blocks mined at the start (outputs need SPENDABLE_AGE_BLOCKS on top; the module's heights start here). */
  readonly startHeight?: number;
  /** get_fee_estimate's answer, piconero per byte. */
  readonly feePerByte?: bigint;
  readonly now?: () => number;
}

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

function bytesToScalar(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v % ED25519_ORDER;
}

function scalarHex(v: bigint): string {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return Buffer.from(out).toString("hex");
}

/** A valid address whose keys derive from `seed` (the keys are real points; nobody holds the secrets). */
export function simAddress(
  network: "mainnet" | "testnet" | "stagenet",
  kind: "standard" | "subaddress",
  seed: string,
): string {
  const key = (label: string) => ed25519.getPublicKey(Buffer.from(sha(`${label}|${seed}`), "hex"));
  return encodeAddress({ network, kind, publicSpendKey: key("spend"), publicViewKey: key("view") });
}

export class MoneroChain implements SimulatedChain {
  readonly name = "monero";
  readonly trace = new Trace();
  readonly finalityDepth: number;
  readonly federationAddress: string;
  readonly network: "mainnet" | "testnet" | "stagenet";
  feePerByte: bigint;
  private readonly rng: Rng;
  private readonly blocks: SimBlock[] = [];
  private readonly txs = new Map<string, SimTransaction>();
  /** Txids in the pool, in arrival order. */
  private pool: string[] = [];
  /** txid -> block index, for the canonical chain. */
  private readonly minedAt = new Map<string, number>();
  /** The canonical chain's transactions in order (so a node's scan skips empty blocks). */
  private readonly chainTxs: { readonly txid: string; readonly height: number }[] = [];
  /** key image -> txid spending it in the canonical chain. */
  private readonly spentInChain = new Map<string, string>();
  /** output id -> output, for outputs of canonical blocks and pool transactions. */
  private readonly outputs = new Map<string, SimOutput>();
  private readonly byKeyImage = new Map<string, SimOutput>();
  /** key image -> the transaction whose output it is (kept when the output vanishes: the wallet's memory of its inputs' sources). */
  private readonly sourceTxOf = new Map<string, string>();
  /** Transactions the miner leaves out of its blocks while they are here (`--monero-deep-reorg-detach`). */
  private readonly censored = new Set<string>();
  /**
   * Pool transactions one guardian's node alone has (txid -> guardian): the one that submitted it
   * before a deep reorg detached its input's source; every other node refused it (the pools are one
   * here, monerod's are per node). Mined, it is everyone's.
   */
  private readonly poolOnlyAt = new Map<string, number>();
  private readonly subaddressCache = new Map<number, string>();
  private readonly subaddressIndex = new Map<string, number>();
  private readonly nodeFaults: NodeFaults[];
  private readonly now: () => number;
  private counter = 0;
  /** Secrets of the multisig shares' signatures (the simulator's god view, checked at submission). */
  readonly shareSecrets: readonly string[];

  constructor(options: MoneroChainOptions) {
    this.rng = options.rng;
    this.network = options.network ?? "mainnet";
    this.finalityDepth = options.confirmations;
    this.feePerByte = options.feePerByte ?? 20_000n;
    this.now = options.now ?? (() => 0);
    this.federationAddress =
      options.federationAddress ?? simAddress(this.network, "standard", `federation|${this.rng.u32()}`);
    this.shareSecrets = Array.from({ length: options.guardians }, (_, g) =>
      sha(`share|${g}|${this.rng.u32()}`),
    );
    this.nodeFaults = Array.from({ length: options.guardians }, () => ({ ...HEALTHY_NODE }));
    const start = options.startHeight ?? 100;
    for (let i = 0; i < start; i++) this.mine();
  }

  // ---- SimulatedChain ----------------------------------------------------------------------------

  height(): number {
    return this.blocks.length;
  }

  faults(g: number): NodeFaults {
    const f = this.nodeFaults[g];
    if (!f) throw new RangeError(`no guardian ${g}`);
    return f;
  }

  viewHeight(g: number): number {
    return Math.max(1, this.blocks.length - this.faults(g).lagBlocks);
  }

  /** Mines the pool (every transaction still valid, in arrival order) into a new block. */
  mine(): SimBlock {
    const height = this.blocks.length;
    const parent = this.blocks[height - 1]?.hash ?? "genesis";
    const txids: string[] = [];
    const rest: string[] = [];
    for (const txid of this.pool) {
      const tx = this.txs.get(txid)!;
      if (!this.censored.has(txid) && this.validAt(tx, height + 1, true) === undefined) {
        this.applyMined(tx, height);
        txids.push(txid);
      } else rest.push(txid);
    }
    this.pool = rest;
    const hash = sha(`${parent}|${height}|${txids.join(",")}|${this.rng.u32()}`);
    const block: SimBlock = { height, hash, parent, txids, timeMs: this.now() };
    this.blocks.push(block);
    this.trace.add(`block ${height} ${hash.slice(0, 12)} [${txids.map((t) => t.slice(0, 8)).join(" ")}]`);
    return block;
  }

  /**
   * A longer fork replaces the top `depth` blocks: their transactions go back to the pool (as
   * monerod does), except `drop`, which the fork double-spent (a conflicting transaction paying
   * the same inputs back to their owner is mined instead); then depth + 1 blocks are mined and
   * pool transactions that no longer fit (inputs gone or spent) are evicted.
   */
  reorg(
    depth: number,
    options: {
      drop?: readonly string[];
      /** Detached and kept out of the fork's blocks until `release` (back in the pool, inputs unspent). */
      censor?: readonly string[];
      /** Pool transactions only this guardian's node keeps after the reorg (the others refused them). */
      onlyAt?: readonly (readonly [txid: string, guardian: number])[];
    } = {},
  ): void {
    if (depth < 1 || depth >= this.blocks.length) throw new RangeError(`reorg depth ${depth}`);
    // Only an outside user's payment can be double-spent by a fork (the shares never sign twice).
    for (const txid of options.drop ?? [])
      if (this.txs.get(txid)?.fromFederation)
        throw new RangeError(`reorg: ${txid.slice(0, 8)} is the federation's`);
    const undone: string[] = [];
    for (let i = 0; i < depth; i++) {
      const b = this.blocks.pop()!;
      for (const txid of [...b.txids].reverse()) {
        this.unapplyMined(this.txs.get(txid)!);
        undone.unshift(txid);
      }
    }
    const dropped = new Set(options.drop ?? []);
    for (const txid of options.censor ?? []) this.censored.add(txid);
    for (const [txid, g] of options.onlyAt ?? []) this.poolOnlyAt.set(txid, g);
    this.pool = [...undone, ...this.pool];
    const conflicts: string[] = [];
    for (const txid of dropped) {
      const tx = this.txs.get(txid);
      if (!tx || this.minedAt.has(txid)) continue;
      this.pool = this.pool.filter((t) => t !== txid);
      this.forgetOutputs(tx);
      conflicts.push(
        this.addTx(
          this.makeTx(tx.keyImages, [{ owner: { kind: "user", address: "fork" }, amount: 1n }], 0n, false),
        ),
      );
    }
    this.pool = [...conflicts, ...this.pool.filter((t) => !conflicts.includes(t))];
    this.trace.add(
      `reorg ${depth} dropped [${[...dropped].map((t) => t.slice(0, 8)).join(" ")}]` +
        (options.censor?.length ? ` censored [${options.censor.map((t) => t.slice(0, 8)).join(" ")}]` : ""),
    );
    for (let i = 0; i <= depth; i++) this.mine();
    this.evictInvalid();
  }

  /** The miner stops censoring `txid`: mined with the next block if it is valid. */
  release(txid: string): void {
    if (this.censored.delete(txid)) this.trace.add(`released ${txid.slice(0, 8)}`);
  }

  /** Whether the miner still leaves `txid` out of its blocks. */
  isCensored(txid: string): boolean {
    return this.censored.has(txid);
  }

  // ---- payments from outside -----------------------------------------------------------------

  /** The address of the federation's subaddress (0, index); index 0 is the primary address. */
  subaddress(index: number): string {
    if (index === 0) return this.federationAddress;
    let a = this.subaddressCache.get(index);
    if (a === undefined) {
      a = simAddress(this.network, "subaddress", `${this.federationAddress}|${index}`);
      this.subaddressCache.set(index, a);
      this.subaddressIndex.set(a, index);
    }
    return a;
  }

  /** Who an address belongs to (the federation's primary address or a subaddress it derived, or a user). */
  ownerOf(address: string): OutputOwner {
    if (address === this.federationAddress) return { kind: "federation", index: 0 };
    const index = this.subaddressIndex.get(address);
    return index === undefined ? { kind: "user", address } : { kind: "federation", index };
  }

  /**
   * An outside user pays: one transaction from the user's own (unmodelled) funds, into the pool.
   * Returns its txid and tx key (32 bytes), what the user's wallet holds for a payment proof.
   */
  pay(
    to: readonly { readonly address: string; readonly amount: bigint }[],
    options: { coinbase?: boolean } = {},
  ): { txid: string; txKey: Uint8Array } {
    const keyImage = sha(`user-input|${this.counter++}|${this.rng.u32()}`);
    const tx = this.makeTx(
      [keyImage],
      to.map((d) => ({ owner: this.ownerOf(d.address), amount: d.amount })),
      BigInt(txWeightBytes(1, to.length + 1)) * this.feePerByte,
      false,
      options.coinbase ? COINBASE_UNLOCK_BLOCKS : SPENDABLE_AGE_BLOCKS,
    );
    this.addTx(tx);
    this.trace.add(
      `pay ${tx.txid.slice(0, 8)} ${to.map((d) => `${d.address.slice(0, 6)}:${d.amount}`).join(",")}`,
    );
    return { txid: tx.txid, txKey: Uint8Array.from(Buffer.from(tx.txKey, "hex")) };
  }

  /** A user pays the federation's subaddress `index` (0: the primary address). */
  payFederation(amount: bigint, index = 0): { txid: string; txKey: Uint8Array; address: string } {
    const address = this.subaddress(index);
    return { ...this.pay([{ address, amount }]), address };
  }

  // ---- transactions -------------------------------------------------------------------------

  /** A fresh tx secret key r (canonical, non-zero) and R = r·G. */
  freshTxKey(): { txKey: string; txPublicKey: string } {
    let r = 0n;
    while (r === 0n) r = bytesToScalar(this.rng.bytes(32));
    return {
      txKey: scalarHex(r),
      txPublicKey: Buffer.from(ed25519.Point.BASE.multiply(r).toBytes()).toString("hex"),
    };
  }

  /** A transaction (not yet in the pool); `key` when its tx key was chosen before (a multisig set carries it). */
  makeTx(
    keyImages: readonly string[],
    outs: readonly { owner: OutputOwner; amount: bigint }[],
    fee: bigint,
    fromFederation: boolean,
    unlockBlocks = SPENDABLE_AGE_BLOCKS,
    key: { txKey: string; txPublicKey: string } = this.freshTxKey(),
    salt = "",
  ): SimTransaction {
    const txid = sha(
      `tx|${keyImages.join(",")}|${outs.map((o) => `${JSON.stringify(o.owner)}:${o.amount}`).join(",")}|${fee}|${key.txPublicKey}|${salt}`,
    );
    const outputs = outs.map((o, n) => ({
      id: `${txid}:${n}`,
      txid,
      n,
      amount: o.amount,
      owner: o.owner,
      keyImage: sha(`key-image|${txid}:${n}`),
      unlockBlocks,
    }));
    return { txid, keyImages: [...keyImages], outputs, fee, ...key, fromFederation };
  }

  /**
   * monerod's send_raw_transaction: the same txid again is accepted (a resubmission, measured);
   * a key image spent by another transaction in a block or the pool, an input that is no output
   * of the canonical chain or still locked, is refused.
   */
  submit(tx: SimTransaction, guardian?: number): void {
    if (this.txs.has(tx.txid) && (this.minedAt.has(tx.txid) || this.pool.includes(tx.txid))) {
      if (this.where(tx.txid, this.blocks.length, guardian).where !== "unknown") return;
      // Only another node has it in its pool: this node judges it afresh (as below).
      const refused = this.validAt(tx, this.blocks.length + 1, true);
      if (refused) {
        this.trace.add(`refused ${tx.txid.slice(0, 8)} ${refused.reason}`);
        throw refused;
      }
      this.poolOnlyAt.delete(tx.txid);
      return;
    }
    const refused = this.validAt(tx, this.blocks.length + 1, false);
    if (refused) {
      this.trace.add(`refused ${tx.txid.slice(0, 8)} ${refused.reason}`);
      throw refused;
    }
    this.addTx(tx);
    this.trace.add(`submitted ${tx.txid.slice(0, 8)}`);
    this.onSubmitted?.(tx, guardian);
  }

  /** Told of every transaction a node newly took into the pool, and which guardian's node (a world's hook). */
  onSubmitted: ((tx: SimTransaction, guardian: number | undefined) => void) | undefined = undefined;

  private addTx(tx: SimTransaction): string {
    this.txs.set(tx.txid, tx);
    this.pool.push(tx.txid);
    for (const o of tx.outputs) {
      this.sourceTxOf.set(o.keyImage, tx.txid);
      this.outputs.set(o.id, o);
      this.byKeyImage.set(o.keyImage, o);
    }
    return tx.txid;
  }

  private forgetOutputs(tx: SimTransaction): void {
    for (const o of tx.outputs) {
      this.outputs.delete(o.id);
      this.byKeyImage.delete(o.keyImage);
    }
  }

  /** Why `tx` cannot go into block `atCount - 1` (or the pool), or undefined. */
  private validAt(tx: SimTransaction, atCount: number, mining: boolean): TxRefused | undefined {
    for (const ki of tx.keyImages) {
      const by = this.spentInChain.get(ki);
      if (by !== undefined && by !== tx.txid)
        return new TxRefused(
          "double_spend",
          `key image ${ki.slice(0, 8)} already spent in ${by.slice(0, 8)}`,
        );
      if (!mining) {
        const inPool = this.pool.find((t) => t !== tx.txid && this.txs.get(t)!.keyImages.includes(ki));
        if (inPool !== undefined)
          return new TxRefused(
            "double_spend",
            `key image ${ki.slice(0, 8)} already spent in the pool by ${inPool.slice(0, 8)}`,
          );
      }
      const out = this.byKeyImage.get(ki);
      if (tx.fromFederation) {
        if (!out || out.owner.kind !== "federation")
          return new TxRefused("unknown_input", `input ${ki.slice(0, 8)} is no federation output`);
        const at = this.minedAt.get(out.txid);
        if (at === undefined)
          return new TxRefused("unknown_input", `input ${out.id.slice(0, 8)} is not in a block`);
        if (atCount - 1 < at + out.unlockBlocks)
          return new TxRefused(
            "locked_input",
            `input ${out.id.slice(0, 8)} (block ${at}) is locked until block ${at + out.unlockBlocks}`,
          );
      }
    }
    return undefined;
  }

  private applyMined(tx: SimTransaction, height: number): void {
    this.minedAt.set(tx.txid, height);
    this.poolOnlyAt.delete(tx.txid);
    this.chainTxs.push({ txid: tx.txid, height });
    for (const ki of tx.keyImages) this.spentInChain.set(ki, tx.txid);
  }

  private unapplyMined(tx: SimTransaction): void {
    this.minedAt.delete(tx.txid);
    // Undone newest first (reorg), so it is the last entry.
    if (this.chainTxs.at(-1)?.txid === tx.txid) this.chainTxs.pop();
    for (const ki of tx.keyImages) if (this.spentInChain.get(ki) === tx.txid) this.spentInChain.delete(ki);
  }

  /** Drops pool transactions that can no longer be mined (their inputs vanished or were spent). */
  private evictInvalid(): void {
    for (let changed = true; changed;) {
      changed = false;
      const keep: string[] = [];
      for (const txid of this.pool) {
        const tx = this.txs.get(txid)!;
        const bad = tx.keyImages.some((ki) => {
          const by = this.spentInChain.get(ki);
          if (by !== undefined && by !== txid) return true;
          return tx.fromFederation && !this.byKeyImage.has(ki);
        });
        if (bad) {
          this.forgetOutputs(tx);
          this.trace.add(`evicted ${txid.slice(0, 8)}`);
          changed = true;
        } else keep.push(txid);
      }
      this.pool = keep;
    }
  }

  // ---- what nodes see ------------------------------------------------------------------------

  transaction(txid: string): SimTransaction | undefined {
    return this.txs.get(txid);
  }

  /**
   * Where a node that sees `viewCount` blocks finds txid (a transaction mined above its view is in its
   * pool); `guardian`'s node, for a pool transaction only one node has (`reorg` `onlyAt`).
   */
  where(txid: string, viewCount = this.blocks.length, guardian?: number): TxWhere {
    const at = this.minedAt.get(txid);
    if (at !== undefined) return at < viewCount ? { where: "block", height: at } : { where: "pool" };
    if (!this.pool.includes(txid)) return { where: "unknown" };
    const only = this.poolOnlyAt.get(txid);
    return only !== undefined && guardian !== undefined && only !== guardian
      ? { where: "unknown" }
      : { where: "pool" };
  }

  /** The transaction whose output has this key image (remembered after the output vanished), if any. */
  sourceOf(keyImage: string): string | undefined {
    return this.sourceTxOf.get(keyImage);
  }

  /**
   * Whether `txid` is not in the chain (as a node with `viewCount` blocks sees it) and one of its own
   * inputs is spent in that chain by another transaction: it can never be mined (a chain fact).
   */
  doubleSpent(txid: string, viewCount = this.blocks.length): boolean {
    const tx = this.txs.get(txid);
    if (tx === undefined || this.where(txid, viewCount).where === "block") return false;
    return tx.keyImages.some((ki) => {
      const by = this.spentInChain.get(ki);
      if (by === undefined || by === txid) return false;
      const at = this.minedAt.get(by);
      return at !== undefined && at < viewCount;
    });
  }

  /** Transactions a node with `viewCount` blocks sees, blocks first (by height), then the pool. */
  *visible(viewCount: number): Iterable<{ tx: SimTransaction; height: number | undefined }> {
    for (const { txid, height } of this.chainTxs)
      yield { tx: this.txs.get(txid)!, height: height < viewCount ? height : undefined };
    for (const txid of this.pool) yield { tx: this.txs.get(txid)!, height: undefined };
  }

  /** The output with this key image, if it exists (canonical blocks or pool). */
  outputByKeyImage(keyImage: string): SimOutput | undefined {
    return this.byKeyImage.get(keyImage);
  }

  /** The mined or pooled transaction spending this key image, if any (the checkers' god view). */
  spenderOf(keyImage: string): string | undefined {
    const mined = this.spentInChain.get(keyImage);
    if (mined !== undefined) return mined;
    return this.pool.find((t) => this.txs.get(t)!.keyImages.includes(keyImage));
  }

  /**
   * A known transaction that can never be mined on this chain as it is: in neither chain nor pool,
   * and an input spent by another mined transaction or (a federation transaction) an output that no
   * longer exists (the rule monerod's pool applies: evictInvalid).
   */
  unmineable(txid: string): boolean {
    const tx = this.txs.get(txid);
    if (tx === undefined || this.where(txid).where !== "unknown") return false;
    return tx.keyImages.some((ki) => {
      const by = this.spentInChain.get(ki);
      if (by !== undefined && by !== txid) return true;
      if (!tx.fromFederation) return false;
      const out = this.byKeyImage.get(ki);
      return out === undefined || this.where(out.txid).where === "unknown";
    });
  }

  /** The federation's own transactions mined at `height` or above (canonical chain), oldest first. */
  federationTxsFrom(height: number): { txid: string; height: number }[] {
    return this.chainTxs.filter((t) => t.height >= height && this.txs.get(t.txid)!.fromFederation);
  }

  /** The block an output's transaction is in (canonical chain), if any. */
  minedHeight(txid: string): number | undefined {
    return this.minedAt.get(txid);
  }

  block(height: number): SimBlock | undefined {
    return this.blocks[height];
  }

  // ---- the checkers' god view ---------------------------------------------------------------

  /**
   * Payments to `address` of exactly `amount` in canonical blocks (and, with `pool`, the pool): the
   * money checker's "every payout paid at most once" counts these.
   */
  paymentsTo(
    address: string,
    amount?: bigint,
    options: { pool?: boolean } = {},
  ): { txid: string; height: number | undefined }[] {
    const owner = this.ownerOf(address);
    const out: { txid: string; height: number | undefined }[] = [];
    for (const { tx, height } of this.visible(this.blocks.length)) {
      if (height === undefined && !options.pool) continue;
      const pays = tx.outputs.some(
        (o) => sameOwner(o.owner, owner) && (amount === undefined || o.amount === amount),
      );
      if (pays) out.push({ txid: tx.txid, height });
    }
    return out;
  }

  /**
   * The truth about a claimed deposit: mined in the canonical chain, not sent by the federation,
   * and what it pays the federation's subaddress `index` (0: the primary address).
   */
  depositTruth(txid: string, index = 0): { mined: boolean; fromFederation: boolean; amount: bigint } {
    const tx = this.txs.get(txid);
    if (!tx) return { mined: false, fromFederation: false, amount: 0n };
    const amount = tx.outputs
      .filter((o) => o.owner.kind === "federation" && o.owner.index === index)
      .reduce((a, o) => a + o.amount, 0n);
    return { mined: this.minedAt.has(txid), fromFederation: tx.fromFederation, amount };
  }

  /** Every unspent federation output of the canonical chain (the god view of the reserves). */
  federationBalance(): bigint {
    let sum = 0n;
    for (const { tx, height } of this.visible(this.blocks.length)) {
      if (height === undefined) continue;
      for (const o of tx.outputs)
        if (o.owner.kind === "federation" && !this.spentInChain.has(o.keyImage)) sum += o.amount;
    }
    return sum;
  }

  /** Σ fees of the federation's own transactions in the canonical chain (what its payouts cost the wallet). */
  federationFeesPaid(): bigint {
    let sum = 0n;
    for (const { tx, height } of this.visible(this.blocks.length))
      if (height !== undefined && tx.fromFederation) sum += tx.fee;
    return sum;
  }

  /** For the share's signature check at submission (the simulator's stand-in for CLSAG verification). */
  signatureOf(guardian: number, core: string): string {
    const secret = this.shareSecrets[guardian];
    if (secret === undefined) throw new RangeError(`no guardian ${guardian}`);
    return sha(`sig|${secret}|${core}`).slice(0, 32);
  }
}

export function sameOwner(a: OutputOwner, b: OutputOwner): boolean {
  return a.kind === "federation"
    ? b.kind === "federation" && a.index === b.index
    : b.kind === "user" && a.address === b.address;
}
