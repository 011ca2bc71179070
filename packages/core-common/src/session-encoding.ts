// The encodings that certify history, shared by the guardians (core-server) and clients
// (core-client, in the browser too): a block's id, a session's hash, and the bytes a guardian signs
// for a session. The hash function is passed in (node:crypto on guardians, @noble in browsers).
import { concatBytes, utf8 } from "./bytes.js";
import { Writer } from "./codec.js";
import type { Hash } from "./crypto.js";

const DOMAIN_SESSION = utf8.encode("conclave/consensus/session/v1");
const DOMAIN_BLOCK = utf8.encode("conclave/consensus/block/v1");
const ID_BYTES = 32;

/** sha256("conclave/consensus/block/v1" | block bytes) */
export function blockIdOf(blockBytes: Uint8Array, hash: Hash): Uint8Array {
  return hash(concatBytes(DOMAIN_BLOCK, blockBytes));
}

/** sha256("conclave/consensus/session/v1" | federationId | session u64 | count u32 | block ids) */
export function sessionHashOf(
  federationId: Uint8Array,
  session: number,
  blockIds: readonly Uint8Array[],
  hash: Hash,
): Uint8Array {
  const w = new Writer(64 + blockIds.length * ID_BYTES)
    .raw(DOMAIN_SESSION)
    .fixed(federationId, 32)
    .u64(session)
    .u32(blockIds.length);
  for (const id of blockIds) w.fixed(id, ID_BYTES);
  return hash(w.finish());
}

/** "conclave/consensus/session/v1" | federationId | session u64 | session hash: what guardians sign. */
export function sessionSigningBytes(
  federationId: Uint8Array,
  session: number,
  sessionHash: Uint8Array,
): Uint8Array {
  return new Writer(96)
    .raw(DOMAIN_SESSION)
    .fixed(federationId, 32)
    .u64(session)
    .fixed(sessionHash, ID_BYTES)
    .finish();
}
