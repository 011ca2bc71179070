// Client backups stored at every guardian (Fedimint's encrypted client backup).
//
// A backup is opaque ciphertext to the guardians: the wallet encrypts it with a key only its seed
// can derive, and signs it with an Ed25519 key (`id`) derived from the same seed, so that only
// the owner can replace it and anyone restoring from the seed can find it by `id`. Guardians keep
// the highest `version` per id (a later upload of an older version is refused), outside consensus:
// each guardian's copy is its own, and a client uploads to all and reads from all.
//
//   POST /v1/backups        BackupRecord            -> { stored: true, version }
//   GET  /v1/backups/:id                            -> BackupRecord (404 if none)
import { z } from "zod";
import { Writer } from "./codec.js";
import type { Hash } from "./crypto.js";
import { utf8 } from "./bytes.js";

/**
 * Largest backup ciphertext a guardian stores: about 1,540 notes at the wallet's 85 bytes each, 24
 * times the at most 64 notes (one per power of two) a combined wallet holds. Small on purpose: every
 * byte of it is a byte anyone with a fresh key can make a guardian keep.
 */
export const BACKUP_CIPHERTEXT_BYTES_MAX = 128 * 1024;
/** A POST /v1/backups body (or a GET answer): base64 of the largest ciphertext plus the envelope. */
export const BACKUP_REQUEST_BYTES_MAX = Math.ceil((BACKUP_CIPHERTEXT_BYTES_MAX * 4) / 3) + 4096;

const BACKUP_DOMAIN = "conclave/backup/v1";

export const BackupRecordSchema = z.strictObject({
  /** The backup's Ed25519 public key, hex: its name and its owner. */
  id: z.string().regex(/^[0-9a-f]{64}$/, "32 bytes as lowercase hex"),
  /** Increases with every upload (e.g. milliseconds since 1970); the highest one is kept. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The encrypted backup, base64 (standard alphabet, padded). */
  ciphertext: z
    .string()
    .max(Math.ceil(BACKUP_CIPHERTEXT_BYTES_MAX / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"),
  /** Ed25519 signature by `id` over backupSigningBytes(...), hex. */
  signature: z.string().regex(/^[0-9a-f]{128}$/, "64 bytes as lowercase hex"),
});
export type BackupRecord = z.infer<typeof BackupRecordSchema>;

export const BackupStoredSchema = z.strictObject({ stored: z.literal(true), version: z.number().int() });
export type BackupStored = z.infer<typeof BackupStoredSchema>;

/** What the backup key signs: domain | federation id | id | version u64 | H(ciphertext). */
export function backupSigningBytes(
  hash: Hash,
  federationId: Uint8Array,
  id: Uint8Array,
  version: number,
  ciphertext: Uint8Array,
): Uint8Array {
  return new Writer()
    .bytes(utf8.encode(BACKUP_DOMAIN))
    .fixed(federationId, 32)
    .fixed(id, 32)
    .u64(version)
    .fixed(hash(ciphertext), 32)
    .finish();
}
