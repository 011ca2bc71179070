// This guardian's view of the EVM chain: the WrappedMonero contract's Burned logs at a confirmation
// depth, scanned forward from the block the consensus state says this guardian has scanned (its
// persisted last-scanned block: the module's state keeps every guardian's `scanned` report, written
// in the same database transaction as its votes, so a restart resumes exactly there and a burn is
// never skipped nor voted twice). What it finds enters consensus only through the module's
// consensusProposal. It never reads logs above head - confirmations + 1, so a reorg shallower than
// the depth never shows it a burn that later disappears; removed logs are skipped all the same.
//
// It also answers, for the refundable mints the module asks about (expiry checks), whether the
// mint can still come to exist on chain, from the contract's depositStatus(depositId) at its
// last-scanned block (at depth), once that block's timestamp T is past the mint's deadline. The
// contract refuses a mint whose deadline is below the block's timestamp, and timestamps never
// decrease, so at T: unused stays unused, and a queued mint (above the single-mint cap) can be
// cancelled only while T < its executeAfter. Hence the vote: unused or cancelled -> `used` false
// (it never mints: returned); minted, or queued with T >= executeAfter (only executeDelayed can
// follow, by anyone) -> `used` true; queued with T < executeAfter -> no vote yet (one guardian may
// still cancel it: threat-model row 12z). Each answer is final short of a reorg deeper than the
// depth; state at a block is read, not logs, so a cancel reorged out above the depth is never seen.
import { PollLoop } from "@conclave/core-server";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { createPublicClient, hexToBytes, http, parseAbiItem, toBytes } from "viem";
import type { PublicClient } from "viem";
import { BURN_DESTINATION_BYTES_MAX, addressOf, addressBytes } from "./common.js";
import type { BurnSeen, EvmAddress } from "./common.js";

/** The contract's Burned event (its fixed interface, packages/evm). */
export const BURNED_EVENT = parseAbiItem(
  "event Burned(uint64 indexed burnId, address indexed from, uint256 amount, uint8 kind, bytes destination)",
);

/** What the module asks of an EVM node (ViemEvmSource here; the simulator can plug its own chain). */
export interface EvmSource {
  chainId(): Promise<number>;
  head(): Promise<bigint>;
  blockTimestamp(block: bigint): Promise<bigint>;
  /** Burned logs of the contract in [from, to], not removed, in chain order. */
  burns(from: bigint, to: bigint): Promise<BurnSeen[]>;
  /** The contract's totalSupply() at the node's head, or after block `block` when given (piconero). */
  totalSupply(block?: bigint): Promise<bigint>;
  /** The contract's depositStatus(depositId) in the state after block `block`. */
  depositStatus(depositId: `0x${string}`, block: bigint): Promise<DepositStatus>;
  /** The contract's bytecode size (0: nothing deployed there) and its current guardian set. */
  contractState(): Promise<{
    codeBytes: number;
    setIndex: number;
    guardians: EvmAddress[];
    threshold: number;
  }>;
}

/** What became of a deposit id on chain (the contract's DEPOSIT_* constants, in order). */
export const DEPOSIT_STATUSES = ["unused", "minted", "queued", "cancelled"] as const;
export interface DepositStatus {
  readonly status: (typeof DEPOSIT_STATUSES)[number];
  /** For `queued`: from when anyone may execute it, and until when a guardian may cancel it. */
  readonly executeAfter: bigint;
}

export class ViemEvmSource implements EvmSource {
  private readonly client: PublicClient;

  constructor(
    rpcUrl: string,
    private readonly contract: EvmAddress,
    timeoutMs = 10_000,
  ) {
    this.client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  }

  chainId(): Promise<number> {
    return this.client.getChainId();
  }

