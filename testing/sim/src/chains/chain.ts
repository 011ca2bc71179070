// What every simulated external chain shares (the Monero chain here, the bridge's EVM chain next):
// a clock and scheduler supplied by the simulator, blocks with a finality depth and reorgs, a
// trace hash of everything that happened, and per-guardian nodes whose answers arrive through the
// scheduler, late, failed or behind the tip, as the guardian's own monerod / wallet-rpc / RPC node
// would answer. Nothing here reads a real clock or Math.random: a run is a function of its seed.
import { createHash } from "node:crypto";
import { EventQueue } from "../queue.js";
import type { Rng } from "../rng.js";

/** The simulator's clock and event queue, as a chain needs them. */
export interface Scheduler {
  /** Simulated time, ms. */
  now(): number;
  /** Runs `fn` `delayMs` of simulated time from now (0: after the events already due now). */
  schedule(delayMs: number, fn: () => void): void;
}

/**
 * A Scheduler over a clock that schedules at absolute times (the simulator's SimHost:
 * `schedule(atMs, fn)`), so that a chain's answers go through the run's one event queue.
 */
export function schedulerAt(host: {
  now(): number;
  schedule(atMs: number, fn: () => void): void;
}): Scheduler {
  return {
    now: () => host.now(),
    schedule: (delayMs, fn) => {
      if (!(delayMs >= 0)) throw new RangeError(`delay must be >= 0 ms: ${delayMs}`);
      host.schedule(host.now() + delayMs, fn);
    },
  };
}

/**
 * A scheduler of its own, for tests and for a simulator that has none: an event queue and a clock
 * that jumps to the next event. Promise continuations run between events (settle() drains them),
 * so an async caller sees each answer before the next event fires.
 */
export class ManualScheduler implements Scheduler {
  private readonly queue = new EventQueue<() => void>();
  private time = 0;
  /** Events run so far. */
  events = 0;

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): void {
    if (!(delayMs >= 0)) throw new RangeError(`delay must be >= 0 ms: ${delayMs}`);
    this.queue.push(this.time + delayMs, fn);
  }

  /** Runs the next event; false when none is left. */
  step(): boolean {
    const e = this.queue.pop();
    if (!e) return false;
    this.time = e.time;
    this.events++;
    e.value();
    return true;
  }

  /** Runs every event due up to `untilMs` (promise continuations between them), then sets the clock there. */
  async runUntil(untilMs: number): Promise<void> {
    await drainMicrotasks();
    while (this.queue.peekTime() <= untilMs) {
      this.step();
      await drainMicrotasks();
    }
    this.time = Math.max(this.time, untilMs);
  }

  /** Runs events until `p` settles; throws if the queue runs dry first (nothing could ever settle it). */
  async settle<T>(p: Promise<T>, eventsMax = 100_000): Promise<T> {
    let done = false;
    const watched = p.finally(() => {
      done = true;
    });
    // The caller gets p's rejection through `watched`; this copy only keeps it from being unhandled.
    watched.catch(() => undefined);
    await drainMicrotasks();
    for (let i = 0; !done; i++) {
      if (i >= eventsMax || !this.step())
        throw new Error("settle: the promise never settled (no event left)");
      await drainMicrotasks();
    }
    return watched;
  }
}

/**
 * Lets every pending promise continuation run. setImmediate fires after the microtask queue is
 * empty; it carries no time value into the run, so the order of events stays a function of the seed.
 */
