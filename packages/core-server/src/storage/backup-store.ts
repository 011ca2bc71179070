// Client backups kept by this guardian (Fedimint's encrypted client backups): outside consensus,
// in an LMDB environment of their own (its own file, its own growth), never in the consensus
// database. Each guardian's copy is its own; a client uploads to all and restores from whichever
// copies it can read.
//
// The record is opaque ciphertext signed by its owner's key (`id`): only the owner can replace it,
// and only with a higher version. One record per key, at most BACKUP_CIPHERTEXT_BYTES_MAX
// (core-common) each. Anyone can make keys, so the store is bounded in records and bytes and, when
// full, makes room by evicting the least recently written records that have not been written for
// `staleAfterMs`: a record its owner rewrites within that period is never evicted, however many
// records others upload; a flood fills the store only for as long as its sender keeps rewriting
// every one of its records. New keys are admitted at `newKeysPerClientPerDay` per client network
// (an IPv4 address, an IPv6 /48), so filling the store takes addresses in proportion to its size,
// and each network's writes are bounded in bytes (`writeBytesPerClientPerHour`, a page at least per
// write), so that rewrites cannot keep the disk that consensus fsyncs to busy
// (docs/federation-core.md, "Client backups").
//
//   records   id(32)                -> version u64 | writtenAtMs u64 | signature(64) | ciphertext
//   byWrite   writtenAtMs u64 | id  -> (empty)      the eviction order
//   meta      0x00                  -> records u32 | bytes u64
import { join } from "node:path";
import { open } from "lmdb";
import type { Database, RootDatabase } from "lmdb";
import {
  BACKUP_CIPHERTEXT_BYTES_MAX,
  backupSigningBytes,
  fromHex,
  InvalidRequestError,
  RateLimitedError,
  toHex,
  UnavailableError,
} from "@conclave/core-common";
import type { BackupRecord, BackupStored, Verifier } from "@conclave/core-common";
import { ConclaveError } from "@conclave/core-common";
import { sha256 } from "../node-crypto.js";
import { TokenBuckets } from "../api/rate-limit.js";

export interface BackupStoreLimits {
  /** Most backups (distinct ids) this guardian keeps. */
  readonly recordsMax: number;
  /** Most record bytes (ciphertext and a 80-byte header each) kept over all backups. */
  readonly bytesMax: number;
  /** A record not rewritten for this long may be evicted to make room for another. */
  readonly staleAfterMs: number;
  /**
   * Backups of keys this guardian does not hold yet that one client network (an IPv4 address, an
   * IPv6 /48) may add per day, at once or spread out. A wallet adds one key in its lifetime.
   */
  readonly newKeysPerClientPerDay: number;
  /**
   * Bytes one client network may write per hour, at once or spread out; every write counts as
   * PAGE_BYTES at least (each is an fsync and a page, whatever its size).
   */
  readonly writeBytesPerClientPerHour: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_BACKUP_STORE_LIMITS: BackupStoreLimits = {
  recordsMax: 1_000_000,
  bytesMax: 4 * 1024 * 1024 * 1024,
  staleAfterMs: 180 * DAY_MS,
  newKeysPerClientPerDay: 16,
  writeBytesPerClientPerHour: 4 * 1024 * 1024,
};

/** Where a guardian keeps its backup environment: a directory beside the consensus database's files. */
export function backupStorePath(dataDir: string): string {
  return join(dataDir, "client-backups");
}

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

const TOTALS_KEY = Buffer.from([0]);
// version u64 | writtenAtMs u64 | signature (64) | ciphertext
const HEADER_BYTES = 8 + 8 + 64;
const ID_BYTES = 32;
/** What a write costs at least, against `writeBytesPerClientPerHour`: one LMDB page. */
const PAGE_BYTES = 4096;

export class BackupStore {
  private readonly records: Database<Buffer, Buffer>;
  private readonly byWrite: Database<Buffer, Buffer>;
  private readonly meta: Database<Buffer, Buffer>;
  private count = 0;
  private bytes = 0;
  private readonly newKeys: TokenBuckets;
  private readonly writes: TokenBuckets;

