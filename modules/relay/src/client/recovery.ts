// The recovery store: the wallet's state that the mint's note backup lacks (the note counter, the
// operation log, outgoing and pending transactions, Monero claims, deposit subaddresses, withdrawals,
// contacts), encrypted on the client and kept, versioned, at every guardian. Browser-safe.
//
//   plaintext  = u32 length | deflate-raw(JSON {v: 1, entries: [[key, base64url(value)], ...]}) | zeros
//   ciphertext = nonce(24) | XChaCha20-Poly1305(key, nonce, plaintext, aad)      (@noble/ciphers)
//   aad        = "conclave/relay/recovery/v1" | record id | version u64
//   size       = 1 KiB x 2^k (k = 0..6): the guardian checks it, and learns only the size class
//
// The record is signed by the recovery key (its id) over core-common's backupSigningBytes (the
// federation id, the id, the version and the ciphertext's hash), so only the wallet can replace it,
// and only with a newer version. A guardian may serve an older version (rollback) or garbage: restore
// asks every guardian and keeps the newest version that verifies and decrypts.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  BackupRecordSchema,
  BackupStoredSchema,
  Writer,
  backupSigningBytes,
  base64Decode,
  base64Encode,
  fromHex,
  toHex,
  utf8,
} from "@conclave/core-common";
import type { BackupRecord } from "@conclave/core-common";
import { ClientError, json, parseJson, put, scanPrefix } from "@conclave/core-client";
import type { ClientDb, DbOp, FederationClient } from "@conclave/core-client";
import { RECOVERY_CIPHERTEXT_BYTES_MAX } from "../common.js";

const AAD_DOMAIN = utf8.encode("conclave/relay/recovery/v1");
const NONCE_BYTES = 24;
const TAG_BYTES = 16;

/** Counters: on restore the larger `next` wins (a smaller one would reuse note or claim indices). */
export const RECOVERY_COUNTERS = ["counter", "claim-counter"] as const;
/** What the store keeps besides the counters: the core's, the mint's and the Monero half's records. */
export const RECOVERY_PREFIXES = ["oplog/", "out/", "op/", "claim/", "subaddr/", "withdrawal/"] as const;

export interface RecoveryStoreResult {
  readonly version: number;
  readonly bytes: number;
  readonly entries: number;
  readonly storedBy: readonly number[];
  readonly failedAt: readonly { readonly guardian: number; readonly error: string }[];
}

export interface RecoveryRestoreResult {
  readonly version: number;
  /** Guardians that served that version. */
  readonly from: readonly number[];
  /** Guardians that served an older version that verified (behind, or rolling back). */
  readonly older: readonly number[];
  /** Guardians that served something that did not verify or decrypt. */
  readonly forged: readonly number[];
  /** Entries written (absent here before) and counters raised. */
  readonly restored: number;
}

/** Sizes a recovery ciphertext may have (the server's isRecoveryBucket). */
export function recoveryBucket(bytes: number): number | undefined {
  for (let b = 1024; b <= RECOVERY_CIPHERTEXT_BYTES_MAX; b *= 2) if (bytes <= b) return b;
  return undefined;
}

