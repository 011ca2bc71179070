// The cryptography a wallet needs, behind one small interface so each entry point picks its fastest
// backend once: the browser entry uses @noble (pure TypeScript); the Node entry uses node:crypto for
// Ed25519 signing (~7x faster here) and native blst for the blind signatures (~20x faster).
import { ed25519 } from "@noble/curves/ed25519.js";
import type { Signer } from "@conclave/core-common";
import { nobleTbs } from "@conclave/core-common/tbs";
import type { TbsBackend } from "@conclave/core-common/tbs";
import type { Rng } from "@conclave/core-common/threshold";

export interface WalletCrypto {
  readonly name: string;
  /** The note nonce of a spend seed (its Ed25519 public key). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** A signer for `seed`; pass its public key when known, to save computing it again. */
  ed25519Signer(seed: Uint8Array, publicKey?: Uint8Array): Signer;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  readonly tbs: TbsBackend;
  /** Cryptographically secure random bytes (batch-verification coefficients, nonces). */
  readonly random: Rng;
}

/** Web Crypto randomness: present in browsers and in Node 20+. */
export const webRandom: Rng = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

export class NobleSigner implements Signer {
  readonly publicKey: Uint8Array;
  constructor(
    private readonly seed: Uint8Array,
    publicKey?: Uint8Array,
  ) {
    this.publicKey = publicKey ?? ed25519.getPublicKey(seed);
  }
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.seed);
  }
}

/** Pure TypeScript: any runtime, the browser. */
export const nobleCrypto: WalletCrypto = {
  name: "noble",
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Signer: (seed, publicKey) => new NobleSigner(seed, publicKey),
  ed25519Verify: (publicKey, message, signature) => {
    try {
      return ed25519.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  },
  tbs: nobleTbs,
  random: webRandom,
};
