// The browser client database on the standard IndexedDB API: one object store of byte values under
// string keys (IndexedDB orders string keys by UTF-16 code units; the wallet's keys are ASCII, so the
// order is the same as LMDB's). A write batch is one readwrite transaction: all or nothing, and
// resolved on the transaction's `complete` event ("strict" durability where the browser offers it).
import type { ClientDb, DbOp } from "./db.js";

const STORE = "kv";

interface IdbRequestLike<T> {
  result: T;
  error: unknown;
  onsuccess: ((this: unknown, ev: unknown) => unknown) | null;
  onerror: ((this: unknown, ev: unknown) => unknown) | null;
}

interface IdbStoreLike {
  get(key: string): IdbRequestLike<unknown>;
  put(value: unknown, key: string): unknown;
  delete(key: string): unknown;
  openCursor(range: unknown): IdbRequestLike<IdbCursorLike | null>;
}

interface IdbCursorLike {
  key: unknown;
  value: unknown;
  continue(): void;
}

interface IdbTransactionLike {
  objectStore(name: string): IdbStoreLike;
  oncomplete: ((this: unknown, ev: unknown) => unknown) | null;
  onerror: ((this: unknown, ev: unknown) => unknown) | null;
  onabort: ((this: unknown, ev: unknown) => unknown) | null;
  error: unknown;
  abort(): void;
}

interface IdbDatabaseLike {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(
    store: string,
    mode: "readonly" | "readwrite",
    options?: { durability: string },
  ): IdbTransactionLike;
  close(): void;
}

interface IdbOpenRequestLike extends IdbRequestLike<IdbDatabaseLike> {
  onupgradeneeded: ((this: unknown, ev: unknown) => unknown) | null;
}

/** The parts of the browser's IndexedDB globals this file uses. */
export interface IndexedDbGlobals {
  readonly indexedDB: { open(name: string, version: number): IdbOpenRequestLike };
  readonly IDBKeyRange: {
    bound(lower: string, upper: string, lowerOpen: boolean, upperOpen: boolean): unknown;
  };
}

function request<T>(r: IdbRequestLike<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(asError(r.error));
  });
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(`IndexedDB error: ${String(e)}`);
}

function done(tx: IdbTransactionLike): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(asError(tx.error));
    tx.onabort = () => reject(asError(tx.error ?? "transaction aborted"));
  });
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new Error("IndexedDB returned a value that is not bytes");
}

/** The runtime's own IndexedDB (a browser, or a test runtime that provides one). */
export function browserGlobals(): IndexedDbGlobals {
  const g = globalThis as Record<string, unknown>;
  const indexedDB = g["indexedDB"];
  const keyRange = g["IDBKeyRange"];
  if (typeof indexedDB !== "object" || indexedDB === null || keyRange === undefined || keyRange === null)
    throw new Error(
      "this runtime has no IndexedDB: use the Node entry (@conclave/wallet/node) outside browsers",
    );
  return {
    indexedDB: indexedDB as IndexedDbGlobals["indexedDB"],
    IDBKeyRange: keyRange as IndexedDbGlobals["IDBKeyRange"],
  };
}

export class IndexedDbClientDb implements ClientDb {
  private constructor(
    private readonly db: IdbDatabaseLike,
    private readonly globals: IndexedDbGlobals,
  ) {}

  /** Opens (or creates) the database `name`: one name per wallet. */
  static async open(name: string, globals: IndexedDbGlobals = browserGlobals()): Promise<IndexedDbClientDb> {
    const req = globals.indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
    };
    const db = await request(req);
    return new IndexedDbClientDb(db, globals);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const tx = this.db.transaction(STORE, "readonly");
    const v = await request(tx.objectStore(STORE).get(key));
    return v === undefined ? undefined : bytesOf(v);
  }

  // async: a closed database throws from transaction(), and callers expect a rejected promise.
  async range(start: string, end: string): Promise<[string, Uint8Array][]> {
    const tx = this.db.transaction(STORE, "readonly");
    const cursorReq = tx
      .objectStore(STORE)
      .openCursor(this.globals.IDBKeyRange.bound(start, end, false, true));
    const out: [string, Uint8Array][] = [];
    return new Promise((resolve, reject) => {
      cursorReq.onsuccess = () => {
        const cursor = cursorReq.result;
        if (!cursor) {
          resolve(out);
          return;
        }
        out.push([String(cursor.key), bytesOf(cursor.value)]);
        cursor.continue();
      };
      cursorReq.onerror = () => reject(asError(cursorReq.error));
    });
  }

  async write(ops: readonly DbOp[]): Promise<void> {
    if (ops.length === 0) return;
    const tx = this.db.transaction(STORE, "readwrite", { durability: "strict" });
    const finished = done(tx);
    const store = tx.objectStore(STORE);
    try {
      for (const op of ops) {
        if (op.type === "put") store.put(op.value.slice(), op.key);
        else store.delete(op.key);
      }
    } catch (e) {
      // An op that throws before IndexedDB takes it (a value on a detached buffer, a value that
      // cannot be cloned) would otherwise let the ops already queued commit on their own.
      tx.abort();
      await finished.catch(() => undefined);
      throw e;
    }
    await finished;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