async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  // Compression Streams (WHATWG): the same in Node 18+ and browsers, nothing to depend on.
  const copy = new Uint8Array(data.length);
  copy.set(data);
  const out = new Response(new Blob([copy]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function aad(id: Uint8Array, version: number): Uint8Array {
  return new Writer().raw(AAD_DOMAIN).fixed(id, 32).u64(version).finish();
}

/** The entries the store keeps, read from the wallet database (its own prefix given for contacts). */
export async function snapshotEntries(db: ClientDb, ownPrefix: string): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for (const k of RECOVERY_COUNTERS) {
    const v = await db.get(k);
    if (v) out.push([k, v]);
  }
  for (const p of [...RECOVERY_PREFIXES, `${ownPrefix}contact/`, `${ownPrefix}cards`])
    out.push(...(await scanPrefix(db, p)));
  return out;
}

/** Whether the store keeps `key` (so that writing it changes the wallet's recovery record). */
export function recoveryCovers(key: string, ownPrefix: string): boolean {
  return (
    (RECOVERY_COUNTERS as readonly string[]).includes(key) ||
    RECOVERY_PREFIXES.some((p) => key.startsWith(p)) ||
    key.startsWith(`${ownPrefix}contact/`) ||
    key === `${ownPrefix}cards`
  );
}

/**
 * A digest of the entries (sha256 over each key and value, length-prefixed): the wallet keeps the
 * stored record's, so that a refresh with nothing changed writes nothing.
 */
export function snapshotDigest(entries: readonly [string, Uint8Array][]): string {
  const w = new Writer();
  for (const [k, v] of entries) w.bytes(utf8.encode(k)).bytes(v);
  return toHex(sha256(w.finish()));
}

export async function sealRecovery(
  entries: readonly [string, Uint8Array][],
  key: Uint8Array,
  id: Uint8Array,
  version: number,
  nonce: Uint8Array,
): Promise<Uint8Array> {
  const body = json({ v: 1, entries: entries.map(([k, v]) => [k, toHex(v)]) });
  const packed = await pipe(body, new CompressionStream("deflate-raw"));
  const bucket = recoveryBucket(4 + packed.length + NONCE_BYTES + TAG_BYTES);
  if (bucket === undefined)
    throw new ClientError(
      "recovery_too_large",
      `the wallet's state takes ${packed.length} bytes compressed; the recovery store keeps at most ${RECOVERY_CIPHERTEXT_BYTES_MAX - 44}`,
    );
  const plain = new Uint8Array(bucket - NONCE_BYTES - TAG_BYTES);
  new DataView(plain.buffer).setUint32(0, packed.length);
  plain.set(packed, 4);
  const sealed = xchacha20poly1305(key, nonce, aad(id, version)).encrypt(plain);
  const out = new Uint8Array(NONCE_BYTES + sealed.length);
  out.set(nonce);
  out.set(sealed, NONCE_BYTES);
  return out;
}

/** Decrypts and parses a record's ciphertext; throws (any error) when it does not authenticate. */
export async function openRecovery(
  ciphertext: Uint8Array,
  key: Uint8Array,
  id: Uint8Array,
  version: number,
): Promise<[string, Uint8Array][]> {
  const plain = xchacha20poly1305(key, ciphertext.subarray(0, NONCE_BYTES), aad(id, version)).decrypt(
    ciphertext.subarray(NONCE_BYTES),
  );
  const length = new DataView(plain.buffer, plain.byteOffset).getUint32(0);
  if (length + 4 > plain.length) throw new Error("bad length");
  const body = parseJson<{ v: number; entries: [string, string][] }>(
    await pipe(plain.subarray(4, 4 + length), new DecompressionStream("deflate-raw")),
  );
  if (body.v !== 1 || !Array.isArray(body.entries)) throw new Error("unknown recovery format");
  return body.entries.map(([k, v]) => [k, fromHex(v)]);
}

export function signRecord(
  federationId: Uint8Array,
  signSeed: Uint8Array,
  version: number,
  ciphertext: Uint8Array,
): BackupRecord {
  const id = ed25519.getPublicKey(signSeed);
  const signature = ed25519.sign(backupSigningBytes(sha256, federationId, id, version, ciphertext), signSeed);
  return { id: toHex(id), version, ciphertext: base64Encode(ciphertext), signature: toHex(signature) };
}

/** Whether `record` is signed by its id over this federation (a guardian cannot make one up). */
export function recordVerifies(federationId: Uint8Array, record: BackupRecord): Uint8Array | undefined {
  const ciphertext = unbase64(record.ciphertext);
  const id = fromHex(record.id);
  const message = backupSigningBytes(sha256, federationId, id, record.version, ciphertext);
  return ed25519.verify(fromHex(record.signature), message, id) ? ciphertext : undefined;
}

/** Puts `record` at every guardian; returns who stored it and who did not (with why). */
export async function uploadRecord(
  client: FederationClient,
  record: BackupRecord,
): Promise<{ storedBy: number[]; failedAt: { guardian: number; error: string }[] }> {
  const answers = await client.postEach("/v1/modules/relay/recovery", record, BackupStoredSchema);
  return {
    storedBy: answers.filter((a) => a.ok).map((a) => a.guardian),
    failedAt: answers.flatMap((a) => (a.ok ? [] : [{ guardian: a.guardian, error: a.error.message }])),
  };
}

/** Every guardian's copy of record `id` (hex), each checked to name that id. */
export async function downloadRecords(
  client: FederationClient,
  id: string,
): Promise<{ guardian: number; record?: BackupRecord }[]> {
  const answers = await client.postEach(`/v1/modules/relay/recovery/${id}/read`, {}, BackupRecordSchema);
  return answers.map((a) =>
    a.ok && a.value.id === id ? { guardian: a.guardian, record: a.value } : { guardian: a.guardian },
  );
}

/**
 * The newest version among `copies` that verifies and opens (`open` throws for one that does not),
 * with who served it, who served older good versions, and who served forgeries.
 */
export async function newestCopy<T>(
  federationId: Uint8Array,
  copies: readonly { guardian: number; record?: BackupRecord }[],
  open: (ciphertext: Uint8Array, version: number) => Promise<T>,
): Promise<{ version: number; value: T; from: number[]; older: number[]; forged: number[] } | undefined> {
  const good: { guardian: number; version: number; value: T }[] = [];
  const forged: number[] = [];
  for (const c of copies) {
    if (!c.record) continue;
    const ciphertext = recordVerifies(federationId, c.record);
    if (!ciphertext) {
      forged.push(c.guardian);
      continue;
    }
    try {
      good.push({
        guardian: c.guardian,
        version: c.record.version,
        value: await open(ciphertext, c.record.version),
      });
    } catch {
      forged.push(c.guardian);
    }
  }
  if (good.length === 0) return undefined;
  const version = Math.max(...good.map((g) => g.version));
  return {
    version,
    value: good.find((g) => g.version === version)!.value,
    from: good.filter((g) => g.version === version).map((g) => g.guardian),
    older: good.filter((g) => g.version < version).map((g) => g.guardian),
    forged,
  };
}

/**
 * The writes that merge a restored snapshot into the wallet: counters only ever go up; every other
 * entry is written only where the wallet has none (what the wallet already holds is newer or equal).
 */
export async function mergeWrites(db: ClientDb, entries: readonly [string, Uint8Array][]): Promise<DbOp[]> {
  const ops: DbOp[] = [];
  for (const [key, value] of entries) {
    const here = await db.get(key);
    if ((RECOVERY_COUNTERS as readonly string[]).includes(key)) {
      const next = (v: Uint8Array | undefined) => (v ? (parseJson<{ next?: number }>(v).next ?? 0) : 0);
      if (next(value) > next(here)) ops.push(put(key, value));
    } else if (here === undefined) {
      ops.push(put(key, value));
    }
  }
  return ops;
}

function unbase64(text: string): Uint8Array {
  const r = base64Decode(text);
  if (!r.ok) throw new Error(`bad base64 at ${r.position}`);
  return r.bytes;
}

export const recoveryError = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new ClientError(code, message, details);
