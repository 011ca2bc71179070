// The Node client database: an embedded LMDB environment in the wallet's directory. Every write
// batch is one LMDB transaction, synced to disk before its promise resolves (no overlapping sync),
// so a wallet killed right after an operation's record is written finds it when it reopens.
import { mkdirSync } from "node:fs";
import { open } from "lmdb";
import type { RootDatabase } from "lmdb";
import type { ClientDb, DbOp } from "./db.js";

export class LmdbClientDb implements ClientDb {
  private constructor(private readonly db: RootDatabase<Buffer, string>) {}

  static open(dir: string): LmdbClientDb {
    mkdirSync(dir, { recursive: true });
    const db = open<Buffer, string>({
      path: dir,
      encoding: "binary",
      // Durable commits: the write promise resolves only once the data is on disk.
      overlappingSync: false,
      noSync: false,
    });
    return new LmdbClientDb(db);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    const v = this.db.get(key);
    return Promise.resolve(v === undefined ? undefined : new Uint8Array(v));
  }

  range(start: string, end: string): Promise<[string, Uint8Array][]> {
    const out: [string, Uint8Array][] = [];
    for (const { key, value } of this.db.getRange({ start, end })) out.push([key, new Uint8Array(value)]);
    return Promise.resolve(out);
  }

  async write(ops: readonly DbOp[]): Promise<void> {
    if (ops.length === 0) return;
    // Every value is wrapped before the transaction starts: lmdb commits what a throwing callback
    // already wrote, so a value that cannot be read (a detached buffer) must fail the batch first.
    const values = ops.map((op) =>
      op.type === "put" ? Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength) : undefined,
    );
    await this.db.transaction(() => {
      ops.forEach((op, i) => {
        if (op.type === "put") void this.db.put(op.key, values[i]!);
        else void this.db.remove(op.key);
      });
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
