// monerod's RPC: what a guardian needs to follow the chain and check transactions, plus
// generateblocks for regtest. Field names are camelCase in our API; amounts are bigint piconero.
import { z } from "zod";
import { hex32, u64, uint } from "./json.js";
import { RpcTransport } from "./rpc.js";
import type { CallOptions, RpcClientOptions } from "./rpc.js";

/** A cap on how many transactions one get_transactions call asks for (monerod's own limit is 100). */
export const TXIDS_PER_CALL_MAX = 100;

const GetInfoSchema = z
  .object({
    height: uint,
    target_height: uint,
    top_block_hash: hex32,
    nettype: z.string(),
    synchronized: z.boolean(),
    offline: z.boolean().optional(),
    tx_pool_size: uint,
    version: z.string(),
    difficulty: u64,
  })
  .transform((r) => ({
    /** The number of blocks in the chain: the top block's height + 1. */
    height: r.height,
    targetHeight: r.target_height,
    topBlockHash: r.top_block_hash,
    /** "mainnet", "testnet", "stagenet", or "fakechain" for regtest. */
    nettype: r.nettype,
    synchronized: r.synchronized,
    offline: r.offline ?? false,
    txPoolSize: r.tx_pool_size,
    version: r.version,
    difficulty: r.difficulty,
  }));
export type DaemonInfo = z.output<typeof GetInfoSchema>;

const GetHeightSchema = z
  .object({ height: uint, hash: hex32 })
  .transform((r) => ({ height: r.height, topBlockHash: r.hash }));

const GenerateBlocksSchema = z
  .object({ height: uint, blocks: z.array(hex32).optional() })
  .transform((r) => ({ height: r.height, blocks: r.blocks ?? [] }));

const BlockHeaderFields = z
  .object({
    height: uint,
    hash: hex32,
    prev_hash: hex32,
    timestamp: uint,
    reward: u64,
    num_txes: uint,
    depth: uint,
    orphan_status: z.boolean(),
    miner_tx_hash: hex32.optional(),
  })
  .transform((h) => ({
    height: h.height,
    hash: h.hash,
    prevHash: h.prev_hash,
    timestamp: h.timestamp,
    reward: h.reward,
    txCount: h.num_txes,
    depth: h.depth,
    orphan: h.orphan_status,
    minerTxHash: h.miner_tx_hash,
  }));
export type BlockHeader = z.output<typeof BlockHeaderFields>;
const BlockHeaderSchema = z.object({ block_header: BlockHeaderFields }).transform((r) => r.block_header);

const TransactionEntry = z
  .object({
    tx_hash: hex32,
    as_hex: z.string(),
    in_pool: z.boolean(),
    double_spend_seen: z.boolean(),
    block_height: uint.optional(),
    block_timestamp: uint.optional(),
    confirmations: uint.optional(),
  })
  .transform((t) => ({
    txid: t.tx_hash,
    hex: t.as_hex,
    inPool: t.in_pool,
    doubleSpendSeen: t.double_spend_seen,
    /** Undefined while in the pool. */
    blockHeight: t.in_pool ? undefined : t.block_height,
    blockTimestamp: t.in_pool ? undefined : t.block_timestamp,
    confirmations: t.confirmations ?? 0,
  }));
export type DaemonTransaction = z.output<typeof TransactionEntry>;

const GetTransactionsSchema = z
  .object({ txs: z.array(TransactionEntry).optional(), missed_tx: z.array(hex32).optional() })
  .transform((r) => ({ found: r.txs ?? [], missed: r.missed_tx ?? [] }));

const SendRawSchema = z.object({ not_relayed: z.boolean().optional() });

const PoolHashesSchema = z
  .object({ tx_hashes: z.array(hex32).optional() })
  .transform((r) => r.tx_hashes ?? []);

const KeyImagesSpentSchema = z
  .object({ spent_status: z.array(z.union([z.literal(0), z.literal(1), z.literal(2)])) })
  .transform((r) => r.spent_status);

const FeeEstimateSchema = z
  .object({ fee: u64, quantization_mask: u64.optional(), fees: z.array(u64).optional() })
  .transform((r) => ({ feePerByte: r.fee, quantizationMask: r.quantization_mask, fees: r.fees ?? [] }));

const VersionSchema = z.object({ version: uint, release: z.boolean() });

