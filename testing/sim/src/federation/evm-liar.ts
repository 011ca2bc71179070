// An honest guardian whose own EVM node lies (`--evm-lying-node`, run-seed mode `evm-lying-node`).
//
// Every other fault of the simulated EVM nodes is honest (lag, outages, slow answers: a prefix of the
// true chain or no answer). Here one honest guardian, drawn from the seed when the Byzantine
// guardians leave room in f (B < f), runs the real module against a node that answers falsely: a
// compromised or buggy RPC provider. Its engine is honest; its module's reports (burn votes, scanned
// block and time, expiry votes, the accountant's supply reading) carry the node's lies into
// consensus through the module's own code, not through forged items as a Byzantine guardian's do
// (bridge-byzantine.ts). The federation must treat it as one faulty guardian: no lie of one node
// reaches t votes, and the guardian itself must not crash on them. Its halt on a supply reading
// above its books is the accountant's rule (it cannot tell a lying node from a stolen mint), counted
// and excused (bridge.ts onHalt); every other checker judges it as an honest guardian.
//
// The lies, each drawn per seed (profile `EvmLies`):
//   - phantom burns: Burned logs that never happened, to the liar's claim key or a Monero address;
//   - inflated burns: the real burns with twice the amount, or to the liar's claim key;
//   - a supply above the chain's from a drawn time on (the guardian proposes a supply check and halts);
//   - deposit statuses flipped (a minted mint "unused", an unused one "minted"): false expiry votes;
//   - the head: far ahead of the chain (blocks that do not exist, with timestamps up to a day in the
//     future), or stuck at a block for good (a node that stopped syncing but answers).
import type { BurnSeen, DepositStatus, EvmSource } from "@conclave/module-bridge";
import type { Rng } from "../rng.js";
import type { SimEvmChain, SimEvmSource } from "../chains/evm-chain.js";

export type HeadLie = "true" | "ahead" | "stuck";

export interface EvmLies {
  readonly phantomBurns: boolean;
  readonly inflatedBurns: boolean;
  /** Piconero the node adds to totalSupply() from `supplyFromMs` (simulated) on; 0n: no supply lie. */
  readonly supplyExcess: bigint;
  readonly supplyFromMs: number;
  readonly flipDeposits: boolean;
  readonly head: HeadLie;
  /** For `ahead`: blocks the node claims beyond its real head. For `stuck`: the block it stays at. */
  readonly headBlocks: number;
}

export interface EvmLiarStats {
  evmLiar: number;
  evmLiarPhantomBurns: number;
  evmLiarInflatedBurns: number;
  evmLiarSupplyLies: number;
  evmLiarDepositLies: number;
  /** Answers of a head far ahead of the chain, and of a head stuck below it. */
  evmLiarHeadAhead: number;
  evmLiarHeadStuck: number;
  evmLiarHalts: number;
  /** 1 once the liar's module showed the alert wxmr_supply_unchecked (a stuck head below the burns). */
  evmLiarBlindAlerts: number;
}

export const emptyLiarStats = (): EvmLiarStats => ({
  evmLiar: 0,
  evmLiarPhantomBurns: 0,
  evmLiarInflatedBurns: 0,
  evmLiarSupplyLies: 0,
  evmLiarDepositLies: 0,
  evmLiarHeadAhead: 0,
  evmLiarHeadStuck: 0,
  evmLiarHalts: 0,
  evmLiarBlindAlerts: 0,
});

/** What the liar's node lies about, drawn from its own stream. At least one lie is always drawn. */
export function drawLies(rng: Rng): EvmLies {
  const head = rng.pick(["true", "ahead", "stuck"] as const);
  const lies: EvmLies = {
    phantomBurns: rng.chance(0.6),
    inflatedBurns: rng.chance(0.5),
    supplyExcess: rng.chance(0.5) ? BigInt(rng.range(1, 50_000)) : 0n,
    supplyFromMs: rng.range(0, 20_000),
    flipDeposits: rng.chance(0.5),
    head,
    headBlocks: head === "ahead" ? rng.range(5, 100_000) : rng.range(2, 40),
  };
  const any = lies.phantomBurns || lies.inflatedBurns || lies.supplyExcess > 0n || lies.flipDeposits;
  return any || head !== "true" ? lies : { ...lies, phantomBurns: true };
}

const byChainOrder = (a: BurnSeen, b: BurnSeen): number =>
  a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1;

/**
 * The liar's node: the honest node's answers (its lag, outages and slow answers included: `inner`)
 * with the drawn lies applied. Blocks past the head it really has are answered from that head's
 * state, with timestamps it makes up.
 */
