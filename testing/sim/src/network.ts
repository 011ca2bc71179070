// The simulated network between guardians: every message becomes a delivery at a simulated instant,
// held in one priority queue ordered by (time, sequence). Loss, delay, jitter, a slow path that
// reorders messages far behind later ones, duplication and partitions are all drawn from the
// seeded generator, so a run replays exactly. Links are authenticated (TLS in the daemon): the
// receiver learns the true sender index, whatever the frame claims.
import { EventQueue } from "./queue.js";
import type { Rng } from "./rng.js";

export interface LinkFaults {
  /** Probability that a message is lost, in [0, 1). */
  readonly lossRate: number;
  /** Probability that a message is delivered twice (the copy has its own delay). */
  readonly duplicateRate: number;
  /** Smallest one-way delay, in ms (at least 1: a message never arrives at the instant it is sent). */
  readonly delayMinMs: number;
  /** Uniform extra delay on top of delayMinMs, in ms. */
  readonly jitterMs: number;
  /** Probability that a message takes the slow path: an extra delay up to slowMs (reordering). */
  readonly slowRate: number;
  readonly slowMs: number;
}

/** The healed network of the liveness phase: no loss, no duplication, delay at most 1 + 25 + 0 ms. */
export const HEALED_LINKS: LinkFaults = {
  lossRate: 0,
  duplicateRate: 0,
  delayMinMs: 1,
  jitterMs: 25,
  slowRate: 0,
  slowMs: 0,
};

/** Link faults for the safety phase of one seed: loss 0-30%, delays up to a few hundred ms. */
export function drawLinkFaults(rng: Rng): LinkFaults {
  return {
    lossRate: rng.chance(0.15) ? 0 : rng.between(0, 0.3),
    duplicateRate: rng.chance(0.3) ? 0 : rng.between(0, 0.1),
    delayMinMs: rng.range(1, 30),
    jitterMs: rng.pick([0, 5, 20, 50, 100, 200]),
    slowRate: rng.chance(0.4) ? 0 : rng.between(0, 0.05),
    slowMs: rng.range(100, 2_000),
  };
}

export interface Delivery {
  readonly time: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: Uint8Array;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  /** Dropped by a partition. */
  cut: number;
  duplicated: number;
  /** Arrived at a crashed guardian, which receives nothing. */
  toDown: number;
  /** Held back for a guardian under a hold-then-release attack (see hold). */
  held: number;
}

/** What of a frame enters the trace hash besides its length (see mixTrace). */
const TRACE_HEAD_BYTES = 4;
const TRACE_TAIL_BYTES = 32;

