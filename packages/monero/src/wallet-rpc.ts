// monero-wallet-rpc's JSON-RPC: wallets, addresses, balances, transfers, payment proofs and the
// multisig calls. One wallet-rpc process has at most one wallet open at a time. camelCase in our
// API, amounts bigint piconero; an empty string the server uses for "none" becomes undefined.
import { z } from "zod";
import { MoneroRpcError, WalletRpcErrorCode } from "./errors.js";
import { hex32, u64, uint } from "./json.js";
import type { JsonIn } from "./json.js";
import { RpcTransport } from "./rpc.js";
import type { CallOptions, RpcClientOptions } from "./rpc.js";

export interface WalletRpcOptions extends RpcClientOptions {
  /**
   * Time limit for the calls that open wallets, scan the chain or build and sign transactions (opening
   * a wallet generates an SSL certificate: 1-14 s measured). Default 180 s.
   */
  readonly slowTimeoutMs?: number;
}

export interface Destination {
  readonly address: string;
  readonly amount: bigint;
}

/** 0 default, 1 unimportant, 2 normal, 3 elevated, 4 priority. */
export type TransferPriority = 0 | 1 | 2 | 3 | 4;

export interface SubaddressIndex {
  readonly major: number;
  readonly minor: number;
}

const Empty = z.object({});
const noneIfEmpty = (s: string | undefined): string | undefined =>
  s === undefined || s === "" ? undefined : s;

const SubaddrIndexSchema = z.object({ major: uint, minor: uint });

const GetAddressSchema = z
  .object({
    address: z.string(),
    addresses: z
      .array(z.object({ address: z.string(), label: z.string(), address_index: uint, used: z.boolean() }))
      .optional(),
  })
  .transform((r) => ({
    address: r.address,
    addresses: (r.addresses ?? []).map((a) => ({
      address: a.address,
      label: a.label,
      addressIndex: a.address_index,
      used: a.used,
    })),
  }));

const CreateAddressSchema = z
  .object({
    address: z.string(),
    address_index: uint,
    addresses: z.array(z.string()).optional(),
    address_indices: z.array(uint).optional(),
  })
  .transform((r) => ({
    address: r.address,
    addressIndex: r.address_index,
    /** With `count`: every subaddress made, in order (the first is `address`). */
    addresses: r.addresses ?? [r.address],
    addressIndices: r.address_indices ?? [r.address_index],
  }));

const GetBalanceSchema = z
  .object({
    balance: u64,
    unlocked_balance: u64,
    multisig_import_needed: z.boolean(),
    blocks_to_unlock: uint.optional(),
    per_subaddress: z
      .array(
        z.object({
          address_index: uint,
          address: z.string(),
          balance: u64,
          unlocked_balance: u64,
          num_unspent_outputs: uint,
          blocks_to_unlock: uint.optional(),
        }),
      )
      .optional(),
  })
  .transform((r) => ({
    balance: r.balance,
    unlockedBalance: r.unlocked_balance,
    /** A multisig wallet needs a fresh export/import round before its balance is exact and it can spend. */
    multisigImportNeeded: r.multisig_import_needed,
    blocksToUnlock: r.blocks_to_unlock ?? 0,
    perSubaddress: (r.per_subaddress ?? []).map((s) => ({
      addressIndex: s.address_index,
      address: s.address,
      balance: s.balance,
      unlockedBalance: s.unlocked_balance,
      unspentOutputs: s.num_unspent_outputs,
    })),
  }));
export type WalletBalance = z.output<typeof GetBalanceSchema>;

const TransferResultSchema = z
  .object({
    tx_hash: z.string(),
    tx_key: z.string().optional(),
    amount: u64,
    fee: u64,
    weight: uint.optional(),
    tx_blob: z.string().optional(),
    tx_metadata: z.string().optional(),
    multisig_txset: z.string().optional(),
    unsigned_txset: z.string().optional(),
    spent_key_images: z.object({ key_images: z.array(z.string()) }).optional(),
  })
  .transform((r) => ({
    /** Undefined for a multisig wallet: the transaction exists only once signed (see multisigTxset). */
    txid: noneIfEmpty(r.tx_hash),
    /** The tx secret key, the sender's proof of payment (check_tx_key). */
    txKey: noneIfEmpty(r.tx_key),
    amount: r.amount,
    fee: r.fee,
    weight: r.weight,
    txBlob: noneIfEmpty(r.tx_blob),
    txMetadata: noneIfEmpty(r.tx_metadata),
    /** For a multisig wallet: the partially signed transaction set to pass to sign_multisig. */
    multisigTxset: noneIfEmpty(r.multisig_txset),
    unsignedTxset: noneIfEmpty(r.unsigned_txset),
    /**
     * The key images of the transaction's inputs (wallet-rpc 0.18 reads them from the built
     * transaction; a multisig creator that imported the others' exports gives the real ones:
     * measured, docs/monero.md "Conflicting attempts").
     */
    spentKeyImages: r.spent_key_images?.key_images ?? [],
  }));
