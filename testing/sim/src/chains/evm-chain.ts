// The bridge's EVM chain for the whole-federation simulation (issue 11), deterministic from the
// seed: blocks with timestamps, a mempool whose transactions the next block executes, reorgs of any
// depth (the removed blocks' transactions go back to the mempool and run again on the new branch,
// as a real node re-includes them), and per-guardian RPC nodes with lag, outages and slow answers
// (chain.ts SimEndpoint, NodeFaultDriver). It plugs into the simulator as the Monero chain does
// (SimulatedChain), and into the bridge module through the module's own interface (watcher.ts
// EvmSource): SimEvmSource answers what ViemEvmSource reads from a real node.
//
// The WrappedMonero contract (packages/evm/contracts/WrappedMonero.sol) is modelled rule by rule
// for what the bridge uses: mint(m, signatures) (paused, deadline, zero checks, depositUsed, t
// signatures recovered from the EIP-712 digest the product computes (eip712-mint.ts mintDigest),
// strictly ascending, members, low-s and v in {27, 28} as OpenZeppelin's ECDSA; above singleMintCap
// the mint is queued for mintDelay seconds, cancellable by any guardian; below it the leaky-bucket
// rate limit), executeDelayed, cancelDelayed, burn(amount, moneroAddress) (95 or 106 base58
// characters) and burnToClaim(amount, claimKey) with the Burned event (burn id, from, amount,
// kind, destination), ERC-20 balances. Rotation, pause and setLimits are not modelled: the module
// never calls them and the simulated federation keeps one guardian set.
//
// Signatures are recovered with @noble/curves' secp256k1, the library the product signs with
// (eip712-mint.ts signMint), synchronously: a block executes inside one scheduler event.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { mintDigest, sortedSigners } from "@conclave/module-bridge";
import type {
  BurnSeen,
  DepositStatus,
  EvmAddress,
  EvmSource,
  Hex32,
  MintMessage,
} from "@conclave/module-bridge";
import { bytesToHex, getAddress, hexToBytes } from "viem";
import type { Rng } from "../rng.js";
import { HEALTHY_NODE, SimEndpoint, Trace } from "./chain.js";
import type { NodeFaults, RpcErrorKinds, Scheduler, SimBlockHeader, SimulatedChain } from "./chain.js";

/** secp256k1's group order: OpenZeppelin's ECDSA refuses s above half of it (malleable). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

export interface WxmrLimits {
  /** Leaky bucket size and refill (piconero, piconero per second). */
  readonly rateCapacity: bigint;
  readonly ratePerSecond: bigint;
  /** A mint above this waits mintDelay seconds (cancellable by any guardian). */
  readonly singleMintCap: bigint;
  readonly mintDelay: bigint;
  readonly minBurn: bigint;
}

export interface EvmChainOptions {
  readonly rng: Rng;
  readonly guardians: number;
  readonly chainId: number;
  readonly contract: EvmAddress;
  /** The guardian set (any order: the contract holds it sorted) and its threshold. */
  readonly signers: readonly EvmAddress[];
  readonly threshold: number;
  readonly limits: WxmrLimits;
  /** The watchers' confirmation depth (the chain's finality depth for the simulator). */
  readonly confirmations: number;
  /** Seconds between block timestamps (a block's timestamp is its parent's plus this, plus 0-2 s). */
  readonly secondsPerBlock: number;
  readonly genesisTimestamp?: bigint;
}

export type EvmCall =
  | { readonly kind: "mint"; readonly mint: MintMessage; readonly signatures: readonly `0x${string}`[] }
  | { readonly kind: "executeDelayed"; readonly depositId: Hex32 }
  | { readonly kind: "cancelDelayed"; readonly depositId: Hex32 }
  | { readonly kind: "burn"; readonly amount: bigint; readonly moneroAddress: string }
  | { readonly kind: "burnToClaim"; readonly amount: bigint; readonly claimKey: Uint8Array };

export interface EvmTx {
  readonly hash: Hex32;
  readonly from: EvmAddress;
  readonly call: EvmCall;
}