export class LyingEvmSource implements EvmSource {
  private readonly claimKey: Uint8Array;
  /** 95 base58 characters: a destination that parses as a Monero address of the mainnet's length. */
  private readonly moneroAddress = new TextEncoder().encode(`4${"A".repeat(94)}`);
  private readonly phantoms = new Map<bigint, BurnSeen[]>();

  constructor(
    private readonly inner: SimEvmSource,
    private readonly chain: SimEvmChain,
    readonly lies: EvmLies,
    private readonly rng: Rng,
    private readonly now: () => number,
    private readonly stats: EvmLiarStats,
  ) {
    this.claimKey = rng.bytes(32);
  }

  /** The highest block the honest node has (its lag included). */
  private realHead(): bigint {
    return BigInt(this.chain.viewHeight(this.inner.guardian) - 1);
  }

  private clamp(block: bigint): bigint {
    const real = this.realHead();
    return block > real ? real : block;
  }

  chainId(): Promise<number> {
    return this.inner.chainId();
  }

  async head(): Promise<bigint> {
    const real = await this.inner.head();
    if (this.lies.head === "ahead") {
      this.stats.evmLiarHeadAhead++;
      return real + BigInt(this.lies.headBlocks);
    }
    if (this.lies.head === "stuck" && real > BigInt(this.lies.headBlocks)) {
      this.stats.evmLiarHeadStuck++;
      return BigInt(this.lies.headBlocks);
    }
    return real;
  }

  async blockTimestamp(block: bigint): Promise<bigint> {
    const real = this.realHead();
    if (block <= real) return this.inner.blockTimestamp(block);
    // A block the chain does not have: a timestamp as far ahead as the block, up to a day more.
    const base = await this.inner.blockTimestamp(real);
    return base + (block - real) * 12n + BigInt(this.rng.range(0, 86_400));
  }

  async burns(from: bigint, to: bigint): Promise<BurnSeen[]> {
    const out = from <= this.realHead() ? await this.inner.burns(from, this.clamp(to)) : [];
    if (this.lies.inflatedBurns)
      for (let i = 0; i < out.length; i++) {
        this.stats.evmLiarInflatedBurns++;
        const b = out[i]!;
        out[i] = this.rng.chance(0.5)
          ? { ...b, amount: b.amount * 2n }
          : { ...b, burnKind: 1, destination: this.claimKey };
      }
    if (this.lies.phantomBurns) {
      // One phantom in about 20 blocks (the first 64 blocks of a range: a scan step is smaller).
      for (let block = from; block <= to && block < from + 64n; block++) {
        let here = this.phantoms.get(block);
        if (here === undefined) {
          here = this.rng.chance(0.05) ? [this.phantom(block)] : [];
          this.phantoms.set(block, here);
        }
        this.stats.evmLiarPhantomBurns += here.length;
        out.push(...here);
      }
      out.sort(byChainOrder);
    }
    return out;
  }

  /** A Burned log that never happened, at `block`: to the liar's claim key or to a Monero address. */
  private phantom(block: bigint): BurnSeen {
    const toClaim = this.rng.chance(0.5);
    return {
      txHash: this.rng.bytes(32),
      logIndex: 100 + this.rng.int(8),
      blockNumber: block,
      burnId: 1_000_000n + BigInt(this.rng.int(1_000_000)),
      from: `0x${"ab".repeat(20)}`,
      amount: BigInt(this.rng.range(500, 1_000_000)),
      burnKind: toClaim ? 1 : 0,
      destination: toClaim ? this.claimKey : this.moneroAddress,
    };
  }

  async totalSupply(block?: bigint): Promise<bigint> {
    const real = await this.inner.totalSupply(block === undefined ? undefined : this.clamp(block));
    if (this.lies.supplyExcess === 0n || this.now() < this.lies.supplyFromMs) return real;
    this.stats.evmLiarSupplyLies++;
    return real + this.lies.supplyExcess;
  }

  async depositStatus(depositId: `0x${string}`, block: bigint): Promise<DepositStatus> {
    const real = await this.inner.depositStatus(depositId, this.clamp(block));
    if (!this.lies.flipDeposits) return real;
    this.stats.evmLiarDepositLies++;
    return real.status === "unused"
      ? { status: "minted", executeAfter: 0n }
      : { status: "unused", executeAfter: 0n };
  }

  contractState(): ReturnType<EvmSource["contractState"]> {
    return this.inner.contractState();
  }
}