export type TransferResult = z.output<typeof TransferResultSchema>;

const TransferEntrySchema = z
  .object({
    txid: hex32,
    type: z.string(),
    address: z.string(),
    amount: u64,
    fee: u64,
    height: uint,
    timestamp: uint,
    confirmations: uint.optional(),
    locked: z.boolean(),
    unlock_time: u64,
    double_spend_seen: z.boolean(),
    payment_id: z.string(),
    note: z.string(),
    subaddr_index: SubaddrIndexSchema,
    subaddr_indices: z.array(SubaddrIndexSchema).optional(),
    destinations: z.array(z.object({ address: z.string(), amount: u64 })).optional(),
  })
  .transform((t) => ({
    txid: t.txid,
    /** "in", "out", "pending", "failed", "pool" or "block" (coinbase). */
    type: t.type,
    /** For incoming transfers: the receiving (sub)address. */
    address: t.address,
    amount: t.amount,
    fee: t.fee,
    /** 0 while in the pool. */
    height: t.height,
    timestamp: t.timestamp,
    confirmations: t.confirmations ?? 0,
    locked: t.locked,
    unlockTime: t.unlock_time,
    doubleSpendSeen: t.double_spend_seen,
    paymentId: t.payment_id,
    note: t.note,
    subaddrIndex: t.subaddr_index,
    subaddrIndices: t.subaddr_indices ?? [],
    destinations: t.destinations ?? [],
  }));
export type WalletTransfer = z.output<typeof TransferEntrySchema>;

const TransferList = z.array(TransferEntrySchema).optional();
const GetTransfersSchema = z
  .object({
    in: TransferList,
    out: TransferList,
    pending: TransferList,
    failed: TransferList,
    pool: TransferList,
  })
  .transform((r) => ({
    in: r.in ?? [],
    out: r.out ?? [],
    pending: r.pending ?? [],
    failed: r.failed ?? [],
    pool: r.pool ?? [],
  }));
export type WalletTransfers = z.output<typeof GetTransfersSchema>;

const GetTransferByTxidSchema = z
  .object({ transfer: TransferEntrySchema, transfers: z.array(TransferEntrySchema).optional() })
  .transform((r) => r.transfers ?? [r.transfer]);

const IncomingTransfersSchema = z
  .object({
    transfers: z
      .array(
        z.object({
          amount: u64,
          spent: z.boolean(),
          global_index: uint,
          tx_hash: hex32,
          subaddr_index: SubaddrIndexSchema,
          key_image: z.string(),
          block_height: uint.optional(),
          frozen: z.boolean().optional(),
          unlocked: z.boolean().optional(),
          pubkey: z.string().optional(),
        }),
      )
      .optional(),
  })
  .transform((r) =>
    (r.transfers ?? []).map((t) => ({
      amount: t.amount,
      spent: t.spent,
      globalIndex: t.global_index,
      txid: t.tx_hash,
      subaddrIndex: t.subaddr_index,
      /** Empty for a multisig wallet until partial key images are imported. */
      keyImage: noneIfEmpty(t.key_image),
      blockHeight: t.block_height,
      frozen: t.frozen ?? false,
      unlocked: t.unlocked ?? false,
      /** The output's one-time public key (hex), where wallet-rpc answers it. */
      pubkey: noneIfEmpty(t.pubkey),
    })),
  );
export type IncomingTransfer = z.output<typeof IncomingTransfersSchema>[number];

const CheckTxKeySchema = z
  .object({ received: u64, confirmations: uint, in_pool: z.boolean() })
  .transform((r) => ({ received: r.received, confirmations: r.confirmations, inPool: r.in_pool }));

/**
 * check_tx_proof's `confirmations` is wallet-rpc's cached daemon height minus the block's, in uint64:
 * measured in the deposit end-to-end test, good proofs came back with 2^64 − 1 … 2^64 − 27 (the cache
 * lagging a block just mined: the difference wrapped). Such a value is reported as 0 (callers that need
 * depth ask monerod). When the proof is not good, wallet2 never sets received / confirmations /
 * in_pool: reported as 0 / false whatever they hold.
 */