export type EvmLog =
  | {
      readonly event: "Minted";
      readonly depositId: Hex32;
      readonly recipient: EvmAddress;
      readonly amount: bigint;
    }
  | {
      readonly event: "MintDelayed";
      readonly depositId: Hex32;
      readonly recipient: EvmAddress;
      readonly amount: bigint;
      readonly executeAfter: bigint;
    }
  | { readonly event: "MintCancelled"; readonly depositId: Hex32 }
  | {
      readonly event: "Burned";
      readonly burnId: bigint;
      readonly from: EvmAddress;
      readonly amount: bigint;
      readonly kind: number;
      readonly destination: Uint8Array;
    };

export type PlacedLog = EvmLog & {
  readonly logIndex: number;
  readonly txHash: Hex32;
  readonly block: number;
};

export interface Receipt {
  readonly hash: Hex32;
  readonly block: number;
  /** The contract's error name when it reverted. */
  readonly error?: string;
  readonly logs: readonly PlacedLog[];
}

/** The contract's storage after a block (copied per block: the simulated state is small). */
interface WxmrState {
  readonly balances: Map<EvmAddress, bigint>;
  supply: bigint;
  readonly depositUsed: Set<Hex32>;
  readonly pending: Map<Hex32, { recipient: EvmAddress; executeAfter: bigint; amount: bigint }>;
  /** Deposit ids of queued mints a guardian cancelled (the contract's DepositState.Cancelled). */
  readonly cancelled: Set<Hex32>;
  burnCount: bigint;
  bucketLevel: bigint;
  bucketUpdated: bigint;
}

interface EvmBlock extends SimBlockHeader {
  readonly timestamp: bigint;
  readonly txs: readonly EvmTx[];
  readonly receipts: readonly Receipt[];
  readonly state: WxmrState;
}

class Revert extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function copyState(s: WxmrState): WxmrState {
  return {
    balances: new Map(s.balances),
    supply: s.supply,
    depositUsed: new Set(s.depositUsed),
    pending: new Map(s.pending),
    cancelled: new Set(s.cancelled),
    burnCount: s.burnCount,
    bucketLevel: s.bucketLevel,
    bucketUpdated: s.bucketUpdated,
  };
}

/**
 * The signer of a 65-byte r | s | v signature over `digest`, as OpenZeppelin's ECDSA.recover finds
 * it; undefined where it reverts (wrong length, s in the upper half, v not 27 or 28, no point).
 */
export function recoverSigner(digest: Uint8Array, signature: Uint8Array): EvmAddress | undefined {
  if (signature.length !== 65) return undefined;
  const v = signature[64]!;
  if (v !== 27 && v !== 28) return undefined;
  const s = BigInt(bytesToHex(signature.subarray(32, 64)));
  if (s === 0n || s > SECP256K1_N / 2n) return undefined;
  try {
    const recovered = new Uint8Array(65);
    recovered[0] = v - 27;
    recovered.set(signature.subarray(0, 64), 1);
    const pub = secp256k1.recoverPublicKey(recovered, digest, { prehash: false });
    const uncompressed = secp256k1.Point.fromBytes(pub).toBytes(false);
    return getAddress(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)));
  } catch {
    return undefined;
  }
}

const rpcErrors: RpcErrorKinds = {
  connection: (endpoint, method) =>
    new Error(`HTTP request failed. URL: ${endpoint} (${method}): fetch failed, connect ECONNREFUSED`),
  timeout: (endpoint, method, timeoutMs) =>
    new Error(`The request took too long to respond. URL: ${endpoint} (${method}), ${timeoutMs} ms`),
};

export class SimEvmChain implements SimulatedChain {
  readonly name = "evm";
  readonly trace = new Trace();
  readonly finalityDepth: number;
  readonly chainId: number;
  readonly contract: EvmAddress;
  readonly threshold: number;
  readonly limits: WxmrLimits;
  /** The contract's guardian set, ascending. */
  readonly signers: readonly EvmAddress[];
  private readonly members: ReadonlySet<string>;
  private readonly blocks: EvmBlock[] = [];
  private mempool: EvmTx[] = [];
  private readonly nonces = new Map<EvmAddress, number>();
  /** Canonical receipts by tx hash. */
  private readonly receipts = new Map<Hex32, Receipt>();
  private readonly nodeFaults: NodeFaults[];
  private readonly rng: Rng;
  private forks = 0;
  readonly secondsPerBlock: number;
  /** Called after every send (the bridge world's automine: a block mined within a few ms, as anvil's). */
  onSend: ((hash: Hex32) => void) | undefined;

