// The deterministic simulator (in the spirit of TigerBeetle's VOPR). One integer seed drives
// everything: the federation size is given, the rest (link faults, partitions, crashes, client
// load, Byzantine behaviour, clock rates) is drawn from the seed. The only fakes are the clock,
// the network and the disk (MemoryConsensusStore); the engine, the replica and Ed25519 are real.
//
// A run has two phases. In the safety phase every fault is on and the checkers must see no
// violation. Then the network heals (no loss, no partition, delay <= 26 ms), every crashed honest
// guardian restarts, Byzantine guardians keep misbehaving, and every item a client submitted must
// be committed by every honest guardian within LIVENESS_BOUND_MS of simulated time.
import type { SimApplication, SimApplicationFactory, SimHost } from "./application.js";
import { ByzantineGuardian, Coalition, drawByzantineProfile } from "./byzantine.js";
import { LockAttacker, drawLockAttackProfile } from "./lock-attacks.js";
import type { ByzantineStats } from "./byzantine.js";
import { BoundCheckers } from "./bound-checkers.js";
import type { BoundStats } from "./bound-checkers.js";
import { Checkers, itemKey } from "./checkers.js";
import { Replica, faultTolerance, sha256, testFederation } from "./consensus.js";
import type {
  Commit,
  ConsensusConfig,
  ConsensusLimits,
  EngineCrypto,
  FaultInjection,
  TestFederation,
} from "./consensus.js";
import { SimDisk } from "./disk.js";
import { MemoSigner, MemoVerifier } from "./memo-verifier.js";
import { HEALED_LINKS, SimNetwork, drawLinkFaults } from "./network.js";
import type { Delivery, LinkFaults, NetworkStats } from "./network.js";
import { EventQueue } from "./queue.js";
import { Rng } from "./rng.js";
import { SigningCheckers } from "./signing-checkers.js";
import type { SigningStats } from "./signing-checkers.js";

/**
 * After the network heals, every submitted item must be committed by every honest guardian within
 * this much simulated time. What the default timeouts need, worst case: a height stuck for the
 * whole safety phase (at most SAFETY_MS_MAX) reaches round r with 600 r + 150 r^2 <= 60 000 ms,
 * so r <= 15. After the heal a round with an honest proposer needs no timeout; one with a silent
 * or lying Byzantine proposer costs at most propose + prevote + precommit = 600 + 300 r ms
 * (5.1 s at r = 15), and up to f = 5 of them may come in a row: ~26 s. The backlog then needs
 * a few more heights whose rounds start again at 0 (at most 0.6 s + 5 x 0.6 s each). The bound,
 * 60 s, is about twice that; runs with default safety phases converge in under 10 s.
 */
export const LIVENESS_BOUND_MS = 60_000;
/** The most simulated time past the liveness bound an application may ask a run to go on (runsUntil). */
export const EXTENSION_MS_MAX = 300_000;

/** Safety phase lengths drawn from the seed when the caller gives none, and the longest allowed. */
export const SAFETY_MS_RANGE = { min: 4_000, max: 16_000 } as const;
export const SAFETY_MS_MAX = 60_000;

/** Limits small enough that oversized frames stay cheap to build; large enough for every workload here. */
export const SIM_LIMITS: Partial<ConsensusLimits> = {
  messageBytesMax: 1024 * 1024,
  itemBytesMax: 1024,
  bundleBytesMax: 16 * 1024,
  // Per-peer budgets near their smallest valid values, so that the simulator shows honest guardians
  // still converge when future buffers fill (one largest proposal fits at N = 16: 524,548 bytes),
  // catch-up replies are cut short, each peer's catch-up bytes are rate-limited (a block of
  // 512 KiB at N = 16 takes 4 s of one peer's allowance) and the catch-up cache evicts.
  futureBytesPerPeerMax: 600 * 1024,
  futureMessagesPerPeerMax: 64,
  bytesPerCatchUpMax: 64 * 1024,
  catchUpBytesPerSecondPerPeerMax: 128 * 1024,
  catchUpCacheBytesMax: 256 * 1024,
};

export const NODES_MIN = 4;
export const NODES_MAX = 16;

/**
 * Deliberate bugs in every engine of the run (ConsensusConfig.faultInjection), for proving that the
 * checkers catch them; docs/simulator.md has the table of bugs and the seeds that catch each.
 */