const CheckTxProofSchema = z
  .object({ good: z.boolean(), received: u64, confirmations: u64, in_pool: z.boolean() })
  .transform((r) => {
    if (!r.good) return { good: false, received: 0n, confirmations: 0, inPool: false };
    const confirmations = r.confirmations <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.confirmations) : 0;
    return { good: true, received: r.received, confirmations, inPool: r.in_pool };
  });

const IsMultisigSchema = z.object({
  multisig: z.boolean(),
  ready: z.boolean(),
  threshold: uint,
  total: uint,
});
export type MultisigStatus = z.output<typeof IsMultisigSchema>;

const MultisigRoundSchema = z
  .object({ address: z.string(), multisig_info: z.string() })
  .transform((r) => ({ address: noneIfEmpty(r.address), multisigInfo: noneIfEmpty(r.multisig_info) }));

const SignMultisigSchema = z
  .object({ tx_data_hex: z.string(), tx_hash_list: z.array(z.string()).optional() })
  .transform((r) => ({ txDataHex: r.tx_data_hex, txids: (r.tx_hash_list ?? []).filter((h) => h !== "") }));

const DescribeTransferSchema = z
  .object({
    desc: z
      .array(
        z.object({
          amount_in: u64,
          amount_out: u64,
          recipients: z.array(z.object({ address: z.string(), amount: u64 })).optional(),
          change_amount: u64,
          change_address: z.string(),
          fee: u64,
          ring_size: uint,
          unlock_time: u64,
          dummy_outputs: uint,
          payment_id: z.string(),
          extra: z.string(),
        }),
      )
      .optional(),
  })
  .transform((r) =>
    (r.desc ?? []).map((d) => ({
      amountIn: d.amount_in,
      amountOut: d.amount_out,
      recipients: d.recipients ?? [],
      changeAmount: d.change_amount,
      changeAddress: noneIfEmpty(d.change_address),
      fee: d.fee,
      ringSize: d.ring_size,
      unlockTime: d.unlock_time,
      dummyOutputs: d.dummy_outputs,
      paymentId: d.payment_id,
      extra: d.extra,
    })),
  );
export type TransferDescription = z.output<typeof DescribeTransferSchema>[number];

const ValidateAddressSchema = z.object({
  valid: z.boolean(),
  integrated: z.boolean(),
  subaddress: z.boolean(),
  nettype: z.string(),
});

export class WalletRpc {
  private readonly rpc: RpcTransport;
  private readonly slow: CallOptions;

  constructor(options: WalletRpcOptions | string) {
    const o: WalletRpcOptions = typeof options === "string" ? { url: options } : options;
    this.rpc = new RpcTransport(o);
    this.slow = { timeoutMs: o.slowTimeoutMs ?? 180_000 };
  }

  get url(): string {
    return this.rpc.url;
  }

  private call<S extends z.ZodType>(
    method: string,
    params: JsonIn,
    schema: S,
    options?: CallOptions,
  ): Promise<z.output<S>> {
    return this.rpc.jsonRpc(method, params, schema, options);
  }

  // -- wallets ------------------------------------------------------------------------------------

  async createWallet(args: { filename: string; password: string; language?: string }): Promise<void> {
    await this.call(
      "create_wallet",
      { filename: args.filename, password: args.password, language: args.language ?? "English" },
      Empty,
      this.slow,
    );
  }

  async openWallet(args: { filename: string; password: string }): Promise<void> {
    await this.call("open_wallet", { filename: args.filename, password: args.password }, Empty, this.slow);
  }

  /** Saves (unless autosave is false) and closes the open wallet, so other programs may use its files. */
  async closeWallet(args: { autosave?: boolean } = {}): Promise<void> {
    await this.call("close_wallet", { autosave_current: args.autosave ?? true }, Empty, this.slow);
  }

  async store(): Promise<void> {
    await this.call("store", {}, Empty, this.slow);
  }

  /**
   * A string kept in the open wallet's file under `key` (set_attribute; saved with the wallet's state
   * by the next `store`, or when the wallet closes).
   */
  async setAttribute(key: string, value: string): Promise<void> {
    await this.call("set_attribute", { key, value }, Empty);
  }