  constructor(options: EvmChainOptions) {
    this.rng = options.rng;
    this.finalityDepth = options.confirmations;
    this.chainId = options.chainId;
    this.contract = options.contract;
    this.threshold = options.threshold;
    this.limits = options.limits;
    this.secondsPerBlock = options.secondsPerBlock;
    this.signers = sortedSigners(options.signers);
    this.members = new Set(this.signers.map((a) => a.toLowerCase()));
    this.nodeFaults = Array.from({ length: options.guardians }, () => ({ ...HEALTHY_NODE }));
    const timestamp = options.genesisTimestamp ?? 1_700_000_000n;
    this.blocks.push({
      height: 0,
      hash: this.blockHash(0, "genesis"),
      parent: "",
      timeMs: 0,
      timestamp,
      txs: [],
      receipts: [],
      state: {
        balances: new Map(),
        supply: 0n,
        depositUsed: new Set(),
        pending: new Map(),
        cancelled: new Set(),
        burnCount: 0n,
        bucketLevel: options.limits.rateCapacity,
        bucketUpdated: timestamp,
      },
    });
  }

  private blockHash(number: number, parent: string): string {
    return bytesToHex(keccak_256(new TextEncoder().encode(`evm-block:${number}:${parent}:${this.forks}`)));
  }

  // ---- the chain ----------------------------------------------------------------------------------

  /** Block count (the head's number is height() - 1). */
  height(): number {
    return this.blocks.length;
  }

  head(): EvmBlock {
    return this.blocks[this.blocks.length - 1]!;
  }

  block(number: number): EvmBlock | undefined {
    return this.blocks[number];
  }

  /** Sends a transaction: the next block executes it. Returns its hash. */
  send(from: EvmAddress, call: EvmCall): Hex32 {
    const nonce = this.nonces.get(from) ?? 0;
    this.nonces.set(from, nonce + 1);
    const hash = bytesToHex(
      keccak_256(new TextEncoder().encode(`evm-tx:${this.chainId}:${from.toLowerCase()}:${nonce}`)),
    );
    this.mempool.push({ hash, from, call });
    this.trace.add(`evm tx ${hash.slice(0, 10)} ${call.kind} from ${from.slice(0, 8)}`);
    this.onSend?.(hash);
    return hash;
  }

  /** A canonical transaction's receipt (undefined: in the mempool, or never sent). */
  receipt(hash: Hex32): Receipt | undefined {
    return this.receipts.get(hash);
  }

  mine(): EvmBlock {
    const parent = this.head();
    const number = this.blocks.length;
    const timestamp = parent.timestamp + BigInt(this.secondsPerBlock + this.rng.int(3));
    let state = copyState(parent.state);
    const txs = this.mempool;
    this.mempool = [];
    const receipts: Receipt[] = [];
    let logIndex = 0;
    for (const tx of txs) {
      const logs: EvmLog[] = [];
      let error: string | undefined;
      // Each transaction on a copy: a revert leaves the state as it was.
      const scratch = copyState(state);
      try {
        this.execute(scratch, tx, timestamp, logs);
        state = scratch;
      } catch (e) {
        if (!(e instanceof Revert)) throw e;
        error = e.reason;
        logs.length = 0;
      }
      const placed = logs.map((l) => ({ ...l, logIndex: logIndex++, txHash: tx.hash, block: number }));
      const receipt: Receipt = { hash: tx.hash, block: number, logs: placed, ...(error ? { error } : {}) };
      receipts.push(receipt);
      this.receipts.set(tx.hash, receipt);
    }
    const block: EvmBlock = {
      height: number,
      hash: this.blockHash(number, parent.hash),
      parent: parent.hash,
      timeMs: 0,
      timestamp,
      txs,
      receipts,
      state,
    };
    this.blocks.push(block);
    this.trace.add(`evm block ${number} ts ${timestamp} txs ${txs.length} supply ${state.supply}`);
    return block;
  }

