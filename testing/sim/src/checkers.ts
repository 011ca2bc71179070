// The simulator's judges. They watch what honest guardians report (commits, exceptions) and read
// their stores at the end; each violation is a sentence that starts with the seed. Commits are
// checked as they happen, so a fork is caught at the height where it occurs, and nothing a
// Byzantine guardian does is trusted: only honest guardians' outputs and honest stores are read.
import { toHex } from "@conclave/core-common";
import type { Hash, Verifier } from "@conclave/core-common";
import { sessionHash, sessionSigningBytes } from "./consensus.js";
import type { Commit, ConsensusConfig, DecidedBlock, SessionRecord } from "./consensus.js";

/** Violations kept per run; the rest are counted (one bug tends to cause a cascade). */
const VIOLATIONS_KEPT_MAX = 25;

/** What the checkers read from an honest guardian's store. */
export interface StoreView {
  readonly height: number;
  decided(height: number): DecidedBlock | undefined;
  session(session: number): SessionRecord | undefined;
}

export interface CheckerContext {
  readonly seed: number;
  readonly config: ConsensusConfig;
  readonly honest: readonly number[];
  /** t = n - f, the true quorum (not the engine's, which a test may have broken on purpose). */
  readonly threshold: number;
  readonly verifier: Verifier;
  readonly hash: Hash;
  /**
   * An application's items may be committed more than once (a client's transaction given to two
   * guardians, equal module items from two guardians): the application ignores the later copies,
   * so only the consensus workload's items are checked for repeats.
   */
  readonly itemsMayRepeat?: boolean;
}

/** The injective text form of an item (latin1: one character per byte). */
export function itemKey(item: Uint8Array): string {
  return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString("latin1");
}

const short = (hex: string): string => hex.slice(0, 12);
const quote = (key: string): string => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);

export class Checkers {
  private readonly kept: string[] = [];
  private dropped = 0;
  private readonly honestSet: ReadonlySet<number>;
  /** Per guardian, the block ids it committed, by height (from its onCommit reports). */
  private readonly logs: string[][];
  /** The first id any honest guardian committed at each height. */
  private readonly canonical: { id: string; by: number }[] = [];
  /** Per guardian: item key -> height it was committed at. */
  private readonly committed: Map<string, number>[];
  /** Per guardian and origin: the last committed bundle sequence number. */
  private readonly lastSeq: number[][];
  /** Per honest origin: the items it was given. */
  private readonly given: Map<number, Set<string>>;
  /** Workload items (submitted by the simulated clients), and per guardian how many it committed. */
  private readonly workload = new Set<string>();
  private readonly workloadCommitted: number[];
  /** Guardians whose log left the canonical one (a fork was reported for them). */
  private readonly diverged = new Set<number>();
  /** The first height at which two honest guardians committed different blocks. */
  forkHeight: number | null = null;

  constructor(private readonly ctx: CheckerContext) {
    const n = ctx.config.publicKeys.length;
    this.honestSet = new Set(ctx.honest);
    this.logs = Array.from({ length: n }, () => []);
    this.committed = Array.from({ length: n }, () => new Map<string, number>());
    this.lastSeq = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    this.given = new Map(ctx.honest.map((g) => [g, new Set<string>()]));
    this.workloadCommitted = new Array<number>(n).fill(0);
  }

  get violations(): string[] {
    return this.dropped === 0
      ? [...this.kept]
      : [...this.kept, `seed ${this.ctx.seed}: ... and ${this.dropped} more violations`];
  }

  get ok(): boolean {
    return this.kept.length === 0;
  }

  violation(what: string): void {
    if (this.kept.length < VIOLATIONS_KEPT_MAX) this.kept.push(`seed ${this.ctx.seed}: ${what}`);
    else this.dropped++;
  }

  /**
   * A client gave this item to this honest guardian. Items of the consensus workload must be
   * committed everywhere after the heal; an application's items (`workload` false) need not be
   * (its clients resubmit what a crashed guardian lost, and check their own outcomes).
   */
  noteGiven(origin: number, key: string, workload = true): void {
    this.given.get(origin)?.add(key);
    if (workload) this.workload.add(key);
  }

  /** Heights committed by a guardian, as it reported them. */
  height(guardian: number): number {
    return this.logs[guardian]!.length;
  }

  get canonicalHeight(): number {
    return this.canonical.length;
  }

  canonicalId(height: number): string | undefined {
    return this.canonical[height]?.id;
  }

  /** How many distinct workload items this guardian has committed. */
  workloadCommittedBy(guardian: number): number {
    return this.workloadCommitted[guardian]!;
  }

  get workloadSize(): number {
    return this.workload.size;
  }

  hasCommitted(guardian: number, key: string): boolean {
    return this.committed[guardian]!.has(key);
  }

  /** Any exception an honest replica throws (a failed assertion, a SAFETY VIOLATION) is a violation. */
  exception(guardian: number, during: string, error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.violation(`honest guardian ${guardian} threw during ${during}: ${message}`);
  }