  /**
   * Opens (creating it if needed) the store's own LMDB environment at `path`, a directory that
   * must not be the consensus database's: filling this one cannot fill or slow that one.
   */
  static open(
    path: string,
    federationId: Uint8Array,
    verifier: Verifier,
    limits: BackupStoreLimits = DEFAULT_BACKUP_STORE_LIMITS,
    now: () => number = Date.now,
  ): BackupStore {
    const env = open<Buffer, Buffer>({ path, encoding: "binary", keyEncoding: "binary", maxDbs: 4 });
    return new BackupStore(env, federationId, verifier, limits, now);
  }

  private constructor(
    private readonly env: RootDatabase<Buffer, Buffer>,
    private readonly federationId: Uint8Array,
    private readonly verifier: Verifier,
    private readonly limits: BackupStoreLimits,
    private readonly now: () => number,
  ) {
    const binary = { encoding: "binary", keyEncoding: "binary" } as const;
    this.records = env.openDB<Buffer, Buffer>({ name: "backups", ...binary });
    this.byWrite = env.openDB<Buffer, Buffer>({ name: "backups-by-write", ...binary });
    this.meta = env.openDB<Buffer, Buffer>({ name: "backups-meta", ...binary });
    this.newKeys = new TokenBuckets({
      perSecond: limits.newKeysPerClientPerDay / (DAY_MS / 1000),
      burst: limits.newKeysPerClientPerDay,
      now,
    });
    this.writes = new TokenBuckets({
      perSecond: limits.writeBytesPerClientPerHour / 3600,
      burst: limits.writeBytesPerClientPerHour,
      now,
    });
    const totals = this.meta.get(TOTALS_KEY);
    if (totals) {
      this.count = totals.readUInt32BE(0);
      this.bytes = Number(totals.readBigUInt64BE(4));
    }
  }

  /** Records and record bytes held now. */
  get usage(): { readonly records: number; readonly bytes: number } {
    return { records: this.count, bytes: this.bytes };
  }

  get(id: string): BackupRecord | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    const v = this.records.get(Buffer.from(id, "hex"));
    return v === undefined ? undefined : decodeRecord(id, v);
  }

  /**
   * Checks the owner's signature and the version, takes one of the client's new-key tokens if the
   * key is new here (`client`: the API's rate-limit key of the uploader, api/rate-limit.ts
   * `clientKey`), makes room by evicting stale records if the store is full, then stores durably
   * before answering.
   */
  async put(record: BackupRecord, client?: string): Promise<BackupStored> {
    const network = client === undefined ? undefined : clientNetwork(client);
    // Before any hashing or verifying: a network over its write budget costs no CPU either.
    const writeWaitMs = network === undefined ? 0 : this.writes.waitMs(network);
    if (writeWaitMs > 0) throw new RateLimitedError(writeWaitMs);
    const id = fromHex(record.id);
    const ciphertext = new Uint8Array(Buffer.from(record.ciphertext, "base64"));
    if (Buffer.from(ciphertext).toString("base64") !== record.ciphertext)
      throw new InvalidRequestError("the backup ciphertext is not canonical base64");
    if (ciphertext.length > BACKUP_CIPHERTEXT_BYTES_MAX)
      throw new InvalidRequestError(
        `a backup holds at most ${BACKUP_CIPHERTEXT_BYTES_MAX} bytes of ciphertext, this one ${ciphertext.length}`,
      );
    const message = backupSigningBytes(sha256, this.federationId, id, record.version, ciphertext);
    if (!this.verifier.verify(id, message, fromHex(record.signature)))
      throw new InvalidRequestError(
        "the backup signature does not verify: it must be made by the key named as its id, over this federation's id, the version and the ciphertext",
        { reason: "bad_signature" },
      );
    const key = Buffer.from(id);
    if (network !== undefined && this.records.get(key) === undefined) {
      const waitMs = this.newKeys.take(network);
      if (waitMs > 0) throw new RateLimitedError(waitMs);
    }
    const writtenAt = Math.max(0, Math.floor(this.now()));
    const value = encodeRecord(record.version, writtenAt, fromHex(record.signature), ciphertext);
    await this.env.transaction(() => {
      const old = this.records.get(key);
      if (old) {
        const stored = Number(old.readBigUInt64BE(0));
        if (stored >= record.version) throw new StaleBackupError(stored, record.version);
      }
      let count = this.count + (old ? 0 : 1);
      let bytes = this.bytes - (old?.length ?? 0) + value.length;
      if (count > this.limits.recordsMax || bytes > this.limits.bytesMax) {
        const victims = this.staleVictims(key, writtenAt, count, bytes);
        for (const v of victims) {
          void this.records.remove(v.id);
          void this.byWrite.remove(writeKey(v.writtenAt, v.id));
          count -= 1;
          bytes -= v.bytes;
        }
        if (count > this.limits.recordsMax || bytes > this.limits.bytesMax)
          throw new UnavailableError(
            "this guardian's backup storage is full of backups written recently; it frees room as they go unrefreshed. Your other guardians may have room: a backup needs t of them",
            { staleAfterMs: this.limits.staleAfterMs },
          );
      }
      if (old) void this.byWrite.remove(writeKey(Number(old.readBigUInt64BE(8)), key));
      void this.records.put(key, value);
      void this.byWrite.put(writeKey(writtenAt, key), Buffer.alloc(0));
      this.count = count;
      this.bytes = bytes;
      const totals = Buffer.alloc(12);
      totals.writeUInt32BE(count, 0);
      totals.writeBigUInt64BE(BigInt(bytes), 4);
      void this.meta.put(TOTALS_KEY, totals);
    });
    if (network !== undefined) this.writes.charge(network, Math.max(value.length, PAGE_BYTES));
    return { stored: true, version: record.version };
  }