export type SimBug = keyof Omit<FaultInjection, "quorumDelta">;
export const SIM_BUGS: readonly SimBug[] = ["ignoreLock", "skipVoteSync", "forgetRoundOnRestart"];

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly byzantine: number;
  /** A deliberate bug: the engines use a quorum of t + quorumDelta (checkers still use t). */
  readonly quorumDelta?: number;
  /** Deliberate bugs switched on in every engine (test harness only). */
  readonly bugs?: readonly SimBug[];
  /** Length of the safety phase in simulated ms; drawn from the seed when absent. */
  readonly safetyMs?: number;
  /** Receives a line per notable event (crashes, partitions, phase changes) when given. */
  readonly log?: (line: string) => void;
  /** An application run on every honest guardian (the federation); none: consensus only. */
  readonly application?: SimApplicationFactory;
  /**
   * Consensus item size limit, bytes (SIM_LIMITS' 1024 when absent). The monero module's payout
   * chunks (a signed transaction set is about 1 KiB in the simulation) need more.
   */
  readonly itemBytesMax?: number;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly byzantine: number;
  readonly byzantineIndices: readonly number[];
  readonly quorumDelta: number;
  readonly bugs: readonly SimBug[];
  readonly heightsPerSession: number;
  readonly safetyMs: number;
  /** The command line that replays this run. */
  readonly replay: string;
  readonly violations: readonly string[];
  /** Heights committed by at least one honest guardian. */
  readonly heights: number;
  /** Sum over those heights of the rounds it took to decide them (decision round + 1). */
  readonly rounds: number;
  readonly simulatedMs: number;
  /** Simulated ms from the network healing until every item was committed everywhere (null: never). */
  readonly convergedAfterMs: number | null;
  readonly items: { submitted: number; acknowledged: number; retried: number };
  readonly faults: {
    readonly links: LinkFaults;
    /** Whether honest guardians flushed once per instant (the daemon's group commit) or per frame. */
    readonly groupCommit: boolean;
    crashes: number;
    midFlushCrashes: number;
    /** Crashes that also lost the disk's unflushed transactions, how many, and how many commits with them. */
    powerCuts: number;
    writesLost: number;
    commitsLost: number;
    restarts: number;
    partitions: number;
    /** Hold-then-release attacks on honest guardians' incoming links. */
    holds: number;
  };
  readonly network: NetworkStats;
  /** Honest engines' counters (drops by reason, evidence...), summed over guardians and restarts. */
  readonly honestCounters: Readonly<Record<string, number>>;
  readonly byzantineStats: ByzantineStats;
  readonly verifier: { readonly hits: number; readonly misses: number };
  /** Where each guardian ended (engine status; null for a crashed or failed guardian). */
  readonly guardians: readonly {
    readonly index: number;
    readonly honest: boolean;
    readonly status: { height: number; round: number; step: number; sessionsSigned: number } | null;
    /** Its last persisted Tendermint round state (honest guardians only). */
    readonly locked: { lockedRound: number; validRound: number } | null;
  }[];
  /** What the signing checkers looked at (slots, proofs of lock). */
  readonly signing: SigningStats;
  /** Censorship waits and memory peaks (see bound-checkers.ts). */
  readonly bounds: BoundStats & { readonly censorshipBoundHeights: number };
  /** Digest of every delivery and of the committed chain: equal seeds, equal hashes. */
  readonly traceHash: string;
  /** The application's own figures (empty without one). */
  readonly application: Readonly<Record<string, number>>;
}

/** N for a seed when the caller does not fix it: drawn from its own stream, so --nodes N replays it. */
export function nodesForSeed(seed: number, byzantine = 0): number {
  return new Rng(seed, "nodes").range(Math.max(NODES_MIN, 3 * byzantine + 1), NODES_MAX);
}

