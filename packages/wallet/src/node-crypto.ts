// The Node backends: Ed25519 signing with node:crypto (OpenSSL), blind signatures with native blst.
// Public keys of seeds come from noble: importing a raw seed into node:crypto costs more here
// (~2,000 keys/s) than noble computing the key (~3,500/s), while signing with a KeyObject is ~7x
// faster than noble.
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { concatBytes } from "@conclave/core-common";
import type { Signer } from "@conclave/core-common";
import { blstTbs } from "@conclave/tbs-native";
import { webRandom } from "./crypto.js";
import type { WalletCrypto } from "./crypto.js";

const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

class NodeEd25519Signer implements Signer {
  readonly publicKey: Uint8Array;
  private readonly key: KeyObject;
  constructor(seed: Uint8Array, publicKey?: Uint8Array) {
    if (seed.length !== 32) throw new TypeError("an Ed25519 seed is 32 bytes");
    this.key = createPrivateKey({
      key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, seed)),
      format: "der",
      type: "pkcs8",
    });
    this.publicKey = publicKey ?? ed25519.getPublicKey(seed);
  }
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.key));
  }
}

function nodeVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, publicKey)),
      format: "der",
      type: "spki",
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export const nodeCrypto: WalletCrypto = {
  name: "node",
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Signer: (seed, publicKey) => new NodeEd25519Signer(seed, publicKey),
  ed25519Verify: nodeVerify,
  tbs: blstTbs,
  random: webRandom,
};
