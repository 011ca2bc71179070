// The consensus engine's durable state, behind a narrow synchronous interface: the simulator
// keeps it in memory (its simulated disk), the guardian keeps it in LMDB.
import { bytesEqual } from "@conclave/core-common";
import { genesisState } from "./types.js";
import type {
  ChainState,
  DecidedBlock,
  PersistOp,
  RestoredState,
  RoundSnapshot,
  SessionRecord,
} from "./types.js";

export interface ConsensusStore {
  /** The state to construct the engine from after a start or a crash. */
  load(n: number, self: number, heightsPerSession: number): RestoredState;
  /**
   * Apply one drainOutput's persist ops in one atomic transaction; on stable storage before
   * returning when `sync` (Output.syncRequired), else possibly flushed with a later transaction.
   */
  apply(ops: readonly PersistOp[], sync?: boolean): void;
  decided(height: number): DecidedBlock | undefined;
  session(session: number): SessionRecord | undefined;
}

const UNSIGNED_SESSIONS_RESTORED_MAX = 4;

/** Shared by every store: what to hand the engine, given point reads of what was persisted. */
export function restoreFrom(
  reads: {
    chain: ChainState | undefined;
    round: RoundSnapshot | undefined;
    ownBundles: readonly { seq: number; envelope: Uint8Array }[];
    decided: (height: number) => DecidedBlock | undefined;
    session: (session: number) => SessionRecord | undefined;
  },
  n: number,
  self: number,
  heightsPerSession: number,
): RestoredState {
  if (!reads.chain) {
    // Own bundles are persisted (and acknowledged to clients) before the first block is decided:
    // restore them too, or a guardian restarted at height 0 forgets them and signs another bundle
    // with the same sequence number, losing acknowledged items (found by the simulator, seed 5).
    // Likewise the votes signed at height 0: without them a restarted guardian could sign a
    // different vote for a slot it already voted in.
    return {
      ...genesisState(n),
      round: reads.round && reads.round.height === 0 ? reads.round : null,
      ownBundles: [...reads.ownBundles].sort((a, b) => a.seq - b.seq).map((b) => b.envelope),
    };
  }
  const chain = reads.chain;
  const k = heightsPerSession;
  const current = Math.floor(chain.height / k);
  const idsOf = (from: number, to: number): Uint8Array[] => {
    const ids: Uint8Array[] = [];
    for (let h = from; h < to; h++) {
      const d = reads.decided(h);
      if (!d) throw new Error(`store is missing decided height ${h} below chain height ${chain.height}`);
      ids.push(d.blockId);
    }
    return ids;
  };
  const unsignedSessions: { session: number; blockIds: Uint8Array[] }[] = [];
  for (let s = Math.max(chain.sessionsSigned, current - UNSIGNED_SESSIONS_RESTORED_MAX); s < current; s++) {
    if (!reads.session(s)) unsignedSessions.push({ session: s, blockIds: idsOf(s * k, (s + 1) * k) });
  }
  return {
    chain,
    round: reads.round && reads.round.height === chain.height ? reads.round : null,
    ownBundles: reads.ownBundles
      .filter((b) => b.seq > chain.originSeq[self]!)
      .sort((a, b) => a.seq - b.seq)
      .map((b) => b.envelope),
    sessionBlockIds: idsOf(current * k, chain.height),
    unsignedSessions,
  };
}

/** Refuse, loudly, a signed session that names other blocks than the ones this guardian decided. */
export function assertSessionMatches(
  record: SessionRecord,
  decided: (height: number) => DecidedBlock | undefined,
  k: number,
): void {
  for (let i = 0; i < record.blockIds.length; i++) {
    const d = decided(record.session * k + i);
    if (d && !bytesEqual(d.blockId, record.blockIds[i]!)) {
      throw new Error(
        `SAFETY VIOLATION: signed session ${record.session} names another block at height ${d.height}`,
      );
    }
  }
}

/** In-memory store: the simulator's disk. Survives a simulated crash because the simulator keeps it. */
export class MemoryConsensusStore implements ConsensusStore {
  private chain: ChainState | undefined;
  private round: RoundSnapshot | undefined;
  private readonly blocks = new Map<number, DecidedBlock>();
  private readonly sessions = new Map<number, SessionRecord>();
  private readonly ownBundles = new Map<number, Uint8Array>();
  writes = 0;

  constructor(
    private readonly self: number,
    private readonly heightsPerSession: number,
  ) {}

  load(n: number, self: number, heightsPerSession: number): RestoredState {
    return restoreFrom(
      {
        chain: this.chain,
        round: this.round,
        ownBundles: [...this.ownBundles].map(([seq, envelope]) => ({ seq, envelope })),
        decided: (h) => this.blocks.get(h),
        session: (s) => this.sessions.get(s),
      },
      n,
      self,
      heightsPerSession,
    );
  }

  apply(ops: readonly PersistOp[]): void {
    if (ops.length === 0) return;
    this.writes++;
    for (const op of ops) {
      switch (op.kind) {
        case "decided":
          this.blocks.set(op.decided.height, op.decided);
          this.chain = op.chain;
          for (const seq of this.ownBundles.keys()) {
            if (seq <= op.chain.originSeq[this.self]!) this.ownBundles.delete(seq);
          }
          break;
        case "round":
          this.round = op.round;
          break;
        case "ownBundle":
          this.ownBundles.set(op.seq, op.envelope);
          break;
        case "sessionSigned":
          assertSessionMatches(op.record, (h) => this.blocks.get(h), this.heightsPerSession);
          this.sessions.set(op.record.session, op.record);
          if (this.chain) this.chain = { ...this.chain, sessionsSigned: op.sessionsSigned };
          break;
      }
    }
  }

  decided(height: number): DecidedBlock | undefined {
    return this.blocks.get(height);
  }

  session(session: number): SessionRecord | undefined {
    return this.sessions.get(session);
  }

  get height(): number {
    return this.chain?.height ?? 0;
  }
}
