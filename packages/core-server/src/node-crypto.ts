// Ed25519 and SHA-256 from node:crypto. Deterministic: Ed25519 signatures depend only on the key
// and the message, so the consensus engine may sign without a random source.
import {
  createPrivateKey,
  hash,
  createPublicKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import type { Hash, Signer, Verifier } from "@conclave/core-common";
import { concatBytes, toHex } from "@conclave/core-common";

const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError("an Ed25519 secret seed is 32 bytes");
  return createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, seed)),
    format: "der",
    type: "pkcs8",
  });
}

export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new TypeError("an Ed25519 public key is 32 bytes");
  return createPublicKey({
    key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, publicKey)),
    format: "der",
    type: "spki",
  });
}

export function ed25519PublicKeyOf(seed: Uint8Array): Uint8Array {
  return publicKeyOfPrivate(ed25519PrivateKeyObject(seed));
}

function publicKeyOfPrivate(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** A fresh secret seed from the operating system's CSPRNG (key generation only, never in the engine). */
export function generateEd25519Seed(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export class NodeSigner implements Signer {
  readonly publicKey: Uint8Array;
  private readonly key: KeyObject;

  constructor(seed: Uint8Array) {
    // One key object for both (a wallet makes a signer per note: parsing the key twice cost the
    // whole-federation simulator about 1.5% of its time).
    this.key = ed25519PrivateKeyObject(seed);
    this.publicKey = publicKeyOfPrivate(this.key);
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.key));
  }
}

export class NodeVerifier implements Verifier {
  private readonly keys = new Map<string, KeyObject | null>();

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    const id = toHex(publicKey);
    let key = this.keys.get(id);
    if (key === undefined) {
      try {
        key = ed25519PublicKeyObject(publicKey);
      } catch {
        key = null;
      }
      this.keys.set(id, key);
    }
    if (key === null) return false;
    return verify(null, message, key, signature);
  }
}

/** crypto.hash: one call, no Hash object (2.5 times as fast for the engine's short digests). */
export const sha256: Hash = (message) => new Uint8Array(hash("sha256", message, "buffer"));
