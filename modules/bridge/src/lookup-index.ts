// The look-up indexes of the bridge module (lookup.ts serves them).
//
// In the consensus state (written in the same transition as the record they point to, so every
// guardian holds the same index; its own prefixes, beside state.ts's 0x01..0x0b and 0x10..0x11):
//   0x0c | deposit id (32)                       -> 0 | txid (32) | index u32       a mint output
//                                                   1 | burn tx hash (32) | log u32  a burn's re-mint
//   0x0d | burner (20) | tx hash (32) | log u32  -> ()                              accepted burns by address
//   0x0e | burner (20)                           -> u32                             how many are indexed
// Read-only scans of state.ts's own records (same layout as there):
//   0x02 | txid | index                          mint outputs of one federation transaction
//   0x03 | tx hash | log, 0x04 | tx hash | log | guardian   accepted burns and votes of one EVM transaction
//
// In memory, per guardian (MintLogIndex): the contract's Minted / MintDelayed / MintCancelled logs
// its own EVM node returns up to its depth block (head − confirmations + 1), by recipient and by
// deposit id. Bounded: MINT_LOGS_MAX entries in all (about 200 bytes each: 20 MB at most), at most
// MINTS_PER_ADDRESS_MAX per address; past a bound new logs are not indexed and answers say so.
import { Reader, Writer } from "@conclave/core-common";
import { PollLoop } from "@conclave/core-server";
import type { ReadTx, WriteTx } from "@conclave/core-server";
import { createPublicClient, hexToBytes, http, parseAbiItem } from "viem";
import type { PublicClient } from "viem";
import { addressBytes } from "./common.js";
import type { BurnKey, EvmAddress, MintKey } from "./common.js";
import { ADDRESS_BURNS_MAX } from "./lookup-api.js";
import type { DepositRef } from "./lookup-api.js";

type Hex = `0x${string}`;

const BY_DEPOSIT = 0x0c;
const BURNS_BY_ADDRESS = 0x0d;
const BURNS_BY_ADDRESS_COUNT = 0x0e;
const MINT = 0x02;
const BURN = 0x03;
const VOTE = 0x04;

const toHexString = (bytes: Uint8Array): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

// ---- consensus-state index ---------------------------------------------------------------------

/** Written where the mint output's record is written (processOutput). */
export function indexOutputDeposit(db: WriteTx, depositId: Hex, key: MintKey): void {
  db.put(
    new Writer().u8(BY_DEPOSIT).fixed(hexToBytes(depositId), 32).finish(),
    new Writer().u8(0).fixed(key.txid, 32).u32(key.index).finish(),
  );
}

/** Written where a burn's re-mint is written (accept). */
export function indexRemintDeposit(db: WriteTx, depositId: Hex, key: BurnKey): void {
  db.put(
    new Writer().u8(BY_DEPOSIT).fixed(hexToBytes(depositId), 32).finish(),
    new Writer().u8(1).fixed(key.txHash, 32).u32(key.logIndex).finish(),
  );
}

export function depositRef(db: ReadTx, depositId: Hex): DepositRef | undefined {
  const v = db.get(new Writer().u8(BY_DEPOSIT).fixed(hexToBytes(depositId), 32).finish());
  if (!v) return undefined;
  const r = new Reader(v);
  const kind = r.u8();
  const id = r.fixed(32);
  const n = r.u32();
  return kind === 0
    ? { kind: "output", txid: toHexString(id), index: n }
    : { kind: "remint", txHash: `0x${toHexString(id)}`, logIndex: n };
}

/**
 * An accepted burn, found again by its burner's address (written in accept). At most
 * ADDRESS_BURNS_MAX per address (an address's first ones): the bound on what one look-up reads.
 */
export function indexBurnByAddress(db: WriteTx, from: EvmAddress, key: BurnKey): void {
  const address = addressBytes(from);
  const countKey = new Writer().u8(BURNS_BY_ADDRESS_COUNT).fixed(address, 20).finish();
  const raw = db.get(countKey);
  const count = raw ? new Reader(raw).u32() : 0;
  db.put(countKey, new Writer().u32(count + 1).finish());
  if (count >= ADDRESS_BURNS_MAX) return;
  db.put(
    new Writer().u8(BURNS_BY_ADDRESS).fixed(address, 20).fixed(key.txHash, 32).u32(key.logIndex).finish(),
    new Uint8Array(),
  );
}