  /** The wallet's attribute `key`, or undefined if it has none. */
  async getAttribute(key: string): Promise<string | undefined> {
    try {
      return (await this.call("get_attribute", { key }, z.object({ value: z.string() }))).value;
    } catch (e) {
      if (MoneroRpcError.hasCode(e, WalletRpcErrorCode.AttributeNotFound)) return undefined;
      throw e;
    }
  }

  async getVersion(): Promise<{ version: number; release: boolean }> {
    return this.call("get_version", {}, z.object({ version: uint, release: z.boolean() }));
  }

  /** The wallet's scanned height: the next block it will scan. */
  async getHeight(): Promise<number> {
    return (await this.call("get_height", {}, z.object({ height: uint }))).height;
  }

  /** Scans new blocks now (wallet-rpc also does so every 20 s by itself). */
  async refresh(
    args: { startHeight?: number } = {},
  ): Promise<{ blocksFetched: number; receivedMoney: boolean }> {
    const r = await this.call(
      "refresh",
      args.startHeight === undefined ? {} : { start_height: args.startHeight },
      z.object({ blocks_fetched: uint, received_money: z.boolean() }),
      this.slow,
    );
    return { blocksFetched: r.blocks_fetched, receivedMoney: r.received_money };
  }

  /** Turns wallet-rpc's background refresh on or off (tests turn it off to refresh explicitly). */
  async autoRefresh(args: { enable: boolean; periodSeconds?: number }): Promise<void> {
    await this.call(
      "auto_refresh",
      { enable: args.enable, ...(args.periodSeconds === undefined ? {} : { period: args.periodSeconds }) },
      Empty,
    );
  }

  // -- addresses ----------------------------------------------------------------------------------

  /** The primary address of an account (index 0 of `addresses`) and its subaddresses. */
  getAddress(args: { accountIndex?: number; addressIndices?: readonly number[] } = {}): Promise<{
    address: string;
    addresses: { address: string; label: string; addressIndex: number; used: boolean }[];
  }> {
    return this.call(
      "get_address",
      {
        account_index: args.accountIndex ?? 0,
        ...(args.addressIndices === undefined ? {} : { address_index: [...args.addressIndices] }),
      },
      GetAddressSchema,
    );
  }

  /**
   * New subaddresses (for example one per deposit) in an account, at the next indexes: one, or `count`
   * (wallet-rpc 0.18 makes at most 64 per call).
   */
  createAddress(args: { accountIndex?: number; label?: string; count?: number } = {}): Promise<{
    address: string;
    addressIndex: number;
    addresses: string[];
    addressIndices: number[];
  }> {
    return this.call(
      "create_address",
      {
        account_index: args.accountIndex ?? 0,
        ...(args.label === undefined ? {} : { label: args.label }),
        ...(args.count === undefined ? {} : { count: args.count }),
      },
      CreateAddressSchema,
    );
  }

  /** The node's view of an address: which network, standard / subaddress / integrated. */
  validateAddress(args: {
    address: string;
    anyNetType?: boolean;
  }): Promise<{ valid: boolean; integrated: boolean; subaddress: boolean; nettype: string }> {
    return this.call(
      "validate_address",
      { address: args.address, any_net_type: args.anyNetType ?? false, allow_openalias: false },
      ValidateAddressSchema,
    );
  }

  /** An integrated address (standard address + 8-byte payment id); a random id when none is given. */
  async makeIntegratedAddress(
    args: { standardAddress?: string; paymentId?: string } = {},
  ): Promise<{ integratedAddress: string; paymentId: string }> {
    const r = await this.call(
      "make_integrated_address",
      {
        ...(args.standardAddress === undefined ? {} : { standard_address: args.standardAddress }),
        ...(args.paymentId === undefined ? {} : { payment_id: args.paymentId }),
      },
      z.object({ integrated_address: z.string(), payment_id: z.string() }),
    );
    return { integratedAddress: r.integrated_address, paymentId: r.payment_id };
  }

  // -- balance and transfers ----------------------------------------------------------------------

  getBalance(args: { accountIndex?: number } = {}): Promise<WalletBalance> {
    return this.call("get_balance", { account_index: args.accountIndex ?? 0 }, GetBalanceSchema);
  }

