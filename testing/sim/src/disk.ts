// The simulated disk of an honest guardian: a MemoryConsensusStore that also remembers which
// transactions reached stable storage. The replica asks for a synchronous commit (`sync`) when the
// batch carries a message signed for the first time; other batches are committed in order but
// flushed to disk with a later synced one (LMDB's NO_SYNC_FLUSH). A process crash keeps every
// committed transaction (the OS has them); a power cut loses those not yet flushed.
import { MemoryConsensusStore } from "./consensus.js";
import type { ConsensusStore, DecidedBlock, PersistOp, RestoredState, SessionRecord } from "./consensus.js";

export class SimDisk implements ConsensusStore {
  private live: MemoryConsensusStore;
  /** Transactions on stable storage, in commit order (replayed after a power cut). */
  private readonly flushed: (readonly PersistOp[])[] = [];
  /** Committed transactions not yet on stable storage. */
  private unflushed: (readonly PersistOp[])[] = [];

  constructor(
    private readonly self: number,
    private readonly heightsPerSession: number,
  ) {
    this.live = new MemoryConsensusStore(self, heightsPerSession);
  }

  load(n: number, self: number, heightsPerSession: number): RestoredState {
    return this.live.load(n, self, heightsPerSession);
  }

  apply(ops: readonly PersistOp[], sync = true): void {
    if (ops.length === 0) return;
    this.live.apply(ops);
    this.unflushed.push(ops);
    if (sync) {
      // LMDB commits in order: a synced commit makes every earlier one durable too.
      for (const batch of this.unflushed) this.flushed.push(batch);
      this.unflushed = [];
    }
  }

  decided(height: number): DecidedBlock | undefined {
    return this.live.decided(height);
  }

  session(session: number): SessionRecord | undefined {
    return this.live.session(session);
  }

  get height(): number {
    return this.live.height;
  }

  /** Transactions a power cut would lose now. */
  get unflushedCount(): number {
    return this.unflushed.length;
  }

  /** Power loss: what was not flushed is gone; returns how many transactions were lost. */
  powerCut(): number {
    const lost = this.unflushed.length;
    if (lost === 0) return 0;
    this.unflushed = [];
    this.live = new MemoryConsensusStore(this.self, this.heightsPerSession);
    for (const batch of this.flushed) this.live.apply(batch);
    return lost;
  }
}
