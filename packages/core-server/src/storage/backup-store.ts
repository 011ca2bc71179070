// Client backups kept by this guardian (Fedimint's encrypted client backups): outside consensus,
// in the guardian's own LMDB environment. Each guardian's copy is its own; a client uploads to all
// and restores from whichever copies it can read.
//
// The record is opaque ciphertext signed by its owner's key (`id`): only the owner can replace it,
// and only with a higher version. Storage is bounded in records and bytes, so that nobody can fill
// the guardian's disk through this door (the API's rate limit bounds how fast one can try).
import type { Database, RootDatabase } from "lmdb";
import {
  backupSigningBytes,
  fromHex,
  InvalidRequestError,
  toHex,
  UnavailableError,
} from "@conclave/core-common";
import type { BackupRecord, BackupStored, Verifier } from "@conclave/core-common";
import { ConclaveError } from "@conclave/core-common";
import { sha256 } from "../node-crypto.js";

export interface BackupStoreLimits {
  /** Most backups (distinct ids) this guardian keeps. */
  readonly recordsMax: number;
  /** Most ciphertext bytes kept over all backups. */
  readonly bytesMax: number;
}

export const DEFAULT_BACKUP_STORE_LIMITS: BackupStoreLimits = {
  recordsMax: 1_000_000,
  bytesMax: 8 * 1024 * 1024 * 1024,
};

/** 409: the guardian already holds this backup at the same or a higher version. */
export class StaleBackupError extends ConclaveError {
  override readonly name = "StaleBackupError";
  constructor(stored: number, offered: number) {
    super(
      "stale_backup",
      `this guardian holds version ${stored} of the backup; version ${offered} is not newer`,
      { status: 409, details: { storedVersion: stored, offeredVersion: offered } },
    );
  }
}

const TOTALS_KEY = Buffer.from([0xff]);

export class BackupStore {
  private readonly db: Database<Buffer, Buffer>;
  private records = 0;
  private bytes = 0;

  constructor(
    root: RootDatabase<Buffer, string>,
    private readonly federationId: Uint8Array,
    private readonly verifier: Verifier,
    private readonly limits: BackupStoreLimits = DEFAULT_BACKUP_STORE_LIMITS,
  ) {
    this.db = root.openDB<Buffer, Buffer>({
      name: "client-backups",
      encoding: "binary",
      keyEncoding: "binary",
    });
    const totals = this.db.get(TOTALS_KEY);
    if (totals) {
      this.records = totals.readUInt32BE(0);
      this.bytes = Number(totals.readBigUInt64BE(4));
    }
  }

  get(id: string): BackupRecord | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    const v = this.db.get(Buffer.from(id, "hex"));
    return v === undefined ? undefined : decodeRecord(id, v);
  }

  /** Checks the owner's signature and the version, then stores durably before answering. */
  async put(record: BackupRecord): Promise<BackupStored> {
    const id = fromHex(record.id);
    const ciphertext = new Uint8Array(Buffer.from(record.ciphertext, "base64"));
    if (Buffer.from(ciphertext).toString("base64") !== record.ciphertext)
      throw new InvalidRequestError("the backup ciphertext is not canonical base64");
    const message = backupSigningBytes(sha256, this.federationId, id, record.version, ciphertext);
    if (!this.verifier.verify(id, message, fromHex(record.signature)))
      throw new InvalidRequestError(
        "the backup signature does not verify: it must be made by the key named as its id, over this federation's id, the version and the ciphertext",
        { reason: "bad_signature" },
      );
    const key = Buffer.from(id);
    await this.db.transaction(() => {
      const old = this.db.get(key);
      const oldBytes = old ? old.length - HEADER_BYTES : 0;
      if (old) {
        const stored = Number(old.readBigUInt64BE(0));
        if (stored >= record.version) throw new StaleBackupError(stored, record.version);
      } else if (this.records >= this.limits.recordsMax)
        throw new UnavailableError("this guardian stores no more new backups (record limit reached)");
      const bytes = this.bytes - oldBytes + ciphertext.length;
      if (bytes > this.limits.bytesMax)
        throw new UnavailableError("this guardian stores no more backup bytes (limit reached)");
      void this.db.put(key, encodeRecord(record.version, fromHex(record.signature), ciphertext));
      this.records += old ? 0 : 1;
      this.bytes = bytes;
      const totals = Buffer.alloc(12);
      totals.writeUInt32BE(this.records, 0);
      totals.writeBigUInt64BE(BigInt(this.bytes), 4);
      void this.db.put(TOTALS_KEY, totals);
    });
    return { stored: true, version: record.version };
  }
}

// version u64 | signature (64) | ciphertext
const HEADER_BYTES = 8 + 64;

function encodeRecord(version: number, signature: Uint8Array, ciphertext: Uint8Array): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + ciphertext.length);
  b.writeBigUInt64BE(BigInt(version), 0);
  b.set(signature, 8);
  b.set(ciphertext, HEADER_BYTES);
  return b;
}

function decodeRecord(id: string, v: Buffer): BackupRecord {
  return {
    id,
    version: Number(v.readBigUInt64BE(0)),
    signature: toHex(v.subarray(8, HEADER_BYTES)),
    ciphertext: v.subarray(HEADER_BYTES).toString("base64"),
  };
}
