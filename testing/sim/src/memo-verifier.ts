// Ed25519 for a whole simulated federation in one process. In a real federation each guardian
// verifies each vote once; in the simulator all N of them share a CPU and would verify the same
// signature N-1 times. So one verifier is shared, with a cache keyed by public key, message digest
// and signature: every answer is still the result of a real node:crypto verification of exactly
// those bytes, or of a real signing: a (public key, message, signature) triple that MemoSigner's
// node:crypto Ed25519 signing produced with that public key's secret key verifies (Ed25519 is
// correct and deterministic), so the verifier answers true for it without verifying again.
// Anything else (a made-up or corrupted signature, another guardian's signature under a claimed
// sender, a digest the verifier computed differently from the signer) is a different triple and
// is verified for real. Signers are memoized the same way: Ed25519 is deterministic, and an idle
// guardian signs the same heartbeat again and again.
import { NodeSigner, NodeVerifier, sha256 } from "./consensus.js";
import type { Signer } from "@conclave/core-common";

/** Entries kept before a cache starts over (bounds memory on long runs). */
const CACHE_ENTRIES_MAX = 200_000;
/** What the engine verifies is already a digest (domain | federation | hash); longer inputs are hashed. */
const MESSAGE_KEY_BYTES_MAX = 128;

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function messageKey(message: Uint8Array): string {
  return latin1(message.length <= MESSAGE_KEY_BYTES_MAX ? message : sha256(message));
}

function tripleKey(publicKey: Uint8Array, signature: Uint8Array, messageKeyOf: string): string {
  return latin1(publicKey) + latin1(signature) + messageKeyOf;
}

/**
 * Signatures by (public key, message): one cache for every MemoSigner of the process, so a
 * guardian restarted (a new signer on the same key) and the next seed with the same keys sign
 * nothing twice (Ed25519 is deterministic: the cached bytes are what signing again would give).
 * Also what MemoVerifier knows valid by construction: a (public key, message, signature) triple
 * whose signature is the one cached for that key and message (an entry lost to a clear is verified
 * for real). Bounded like the caches.
 */
const signatures = new Map<string, Uint8Array>();

/** Whether a MemoSigner of this process signed `messageKeyOf` under `publicKey` as `signature`. */
function signedHere(publicKey: Uint8Array, messageKeyOf: string, signature: Uint8Array): boolean {
  const known = signatures.get(latin1(publicKey) + messageKeyOf);
  return known !== undefined && Buffer.compare(known, signature) === 0;
}

export class MemoVerifier extends NodeVerifier {
  private readonly cache = new Map<string, boolean>();
  hits = 0;
  misses = 0;

  override verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64 || publicKey.length !== 32)
      return super.verify(publicKey, message, signature);
    const messageKeyOf = messageKey(message);
    const key = tripleKey(publicKey, signature, messageKeyOf);
    const known = this.cache.get(key) ?? (signedHere(publicKey, messageKeyOf, signature) ? true : undefined);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    this.misses++;
    const ok = super.verify(publicKey, message, signature);
    if (this.cache.size >= CACHE_ENTRIES_MAX) this.cache.clear();
    this.cache.set(key, ok);
    return ok;
  }
}

/** Key objects by secret seed: stateless, so shared by every run in the process. */
const nodeSigners = new Map<string, NodeSigner>();

export class MemoSigner implements Signer {
  readonly publicKey: Uint8Array;
  private readonly inner: NodeSigner;
  private readonly id: string;

  constructor(seed: Uint8Array) {
    const id = latin1(seed);
    let inner = nodeSigners.get(id);
    if (inner === undefined) {
      inner = new NodeSigner(seed);
      nodeSigners.set(id, inner);
    }
    this.inner = inner;
    this.publicKey = inner.publicKey;
    this.id = latin1(inner.publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    const key = messageKey(message);
    const known = signatures.get(this.id + key);
    if (known !== undefined) return known.slice();
    const signature = this.inner.sign(message);
    if (signatures.size >= CACHE_ENTRIES_MAX) signatures.clear();
    signatures.set(this.id + key, signature.slice());
    return signature;
  }
}

/** Wallets' key objects by secret seed, bounded (a wallet's note and coin keys are used twice or so). */
const walletSigners = new Map<string, NodeSigner>();

/**
 * A wallet's Ed25519 signer for a note's or a coin's secret seed: the same NodeSigner (one key
 * object) when the seed was seen before, so the key a wallet derived a note's public key with also
 * signs its spend (node:crypto parses a key in about as long as it signs once). Exact: a NodeSigner
 * is a function of its seed.
 */
export function walletSigner(seed: Uint8Array): NodeSigner {
  const id = latin1(seed);
  let signer = walletSigners.get(id);
  if (signer === undefined) {
    signer = new NodeSigner(seed);
    if (walletSigners.size >= CACHE_ENTRIES_MAX / 10) walletSigners.clear();
    walletSigners.set(id, signer);
  }
  return signer;
}
