// The guardian's consensus store in LMDB: embedded, crash-safe (copy-on-write B-tree, fsync on
// commit), transactional, no server. Every drainOutput is one LMDB write transaction, so a
// decided block, the chain state it produced and the next round's state land together or not at all.
import { TransactionFlags, open } from "lmdb";
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
import { prefixEnd } from "../db/kv.js";
import type { ReadTx, WriteTx } from "../db/kv.js";

type Bytes = Buffer;

const SYNCED = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT;
/** Committed (visible, ordered) before returning, flushed to disk with a later synced commit. */
const LAZY = SYNCED | TransactionFlags.NO_SYNC_FLUSH;

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
  /** The federation state (modules and core), written in the same transactions as consensus. */
  private readonly state: Database<Bytes, Bytes>;
  private chainCache: ChainState | undefined;
  /**
   * Runs inside the write transaction that records a decided block: whatever it writes to `db`
   * commits atomically with the block (or not at all).
   */
  onDecided: ((decided: DecidedBlock, db: WriteTx) => void) | undefined;
  readonly stateReader: ReadTx;
  private readonly stateWriter: WriteTx;

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
    this.state = this.root.openDB<Bytes, Bytes>({
      name: "federation-state",
      encoding: "binary",
      keyEncoding: "binary",
    });
    const state = this.state;
    this.stateReader = {
      get: (key) => {
        const v = state.get(Buffer.from(key));
        return v === undefined ? undefined : new Uint8Array(v);
      },
      *scan(prefix) {
        const end = prefixEnd(prefix);
        const range = end
          ? { start: Buffer.from(prefix), end: Buffer.from(end) }
          : { start: Buffer.from(prefix) };
        for (const { key, value } of state.getRange(range))
          yield [new Uint8Array(key), new Uint8Array(value)];
      },
    };
    this.stateWriter = {
      ...this.stateReader,
      scan: (prefix) => this.stateReader.scan(prefix),
      put: (key, value) => void state.put(Buffer.from(key), Buffer.from(value)),
      delete: (key) => void state.remove(Buffer.from(key)),
    };
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

  apply(ops: readonly PersistOp[], sync = true): void {
    if (ops.length === 0) return;
    let chain = this.chainCache;
    this.root.transactionSync(
      () => {
        for (const op of ops) {
          switch (op.kind) {
            case "decided": {
              void this.blocks.put(op.decided.height, Buffer.from(encodeDecided(op.decided)));
              this.onDecided?.(op.decided, this.stateWriter);
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
      },
      sync ? SYNCED : LAZY,
    );
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
