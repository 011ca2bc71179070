// Checking a signed session without trusting whoever served it, in the browser too: the header part
// of core-server's `verifySignedSession`, with @noble instead of node:crypto. A guardian serves the
// public a session's header and signatures only (invariant 9: the blocks carry payout addresses, tx
// keys, multisig exports and transaction sets, and travel only between guardians). The encodings
// are the guardians' own (core-common `session-encoding.ts`), with @noble's sha256 passed in:
//
//   block id      = sha256("conclave/consensus/block/v1" | block bytes)
//   session hash  = sha256("conclave/consensus/session/v1" | federationId(32) | session u64 |
//                          count u32 | block id(32) ...)
//   signed bytes  = "conclave/consensus/session/v1" | federationId(32) | session u64 | session hash(32)
//
// t signatures over the hash prove the block ids: at least t − f ≥ f + 1 of the signers are honest,
// and an honest guardian signs one session per index, so two different headers for one index
// cannot both verify. That also makes each session extend the one before (honest guardians only
// decide blocks that do), which the client cannot check itself without the blocks.
//
// session-verify.test.ts checks both implementations agree, on random values and on real sessions.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { blockIdOf, bytesEqual, fromHex, sessionHashOf, sessionSigningBytes } from "@conclave/core-common";
import type { SessionView } from "./wire.js";

const ID_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** What a client must know (from the federation config it joined with) to check a session. */
export interface SessionTrust {
  readonly federationId: Uint8Array;
  /** Ed25519 keys of the guardians, in config order: a signer is an index into this list. */
  readonly publicKeys: readonly Uint8Array[];
  readonly heightsPerSession: number;
  /** t: distinct valid signatures needed. */
  readonly threshold: number;
}

export interface SignedSession {
  readonly session: number;
  readonly sessionHash: Uint8Array;
  readonly blockIds: readonly Uint8Array[];
  readonly signatures: readonly { readonly signer: number; readonly signature: Uint8Array }[];
}

export type SessionCheck =
  | { readonly ok: true; readonly signers: readonly number[] }
  | { readonly ok: false; readonly reason: string };

export function blockId(block: Uint8Array): Uint8Array {
  return blockIdOf(block, sha256);
}

export function sessionHash(
  federationId: Uint8Array,
  session: number,
  blockIds: readonly Uint8Array[],
): Uint8Array {
  return sessionHashOf(federationId, session, blockIds, sha256);
}

export { sessionSigningBytes };

/** The hex of a served session as bytes; throws on malformed hex or wrong lengths. */
export function sessionFromView(view: SessionView): SignedSession {
  const fixed = (hex: string, bytes: number, what: string): Uint8Array => {
    const b = fromHex(hex);
    if (b.length !== bytes) throw new TypeError(`${what} must be ${bytes} bytes`);
    return b;
  };
  return {
    session: view.session,
    sessionHash: fixed(view.sessionHash, ID_BYTES, "the session hash"),
    blockIds: view.blockIds.map((id) => fixed(id, ID_BYTES, "a block id")),
    signatures: view.signatures.map((s) => ({
      signer: s.signer,
      signature: fixed(s.signature, SIGNATURE_BYTES, "a signature"),
    })),
  };
}

function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    // RFC 8032 decoding rules (not ZIP-215's laxer ones), as node:crypto on the guardians.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * A session is proven when it names k block ids, its hash is the hash of those ids, and at least t
 * distinct guardians of the federation signed that hash.
 */
export function verifySession(trust: SessionTrust, s: SignedSession, expectedIndex: number): SessionCheck {
  const k = trust.heightsPerSession;
  if (s.session !== expectedIndex)
    return { ok: false, reason: `asked for session ${expectedIndex}, got session ${s.session}` };
  if (s.blockIds.length !== k)
    return { ok: false, reason: `a session names ${k} block ids, got ${s.blockIds.length}` };
  const hash = sessionHash(trust.federationId, s.session, s.blockIds);
  if (!bytesEqual(hash, s.sessionHash))
    return { ok: false, reason: "the session hash does not match its block ids" };
  const signing = sessionSigningBytes(trust.federationId, s.session, hash);
  const signers = new Set<number>();
  // One verification per guardian at most: a server padding the list with bad signatures cannot
  // make the client verify more than n of them (an honest guardian sends one per signer).
  const tried = new Set<number>();
  for (const sig of s.signatures) {
    const key = trust.publicKeys[sig.signer];
    if (!key || tried.has(sig.signer)) continue;
    tried.add(sig.signer);
    if (verifyEd25519(key, signing, sig.signature)) signers.add(sig.signer);
  }
  if (signers.size < trust.threshold)
    return { ok: false, reason: `${signers.size} valid guardian signatures, ${trust.threshold} needed` };
  return { ok: true, signers: [...signers].sort((a, b) => a - b) };
}
