// The seam between the simulator and an application run on every honest guardian on top of its
// replica (the federation: processor, modules, wallets; see federation/). Everything the
// application does runs on the simulator's clock and queue and draws from the seed, so a seed
// still replays exactly.
import type { Commit, ConsensusConfig } from "./consensus.js";
import type { SimDisk } from "./disk.js";
import type { MemoVerifier } from "./memo-verifier.js";

/**
 * What the simulator offers an application that runs on every honest guardian on top of its
 * replica (the federation: processor, modules, clients; see federation/). Everything it does runs
 * on the simulator's clock and queue and draws from the seed, so a seed still replays exactly.
 */
export interface SimHost {
  readonly seed: number;
  readonly n: number;
  readonly honest: readonly number[];
  readonly byzantine: readonly number[];
  readonly config: ConsensusConfig;
  /** The run's shared Ed25519 verifier (every answer a real verification, memoized). */
  readonly verifier: MemoVerifier;
  /** Simulated ms since the start of the run. */
  now(): number;
  phase(): "safety" | "liveness";
  /** Guardian g's disk: consensus store and federation state, surviving crashes. */
  disk(g: number): SimDisk;
  /** Whether honest guardian g's process is running (and not about to crash). */
  up(g: number): boolean;
  /** Hands items to honest guardian g's replica; how many it took (0 when it is down). */
  submit(g: number, items: readonly Uint8Array[]): number;
  /** Puts items in Byzantine guardian g's own bundles. */
  submitByzantine(g: number, items: readonly Uint8Array[]): void;
  /**
   * Messages to guardian g that would arrive before `untilMs` arrive at `untilMs` (the network's
   * hold, in either phase): a guardian slow to process consensus, a height behind the others.
   */
  lag(g: number, untilMs: number): void;
  /** Runs `fn` at simulated time `atMs` (>= now). */
  schedule(atMs: number, fn: () => void): void;
  violation(what: string): void;
  note(line: string): void;
}

export interface SimApplication {
  /** Honest guardian g's process starts (first start, or restart from its disk). */
  started(g: number): void;
  /** Honest guardian g's process is gone (crash, power cut, or failure); its disk stays. */
  stopped(g: number): void;
  /** Honest guardian g committed a block (its disk already holds the block and its processing). */
  committed(g: number, commit: Commit): void;
  /** The network healed; from now on what the application waits for must complete. */
  liveness(): void;
  /** Nothing the application waits for is outstanding (the run may end). */
  settled(): boolean;
  /**
   * Optional: a simulated time past the liveness bound the run goes on to, for work the application
   * waits for under a bound of its own that began late (a withdrawal accepted after the heal is paid
   * within a bound from its acceptance: federation/monero.ts withdrawalBoundMs). Consensus liveness is
   * judged at the liveness bound all the same; the run ends there when this answers nothing later.
   */
  runsUntil?(): number | undefined;
  /** The run ends: report what never completed. */
  finish(): void;
  stats(): Readonly<Record<string, number>>;
}

export type SimApplicationFactory = (host: SimHost) => SimApplication;