/** The burns indexed for `from` in (tx hash, log) order, and how many it has in all. */
export function burnsByAddress(db: ReadTx, from: EvmAddress): { keys: BurnKey[]; total: number } {
  const address = addressBytes(from);
  const keys: BurnKey[] = [];
  for (const [k] of db.scan(new Writer().u8(BURNS_BY_ADDRESS).fixed(address, 20).finish())) {
    if (keys.length >= ADDRESS_BURNS_MAX) break;
    const r = new Reader(k.subarray(21));
    keys.push({ txHash: r.fixed(32), logIndex: r.u32() });
  }
  const raw = db.get(new Writer().u8(BURNS_BY_ADDRESS_COUNT).fixed(address, 20).finish());
  return { keys, total: raw ? new Reader(raw).u32() : 0 };
}

/** Output indexes of one federation transaction's mint outputs above `after`, at most `max`. */
export function mintOutputsOf(db: ReadTx, txid: Uint8Array, after: number, max: number): number[] {
  const out: number[] = [];
  for (const [k] of db.scan(new Writer().u8(MINT).fixed(txid, 32).finish())) {
    const index = new Reader(k.subarray(33)).u32();
    if (index <= after) continue;
    if (out.length >= max) break;
    out.push(index);
  }
  return out;
}

/**
 * Log indexes above `after` of one EVM transaction's burns the state knows (accepted, or voted by
 * at least one guardian), ascending, at most `max`. Reads at most `keysMax` keys (a transaction's
 * burns are bounded by its gas; votes by n per burn).
 */
export function burnLogsOf(
  db: ReadTx,
  txHash: Uint8Array,
  after: number,
  max: number,
  keysMax: number,
): number[] {
  const logs = new Set<number>();
  let read = 0;
  for (const prefix of [BURN, VOTE])
    for (const [k] of db.scan(new Writer().u8(prefix).fixed(txHash, 32).finish())) {
      if (++read > keysMax) break;
      const log = new Reader(k.subarray(33)).u32();
      if (log > after) logs.add(log);
    }
  return [...logs].sort((a, b) => a - b).slice(0, max);
}

// ---- this guardian's index of mint logs -----------------------------------------------------------

export const MINTED_EVENT = parseAbiItem(
  "event Minted(bytes32 indexed depositId, address indexed recipient, uint256 amount)",
);
export const MINT_DELAYED_EVENT = parseAbiItem(
  "event MintDelayed(bytes32 indexed depositId, address indexed recipient, uint256 amount, uint64 executeAfter)",
);
export const MINT_CANCELLED_EVENT = parseAbiItem("event MintCancelled(bytes32 indexed depositId)");

export type MintLog =
  | {
      readonly kind: "minted" | "delayed";
      readonly depositId: Hex;
      readonly recipient: EvmAddress;
      readonly amount: bigint;
      readonly block: bigint;
      readonly txHash: Hex;
    }
  | { readonly kind: "cancelled"; readonly depositId: Hex; readonly block: bigint; readonly txHash: Hex };

/** What the index asks of an EVM node. */
export interface MintLogSource {
  head(): Promise<bigint>;
  /** The contract's mint logs in [from, to], not removed, in chain order. */
  mintLogs(from: bigint, to: bigint): Promise<MintLog[]>;
}

export class ViemMintLogSource implements MintLogSource {
  private readonly client: PublicClient;

  constructor(
    rpcUrl: string,
    private readonly contract: EvmAddress,
    timeoutMs = 10_000,
  ) {
    this.client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  }

