// The guardian's consensus store in LMDB: embedded, crash-safe (copy-on-write B-tree, fsync on
// commit), transactional, no server. Every drainOutput is one LMDB write transaction, so a
// decided block, the chain state it produced and the next round's state land together or not at all.
import { open } from "lmdb";
import type { Database, RootDatabase } from "lmdb";
import {
  decodeChain,
  decodeDecided,
  decodeRound,
  decodeSession,
  encodeChain,
  encodeDecided,
  encodeRound,
  encodeSession,
} from "../consensus/persist-codec.js";
import { assertSessionMatches, restoreFrom } from "../consensus/store.js";
import type { ConsensusStore } from "../consensus/store.js";
import type {
  ChainState,
  DecidedBlock,
  PersistOp,
  RestoredState,
  SessionRecord,
} from "../consensus/types.js";

type Bytes = Buffer;

/**
 * "fsync": every transaction is on stable storage before the engine's messages leave (survives
 * power loss). "os-buffered": written to the OS page cache (survives a crash or SIGKILL of the
 * guardian, not of the machine), about 6 ms faster per height on this kind of disk. A guardian that
 * loses its last votes to a power cut may re-vote differently after restart and then counts as one
 * of the f faulty guardians: an operator's trade-off, so "fsync" is the default.
 */
export type StoreDurability = "fsync" | "os-buffered";

export class LmdbConsensusStore implements ConsensusStore {
  readonly root: RootDatabase<Bytes, string>;
  private readonly meta: Database<Bytes, string>;
  private readonly blocks: Database<Bytes, number>;
  private readonly sessions: Database<Bytes, number>;
  private readonly ownBundles: Database<Bytes, number>;
  private chainCache: ChainState | undefined;

  constructor(
    path: string,
    private readonly self: number,
    private readonly heightsPerSession: number,
    durability: StoreDurability = "fsync",
  ) {
    this.root = open<Bytes, string>({
      path,
      encoding: "binary",
      maxDbs: 16,
      noSync: durability === "os-buffered",
    });
    this.meta = this.root.openDB<Bytes, string>({ name: "consensus-meta", encoding: "binary" });
    this.blocks = this.root.openDB<Bytes, number>({ name: "consensus-blocks", encoding: "binary" });
    this.sessions = this.root.openDB<Bytes, number>({ name: "consensus-sessions", encoding: "binary" });
    this.ownBundles = this.root.openDB<Bytes, number>({ name: "consensus-own-bundles", encoding: "binary" });
    const chain = this.meta.get("chain");
    this.chainCache = chain ? decodeChain(chain) : undefined;
  }

  load(n: number, self: number, heightsPerSession: number): RestoredState {
    const round = this.meta.get("round");
    const ownBundles: { seq: number; envelope: Uint8Array }[] = [];
    for (const { key, value } of this.ownBundles.getRange()) ownBundles.push({ seq: key, envelope: value });
    return restoreFrom(
      {
        chain: this.chainCache,
        round: round ? decodeRound(round) : undefined,
        ownBundles,
        decided: (h) => this.decided(h),
        session: (s) => this.session(s),
      },
      n,
      self,
      heightsPerSession,
    );
  }

  apply(ops: readonly PersistOp[]): void {
    if (ops.length === 0) return;
    let chain = this.chainCache;
    this.root.transactionSync(() => {
      for (const op of ops) {
        switch (op.kind) {
          case "decided": {
            void this.blocks.put(op.decided.height, Buffer.from(encodeDecided(op.decided)));
            chain = op.chain;
            const own = chain.originSeq[this.self]!;
            for (const key of this.ownBundles.getKeys({ end: own + 1 })) void this.ownBundles.remove(key);
            break;
          }
          case "round":
            void this.meta.put("round", Buffer.from(encodeRound(op.round)));
            break;
          case "ownBundle":
            void this.ownBundles.put(op.seq, Buffer.from(op.envelope));
            break;
          case "sessionSigned":
            assertSessionMatches(op.record, (h) => this.decided(h), this.heightsPerSession);
            void this.sessions.put(op.record.session, Buffer.from(encodeSession(op.record)));
            if (chain) chain = { ...chain, sessionsSigned: op.sessionsSigned };
            break;
        }
      }
      if (chain) void this.meta.put("chain", Buffer.from(encodeChain(chain)));
    });
    this.chainCache = chain;
  }

  decided(height: number): DecidedBlock | undefined {
    const v = this.blocks.get(height);
    return v ? decodeDecided(v) : undefined;
  }

  session(session: number): SessionRecord | undefined {
    const v = this.sessions.get(session);
    return v ? decodeSession(v) : undefined;
  }

  get chain(): ChainState | undefined {
    return this.chainCache;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