export class DaemonRpc {
  private readonly rpc: RpcTransport;

  constructor(options: RpcClientOptions | string) {
    this.rpc = new RpcTransport(typeof options === "string" ? { url: options } : options);
  }

  get url(): string {
    return this.rpc.url;
  }

  getInfo(options?: CallOptions): Promise<DaemonInfo> {
    return this.rpc.jsonRpc("get_info", {}, GetInfoSchema, options);
  }

  /** Block count (top block height + 1) and the top block's hash. */
  getHeight(options?: CallOptions): Promise<{ height: number; topBlockHash: string }> {
    return this.rpc.other("/get_height", {}, GetHeightSchema, options);
  }

  getVersion(options?: CallOptions): Promise<{ version: number; release: boolean }> {
    return this.rpc.jsonRpc("get_version", {}, VersionSchema, options);
  }

  getLastBlockHeader(options?: CallOptions): Promise<BlockHeader> {
    return this.rpc.jsonRpc("get_last_block_header", {}, BlockHeaderSchema, options);
  }

  getBlockHeaderByHeight(height: number, options?: CallOptions): Promise<BlockHeader> {
    return this.rpc.jsonRpc("get_block_header_by_height", { height }, BlockHeaderSchema, options);
  }

  /**
   * Mines `count` blocks paying `address` (regtest / --fixed-difficulty only). Returns the new height
   * as monerod reports it (the last mined block's height) and the block hashes.
   */
  generateBlocks(
    count: number,
    address: string,
    options?: CallOptions,
  ): Promise<{ height: number; blocks: string[] }> {
    return this.rpc.jsonRpc(
      "generateblocks",
      { amount_of_blocks: count, wallet_address: address, starting_nonce: 0 },
      GenerateBlocksSchema,
      options,
    );
  }

  /** Transactions by id, found in the chain or the pool; ids monerod does not know are in `missed`. */
  async getTransactions(
    txids: readonly string[],
    options?: CallOptions,
  ): Promise<{ found: DaemonTransaction[]; missed: string[] }> {
    if (txids.length > TXIDS_PER_CALL_MAX) {
      throw new RangeError(`at most ${TXIDS_PER_CALL_MAX} txids per call, got ${txids.length}`);
    }
    return this.rpc.other(
      "/get_transactions",
      { txs_hashes: [...txids], decode_as_json: false },
      GetTransactionsSchema,
      options,
    );
  }

  /** Submits a signed transaction; monerod's refusal (double spend, fee too low, ...) throws MoneroStatusError. */
  async sendRawTransaction(
    txHex: string,
    args: { doNotRelay?: boolean } = {},
    options?: CallOptions,
  ): Promise<{ relayed: boolean }> {
    const r = await this.rpc.other(
      "/send_raw_transaction",
      { tx_as_hex: txHex, do_not_relay: args.doNotRelay ?? false },
      SendRawSchema,
      options,
    );
    return { relayed: !(r.not_relayed ?? false) };
  }

  /**
   * is_key_image_spent: per key image (hex), 0 unspent, 1 spent in the chain, 2 spent in the pool
   * (at most TXIDS_PER_CALL_MAX per call, as get_transactions).
   */
  async isKeyImageSpent(keyImages: readonly string[], options?: CallOptions): Promise<(0 | 1 | 2)[]> {
    if (keyImages.length > TXIDS_PER_CALL_MAX)
      throw new RangeError(`at most ${TXIDS_PER_CALL_MAX} key images per call, got ${keyImages.length}`);
    const status = await this.rpc.other(
      "/is_key_image_spent",
      { key_images: [...keyImages] },
      KeyImagesSpentSchema,
      options,
    );
    if (status.length !== keyImages.length)
      throw new RangeError(`is_key_image_spent answered ${status.length} of ${keyImages.length} key images`);
    return status;
  }

  getTransactionPoolHashes(options?: CallOptions): Promise<string[]> {
    return this.rpc.other("/get_transaction_pool_hashes", {}, PoolHashesSchema, options);
  }

  getFeeEstimate(
    options?: CallOptions,
  ): Promise<{ feePerByte: bigint; quantizationMask: bigint | undefined; fees: bigint[] }> {
    return this.rpc.jsonRpc("get_fee_estimate", {}, FeeEstimateSchema, options);
  }
}