  /**
   * Builds, signs and (unless doNotRelay) relays one transaction. For a multisig wallet it only builds
   * and signs this signer's part: the result has no txid, and `multisigTxset` goes to sign_multisig.
   */
  transfer(args: {
    destinations: readonly Destination[];
    accountIndex?: number;
    subaddrIndices?: readonly number[];
    priority?: TransferPriority;
    doNotRelay?: boolean;
    getTxHex?: boolean;
    getTxMetadata?: boolean;
  }): Promise<TransferResult> {
    return this.call(
      "transfer",
      {
        destinations: args.destinations.map((d) => ({ address: d.address, amount: d.amount })),
        account_index: args.accountIndex ?? 0,
        ...(args.subaddrIndices === undefined ? {} : { subaddr_indices: [...args.subaddrIndices] }),
        priority: args.priority ?? 0,
        get_tx_key: true,
        do_not_relay: args.doNotRelay ?? false,
        get_tx_hex: args.getTxHex ?? false,
        get_tx_metadata: args.getTxMetadata ?? false,
      },
      TransferResultSchema,
      this.slow,
    );
  }

  getTransfers(
    args: {
      in?: boolean;
      out?: boolean;
      pending?: boolean;
      failed?: boolean;
      pool?: boolean;
      accountIndex?: number;
      subaddrIndices?: readonly number[];
      minHeight?: number;
      maxHeight?: number;
    } = {},
  ): Promise<WalletTransfers> {
    const filter = args.minHeight !== undefined || args.maxHeight !== undefined;
    return this.call(
      "get_transfers",
      {
        in: args.in ?? true,
        out: args.out ?? true,
        pending: args.pending ?? true,
        failed: args.failed ?? true,
        pool: args.pool ?? true,
        account_index: args.accountIndex ?? 0,
        ...(args.subaddrIndices === undefined ? {} : { subaddr_indices: [...args.subaddrIndices] }),
        ...(filter
          ? {
              filter_by_height: true,
              min_height: args.minHeight ?? 0,
              ...(args.maxHeight === undefined ? {} : { max_height: args.maxHeight }),
            }
          : {}),
      },
      GetTransfersSchema,
    );
  }

  /** This wallet's transfers in one transaction (one per subaddress it touches). */
  getTransferByTxid(txid: string, args: { accountIndex?: number } = {}): Promise<WalletTransfer[]> {
    return this.call(
      "get_transfer_by_txid",
      { txid, ...(args.accountIndex === undefined ? {} : { account_index: args.accountIndex }) },
      GetTransferByTxidSchema,
    );
  }

  /** The wallet's outputs: "available" (unspent), "unavailable" (spent) or "all". */
  incomingTransfers(
    args: { transferType?: "all" | "available" | "unavailable"; accountIndex?: number } = {},
  ): Promise<IncomingTransfer[]> {
    return this.call(
      "incoming_transfers",
      { transfer_type: args.transferType ?? "all", account_index: args.accountIndex ?? 0 },
      IncomingTransfersSchema,
    );
  }

  /**
   * freeze / thaw / frozen (by key image): a frozen output is never chosen by `transfer` (wallet2's
   * input selection skips it); signing does not look at it (sign_multisig signs a set spending a
   * frozen output: measured). A multisig wallet knows key images once it imported the others' exports.
   */
  async freeze(keyImage: string): Promise<void> {
    await this.call("freeze", { key_image: keyImage }, z.object({}).passthrough());
  }

  async thaw(keyImage: string): Promise<void> {
    await this.call("thaw", { key_image: keyImage }, z.object({}).passthrough());
  }

  async frozen(keyImage: string): Promise<boolean> {
    return (await this.call("frozen", { key_image: keyImage }, z.object({ frozen: z.boolean() }))).frozen;
  }

  /**
   * The wallet's private view key (`query_key` "view_key"), 64 hex. Every participant of a multisig
   * wallet holds the same one: readMultisigTxSetKeyImages decrypts a multisig set with it.
   */
  async queryViewKey(): Promise<string> {
    return (await this.call("query_key", { key_type: "view_key" }, z.object({ key: hex32 }))).key;
  }

  // -- payment proofs -----------------------------------------------------------------------------

  /** The secret key of a transaction this wallet sent (its proof of payment). */
  async getTxKey(txid: string): Promise<string> {
    return (await this.call("get_tx_key", { txid }, z.object({ tx_key: z.string() }))).tx_key;
  }

  /**
   * How much `address` received in `txid`, checked with the tx key (any wallet can run it). Pass the
   * recipient's address: with the sender's own address it reports the sender's change.
   */
  checkTxKey(args: {
    txid: string;
    txKey: string;
    address: string;
  }): Promise<{ received: bigint; confirmations: number; inPool: boolean }> {
    return this.call(
      "check_tx_key",
      { txid: args.txid, tx_key: args.txKey, address: args.address },
      CheckTxKeySchema,
    );
  }

