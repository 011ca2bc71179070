// The client database: one client (wallet) per database, ordered string keys (ASCII), byte values, atomic
// write batches. Three implementations: MemoryClientDb (tests, throwaway wallets), LmdbClientDb
// (Node, durable) and IndexedDbClientDb (browser).

export type DbOp =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: string };

export interface ClientDb {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Entries with start <= key < end, in ascending key order. */
  range(start: string, end: string): Promise<[string, Uint8Array][]>;
  /** Applies every op or none; durable once the promise resolves (for a durable database). */
  write(ops: readonly DbOp[]): Promise<void>;
  close(): Promise<void>;
}

/** One past every key starting with `prefix` (keys are ASCII). */
export function prefixEnd(prefix: string): string {
  return `${prefix}\uffff`;
}

export function scanPrefix(db: ClientDb, prefix: string): Promise<[string, Uint8Array][]> {
  return db.range(prefix, prefixEnd(prefix));
}

export function put(key: string, value: Uint8Array): DbOp {
  return { type: "put", key, value };
}

export function del(key: string): DbOp {
  return { type: "del", key };
}

export class MemoryClientDb implements ClientDb {
  private readonly map = new Map<string, Uint8Array>();
  private closed = false;

  get(key: string): Promise<Uint8Array | undefined> {
    this.check();
    const v = this.map.get(key);
    return Promise.resolve(v && v.slice());
  }

  range(start: string, end: string): Promise<[string, Uint8Array][]> {
    this.check();
    const out: [string, Uint8Array][] = [];
    for (const [k, v] of this.map) if (k >= start && k < end) out.push([k, v.slice()]);
    out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(out);
  }

  write(ops: readonly DbOp[]): Promise<void> {
    this.check();
    // Copy every value before changing anything: a value that cannot be copied (a detached buffer)
    // fails the whole batch, not the ops after it.
    const copies = ops.map((op) => (op.type === "put" ? op.value.slice() : undefined));
    ops.forEach((op, i) => {
      if (op.type === "put") this.map.set(op.key, copies[i]!);
      else this.map.delete(op.key);
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private check(): void {
    if (this.closed) throw new Error("the wallet database is closed");
  }
}

/**
 * A database that tells listeners which keys each successful write touched (after it is durable):
 * how a half learns of other halves' writes without the core knowing who listens (the recovery
 * store's refresh, RecoveryKeeper). A listener's error is not the writer's.
 */
export class ObservedClientDb implements ClientDb {
  private readonly listeners = new Set<(keys: readonly string[]) => void>();

  constructor(readonly inner: ClientDb) {}

  /** Calls `listener` after every successful write; returns the function that removes it. */
  onWrite(listener: (keys: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  range(start: string, end: string): Promise<[string, Uint8Array][]> {
    return this.inner.range(start, end);
  }

  async write(ops: readonly DbOp[]): Promise<void> {
    await this.inner.write(ops);
    const keys = ops.map((op) => op.key);
    for (const l of this.listeners) {
      try {
        l(keys);
      } catch {
        // the write happened; a listener's failure is its own
      }
    }
  }

  close(): Promise<void> {
    this.listeners.clear();
    return this.inner.close();
  }
}