  /**
   * Replaces the top `depth` blocks by depth + 1 new ones. Their transactions go back to the
   * mempool (first) and run again in the new first block, against the new branch's state, except
   * those in `drop`: the fork never includes them (a miner that leaves them out, a sender whose
   * other transaction with the same nonce wins on the fork), and they are forgotten, and those in
   * `late`, which the fork includes only in its last (new head) block, in that order.
   */
  reorg(
    depth: number,
    options: { readonly drop?: readonly Hex32[]; readonly late?: readonly Hex32[] } = {},
  ): void {
    if (depth < 1 || depth >= this.blocks.length) throw new RangeError(`reorg depth ${depth}`);
    const removed = this.blocks.splice(this.blocks.length - depth, depth);
    for (const b of removed) for (const r of b.receipts) this.receipts.delete(r.hash);
    const drop = new Set(options.drop ?? []);
    const lateSet = new Set(options.late ?? []);
    const again = removed.flatMap((b) => b.txs).filter((t) => !drop.has(t.hash));
    const late = (options.late ?? []).flatMap((h) => again.filter((t) => t.hash === h));
    this.mempool = [...again.filter((t) => !lateSet.has(t.hash)), ...this.mempool];
    this.forks++;
    this.trace.add(`evm reorg depth ${depth} at ${this.blocks.length + depth}`);
    for (let i = 0; i <= depth; i++) {
      if (i === depth) this.mempool = [...late, ...this.mempool];
      this.mine();
    }
  }

  faults(g: number): NodeFaults {
    return this.nodeFaults[g]!;
  }

  /** The block count guardian g's node sees (a prefix of the canonical chain). */
  viewHeight(g: number): number {
    return Math.max(1, this.blocks.length - this.nodeFaults[g]!.lagBlocks);
  }

  // ---- what the checkers read (canonical chain) ---------------------------------------------------

  balanceOf(address: EvmAddress, block = this.blocks.length - 1): bigint {
    return this.blocks[block]!.state.balances.get(address) ?? 0n;
  }

  totalSupply(block = this.blocks.length - 1): bigint {
    return this.blocks[block]!.state.supply;
  }

  /** Σ amounts of delayed mints not yet executed or cancelled. */
  pendingTotal(block = this.blocks.length - 1): bigint {
    let sum = 0n;
    for (const p of this.blocks[block]!.state.pending.values()) sum += p.amount;
    return sum;
  }

  pendingMint(depositId: Hex32): { recipient: EvmAddress; executeAfter: bigint; amount: bigint } | undefined {
    return this.head().state.pending.get(depositId);
  }

  depositUsed(depositId: Hex32, block = this.blocks.length - 1): boolean {
    return this.blocks[block]!.state.depositUsed.has(depositId);
  }

  /** The contract's depositStatus(depositId) after block `block`. */
  depositStatus(depositId: Hex32, block = this.blocks.length - 1): DepositStatus {
    const s = this.blocks[block]!.state;
    if (!s.depositUsed.has(depositId)) return { status: "unused", executeAfter: 0n };
    if (s.cancelled.has(depositId)) return { status: "cancelled", executeAfter: 0n };
    const p = s.pending.get(depositId);
    return p ? { status: "queued", executeAfter: p.executeAfter } : { status: "minted", executeAfter: 0n };
  }

  /** Canonical logs in blocks [from, to], in chain order. */
  logs(from = 0, to = this.blocks.length - 1): PlacedLog[] {
    const out: PlacedLog[] = [];
    for (let n = Math.max(0, from); n <= Math.min(to, this.blocks.length - 1); n++)
      for (const r of this.blocks[n]!.receipts) out.push(...r.logs);
    return out;
  }

  /** Canonical Burned logs as the module's watcher decodes them (watcher.ts ViemEvmSource.burns). */
  burns(from: number, to: number): BurnSeen[] {
    return this.logs(from, to).flatMap((l) =>
      l.event === "Burned"
        ? [
            {
              txHash: hexToBytes(l.txHash),
              logIndex: l.logIndex,
              blockNumber: BigInt(l.block),
              burnId: l.burnId,
              from: l.from,
              amount: l.amount,
              burnKind: l.kind,
              destination: l.destination,
            },
          ]
        : [],
    );
  }