  /** A signed proof that this wallet paid (or received at) `address` in `txid`. */
  async getTxProof(args: { txid: string; address: string; message?: string }): Promise<string> {
    const r = await this.call(
      "get_tx_proof",
      {
        txid: args.txid,
        address: args.address,
        ...(args.message === undefined ? {} : { message: args.message }),
      },
      z.object({ signature: z.string() }),
    );
    return r.signature;
  }

  checkTxProof(args: {
    txid: string;
    address: string;
    signature: string;
    message?: string;
  }): Promise<{ good: boolean; received: bigint; confirmations: number; inPool: boolean }> {
    return this.call(
      "check_tx_proof",
      {
        txid: args.txid,
        address: args.address,
        signature: args.signature,
        ...(args.message === undefined ? {} : { message: args.message }),
      },
      CheckTxProofSchema,
    );
  }

  // -- multisig -----------------------------------------------------------------------------------

  isMultisig(): Promise<MultisigStatus> {
    return this.call("is_multisig", {}, IsMultisigSchema);
  }

  /**
   * Round 0 of the key exchange: this wallet's first message. With `enableMultisigExperimental`
   * wallet-rpc 0.18 also turns on the wallet's enable-multisig-experimental setting (in memory;
   * make_multisig writes it into the keys file), which exchange_multisig_keys and every later
   * multisig call need (-48 otherwise). It works only before make_multisig.
   */
  async prepareMultisig(args: { enableMultisigExperimental?: boolean } = {}): Promise<string> {
    const r = await this.call(
      "prepare_multisig",
      { enable_multisig_experimental: args.enableMultisigExperimental ?? false },
      z.object({ multisig_info: z.string() }),
      this.slow,
    );
    return r.multisig_info;
  }

  /** Round 1: the others' prepare messages and the threshold M. Returns this wallet's next message. */
  makeMultisig(args: {
    multisigInfo: readonly string[];
    threshold: number;
    password: string;
  }): Promise<{ address: string | undefined; multisigInfo: string | undefined }> {
    return this.call(
      "make_multisig",
      { multisig_info: [...args.multisigInfo], threshold: args.threshold, password: args.password },
      MultisigRoundSchema,
      this.slow,
    );
  }

  /** Rounds 2..: the others' messages of the previous round. Needs enable-multisig-experimental. */
  exchangeMultisigKeys(args: {
    multisigInfo: readonly string[];
    password: string;
  }): Promise<{ address: string | undefined; multisigInfo: string | undefined }> {
    return this.call(
      "exchange_multisig_keys",
      { multisig_info: [...args.multisigInfo], password: args.password },
      MultisigRoundSchema,
      this.slow,
    );
  }

  /** This signer's partial key images and nonces, for the others to import before a spend. */
  async exportMultisigInfo(): Promise<string> {
    return (await this.call("export_multisig_info", {}, z.object({ info: z.string() }), this.slow)).info;
  }

  /** Imports the others' exports; returns the number of outputs whose key images it completed. */
  async importMultisigInfo(infos: readonly string[]): Promise<number> {
    const r = await this.call(
      "import_multisig_info",
      { info: [...infos] },
      z.object({ n_outputs: uint }),
      this.slow,
    );
    return r.n_outputs;
  }

  /** Adds this signer's signature to a multisig transaction set. */
  signMultisig(txDataHex: string): Promise<{ txDataHex: string; txids: string[] }> {
    return this.call("sign_multisig", { tx_data_hex: txDataHex }, SignMultisigSchema, this.slow);
  }

  /** Relays a fully signed multisig transaction set; returns its transaction ids. */
  async submitMultisig(txDataHex: string): Promise<string[]> {
    const r = await this.call(
      "submit_multisig",
      { tx_data_hex: txDataHex },
      z.object({ tx_hash_list: z.array(hex32) }),
      this.slow,
    );
    return r.tx_hash_list;
  }

  /** What a (multisig or unsigned) transaction set pays: check it before signing. */
  describeTransfer(
    args: { multisigTxset: string } | { unsignedTxset: string },
  ): Promise<TransferDescription[]> {
    return this.call(
      "describe_transfer",
      "multisigTxset" in args
        ? { multisig_txset: args.multisigTxset }
        : { unsigned_txset: args.unsignedTxset },
      DescribeTransferSchema,
      this.slow,
    );
  }
}
