// Secrets per module instance, from the client's federation root (32 bytes, derived from the
// mnemonic and the federation id by the wallet; the core never sees the mnemonic):
//
//   moduleSecret(instanceId, kind) = HKDF-Expand(root, "conclave/client/v1/module" | u16be(instanceId)
//                                                      | kind (UTF-8), 32)
//
// A half derives everything it needs from its own secret, so two halves can never derive the same
// key, and a half of a new module needs no change anywhere else. The mint and Monero halves were
// written before this (the single-class wallet, schema 1): their keys come from the root itself
// under their own labels (packages/wallet/src/keys.ts), kept so that existing mnemonics restore
// the same notes and claims; their factories say so with `compat: "wallet-v1"`.
import { expand } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Writer, utf8 } from "@conclave/core-common";

const LABEL_MODULE = utf8.encode("conclave/client/v1/module");
export const MODULE_SECRET_BYTES = 32;
/** A federation root's size (the wallet derives it from the mnemonic and the federation id). */
export const ROOT_BYTES = 32;

export function moduleSecret(root: Uint8Array, instanceId: number, kind: string): Uint8Array {
  if (root.length !== ROOT_BYTES) throw new TypeError(`a federation root is ${ROOT_BYTES} bytes`);
  if (!Number.isInteger(instanceId) || instanceId < 0 || instanceId > 0xffff)
    throw new RangeError(`module instance id out of range: ${instanceId}`);
  const info = new Writer().raw(LABEL_MODULE).u16(instanceId).raw(utf8.encode(kind)).finish();
  return expand(sha256, root, info, MODULE_SECRET_BYTES);
}

/** Largest index a half may derive a key for (backups store note indexes as u32). */
export const KEY_INDEX_MAX = 0xffff_ffff;

/** `label | u64be(index)`: the HKDF info of a half's index-th key of one kind. */
export function labelled(label: Uint8Array, index: number): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0 || index > KEY_INDEX_MAX)
    throw new RangeError(`note index out of range: ${index}`);
  return new Writer().raw(label).u64(index).finish();
}