  // ---- the contract -------------------------------------------------------------------------------

  private execute(s: WxmrState, tx: EvmTx, timestamp: bigint, logs: EvmLog[]): void {
    const c = tx.call;
    switch (c.kind) {
      case "mint":
        return this.mint(s, c.mint, c.signatures, timestamp, logs);
      case "executeDelayed": {
        const p = s.pending.get(c.depositId);
        if (!p) throw new Revert("NoPendingMint");
        if (timestamp < p.executeAfter) throw new Revert("TooEarly");
        s.pending.delete(c.depositId);
        // _drainRate: takes what the bucket has, never reverts.
        const available = this.rateAvailable(s, timestamp);
        s.bucketLevel = available - (p.amount > available ? available : p.amount);
        s.bucketUpdated = timestamp;
        this.credit(s, p.recipient, p.amount);
        logs.push({ event: "Minted", depositId: c.depositId, recipient: p.recipient, amount: p.amount });
        return;
      }
      case "cancelDelayed":
        if (!this.members.has(tx.from.toLowerCase())) throw new Revert("NotGuardian");
        {
          const p = s.pending.get(c.depositId);
          if (!p) throw new Revert("NoPendingMint");
          // The contract cancels only within the delay (threat-model row 12z).
          if (timestamp >= p.executeAfter) throw new Revert("CancelTooLate");
        }
        s.pending.delete(c.depositId);
        s.cancelled.add(c.depositId);
        logs.push({ event: "MintCancelled", depositId: c.depositId });
        return;
      case "burn": {
        const a = c.moneroAddress;
        if ((a.length !== 95 && a.length !== 106) || !BASE58.test(a)) throw new Revert("BadMoneroAddress");
        return this.burnFor(s, tx.from, c.amount, 0, new TextEncoder().encode(a), logs);
      }
      case "burnToClaim":
        if (c.claimKey.length !== 32) throw new Revert("BadClaimKey");
        if (c.claimKey.every((b) => b === 0)) throw new Revert("BadClaimKey");
        return this.burnFor(s, tx.from, c.amount, 1, c.claimKey, logs);
    }
  }

  private mint(
    s: WxmrState,
    m: MintMessage,
    signatures: readonly `0x${string}`[],
    timestamp: bigint,
    logs: EvmLog[],
  ): void {
    if (m.deadline < timestamp) throw new Revert("Expired");
    if (/^0x0{64}$/.test(m.depositId)) throw new Revert("ZeroDepositId");
    if (s.depositUsed.has(m.depositId)) throw new Revert("DepositUsed");
    if (m.amount === 0n) throw new Revert("ZeroAmount");
    if (/^0x0{40}$/.test(m.recipient)) throw new Revert("ZeroRecipient");
    if (m.setIndex !== 1) throw new Revert("UnknownSet");
    if (signatures.length < this.threshold) throw new Revert("NotEnoughSignatures");
    const digest = hexToBytes(mintDigest({ chainId: this.chainId, contract: this.contract }, m));
    let previous = 0n;
    for (const sig of signatures) {
      const signer = recoverSigner(digest, hexToBytes(sig));
      if (signer === undefined) throw new Revert("ECDSAInvalidSignature");
      const value = BigInt(signer);
      if (value === previous) throw new Revert("DuplicateSigner");
      if (value < previous) throw new Revert("SignersNotAscending");
      if (!this.members.has(signer.toLowerCase())) throw new Revert("SignerNotGuardian");
      previous = value;
    }
    s.depositUsed.add(m.depositId);
    if (m.amount > this.limits.singleMintCap) {
      const executeAfter = timestamp + this.limits.mintDelay;
      s.pending.set(m.depositId, { recipient: m.recipient, executeAfter, amount: m.amount });
      logs.push({
        event: "MintDelayed",
        depositId: m.depositId,
        recipient: m.recipient,
        amount: m.amount,
        executeAfter,
      });
      return;
    }
    const available = this.rateAvailable(s, timestamp);
    if (m.amount > available) throw new Revert("RateLimited");
    s.bucketLevel = available - m.amount;
    s.bucketUpdated = timestamp;
    this.credit(s, m.recipient, m.amount);
    logs.push({ event: "Minted", depositId: m.depositId, recipient: m.recipient, amount: m.amount });
  }

