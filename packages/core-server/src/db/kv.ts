// The narrow storage interface modules see: byte keys and values, point reads, prefix scans and
// writes inside a transaction they never open or commit themselves. LMDB implements it today;
// a PostgreSQL backend implements the same four calls without touching any module.
import { toHex } from "@conclave/core-common";

export interface ReadTx {
  get(key: Uint8Array): Uint8Array | undefined;
  /** Entries whose key starts with `prefix`, in ascending key order. */
  scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]>;
}

export interface WriteTx extends ReadTx {
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * Buffered writes over a parent transaction: a savepoint. A transaction that a module rejects
 * halfway is discarded by dropping its overlay; an accepted one is merged into the parent.
 */
export class OverlayTx implements WriteTx {
  private readonly writes = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();

  constructor(private readonly parent: ReadTx) {}

  get(key: Uint8Array): Uint8Array | undefined {
    const w = this.writes.get(toHex(key));
    if (w) return w.value ?? undefined;
    return this.parent.get(key);
  }

  *scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]> {
    const mine = [...this.writes.values()]
      .filter((w) => startsWith(w.key, prefix))
      .sort((a, b) => compareBytes(a.key, b.key));
    let i = 0;
    for (const [k, v] of this.parent.scan(prefix)) {
      while (i < mine.length && compareBytes(mine[i]!.key, k) < 0) {
        const w = mine[i++]!;
        if (w.value) yield [w.key, w.value];
      }
      if (i < mine.length && compareBytes(mine[i]!.key, k) === 0) {
        const w = mine[i++]!;
        if (w.value) yield [w.key, w.value];
        continue;
      }
      yield [k, v];
    }
    for (; i < mine.length; i++) {
      const w = mine[i]!;
      if (w.value) yield [w.key, w.value];
    }
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(toHex(key), { key: key.slice(), value: value.slice() });
  }

  delete(key: Uint8Array): void {
    this.writes.set(toHex(key), { key: key.slice(), value: null });
  }

  /** Apply the buffered writes to `target` (normally the parent). */
  commitInto(target: WriteTx): void {
    for (const w of this.writes.values()) {
      if (w.value) target.put(w.key, w.value);
      else target.delete(w.key);
    }
    this.writes.clear();
  }

  get size(): number {
    return this.writes.size;
  }
}

/** A read view where every key is silently prefixed: a module's private key space. */
export class PrefixedReadTx implements ReadTx {
  constructor(
    /** The unprefixed view (the core maps a module's view to another module's: module links). */
    readonly reader: ReadTx,
    readonly prefix: Uint8Array,
  ) {}

  protected k(key: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.prefix.length + key.length);
    out.set(this.prefix);
    out.set(key, this.prefix.length);
    return out;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.reader.get(this.k(key));
  }

  *scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]> {
    for (const [k, v] of this.reader.scan(this.k(prefix))) yield [k.subarray(this.prefix.length), v];
  }
}

/** The same, writable. */
export class PrefixedTx extends PrefixedReadTx implements WriteTx {
  constructor(
    /** The unprefixed transaction (see `reader`). */
    readonly inner: WriteTx,
    prefix: Uint8Array,
  ) {
    super(inner, prefix);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.inner.put(this.k(key), value);
  }

  delete(key: Uint8Array): void {
    this.inner.delete(this.k(key));
  }
}

/** In-memory base store (tests and the simulator). */
export class MemoryKv implements WriteTx {
  private readonly map = new Map<string, { key: Uint8Array; value: Uint8Array }>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(toHex(key))?.value;
  }

  *scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]> {
    const entries = [...this.map.values()]
      .filter((e) => startsWith(e.key, prefix))
      .sort((a, b) => compareBytes(a.key, b.key));
    for (const e of entries) yield [e.key, e.value];
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.map.set(toHex(key), { key: key.slice(), value: value.slice() });
  }

  delete(key: Uint8Array): void {
    this.map.delete(toHex(key));
  }
}

export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}