  onCommit(g: number, commit: Commit): void {
    const log = this.logs[g]!;
    const id = toHex(commit.blockId);
    if (commit.height !== log.length) {
      this.violation(
        `guardian ${g} committed height ${commit.height} right after height ${log.length - 1}: commits must be consecutive`,
      );
    }
    log.push(id);
    // Prefix: every honest guardian's sequence of committed block ids is a prefix of the longest one.
    const h = log.length - 1;
    const first = this.canonical[h];
    if (first === undefined) {
      this.canonical[h] = { id, by: g };
    } else if (first.id !== id && !this.diverged.has(g)) {
      // Reported once per guardian: past a fork every later height differs too.
      this.diverged.add(g);
      this.forkHeight ??= h;
      this.violation(
        `fork at height ${h}: guardian ${first.by} committed block ${short(first.id)}, guardian ${g} ` +
          `committed block ${short(id)} (committed block-id sequences are not prefixes of one another)`,
      );
    }
    const seen = this.committed[g]!;
    for (const b of commit.bundles) {
      const last = this.lastSeq[g]![b.origin]!;
      if (b.seq !== last + 1) {
        this.violation(`guardian ${g} committed bundle ${b.seq} of origin ${b.origin} after bundle ${last}`);
      }
      this.lastSeq[g]![b.origin] = Math.max(last, b.seq);
      const given = this.given.get(b.origin);
      for (const item of b.items) {
        const key = itemKey(item);
        const before = seen.get(key);
        if (before !== undefined && this.ctx.itemsMayRepeat === true && !this.workload.has(key)) continue;
        if (before !== undefined) {
          this.violation(
            `guardian ${g} committed item ${quote(key)} twice (heights ${before} and ${commit.height})`,
          );
          continue;
        }
        seen.set(key, commit.height);
        if (this.workload.has(key)) this.workloadCommitted[g]!++;
        if (given !== undefined && !given.has(key)) {
          this.violation(
            `guardian ${g} committed item ${quote(key)} in a bundle of honest guardian ${b.origin}, ` +
              `which was never given that item`,
          );
        }
      }
    }
  }

  /**
   * A power cut took the guardian's last unflushed commits with it; its application state (kept
   * with the store) goes back with them, and it will commit those heights again. What it commits
   * again is checked like any commit (same blocks as everyone, no item twice).
   */
  rollback(g: number, height: number, originSeq: readonly number[]): void {
    const log = this.logs[g]!;
    if (height >= log.length) return;
    log.length = height;
    const seen = this.committed[g]!;
    for (const [key, at] of seen) {
      if (at < height) continue;
      seen.delete(key);
      if (this.workload.has(key)) this.workloadCommitted[g]!--;
    }
    this.lastSeq[g] = [...originSeq];
  }

  /** An honest store holds exactly the blocks its guardian reported committing. */
  checkStore(g: number, store: StoreView): void {
    const log = this.logs[g]!;
    if (store.height !== log.length) {
      this.violation(
        `guardian ${g}'s store is at height ${store.height} but it reported ${log.length} commits`,
      );
    }
    for (let h = 0; h < Math.min(store.height, log.length); h++) {
      const d = store.decided(h);
      if (d === undefined || toHex(d.blockId) !== log[h]) {
        this.violation(`guardian ${g}'s store does not hold the block it committed at height ${h}`);
        return;
      }
    }
  }

  /**
   * Every session record in an honest store: >= t distinct valid signatures over the session hash,
   * a hash that names the session's block ids, and block ids that are the committed ones.
   */
  checkSessions(g: number, store: StoreView): void {
    const config = this.ctx.config;
    const k = config.heightsPerSession;
    const n = config.publicKeys.length;
    const complete = Math.floor(store.height / k);
    for (let s = 0; s <= complete; s++) {
      const record = store.session(s);
      if (record === undefined) continue;
      const where = `guardian ${g}'s session ${s}`;
      if (s === complete) {
        this.violation(
          `${where} is signed although its heights are not all decided (height ${store.height})`,
        );
        continue;
      }
      if (record.session !== s || record.blockIds.length !== k) {
        this.violation(
          `${where} is stored as session ${record.session} with ${record.blockIds.length} block ids`,
        );
        continue;
      }
      for (let i = 0; i < k; i++) {
        const id = toHex(record.blockIds[i]!);
        const canonical = this.canonical[s * k + i]?.id;
        if (id !== this.logs[g]![s * k + i] || id !== canonical) {
          this.violation(`${where} names block ${short(id)} at height ${s * k + i}, not the committed one`);
          break;
        }
      }
      const expected = sessionHash(config.federationId, s, record.blockIds, this.ctx.hash);
      if (toHex(expected) !== toHex(record.sessionHash)) {
        this.violation(`${where} has a session hash that does not match its block ids`);
        continue;
      }
      const signing = sessionSigningBytes(config.federationId, s, expected);
      const signers = new Set<number>();
      for (const sig of record.signatures) {
        const key = sig.signer < n ? config.publicKeys[sig.signer] : undefined;
        if (key === undefined || !this.ctx.verifier.verify(key, signing, sig.signature)) {
          this.violation(`${where} holds a signature of guardian ${sig.signer} that does not verify`);
          continue;
        }
        signers.add(sig.signer);
      }
      if (signers.size < this.ctx.threshold) {
        this.violation(
          `${where} has ${signers.size} distinct valid signatures, below the quorum t = ${this.ctx.threshold}`,
        );
      }
    }
  }

  /** Workload items that this guardian has not committed (for the liveness report). */
  missing(g: number, limit: number): string[] {
    const out: string[] = [];
    for (const key of this.workload) {
      if (out.length >= limit) break;
      if (!this.committed[g]!.has(key)) out.push(key);
    }
    return out;
  }

  isHonest(g: number): boolean {
    return this.honestSet.has(g);
  }

  /** Short form of a key for messages. */
  static describe(key: string): string {
    return quote(key);
  }
}
