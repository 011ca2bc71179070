// The wallet's encrypted backup (Fedimint-style): a snapshot of the unspent notes and the note
// counter, readable only with the mnemonic, stored at every guardian (core-common backup.ts).
//
//   plaintext  = format u8 (1) | next note index u32 | count u32 | count x note
//   note       = index u32 | denominationLog2 u8 | nonce (32) | signature (48)         85 bytes
//   ciphertext = nonce (24) | XChaCha20-Poly1305(backupKey, nonce, plaintext,
//                                                aad = "conclave/wallet/backup/v1" | federation id)
//
// Each note carries its nonce (its spend public key) although the index re-derives it: deriving
// an Ed25519 public key costs ~0.3 ms here, which would cap a restore near 3,000 notes/s, while
// asking the guardians which nonces are spent runs well past 30,000/s. The spend seed is re-derived
// from the index only when the note is spent (one HMAC). The AEAD authenticates the notes: they were
// verified when the wallet stored them, and a restore does not verify their signatures again.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Reader, Writer, concatBytes, utf8 } from "@conclave/core-common";
import { BACKUP_CIPHERTEXT_BYTES_MAX } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";

export const BACKUP_FORMAT = 1;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + 4 + 4;
export const BACKUP_NOTE_BYTES = 4 + 1 + 32 + 48;
/** Most notes one backup holds under the guardians' ciphertext limit. */
export const BACKUP_NOTES_MAX = Math.floor(
  (BACKUP_CIPHERTEXT_BYTES_MAX - NONCE_BYTES - TAG_BYTES - HEADER_BYTES) / BACKUP_NOTE_BYTES,
);
const AAD_DOMAIN = utf8.encode("conclave/wallet/backup/v1");

export interface BackupNote {
  readonly index: number;
  readonly denominationLog2: number;
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
}

export interface BackupSnapshot {
  readonly nextIndex: number;
  readonly notes: readonly BackupNote[];
}

export function encodeSnapshot(s: BackupSnapshot): Uint8Array {
  const w = new Writer(HEADER_BYTES + s.notes.length * BACKUP_NOTE_BYTES)
    .u8(BACKUP_FORMAT)
    .u32(s.nextIndex)
    .u32(s.notes.length);
  for (const n of s.notes) w.u32(n.index).u8(n.denominationLog2).fixed(n.nonce, 32).fixed(n.signature, 48);
  return w.finish();
}

/** Undefined if the bytes are not a snapshot this wallet writes. */
export function decodeSnapshot(bytes: Uint8Array): BackupSnapshot | undefined {
  try {
    const r = new Reader(bytes);
    if (r.u8() !== BACKUP_FORMAT) return undefined;
    const nextIndex = r.u32();
    const count = r.u32();
    if (bytes.length !== HEADER_BYTES + count * BACKUP_NOTE_BYTES) return undefined;
    const notes: BackupNote[] = new Array<BackupNote>(count);
    for (let i = 0; i < count; i++)
      notes[i] = { index: r.u32(), denominationLog2: r.u8(), nonce: r.fixed(32), signature: r.fixed(48) };
    r.end();
    return { nextIndex, notes };
  } catch {
    return undefined;
  }
}

function aad(federationId: Uint8Array): Uint8Array {
  return concatBytes(AAD_DOMAIN, federationId);
}

export function encryptBackup(
  key: Uint8Array,
  federationId: Uint8Array,
  plaintext: Uint8Array,
  random: Rng,
): Uint8Array {
  const nonce = random(NONCE_BYTES);
  return concatBytes(nonce, xchacha20poly1305(key, nonce, aad(federationId)).encrypt(plaintext));
}

/** Undefined when the key, the federation or any byte is wrong (the AEAD tag does not verify). */
export function decryptBackup(
  key: Uint8Array,
  federationId: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  if (ciphertext.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    return xchacha20poly1305(key, ciphertext.subarray(0, NONCE_BYTES), aad(federationId)).decrypt(
      ciphertext.subarray(NONCE_BYTES),
    );
  } catch {
    return undefined;
  }
}