  head(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  async blockTimestamp(block: bigint): Promise<bigint> {
    return (await this.client.getBlock({ blockNumber: block })).timestamp;
  }

  async burns(from: bigint, to: bigint): Promise<BurnSeen[]> {
    const logs = await this.client.getLogs({
      address: this.contract,
      event: BURNED_EVENT,
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
    const out: BurnSeen[] = [];
    for (const log of logs) {
      if (log.removed || log.transactionHash === null || log.logIndex === null || log.blockNumber === null)
        continue;
      const destination = hexToBytes(log.args.destination);
      out.push({
        txHash: hexToBytes(log.transactionHash),
        logIndex: log.logIndex,
        blockNumber: log.blockNumber,
        burnId: log.args.burnId,
        from: addressOf(addressBytes(log.args.from)),
        amount: log.args.amount,
        burnKind: log.args.kind,
        // Longer than any address or claim key: kept as "no destination" (the burn is re-minted).
        destination: destination.length > BURN_DESTINATION_BYTES_MAX ? new Uint8Array() : destination,
      });
    }
    return out;
  }

  totalSupply(block?: bigint): Promise<bigint> {
    return this.client.readContract({
      address: this.contract,
      abi: wrappedMoneroAbi,
      functionName: "totalSupply",
      ...(block === undefined ? {} : { blockNumber: block }),
    });
  }

  async depositStatus(depositId: `0x${string}`, block: bigint): Promise<DepositStatus> {
    const [code, executeAfter] = await this.client.readContract({
      address: this.contract,
      abi: wrappedMoneroAbi,
      functionName: "depositStatus",
      args: [depositId],
      blockNumber: block,
    });
    const status = DEPOSIT_STATUSES[code];
    if (status === undefined) throw new Error(`depositStatus ${code} is none the contract defines`);
    return { status, executeAfter };
  }

  async contractState(): Promise<{
    codeBytes: number;
    setIndex: number;
    guardians: EvmAddress[];
    threshold: number;
  }> {
    const code = await this.client.getCode({ address: this.contract });
    const codeBytes = code === undefined ? 0 : toBytes(code).length;
    if (codeBytes === 0) return { codeBytes, setIndex: 0, guardians: [], threshold: 0 };
    const read = { address: this.contract, abi: wrappedMoneroAbi } as const;
    const setIndex = await this.client.readContract({ ...read, functionName: "setIndex" });
    const guardians = await this.client.readContract({
      ...read,
      functionName: "guardians",
      args: [setIndex],
    });
    const threshold = await this.client.readContract({
      ...read,
      functionName: "threshold",
      args: [setIndex],
    });
    return { codeBytes, setIndex, guardians: [...guardians], threshold: Number(threshold) };
  }
}

export interface BurnWatcherOptions {
  readonly source: EvmSource;
  readonly confirmations: number;
  /** Most blocks one poll reads logs for (keeps a getLogs call small after a long outage). */
  readonly blocksPerPollMax: bigint;
  readonly pollMs: number;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  readonly onChange: () => void;
}

/**
 * A mint past the agreed EVM time the module wants this guardian's vote on: a refundable output, or
 * attempt `attempt` of a re-issuable one (`remint`: txid and index are the burn's key). Answers are
 * kept by deposit id, which differs between attempts.
 */
export interface ExpiryCheck {
  readonly txid: Uint8Array;
  readonly index: number;
  readonly deadline: bigint;
  readonly depositId: `0x${string}`;
  readonly remint?: boolean;
  readonly attempt?: number;
}

/** Expiry checks read per poll (each one eth_call); the rest wait for the next poll. */
export const EXPIRY_CHECKS_PER_POLL_MAX = 64;

const expiryName = (c: ExpiryCheck): string => c.depositId;

/** The poll's findings: burns in (resumed-from, scannedTo], and scannedTo's timestamp. */
export class BurnWatcher {
  private wanted: readonly ExpiryCheck[] = [];
  /** Answers to expiry checks: the deposit id's use at a depth block past the deadline. */
  private expiries = new Map<string, { check: ExpiryCheck; used: boolean; block: bigint }>();
  /** Mints read queued within their delay: not read again before the depth block reaches executeAfter. */
  private queuedUntil = new Map<string, bigint>();
  private scannedBlock: bigint | undefined;
  private scannedTimestamp = 0n;
  private found: BurnSeen[] = [];
  private supply: { block: bigint; supply: bigint } | undefined;
  private supplyDeep: { block: bigint; supply: bigint } | undefined;
  private readonly loop: PollLoop;

  constructor(private readonly options: BurnWatcherOptions) {
    this.loop = new PollLoop(() => this.poll(), {
      pollMs: options.pollMs,
      backoffExponentMax: 6,
      backoffMaxMs: 60_000,
      onFailure: (e, failures, retryInMs) =>
        options.log("evm_node_failed", { error: (e as Error).message, failures, retryInMs }),
      onRecovered: (failures) => options.log("evm_node_recovered", { failures }),
    });
  }

  /**
   * Where this guardian's scan resumes: the block after the one the consensus state shows it
   * scanned. Called by the module before every proposal; only the first call (or one past what the
   * watcher has, which only a restored database can cause) moves the scan.
   */
  setResume(lastScanned: bigint): void {
    if (this.scannedBlock === undefined || lastScanned > this.scannedBlock) {
      this.scannedBlock = lastScanned;
      this.scannedTimestamp = 0n;
      this.found = this.found.filter((b) => b.blockNumber > lastScanned);
    }
  }

  /** Burns found and not yet forgotten, and the block (with its timestamp) scanned up to. */
  get findings(): { burns: readonly BurnSeen[]; block: bigint | undefined; timestamp: bigint } {
    return { burns: this.found, block: this.scannedBlock, timestamp: this.scannedTimestamp };
  }

  /** wXMR total supply on chain at this guardian's node, as of its latest poll (undefined before). */
  get totalSupply(): bigint | undefined {
    return this.supply?.supply;
  }

  /** The same with the block it was read after (the node's head then): the accountant's reading. */
  get totalSupplyAtHead(): { block: bigint; supply: bigint } | undefined {
    return this.supply;
  }

  /**
   * wXMR total supply at this guardian's depth block (head − confirmations + 1) as of its latest
   * poll: the figure the status page compares across guardians (a reorg shallower than the depth
   * does not move it; the head figure above is for the accountant, which must see a mint at once).
   */
  get totalSupplyAtDepth(): { block: bigint; supply: bigint } | undefined {
    return this.supplyDeep;
  }

  /**
   * The refundable mints the module wants this guardian's expiry vote on (in deadline order, past
   * the agreed EVM time, not voted by it yet). Answers for mints no longer wanted are dropped.
   */
  wantExpiries(checks: readonly ExpiryCheck[]): void {
    this.wanted = checks;
    const keep = new Set(checks.map(expiryName));
    for (const name of [...this.expiries.keys()]) if (!keep.has(name)) this.expiries.delete(name);
    for (const name of [...this.queuedUntil.keys()]) if (!keep.has(name)) this.queuedUntil.delete(name);
  }

  /** Answers for wanted mints, in the order they were asked for. */
  get expiryFindings(): { check: ExpiryCheck; used: boolean; block: bigint }[] {
    return this.wanted.flatMap((c) => {
      const found = this.expiries.get(expiryName(c));
      return found ? [found] : [];
    });
  }

  /** Burns the consensus state shows handled (voted by this guardian, or accepted) are dropped. */
  forget(handled: (b: BurnSeen) => boolean): void {
    this.found = this.found.filter((b) => !handled(b));
  }

  /** One scan step: at most blocksPerPollMax blocks past the last scanned, up to the depth. */
  async poll(): Promise<void> {
    const from = this.scannedBlock;
    if (from === undefined) return; // the module has not said where to resume yet
    // The supply after a known block (the head), so that the accountant knows which burns it reflects.
    const head = await this.options.source.head();
    this.supply = { block: head, supply: await this.options.source.totalSupply(head) };
    const deep = head - BigInt(this.options.confirmations - 1);
    if (deep >= 0n && deep !== this.supplyDeep?.block) {
      try {
        this.supplyDeep = { block: deep, supply: await this.options.source.totalSupply(deep) };
      } catch (e) {
        // Before the contract existed at that block (a fresh chain): no figure yet, the scan goes on.
        this.options.log("supply_unread", {
          block: String(deep),
          message: e instanceof Error ? e.message : String(e),
        });
      }
    }
    if (deep <= from) return this.checkExpiries();
    const to = deep - from > this.options.blocksPerPollMax ? from + this.options.blocksPerPollMax : deep;
    const burns = await this.options.source.burns(from + 1n, to);
    const timestamp = await this.options.source.blockTimestamp(to);
    // The scan moved on while this step ran (setResume past it): drop this step's findings.
    if (this.scannedBlock !== from) return;
    this.found.push(...burns);
    this.scannedBlock = to;
    this.scannedTimestamp = timestamp;
    if (burns.length > 0)
      this.options.log("burns_seen", { from: String(from + 1n), to: String(to), burns: burns.length });
    await this.checkExpiries();
    this.options.onChange();
  }

  /**
   * Reads depositStatus at the last-scanned block (at depth) for wanted mints whose deadline is below
   * that block's timestamp: no later block can mint them (Expired), and a queued one is answered
   * only once that timestamp reaches its executeAfter (no cancel after), so every answer is final.
   */
  private async checkExpiries(): Promise<void> {
    const block = this.scannedBlock;
    const timestamp = this.scannedTimestamp;
    if (block === undefined || timestamp === 0n) return;
    const todo = this.wanted
      .filter((c) => {
        const name = expiryName(c);
        return (
          c.deadline < timestamp &&
          !this.expiries.has(name) &&
          (this.queuedUntil.get(name) ?? 0n) <= timestamp
        );
      })
      .slice(0, EXPIRY_CHECKS_PER_POLL_MAX);
    if (todo.length === 0) return;
    for (const check of todo) {
      const { status, executeAfter } = await this.options.source.depositStatus(check.depositId, block);
      if (this.scannedBlock !== block) return; // moved by setResume meanwhile: the next poll reads again
      const name = expiryName(check);
      if (status === "queued" && timestamp < executeAfter) {
        // Any one guardian may still cancel it: no vote until the depth block reaches executeAfter.
        this.queuedUntil.set(name, executeAfter);
        continue;
      }
      this.queuedUntil.delete(name);
      this.expiries.set(name, { check, used: status === "minted" || status === "queued", block });
    }
    this.options.log("expiries_checked", { block: String(block), mints: todo.length });
    this.options.onChange();
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