  head(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  async mintLogs(from: bigint, to: bigint): Promise<MintLog[]> {
    const logs = await this.client.getLogs({
      address: this.contract,
      events: [MINTED_EVENT, MINT_DELAYED_EVENT, MINT_CANCELLED_EVENT],
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
    const out: MintLog[] = [];
    for (const log of logs) {
      if (log.removed || log.transactionHash === null || log.blockNumber === null) continue;
      const at = { block: log.blockNumber, txHash: log.transactionHash };
      if (log.eventName === "MintCancelled")
        out.push({ kind: "cancelled", depositId: log.args.depositId, ...at });
      else
        out.push({
          kind: log.eventName === "Minted" ? "minted" : "delayed",
          depositId: log.args.depositId,
          recipient: log.args.recipient,
          amount: log.args.amount,
          ...at,
        });
    }
    return out;
  }
}

/** Mint logs indexed in all (one guardian's memory: about 200 bytes each). */
export const MINT_LOGS_MAX = 100_000;
/** Mint logs indexed per recipient address (its first ones). */
export const MINTS_PER_ADDRESS_MAX = 1_000;

export interface IndexedMint {
  readonly depositId: Hex;
  readonly recipient: EvmAddress;
  readonly amount: bigint;
  chain: "minted" | "delayed" | "cancelled";
  block: bigint;
  txHash: Hex;
}

export interface MintLogIndexOptions {
  readonly source: MintLogSource;
  readonly confirmations: number;
  readonly blocksPerPollMax: bigint;
  readonly pollMs: number;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * This guardian's index of the contract's mint logs, read forward from block 0 up to its depth block
 * (a reorg shallower than the depth never shows it a log that later disappears). Rebuilt from the
 * node at every start: it is only what the chain shows, kept for look-ups.
 */
export class MintLogIndex {
  private readonly byDeposit = new Map<string, IndexedMint>();
  private readonly byRecipient = new Map<string, IndexedMint[]>();
  private scannedTo = -1n;
  private deep = -1n;
  private dropped = 0;
  private readonly loop: PollLoop;

  constructor(private readonly options: MintLogIndexOptions) {
    this.loop = new PollLoop(() => this.poll(), {
      pollMs: options.pollMs,
      // Catching up: the next step at once; at the depth: the poll interval.
      nextMs: () => (this.scanned.atDepth ? options.pollMs : 0),
      backoffExponentMax: 6,
      backoffMaxMs: 60_000,
      onFailure: (e, _failures, retryInMs) =>
        options.log("mint_logs_failed", { error: (e as Error).message, retryInMs }),
    });
  }

  /** The block read up to (undefined before the first step), and whether that is this node's depth. */
  get scanned(): { block: bigint | undefined; atDepth: boolean; full: boolean } {
    return {
      block: this.scannedTo < 0n ? undefined : this.scannedTo,
      atDepth: this.scannedTo >= 0n && this.scannedTo === this.deep,
      full: this.dropped > 0,
    };
  }

  /** The mints of `recipient` the index holds, in chain order (a copy). */
  mintsOf(recipient: EvmAddress): readonly IndexedMint[] {
    return (this.byRecipient.get(recipient.toLowerCase()) ?? []).map((m) => ({ ...m }));
  }

  /** One step: at most blocksPerPollMax blocks past the last read, up to the depth block. */
  async poll(): Promise<void> {
    const head = await this.options.source.head();
    const deep = head - BigInt(this.options.confirmations - 1);
    if (deep < 0n) return;
    this.deep = deep;
    const from = this.scannedTo + 1n;
    if (from > deep) return;
    const to =
      deep - from + 1n > this.options.blocksPerPollMax ? from + this.options.blocksPerPollMax - 1n : deep;
    const logs = await this.options.source.mintLogs(from, to);
    for (const log of logs) this.add(log);
    this.scannedTo = to;
  }

  private add(log: MintLog): void {
    const known = this.byDeposit.get(log.depositId.toLowerCase());
    if (log.kind === "cancelled") {
      if (known) Object.assign(known, { chain: "cancelled", block: log.block, txHash: log.txHash });
      return;
    }
    if (known) {
      // executeDelayed after MintDelayed: the same deposit id, now minted.
      Object.assign(known, { chain: log.kind, block: log.block, txHash: log.txHash });
      return;
    }
    const recipient = log.recipient.toLowerCase();
    const list = this.byRecipient.get(recipient) ?? [];
    if (this.byDeposit.size >= MINT_LOGS_MAX || list.length >= MINTS_PER_ADDRESS_MAX) {
      this.dropped++;
      return;
    }
    const entry: IndexedMint = {
      depositId: log.depositId,
      recipient: log.recipient,
      amount: log.amount,
      chain: log.kind,
      block: log.block,
      txHash: log.txHash,
    };
    this.byDeposit.set(log.depositId.toLowerCase(), entry);
    list.push(entry);
    this.byRecipient.set(recipient, list);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
