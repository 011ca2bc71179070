// The simulated disk of an honest guardian: a MemoryConsensusStore that also remembers which
// transactions reached stable storage. The replica asks for a synchronous commit (`sync`) when the
// batch carries a message signed for the first time; other batches are committed in order but
// flushed to disk with a later synced one (LMDB's NO_SYNC_FLUSH). A process crash keeps every
// committed transaction (the OS has them); a power cut loses those not yet flushed.
//
// It also holds the guardian's federation state (module stores and transaction statuses), written
// inside the transaction that records a decided block, as LmdbConsensusStore.onDecided does: a
// power cut takes a block and its module writes together, or neither.
import { MemoryKv, OverlayTx } from "../../../packages/core-server/src/db/kv.js";
import type { ReadTx, WriteTx } from "../../../packages/core-server/src/db/kv.js";
import { MemoryConsensusStore } from "./consensus.js";
import type { ConsensusStore, DecidedBlock, PersistOp, RestoredState, SessionRecord } from "./consensus.js";

/** One committed transaction: the consensus ops and the federation-state writes made with them. */
interface Batch {
  readonly ops: readonly PersistOp[];
  readonly writes: readonly { readonly key: Uint8Array; readonly value: Uint8Array | null }[];
}

export class SimDisk implements ConsensusStore {
  private live: MemoryConsensusStore;
  private kv = new MemoryKv();
  /** Transactions on stable storage, in commit order (replayed after a power cut). */
  private readonly flushed: Batch[] = [];
  /** Committed transactions not yet on stable storage. */
  private unflushed: Batch[] = [];
  /**
   * Runs inside the transaction that records a decided block (the application's processBlock):
   * whatever it writes to `db` commits with the block. An exception aborts the whole transaction.
   */
  onDecided: ((decided: DecidedBlock, db: WriteTx) => void) | undefined;

  constructor(
    private readonly self: number,
    private readonly heightsPerSession: number,
  ) {
    this.live = new MemoryConsensusStore(self, heightsPerSession);
  }

  load(n: number, self: number, heightsPerSession: number): RestoredState {
    return this.live.load(n, self, heightsPerSession);
  }

  /** The federation state as of the last committed transaction. */
  get state(): ReadTx {
    return this.kv;
  }

  apply(ops: readonly PersistOp[], sync = true): void {
    if (ops.length === 0) return;
    const writes: Batch["writes"][number][] = [];
    if (this.onDecided !== undefined && ops.some((op) => op.kind === "decided")) {
      const overlay = new OverlayTx(this.kv);
      for (const op of ops) if (op.kind === "decided") this.onDecided(op.decided, overlay);
      overlay.commitInto({
        get: (key) => this.kv.get(key),
        scan: (prefix) => this.kv.scan(prefix),
        put: (key, value) => writes.push({ key, value }),
        delete: (key) => writes.push({ key, value: null }),
      });
    }
    this.live.apply(ops);
    applyWrites(this.kv, writes);
    const batch = { ops, writes };
    this.unflushed.push(batch);
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
    this.kv = new MemoryKv();
    for (const batch of this.flushed) {
      this.live.apply(batch.ops);
      applyWrites(this.kv, batch.writes);
    }
    return lost;
  }
}

function applyWrites(kv: MemoryKv, writes: Batch["writes"]): void {
  for (const w of writes) {
    if (w.value === null) kv.delete(w.key);
    else kv.put(w.key, w.value);
  }
}
