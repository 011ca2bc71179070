// The signature and hash primitives the consensus engine and clients depend on, as interfaces:
// the guardian uses node:crypto (about 15x faster than pure TypeScript here), the browser SDK
// uses @noble. The engine never constructs keys or draws randomness itself.

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const HASH_BYTES = 32;

export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface Verifier {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export type Hash = (message: Uint8Array) => Uint8Array;