export class SimNetwork {
  private readonly queue = new EventQueue<{ from: number; to: number; bytes: Uint8Array }>();
  private readonly up: boolean[];
  /** Partition: a group per guardian; messages between groups are cut (one way only if oneWay). */
  private groups: readonly number[] | null = null;
  private oneWay = false;
  private faults: LinkFaults;
  private traceA = 0x811c9dc5;
  private traceB = 0x2545f491;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    cut: 0,
    duplicated: 0,
    toDown: 0,
    held: 0,
  };
  /** Per receiver: messages to it are held until this instant, then released all at once. */
  private readonly heldUntil: number[];

  constructor(
    readonly n: number,
    private readonly rng: Rng,
    faults: LinkFaults,
  ) {
    this.up = new Array<boolean>(n).fill(true);
    this.heldUntil = new Array<number>(n).fill(0);
    this.faults = faults;
  }

  get linkFaults(): LinkFaults {
    return this.faults;
  }

  setFaults(faults: LinkFaults): void {
    this.faults = faults;
  }

  /**
   * Split the guardians into groups (group id per guardian). With oneWay, only messages from a
   * lower group to a higher one are cut: the asymmetric partition a broken firewall rule makes.
   */
  partition(groups: readonly number[], oneWay = false): void {
    if (groups.length !== this.n) throw new RangeError("a partition names a group for every guardian");
    this.groups = [...groups];
    this.oneWay = oneWay;
  }

  healPartition(): void {
    this.groups = null;
  }

  /**
   * Hold-then-release, aimed at one guardian: every message to it that would arrive before `until`
   * arrives at `until` instead, all at once and in the order they were sent. The guardian hears
   * nothing for a while (its timeouts fire, it votes nil, moves rounds), then a burst of stale
   * proposals and votes, mixed with fresh ones, at the worst moment for its locks.
   */
  hold(to: number, until: number): void {
    this.heldUntil[to] = Math.max(this.heldUntil[to]!, until);
  }

  /** No new holds: messages already held still arrive at their release instant. */
  releaseHolds(): void {
    this.heldUntil.fill(0);
  }

  get partitioned(): boolean {
    return this.groups !== null;
  }

  /** A crashed guardian receives nothing: deliveries due to it are dropped when they fall due. */
  setUp(node: number, up: boolean): void {
    this.up[node] = up;
  }

  isUp(node: number): boolean {
    return this.up[node]!;
  }

  /** Sees every frame handed to a link, before loss or a partition (the simulator's checkers). */
  onSend: ((from: number, bytes: Uint8Array) => void) | undefined;

  send(from: number, to: number, bytes: Uint8Array, now: number): void {
    if (from === to) throw new RangeError(`guardian ${from} sends to itself`);
    this.stats.sent++;
    this.onSend?.(from, bytes);
    if (this.isCut(from, to)) {
      this.stats.cut++;
      return;
    }
    if (this.rng.chance(this.faults.lossRate)) {
      this.stats.lost++;
      return;
    }
    this.queue.push(this.arrival(to, now + this.delay()), { from, to, bytes });
    if (this.rng.chance(this.faults.duplicateRate)) {
      this.stats.duplicated++;
      this.queue.push(this.arrival(to, now + this.delay()), { from, to, bytes });
    }
  }

  broadcast(from: number, bytes: Uint8Array, now: number): void {
    for (let to = 0; to < this.n; to++) if (to !== from) this.send(from, to, bytes, now);
  }

  /** Time of the next delivery, Infinity when nothing is in flight. */
  nextTime(): number {
    return this.queue.peekTime();
  }

  get inFlight(): number {
    return this.queue.size;
  }

  /** Takes the next delivery off the queue; undefined if there is none or it was due to a crashed guardian. */
  step(): Delivery | undefined {
    const next = this.queue.pop();
    if (next === undefined) return undefined;
    const { from, to, bytes } = next.value;
    if (!this.up[to]) {
      this.stats.toDown++;
      return undefined;
    }
    this.stats.delivered++;
    this.mixTrace(next.time, from, to, bytes);
    return { time: next.time, from, to, bytes };
  }

  /** A 64-bit digest of every delivery so far (time, link and frame): equal traces, equal hashes. */
  traceHash(): string {
    return (
      (this.traceA >>> 0).toString(16).padStart(8, "0") + (this.traceB >>> 0).toString(16).padStart(8, "0")
    );
  }

  private arrival(to: number, at: number): number {
    const held = this.heldUntil[to]!;
    if (held <= at) return at;
    this.stats.held++;
    return held;
  }

  private delay(): number {
    const f = this.faults;
    let d = f.delayMinMs + this.rng.float() * f.jitterMs;
    if (this.rng.chance(f.slowRate)) d += this.rng.float() * f.slowMs;
    return Math.max(1, Math.round(d));
  }

  private isCut(from: number, to: number): boolean {
    const g = this.groups;
    if (g === null) return false;
    const a = g[from]!;
    const b = g[to]!;
    return this.oneWay ? a < b : a !== b;
  }

  /**
   * Time, link, length, the header and the last 32 bytes: for every signed frame that is part of
   * the signature, which pins down the signed bytes; for junk it is as good as anything.
   */
  private mixTrace(time: number, from: number, to: number, bytes: Uint8Array): void {
    this.mixWord(time);
    this.mixWord((from << 16) | to);
    this.mixWord(bytes.length);
    const head = Math.min(TRACE_HEAD_BYTES, bytes.length);
    for (let i = 0; i < head; i++) this.mixByte(bytes[i]!);
    for (let i = Math.max(head, bytes.length - TRACE_TAIL_BYTES); i < bytes.length; i++)
      this.mixByte(bytes[i]!);
  }

  private mixWord(w: number): void {
    for (let k = 0; k < 4; k++) this.mixByte((w >>> (8 * k)) & 0xff);
  }

  // Two FNV-1a lanes with different primes: a cheap 64-bit fingerprint, not a cryptographic hash.
  private mixByte(b: number): void {
    this.traceA = Math.imul(this.traceA ^ b, 0x01000193);
    this.traceB = Math.imul(this.traceB ^ b, 0x01000a3b);
  }
}