export function replayCommand(
  o: Pick<SimOptions, "seed" | "nodes" | "byzantine" | "quorumDelta" | "safetyMs" | "application" | "bugs">,
): string {
  let cmd = `npm run sim -- --seed ${o.seed} --nodes ${o.nodes} --byzantine ${o.byzantine}`;
  // The CLI runs the whole federation unless told otherwise.
  if (o.application === undefined) cmd += " --consensus-only";
  if (o.quorumDelta !== undefined && o.quorumDelta !== 0) cmd += ` --quorum-delta ${o.quorumDelta}`;
  for (const bug of o.bugs ?? []) cmd += ` --bug ${bug}`;
  if (o.safetyMs !== undefined) cmd += ` --safety-ms ${o.safetyMs}`;
  return cmd;
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

/** runSimulation for an application whose work is asynchronous (see Simulation.runAsync). */
export function runSimulationAsync(options: SimOptions): Promise<SimResult> {
  return new Simulation(options).runAsync();
}

/** Keys and base configs by federation size: deterministic, and costly enough to make once per process. */
const federations = new Map<string, TestFederation>();

function federation(n: number, itemBytesMax?: number): TestFederation {
  const key = `${n}:${itemBytesMax ?? ""}`;
  let fed = federations.get(key);
  if (fed === undefined) {
    const limits = itemBytesMax === undefined ? SIM_LIMITS : { ...SIM_LIMITS, itemBytesMax };
    fed = testFederation(n, { label: `sim-${n}`, limits });
    federations.set(key, fed);
  }
  return fed;
}

type SimEvent =
  | { readonly kind: "tick"; readonly node: number }
  | { readonly kind: "submit" }
  | { readonly kind: "crash" }
  | { readonly kind: "restart"; readonly node: number }
  | { readonly kind: "partition" }
  | { readonly kind: "healPartition" }
  | { readonly kind: "hold" }
  | { readonly kind: "liveness" }
  | { readonly kind: "app"; readonly fn: () => void };

interface WorkItem {
  readonly bytes: Uint8Array;
  guardian: number;
  acknowledged: boolean;
}

/** Fault parameters of one run, drawn from the seed. */
interface FaultPlan {
  readonly links: LinkFaults;
  /** Mean gap between two crashes (Infinity: none), the chance that a crash lands mid-flush, or cuts power. */
  readonly crashGapMs: number;
  readonly midFlushRate: number;
  readonly powerCutRate: number;
  readonly partitionGapMs: number;
  readonly submitGapMs: number;
  /** Honest guardians take in all frames of one instant before one flush, as the daemon does. */
  readonly groupCommit: boolean;
  /** Mean gap between two hold-then-release attacks on an honest guardian (Infinity: none). */
  readonly holdGapMs: number;
}

class Simulation {
  private readonly seed: number;
  private readonly n: number;
  private readonly config: ConsensusConfig;
  private readonly k: number;
  private readonly safetyMs: number;
  private readonly honest: number[];
  private readonly byzIndices: number[];
  private readonly crypto: EngineCrypto[];
  private readonly verifier = new MemoVerifier();
  private readonly net: SimNetwork;
  private readonly events = new EventQueue<SimEvent>();
  private readonly checkers: Checkers;
  private readonly signing: SigningCheckers;
  private readonly bounds: BoundCheckers;
  private readonly stores: SimDisk[];
  private readonly replicas: (Replica | null)[];
  /** Honest guardians that threw: stopped for good (the exception is already a violation). */
  private readonly failed: boolean[];
  private readonly byzantine = new Map<number, ByzantineGuardian>();
  private readonly plan: FaultPlan;
  private readonly rngFaults: Rng;
  private readonly rngLoad: Rng;
  /** Its own stream, so that the faults drawn before holds were added keep their values. */
  private readonly rngHolds: Rng;
  private readonly tickMs: number[];
  private readonly clockRate: number[];
  private readonly clockOffset: number[];
  /** Guardians that crash at the end of their current step, after this many more link sends. */
  private readonly crashBudget = new Map<number, number>();
  /** How long each guardian told to crash stays down. */
  private readonly downMs = new Map<number, number>();
  /** Guardians holding delivered frames whose output is not yet flushed (group commit). */
  private readonly unflushed = new Set<number>();
  private now = 0;
  private phase: "safety" | "liveness" = "safety";
  private livenessAt = 0;
  /** Consensus liveness judged at the bound, the run going on for the application (extendedUntil). */
  private livenessJudged = false;
  private targetHeight = 0;
  private convergedAt: number | null = null;
  private convergenceDirty = false;
  private readonly items = new Map<string, WorkItem>();
  private readonly unacknowledged: Set<string>[];
  /** Items waiting for any honest guardian to be up. */
  private deferred: string[] = [];
  private itemCounter = 0;
  private retried = 0;
  private readonly faultStats = {
    crashes: 0,
    midFlushCrashes: 0,
    powerCuts: 0,
    writesLost: 0,
    commitsLost: 0,
    restarts: 0,
    partitions: 0,
    holds: 0,
  };
  private readonly honestCounters: Record<string, number> = {};
  private readonly log: ((line: string) => void) | undefined;
  private readonly app: SimApplication | undefined;
  /** An application event ran since the last time its promise continuations were let run. */
  private appRan = false;

  constructor(private readonly options: SimOptions) {
    const { seed, nodes: n, byzantine: b } = options;
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a safe integer >= 0: ${seed}`);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`nodes must be 1..64: ${n}`);
    if (!Number.isInteger(b) || b < 0 || b >= n) throw new RangeError(`byzantine must be 0..${n - 1}: ${b}`);
    const safety = options.safetyMs;
    if (safety !== undefined && (!Number.isInteger(safety) || safety < 0 || safety > SAFETY_MS_MAX)) {
      throw new RangeError(`safetyMs must be 0..${SAFETY_MS_MAX} (the liveness bound assumes it): ${safety}`);
    }
    this.seed = seed;
    this.n = n;
    this.log = options.log;
    const setup = new Rng(seed, "setup");
    const fed = federation(n, options.itemBytesMax);
    const quorumDelta = options.quorumDelta ?? 0;
    const faultInjection: FaultInjection = {
      ...(quorumDelta !== 0 ? { quorumDelta } : {}),
      ...Object.fromEntries((options.bugs ?? []).map((bug) => [bug, true])),
    };
    this.config = {
      ...fed.config,
      heightsPerSession: setup.pick([1, 2, 3, 4, 5, 8]),
      ...(Object.keys(faultInjection).length > 0 ? { faultInjection } : {}),
    };
    this.k = this.config.heightsPerSession;
    this.safetyMs = options.safetyMs ?? setup.range(SAFETY_MS_RANGE.min, SAFETY_MS_RANGE.max);
    const order = setup.shuffle(Array.from({ length: n }, (_, i) => i));
    this.byzIndices = order.slice(0, b).sort((x, y) => x - y);
    this.honest = order.slice(b).sort((x, y) => x - y);
    this.plan = {
      links: drawLinkFaults(setup),
      crashGapMs: setup.chance(0.2) ? Infinity : setup.between(300, 5_000),
      midFlushRate: setup.between(0, 0.5),
      partitionGapMs: setup.chance(0.25) ? Infinity : setup.between(300, 6_000),
      submitGapMs: setup.between(10, 250),
      groupCommit: setup.chance(0.5),
      powerCutRate: setup.between(0, 0.5),
      holdGapMs: Infinity,
    };
    this.rngHolds = new Rng(seed, "holds");
    this.plan = {
      ...this.plan,
      holdGapMs: this.rngHolds.chance(0.4) ? Infinity : this.rngHolds.between(500, 6_000),
    };
    this.tickMs = Array.from({ length: n }, () => setup.range(2, 25));
    this.clockRate = Array.from({ length: n }, () => setup.between(0.97, 1.03));
    this.clockOffset = Array.from({ length: n }, () => setup.range(0, 1_000_000));
    this.rngFaults = new Rng(seed, "faults");
    this.rngLoad = new Rng(seed, "load");
    this.net = new SimNetwork(n, new Rng(seed, "network"), this.plan.links);
    this.crypto = fed.seeds.map((s) => ({
      signer: new MemoSigner(s),
      verifier: this.verifier,
      hash: sha256,
    }));
    this.checkers = new Checkers({
      seed,
      config: this.config,
      honest: this.honest,
      threshold: n - faultTolerance(n),
      verifier: this.verifier,
      hash: sha256,
      itemsMayRepeat: options.application !== undefined,
    });
    const violation = (what: string): void => this.checkers.violation(what);
    this.signing = new SigningCheckers({
      config: this.config,
      honest: this.honest,
      threshold: n - faultTolerance(n),
      verifier: this.verifier,
      hash: sha256,
      violation,
    });
    this.bounds = new BoundCheckers(this.config, violation);
    this.net.onSend = (from, bytes) => {
      if (this.byzantine.has(from)) this.signing.byzantineSent(bytes);
    };
    this.stores = Array.from({ length: n }, (_, i) => new SimDisk(i, this.k));
    this.replicas = new Array<Replica | null>(n).fill(null);
    this.failed = new Array<boolean>(n).fill(false);
    this.unacknowledged = Array.from({ length: n }, () => new Set<string>());

    const coalition = new Coalition(new Rng(seed, "coalition"), this.honest);
    const clock = { now: () => this.now, local: (i: number) => this.local(i) };
    for (const i of this.byzIndices) {
      const rng = new Rng(seed, `byzantine-${i}`);
      const profile = drawByzantineProfile(rng);
      const lockRng = new Rng(seed, `lock-attacks-${i}`);
      const lockAttacks = new LockAttacker(
        i,
        this.config,
        this.crypto[i]!,
        lockRng,
        drawLockAttackProfile(lockRng),
      );
      const deps = {
        index: i,
        config: this.config,
        crypto: this.crypto[i]!,
        net: this.net,
        rng,
        profile,
        coalition,
        clock,
        lockAttacks,
      };
      this.byzantine.set(i, new ByzantineGuardian(deps));
    }
    this.app = options.application?.(this.host());
    for (const g of this.honest) this.start(g);
  }

  private host(): SimHost {
    return {
      seed: this.seed,
      n: this.n,
      honest: this.honest,
      byzantine: this.byzIndices,
      config: this.config,
      verifier: this.verifier,
      now: () => this.now,
      phase: () => this.phase,
      disk: (g) => this.stores[g]!,
      up: (g) => this.replicas[g] !== null && !this.crashBudget.has(g),
      submit: (g, items) => {
        let taken = 0;
        for (const item of items) this.checkers.noteGiven(g, itemKey(item), false);
        this.step(g, "submit", (r) => {
          taken = r.submit(items, this.local(g));
        });
        return taken;
      },
      submitByzantine: (g, items) => this.byzantine.get(g)?.submitItems(items),
      lag: (g, untilMs) => this.net.hold(g, Math.round(untilMs)),
      schedule: (atMs, fn) => this.events.push(Math.max(this.now, Math.round(atMs)), { kind: "app", fn }),
      violation: (what) => this.checkers.violation(what),
      note: (line) => this.note(line),
    };
  }

  run(): SimResult {
    const end = this.begin();
    while (this.advance(end)) {
      // Nothing between events: a synchronous run.
    }
    return this.finish();
  }

  /**
   * The same run for an application with asynchronous work (a module's pollers awaiting its
   * simulated chain node): after each application event, the promise continuations it made
   * runnable run before the next event. Continuations carry no time, so the order of events, and
   * the run, stay a function of the seed.
   */
  async runAsync(): Promise<SimResult> {
    const end = this.begin();
    while (this.advance(end)) {
      if (this.appRan) {
        this.appRan = false;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return this.finish();
  }

  /** Schedules the first events; returns the simulated time at which the run ends at the latest. */
  private begin(): number {
    this.note(
      `seed ${this.seed}: n=${this.n} byzantine=[${this.byzIndices.join(",")}] k=${this.k} ` +
        `safety=${this.safetyMs}ms links=${JSON.stringify(this.plan.links)}`,
    );
    for (let i = 0; i < this.n; i++)
      this.events.push(this.rngFaults.range(0, this.tickMs[i]!), { kind: "tick", node: i });
    this.events.push(Math.round(this.rngLoad.exponential(this.plan.submitGapMs)), { kind: "submit" });
    if (Number.isFinite(this.plan.crashGapMs))
      this.events.push(Math.round(this.rngFaults.exponential(this.plan.crashGapMs)), { kind: "crash" });
    if (Number.isFinite(this.plan.partitionGapMs)) {
      this.events.push(Math.round(this.rngFaults.exponential(this.plan.partitionGapMs)), {
        kind: "partition",
      });
    }
    if (Number.isFinite(this.plan.holdGapMs)) {
      this.events.push(Math.round(this.rngHolds.exponential(this.plan.holdGapMs)), { kind: "hold" });
    }
    this.events.push(this.safetyMs, { kind: "liveness" });
    return this.safetyMs + LIVENESS_BOUND_MS;
  }

  /** One delivery or event; false when the run is over (past `end`, or converged). */
  private advance(end: number): boolean {
    const tn = this.net.nextTime();
    const te = this.events.peekTime();
    const t = Math.min(tn, te);
    // Group commit: frames delivered at one instant are flushed once, before time moves on.
    if (t > this.now && this.unflushed.size > 0) this.flushAll();
    if (t > end) {
      const until = this.extendedUntil(end);
      if (until === undefined || t > until) return false;
    }
    this.now = t;
    if (tn <= te) {
      const d = this.net.step();
      if (d !== undefined) this.deliver(d);
    } else {
      this.handle(this.events.pop()!.value);
    }
    if (this.convergenceDirty) {
      this.convergenceDirty = false;
      if (this.converged()) {
        this.convergedAt = this.now;
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- events

  private handle(e: SimEvent): void {
    switch (e.kind) {
      case "tick": {
        const b = this.byzantine.get(e.node);
        if (b !== undefined) b.tick();
        else {
          this.step(e.node, "tick", (r) => r.tick(this.local(e.node)));
          const r = this.replicas[e.node];
          if (r !== null && r !== undefined)
            this.bounds.memory(e.node, r.engine.memoryUse, r.catchUpCacheBytes);
        }
        this.events.push(this.now + this.tickMs[e.node]!, e);
        return;
      }
      case "submit":
        if (this.phase !== "safety") return;
        this.submitNewItems();
        this.events.push(
          this.now + Math.max(1, Math.round(this.rngLoad.exponential(this.plan.submitGapMs))),
          e,
        );
        return;
      case "crash":
        if (this.phase !== "safety") return;
        this.scheduleCrash();
        this.events.push(
          this.now + Math.max(1, Math.round(this.rngFaults.exponential(this.plan.crashGapMs))),
          e,
        );
        return;
      case "restart":
        if (this.phase === "safety" && this.replicas[e.node] === null) this.start(e.node);
        return;
      case "partition":
        if (this.phase !== "safety") return;
        this.startPartition();
        return;
      case "healPartition":
        if (this.phase !== "safety") return;
        this.net.healPartition();
        this.note(`t=${this.now} partition healed`);
        this.events.push(
          this.now + Math.max(1, Math.round(this.rngFaults.exponential(this.plan.partitionGapMs))),
          {
            kind: "partition",
          },
        );
        return;
      case "hold": {
        if (this.phase !== "safety") return;
        const g = this.rngHolds.pick(this.honest);
        const lasts = this.rngHolds.chance(0.7)
          ? this.rngHolds.range(50, 1_000)
          : this.rngHolds.range(1_000, 4_000);
        this.net.hold(g, this.now + lasts);
        this.faultStats.holds++;
        this.note(`t=${this.now} messages to guardian ${g} held for ${lasts}ms, then released at once`);
        this.events.push(
          this.now + Math.max(1, Math.round(this.rngHolds.exponential(this.plan.holdGapMs))),
          e,
        );
        return;
      }
      case "liveness":
        this.startLiveness();
        return;
      case "app":
        this.appRan = true;
        e.fn();
        if (this.phase === "liveness") this.convergenceDirty = true;
        return;
    }
  }

  private deliver(d: Delivery): void {
    const b = this.byzantine.get(d.to);
    if (b !== undefined) {
      b.receive(d.from, d.bytes);
    } else if (this.plan.groupCommit) {
      // As the daemon does: hand the frame over now, persist and send once for all frames of this instant.
      this.step(d.to, "receive", (r) => r.deliver(d.from, d.bytes, this.local(d.to)), false);
      if (this.replicas[d.to] !== null) this.unflushed.add(d.to);
    } else {
      this.step(d.to, "receive", (r) => r.receive(d.from, d.bytes, this.local(d.to)));
    }
  }

  private flushAll(): void {
    const guardians = [...this.unflushed].sort((a, b) => a - b);
    this.unflushed.clear();
    for (const g of guardians) this.step(g, "flush", (r) => r.flush());
  }

  /**
   * One call into an honest replica: exceptions are violations. A pending mid-flush crash takes
   * effect after a call that flushed (persisted, then sent part of its messages).
   */
  private step(g: number, during: string, fn: (r: Replica) => void, flushes = true): void {
    const r = this.replicas[g];
    if (r === null || r === undefined) return;
    try {
      fn(r);
    } catch (e) {
      this.checkers.exception(g, during, e);
      this.stop(g, "failed");
      return;
    }
    if (flushes && this.crashBudget.has(g)) this.stop(g, "crashed");
  }

  private local(i: number): number {
    return this.clockOffset[i]! + Math.floor(this.now * this.clockRate[i]!);
  }

  // ---------------------------------------------------------------- honest guardians

  private start(g: number): void {
    if (this.failed[g]) return;
    this.net.setUp(g, true);
    try {
      this.replicas[g] = new Replica(
        this.config,
        this.crypto[g]!,
        g,
        this.stores[g]!,
        {
          send: (to, bytes) => {
            this.signing.honestSent(g, bytes);
            this.transmit(g, to, bytes);
          },
          broadcast: (bytes) => {
            this.signing.honestSent(g, bytes);
            for (let to = 0; to < this.n; to++) if (to !== g) this.transmit(g, to, bytes);
          },
        },
        {
          onCommit: (c) => this.onCommit(g, c),
          onBundled: (seq, items) => this.onBundled(g, seq, items),
          onEvidence: (e) => this.signing.evidence(g, e),
        },
        this.local(g),
      );
    } catch (e) {
      this.checkers.exception(g, "restart from its store", e);
      this.replicas[g] = null;
      this.failed[g] = true;
      this.net.setUp(g, false);
      return;
    }
    this.app?.started(g);
    if (this.now > 0) {
      this.faultStats.restarts++;
      this.note(`t=${this.now} guardian ${g} restarts from its store at height ${this.stores[g]!.height}`);
    }
    const waiting = this.deferred;
    this.deferred = [];
    for (const key of waiting) this.assign(key);
  }

  private transmit(g: number, to: number, bytes: Uint8Array): void {
    const budget = this.crashBudget.get(g);
    if (budget !== undefined) {
      // Crashing mid-flush: the disk write is done, only the first few link sends leave.
      if (budget <= 0) return;
      this.crashBudget.set(g, budget - 1);
    }
    this.net.send(g, to, bytes, this.now);
  }

  /** Drop the replica object (its store is its disk and survives); items it had not acknowledged go elsewhere. */
  private stop(g: number, why: "crashed" | "failed"): void {
    const r = this.replicas[g];
    if (r !== null && r !== undefined) this.addCounters(r);
    this.replicas[g] = null;
    this.crashBudget.delete(g);
    // Frames it took in but had not yet persisted are lost with it (nothing was sent for them).
    this.unflushed.delete(g);
    this.net.setUp(g, false);
    if (r !== null && r !== undefined) this.app?.stopped(g);
    if (why === "failed") this.failed[g] = true;
    const down = this.downMs.get(g);
    this.downMs.delete(g);
    if (why === "crashed" && down !== undefined && this.phase === "safety") {
      this.events.push(this.now + down, { kind: "restart", node: g });
    }
    // Client retry: items not acknowledged by the guardian are lost with its memory.
    const lost = [...this.unacknowledged[g]!];
    this.unacknowledged[g]!.clear();
    this.retried += lost.length;
    for (const key of lost) this.assign(key);
  }

  private scheduleCrash(): void {
    const candidates = this.honest.filter((g) => this.replicas[g] !== null && !this.crashBudget.has(g));
    if (candidates.length === 0) return;
    const g = this.rngFaults.pick(candidates);
    const down = this.rngFaults.chance(0.7)
      ? this.rngFaults.range(20, 1_000)
      : this.rngFaults.range(1_000, 8_000);
    this.faultStats.crashes++;
    this.downMs.set(g, down);
    if (this.rngFaults.chance(this.plan.midFlushRate)) {
      const sends = this.rngFaults.range(0, this.n);
      this.faultStats.midFlushCrashes++;
      this.crashBudget.set(g, sends);
      this.note(`t=${this.now} guardian ${g} will crash mid-flush after ${sends} sends, down ${down}ms`);
    } else if (this.rngFaults.chance(this.plan.powerCutRate)) {
      this.stop(g, "crashed");
      this.powerCut(g);
      this.note(`t=${this.now} guardian ${g} loses power, down ${down}ms`);
    } else {
      this.note(`t=${this.now} guardian ${g} crashes, down ${down}ms`);
      this.stop(g, "crashed");
    }
  }

  /** The guardian is down; its disk loses what was not flushed, and its application state with it. */
  private powerCut(g: number): void {
    const disk = this.stores[g]!;
    const lost = disk.powerCut();
    this.faultStats.powerCuts++;
    if (lost === 0) return;
    this.faultStats.writesLost += lost;
    this.faultStats.commitsLost += Math.max(0, this.checkers.height(g) - disk.height);
    const restored = disk.load(this.n, g, this.k).chain;
    this.checkers.rollback(g, disk.height, restored.originSeq);
  }

  private startPartition(): void {
    const rng = this.rngFaults;
    const groups = new Array<number>(this.n).fill(0);
    if (rng.chance(0.5)) {
      // Isolate a minority (possibly one guardian).
      const isolated = rng
        .shuffle(Array.from({ length: this.n }, (_, i) => i))
        .slice(0, rng.range(1, Math.floor(this.n / 2)));
      for (const i of isolated) groups[i] = 1;
    } else {
      const parts = rng.range(2, 3);
      for (let i = 0; i < this.n; i++) groups[i] = rng.int(parts);
    }
    const oneWay = rng.chance(0.2);
    const lasts = rng.range(50, 4_000);
    this.net.partition(groups, oneWay);
    this.faultStats.partitions++;
    this.note(`t=${this.now} partition ${oneWay ? "(one way) " : ""}[${groups.join("")}] for ${lasts}ms`);
    this.events.push(this.now + lasts, { kind: "healPartition" });
  }

  private startLiveness(): void {
    this.phase = "liveness";
    this.livenessAt = this.now;
    this.net.setFaults(HEALED_LINKS);
    this.net.healPartition();
    this.net.releaseHolds();
    for (const g of this.honest) {
      // A guardian told to crash mid-flush crashes now, so that it restarts below with the others.
      if (this.crashBudget.has(g)) this.stop(g, "crashed");
    }
    for (const g of this.honest) if (this.replicas[g] === null) this.start(g);
    this.targetHeight = Math.max(0, ...this.honest.map((g) => this.checkers.height(g)));
    this.app?.liveness();
    this.bounds.heal(this.now);
    this.note(
      `t=${this.now} liveness phase: network healed, all honest guardians up, target height ${this.targetHeight}, ` +
        `${this.items.size} items`,
    );
    this.convergenceDirty = true;
  }

  /**
   * Past the liveness bound (`end`): the time the application asks the run to go on to
   * (SimApplication.runsUntil), at most EXTENSION_MS_MAX more, or undefined (the run ends). The
   * first time, consensus liveness is judged as at the bound (heights and the workload).
   */
  private extendedUntil(end: number): number | undefined {
    const until = this.app?.runsUntil?.();
    if (until === undefined || until <= end) return undefined;
    if (!this.livenessJudged) {
      this.livenessJudged = true;
      if (this.convergedAt === null) this.reportLiveness();
    }
    return Math.min(until, end + EXTENSION_MS_MAX);
  }

  private converged(): boolean {
    if (this.phase !== "liveness") return false;
    for (const g of this.honest) {
      if (this.failed[g]) continue;
      if (this.checkers.height(g) < this.targetHeight) return false;
      if (this.checkers.workloadCommittedBy(g) < this.items.size) return false;
    }
    return this.app?.settled() ?? true;
  }

  // ---------------------------------------------------------------- workload

  private submitNewItems(): void {
    const rng = this.rngLoad;
    const count = rng.range(1, 4);
    for (let c = 0; c < count; c++) {
      let key = `s${this.seed}.${this.itemCounter++}.`;
      const pad = rng.range(0, 60);
      for (let i = 0; i < pad; i++) key += String.fromCharCode(97 + rng.int(26));
      this.items.set(key, { bytes: new TextEncoder().encode(key), guardian: -1, acknowledged: false });
      this.assign(key);
    }
  }

  /** Give an item to a random live honest guardian (a client, or a client retrying after a crash). */
  private assign(key: string): void {
    const item = this.items.get(key)!;
    const up = this.honest.filter((g) => this.replicas[g] !== null && !this.crashBudget.has(g));
    if (up.length === 0) {
      this.deferred.push(key);
      return;
    }
    const g = this.rngLoad.pick(up);
    item.guardian = g;
    this.unacknowledged[g]!.add(key);
    this.checkers.noteGiven(g, key);
    if (this.log !== undefined)
      this.note(`t=${this.now} item ${key.split(".").slice(0, 2).join(".")} given to ${g}`);
    this.step(g, "submit", (r) => {
      const taken = r.submit([item.bytes], this.local(g));
      if (taken !== 1) throw new Error(`guardian refused a ${item.bytes.length}-byte item (back-pressure)`);
    });
  }

  private onBundled(g: number, seq: number, items: readonly Uint8Array[]): void {
    if (this.log !== undefined) {
      const keys = items.map((i) => itemKey(i).split(".").slice(0, 2).join("."));
      this.note(`t=${this.now} guardian ${g} acknowledges bundle ${seq}: ${keys.join(" ")}`);
    }
    this.bounds.bundled(items, (key) => this.items.has(key), this.now);
    for (const bytes of items) {
      const key = itemKey(bytes);
      const item = this.items.get(key);
      if (item === undefined) continue;
      item.acknowledged = true;
      this.unacknowledged[g]!.delete(key);
    }
  }

  private onCommit(g: number, commit: Commit): void {
    if (this.log !== undefined) {
      const bundles = commit.bundles.map((b) => `${b.origin}/${b.seq}`).join(" ");
      this.note(`t=${this.now} guardian ${g} commits height ${commit.height} [${bundles}]`);
    }
    this.checkers.onCommit(g, commit);
    this.bounds.commit(commit, this.now);
    this.app?.committed(g, commit);
    if (this.phase === "liveness") this.convergenceDirty = true;
  }

  // ---------------------------------------------------------------- the end

  private finish(): SimResult {
    if (this.convergedAt === null && !this.livenessJudged) this.reportLiveness();
    this.app?.finish();
    this.bounds.finish();
    for (const g of this.honest) {
      const r = this.replicas[g];
      if (r !== null && r !== undefined) this.addCounters(r);
      this.checkers.checkStore(g, this.stores[g]!);
      this.checkers.checkSessions(g, this.stores[g]!);
    }
    let rounds = 0;
    for (let h = 0; h < this.checkers.canonicalHeight; h++) {
      let round = 0;
      for (const g of this.honest) round = Math.max(round, this.stores[g]!.decided(h)?.round ?? 0);
      rounds += round + 1;
    }
    const byzantineStats: ByzantineStats = {
      engineErrors: 0,
      sent: 0,
      suppressed: 0,
      equivocations: 0,
      corrupted: 0,
      injected: 0,
      amnesias: 0,
      lockViolations: 0,
      fakeValidRounds: 0,
    };
    for (const b of this.byzantine.values()) {
      for (const key of Object.keys(byzantineStats) as (keyof ByzantineStats)[])
        byzantineStats[key] += b.stats[key];
    }
    const top = this.checkers.canonicalId(this.checkers.canonicalHeight - 1) ?? "";
    return {
      seed: this.seed,
      nodes: this.n,
      byzantine: this.byzIndices.length,
      byzantineIndices: this.byzIndices,
      quorumDelta: this.options.quorumDelta ?? 0,
      bugs: [...(this.options.bugs ?? [])],
      heightsPerSession: this.k,
      safetyMs: this.safetyMs,
      replay: replayCommand(this.options),
      violations: this.checkers.violations,
      heights: this.checkers.canonicalHeight,
      rounds,
      simulatedMs: this.now,
      convergedAfterMs: this.convergedAt === null ? null : this.convergedAt - this.livenessAt,
      items: {
        submitted: this.items.size,
        acknowledged: [...this.items.values()].filter((i) => i.acknowledged).length,
        retried: this.retried,
      },
      faults: { links: this.plan.links, groupCommit: this.plan.groupCommit, ...this.faultStats },
      network: { ...this.net.stats },
      honestCounters: { ...this.honestCounters },
      byzantineStats,
      verifier: { hits: this.verifier.hits, misses: this.verifier.misses },
      guardians: Array.from({ length: this.n }, (_, i) => {
        const engine = this.byzantine.get(i)?.engine ?? this.replicas[i]?.engine;
        const st = engine?.status;
        return {
          index: i,
          honest: !this.byzantine.has(i),
          status:
            st === undefined
              ? null
              : { height: st.height, round: st.round, step: st.step, sessionsSigned: st.sessionsSigned },
          locked: this.byzantine.has(i) ? null : this.lockOf(i),
        };
      }),
      signing: { ...this.signing.stats },
      bounds: {
        ...this.bounds.stats,
        memoryPeak: { ...this.bounds.stats.memoryPeak },
        censorshipBoundHeights: this.bounds.boundHeights,
      },
      traceHash: `${this.net.traceHash()}-${top.slice(0, 16)}`,
      application: this.app?.stats() ?? {},
    };
  }

  private reportLiveness(): void {
    const bound = `within ${LIVENESS_BOUND_MS} ms after the network healed at t=${this.livenessAt}`;
    for (const g of this.honest) {
      if (this.failed[g]) continue;
      const height = this.checkers.height(g);
      if (height < this.targetHeight) {
        this.checkers.violation(
          `liveness: guardian ${g} is at height ${height}, below height ${this.targetHeight} reached before the heal, ${bound}`,
        );
      }
      const missing = this.items.size - this.checkers.workloadCommittedBy(g);
      if (missing > 0) {
        const examples = this.checkers.missing(g, 3).map((key) => {
          const item = this.items.get(key);
          const state = item?.acknowledged ? "acknowledged" : "never acknowledged";
          return `${Checkers.describe(key)} (${state}, given to ${item?.guardian ?? "-"})`;
        });
        this.checkers.violation(
          `liveness: guardian ${g} has not committed ${missing} of ${this.items.size} items ${bound}, e.g. ${examples.join(", ")}`,
        );
      }
    }
  }

  private lockOf(g: number): { lockedRound: number; validRound: number } | null {
    const snap = this.stores[g]!.load(this.n, g, this.k).round;
    return snap === null ? null : { lockedRound: snap.lockedRound, validRound: snap.validRound };
  }

  private addCounters(r: Replica): void {
    for (const [key, value] of Object.entries(r.engine.counters)) {
      this.honestCounters[key] = (this.honestCounters[key] ?? 0) + value;
    }
  }

  private note(line: string): void {
    this.log?.(line);
  }
}