export function drainMicrotasks(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A running SHA-256 over the events of a run: two runs of one seed must end with equal hashes. */
export class Trace {
  private digest = "";
  private count = 0;
  /** The last lines (for a failing seed's report). */
  readonly recent: string[] = [];

  add(line: string): void {
    this.digest = createHash("sha256").update(this.digest).update("\n").update(line).digest("hex");
    this.count++;
    this.recent.push(line);
    if (this.recent.length > 64) this.recent.shift();
  }

  get hash(): string {
    return this.digest;
  }

  get length(): number {
    return this.count;
  }
}

/** The faults of one guardian's nodes (its daemon and its wallet), changed at will by the simulator. */
export interface NodeFaults {
  /** Blocks this guardian's node is behind the canonical tip. */
  lagBlocks: number;
  /** The daemon (monerod, the EVM RPC node) refuses connections. */
  daemonDown: boolean;
  /** The wallet (wallet-rpc) refuses connections. */
  walletDown: boolean;
  /** Every answer takes this long, simulated ms. */
  latencyMs: number;
  /** The chance that one answer is slow instead. */
  slowProbability: number;
  /** How long a slow answer takes; beyond the client's timeout the caller gets a timeout error. */
  slowMs: number;
}

export const HEALTHY_NODE: Readonly<NodeFaults> = {
  lagBlocks: 0,
  daemonDown: false,
  walletDown: false,
  latencyMs: 2,
  slowProbability: 0,
  slowMs: 0,
};

/** The errors a real RPC client throws, made by the chain's own client library's classes. */
export interface RpcErrorKinds {
  /** The connection was refused (the process is down). */
  connection(endpoint: string, method: string): Error;
  /** No answer within the client's limit (the call may still take effect). */
  timeout(endpoint: string, method: string, timeoutMs: number): Error;
}

export type EndpointKind = "daemon" | "wallet";

/**
 * One guardian's RPC endpoint (its daemon or its wallet): every call answers through the scheduler
 * after the node's latency, fails as a refused connection while the node is down, and times out
 * past the client's limit (the call's effect still happens when the node gets to it, as with a
 * real slow node).
 */
export class SimEndpoint {
  constructor(
    private readonly args: {
      readonly name: string;
      readonly kind: EndpointKind;
      readonly scheduler: Scheduler;
      readonly rng: Rng;
      readonly faults: () => NodeFaults;
      readonly errors: RpcErrorKinds;
      /** The real client's timeout for this endpoint (ms). */
      readonly timeoutMs: number;
      readonly trace?: Trace;
    },
  ) {}

  private isDown(): boolean {
    const f = this.args.faults();
    return this.args.kind === "daemon" ? f.daemonDown : f.walletDown;
  }

  /** Runs `answer` at the node after its latency; the promise settles through the scheduler only. */
  call<T>(method: string, answer: () => T): Promise<T> {
    const { scheduler, rng, errors, name, timeoutMs } = this.args;
    const f = this.args.faults();
    const slow = f.slowProbability > 0 && rng.chance(f.slowProbability);
    const latency = Math.max(0, slow ? f.slowMs : f.latencyMs);
    return new Promise<T>((resolve, reject) => {
      if (this.isDown()) {
        scheduler.schedule(latency, () => reject(errors.connection(name, method)));
        return;
      }
      if (latency > timeoutMs) {
        this.args.trace?.add(`${name} ${method} timed out`);
        scheduler.schedule(timeoutMs, () => reject(errors.timeout(name, method, timeoutMs)));
        scheduler.schedule(latency, () => {
          if (this.isDown()) return;
          try {
            answer();
          } catch {
            // Nobody is waiting for this answer any more.
          }
        });
        return;
      }
      scheduler.schedule(latency, () => {
        if (this.isDown()) {
          reject(errors.connection(name, method));
          return;
        }
        try {
          resolve(answer());
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }
}

/** A block of any simulated chain. */
export interface SimBlockHeader {
  /** Its index: the chain's height (block count) once it is the tip is height + 1. */
  readonly height: number;
  readonly hash: string;
  readonly parent: string;
  /** Simulated time it was mined. */
  readonly timeMs: number;
}

/**
 * The chain-independent face of a simulated chain: what a block producer, a fault driver and the
 * simulator's report need. The Monero chain implements it; the bridge's EVM chain implements it
 * the same way (blocks, a finality depth, reorgs, per-guardian views with lag and outages).
 */
export interface SimulatedChain {
  readonly name: string;
  /** Blocks a guardian's code treats as final (Monero: the module's confirmations). */
  readonly finalityDepth: number;
  /** Block count of the canonical chain. */
  height(): number;
  /** Mines one block on the canonical tip. */
  mine(): SimBlockHeader;
  /** Replaces the top `depth` blocks by depth + 1 new ones (a longer fork wins). */
  reorg(depth: number): void;
  /** The faults of guardian g's nodes (the object is live: the simulator changes its fields). */
  faults(g: number): NodeFaults;
  /** The block count guardian g's node sees. */
  viewHeight(g: number): number;
  readonly trace: Trace;
}

export interface BlockProducerOptions {
  /** Mean simulated ms between blocks (exponential gaps). */
  readonly meanBlockMs: number;
  /** Chance that a new block comes with a reorg instead. */
  readonly reorgProbability?: number;
  /** Deepest reorg drawn (uniform 1..depthMax; above the finality depth it undoes "final" blocks). */
  readonly reorgDepthMax?: number;
  /** Called after every block (the simulator's checkers). */
  readonly onBlock?: (b: SimBlockHeader) => void;
}

/** Mines blocks on a chain at a random rate, with reorgs now and then, through the scheduler. */
export class BlockProducer {
  private running = false;
  /** Reorgs made, by depth. */
  readonly reorgs = new Map<number, number>();

  constructor(
    private readonly chain: SimulatedChain,
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
    private readonly options: BlockProducerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.next();
  }

  stop(): void {
    this.running = false;
  }

  private next(): void {
    const gap = Math.max(1, Math.round(this.rng.exponential(this.options.meanBlockMs)));
    this.scheduler.schedule(gap, () => {
      if (!this.running) return;
      const depthMax = Math.min(this.options.reorgDepthMax ?? 0, this.chain.height() - 1);
      if (depthMax >= 1 && this.rng.chance(this.options.reorgProbability ?? 0)) {
        const depth = this.rng.range(1, depthMax);
        this.chain.reorg(depth);
        this.reorgs.set(depth, (this.reorgs.get(depth) ?? 0) + 1);
      } else {
        const b = this.chain.mine();
        this.options.onBlock?.(b);
      }
      this.next();
    });
  }
}

export interface NodeFaultPlan {
  /** Mean simulated ms between fault episodes per guardian. */
  readonly gapMs: number;
  /** Longest episode, ms (uniform 1..). */
  readonly durationMsMax: number;
  /** Deepest lag drawn, blocks. */
  readonly lagBlocksMax: number;
  /** Slow answers during a "slow" episode: chance and duration. */
  readonly slowProbability: number;
  readonly slowMs: number;
}

/**
 * Random per-guardian node faults: episodes of a daemon or wallet outage, a lagging node or slow
 * answers, each ended after a drawn duration. Only guardians in `guardians` are touched.
 */
export class NodeFaultDriver {
  private running = false;
  /** Episodes started, by kind. */
  readonly episodes = new Map<string, number>();

  constructor(
    private readonly chain: SimulatedChain,
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
    private readonly guardians: readonly number[],
    private readonly plan: NodeFaultPlan,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const g of this.guardians) this.nextEpisode(g);
  }

  /** Stops new episodes and ends the current ones (the heal phase). */
  heal(): void {
    this.running = false;
    for (const g of this.guardians) Object.assign(this.chain.faults(g), { ...HEALTHY_NODE });
    this.chain.trace.add(`${this.chain.name} nodes healed`);
  }

  private nextEpisode(g: number): void {
    const gap = Math.max(1, Math.round(this.rng.exponential(this.plan.gapMs)));
    this.scheduler.schedule(gap, () => {
      if (!this.running) return;
      const f = this.chain.faults(g);
      const kind = this.rng.pick(["daemonDown", "walletDown", "lag", "slow"] as const);
      const duration = this.rng.range(1, Math.max(1, this.plan.durationMsMax));
      this.episodes.set(kind, (this.episodes.get(kind) ?? 0) + 1);
      this.chain.trace.add(`${this.chain.name} node ${g} ${kind} for ${duration}ms`);
      if (kind === "daemonDown") f.daemonDown = true;
      else if (kind === "walletDown") f.walletDown = true;
      else if (kind === "lag") f.lagBlocks = this.rng.range(1, Math.max(1, this.plan.lagBlocksMax));
      else {
        f.slowProbability = this.plan.slowProbability;
        f.slowMs = this.plan.slowMs;
      }
      this.scheduler.schedule(duration, () => {
        if (!this.running) return;
        if (kind === "daemonDown") f.daemonDown = false;
        else if (kind === "walletDown") f.walletDown = false;
        else if (kind === "lag") f.lagBlocks = 0;
        else f.slowProbability = 0;
        this.nextEpisode(g);
      });
    });
  }
}