  /**
   * The least recently written records not written for `staleAfterMs`, oldest first, until the
   * store would fit (or none is left). Never the record being written.
   */
  private staleVictims(
    key: Buffer,
    now: number,
    count: number,
    bytes: number,
  ): { id: Buffer; writtenAt: number; bytes: number }[] {
    const victims: { id: Buffer; writtenAt: number; bytes: number }[] = [];
    const end = writeKey(Math.max(0, now - this.limits.staleAfterMs), Buffer.alloc(0));
    for (const k of this.byWrite.getKeys({ end })) {
      if (count <= this.limits.recordsMax && bytes <= this.limits.bytesMax) break;
      const victim = Buffer.from(k.subarray(8));
      if (victim.length !== ID_BYTES || victim.equals(key)) continue;
      const v = this.records.get(victim);
      if (!v) continue;
      victims.push({ id: victim, writtenAt: Number(k.readBigUInt64BE(0)), bytes: v.length });
      count -= 1;
      bytes -= v.length;
    }
    return victims;
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/**
 * The network a client's new keys are counted against: the API's key as is for IPv4, the /48 of its
 * IPv6 /64 (a site is usually given a /48, so /64s are as cheap to its holder as ports).
 */
function clientNetwork(client: string): string {
  if (!client.endsWith("::/64")) return client;
  return `${client.split(":").slice(0, 3).join(":")}::/48`;
}

function writeKey(writtenAt: number, id: Uint8Array): Buffer {
  const b = Buffer.alloc(8 + id.length);
  b.writeBigUInt64BE(BigInt(writtenAt), 0);
  b.set(id, 8);
  return b;
}

function encodeRecord(
  version: number,
  writtenAt: number,
  signature: Uint8Array,
  ciphertext: Uint8Array,
): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + ciphertext.length);
  b.writeBigUInt64BE(BigInt(version), 0);
  b.writeBigUInt64BE(BigInt(writtenAt), 8);
  b.set(signature, 16);
  b.set(ciphertext, HEADER_BYTES);
  return b;
}

function decodeRecord(id: string, v: Buffer): BackupRecord {
  return {
    id,
    version: Number(v.readBigUInt64BE(0)),
    signature: toHex(v.subarray(16, HEADER_BYTES)),
    ciphertext: v.subarray(HEADER_BYTES).toString("base64"),
  };
}
