// Checking a signed session without trusting whoever served it: what a client or a returning
// guardian does with a session record and its blocks.
import { bytesEqual } from "@conclave/core-common";
import type { Hash, Verifier } from "@conclave/core-common";
import { quorumThreshold } from "./config.js";
import { blockId, decodeBlock, sessionHash, sessionSigningBytes } from "./messages.js";
import type { ConsensusConfig } from "./config.js";
import type { SessionRecord } from "./types.js";

export type SessionCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * A session is proven when its hash is the hash of the given blocks and at least t distinct
 * guardians of the federation signed it. With `previousBlockId`, the blocks must also extend that
 * history (a chain of sessions checked one after another).
 */
export function verifySignedSession(
  config: ConsensusConfig,
  record: SessionRecord,
  blocks: readonly Uint8Array[],
  crypto: { verifier: Verifier; hash: Hash },
  previousBlockId?: Uint8Array,
): SessionCheck {
  const k = config.heightsPerSession;
  if (blocks.length !== k) return { ok: false, reason: `a session has ${k} blocks, got ${blocks.length}` };
  const ids = blocks.map((b) => blockId(b, crypto.hash));
  let prev = previousBlockId;
  for (let i = 0; i < k; i++) {
    if (!bytesEqual(ids[i]!, record.blockIds[i] ?? new Uint8Array())) {
      return { ok: false, reason: `block ${i} does not match the record` };
    }
    let block;
    try {
      block = decodeBlock(blocks[i]!, config.limits, config.publicKeys.length);
    } catch (e) {
      return { ok: false, reason: `block ${i} is malformed: ${(e as Error).message}` };
    }
    if (block.height !== record.session * k + i)
      return { ok: false, reason: `block ${i} has the wrong height` };
    if (prev && !bytesEqual(block.prevBlockId, prev))
      return { ok: false, reason: `block ${i} does not extend the chain` };
    prev = ids[i]!;
  }
  const hash = sessionHash(config.federationId, record.session, ids, crypto.hash);
  if (!bytesEqual(hash, record.sessionHash))
    return { ok: false, reason: "session hash does not match its blocks" };
  const signing = sessionSigningBytes(config.federationId, record.session, hash);
  const signers = new Set<number>();
  for (const s of record.signatures) {
    const key = config.publicKeys[s.signer];
    if (!key || signers.has(s.signer)) continue;
    if (crypto.verifier.verify(key, signing, s.signature)) signers.add(s.signer);
  }
  const t = quorumThreshold(config.publicKeys.length);
  if (signers.size < t) return { ok: false, reason: `${signers.size} valid signatures, ${t} needed` };
  return { ok: true };
}