  private rateAvailable(s: WxmrState, timestamp: bigint): bigint {
    const level = s.bucketLevel + (timestamp - s.bucketUpdated) * this.limits.ratePerSecond;
    return level > this.limits.rateCapacity ? this.limits.rateCapacity : level;
  }

  private credit(s: WxmrState, to: EvmAddress, amount: bigint): void {
    s.balances.set(to, (s.balances.get(to) ?? 0n) + amount);
    s.supply += amount;
  }

  private burnFor(
    s: WxmrState,
    from: EvmAddress,
    amount: bigint,
    kind: number,
    destination: Uint8Array,
    logs: EvmLog[],
  ): void {
    if (amount < this.limits.minBurn) throw new Revert("BurnTooSmall");
    const balance = s.balances.get(from) ?? 0n;
    if (balance < amount) throw new Revert("ERC20InsufficientBalance");
    s.balances.set(from, balance - amount);
    s.supply -= amount;
    const burnId = s.burnCount++;
    logs.push({ event: "Burned", burnId, from, amount, kind, destination });
  }

  // ---- per-guardian nodes -------------------------------------------------------------------------

  /** Guardian g's EVM node, as the bridge module reads it (its lag, outages and slow answers). */
  source(g: number, scheduler: Scheduler, rng: Rng, timeoutMs = 10_000): SimEvmSource {
    return new SimEvmSource(this, g, scheduler, rng, timeoutMs);
  }
}

/** One guardian's EVM RPC node: the module's EvmSource over the simulated chain. */
export class SimEvmSource implements EvmSource {
  private readonly endpoint: SimEndpoint;

  constructor(
    private readonly chain: SimEvmChain,
    private readonly g: number,
    scheduler: Scheduler,
    rng: Rng,
    timeoutMs: number,
  ) {
    this.endpoint = new SimEndpoint({
      name: `http://evm-node-${g}`,
      kind: "daemon",
      scheduler,
      rng,
      faults: () => chain.faults(g),
      errors: rpcErrors,
      timeoutMs,
      trace: chain.trace,
    });
  }

  /** Whose node this is. */
  get guardian(): number {
    return this.g;
  }

  /** The node's head block number, and a block the node has (it throws past its head, as a node does). */
  private viewHead(): number {
    return this.chain.viewHeight(this.g) - 1;
  }

  private known(block: bigint): number {
    const n = Number(block);
    if (n > this.viewHead() || n < 0) throw new Error(`header not found: block ${block}`);
    return n;
  }

  chainId(): Promise<number> {
    return this.endpoint.call("eth_chainId", () => this.chain.chainId);
  }

  head(): Promise<bigint> {
    return this.endpoint.call("eth_blockNumber", () => BigInt(this.viewHead()));
  }

  blockTimestamp(block: bigint): Promise<bigint> {
    return this.endpoint.call("eth_getBlockByNumber", () => this.chain.block(this.known(block))!.timestamp);
  }

  burns(from: bigint, to: bigint): Promise<BurnSeen[]> {
    return this.endpoint.call("eth_getLogs", () => this.chain.burns(this.known(from), this.known(to)));
  }

  totalSupply(block?: bigint): Promise<bigint> {
    return this.endpoint.call("eth_call", () =>
      this.chain.totalSupply(block === undefined ? this.viewHead() : this.known(block)),
    );
  }

  depositStatus(depositId: `0x${string}`, block: bigint): Promise<DepositStatus> {
    return this.endpoint.call("eth_call", () => this.chain.depositStatus(depositId, this.known(block)));
  }

  contractState(): Promise<{
    codeBytes: number;
    setIndex: number;
    guardians: EvmAddress[];
    threshold: number;
  }> {
    return this.endpoint.call("eth_call", () => ({
      codeBytes: 9_000,
      setIndex: 1,
      guardians: [...this.chain.signers],
      threshold: this.chain.threshold,
    }));
  }
}
