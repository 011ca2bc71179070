// The relay half's keys, all derived from the half's secret (core-client secrets.ts), so that the
// mnemonic restores the same inbox, recovery-store key and delivery tokens. Browser-safe.
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Writer, utf8 } from "@conclave/core-common";

const derive = (secret: Uint8Array, label: string, bytes = 32): Uint8Array =>
  hkdf(sha256, secret, undefined, utf8.encode(`conclave/relay/${label}`), bytes);

export interface RelayKeys {
  /** Ed25519 seed of the inbox key (its public half is the inbox id and the sealing key). */
  readonly inboxSeed: Uint8Array;
  readonly inbox: Uint8Array;
  /** Ed25519 seed that signs recovery-store records (its public half is the record's id). */
  readonly recoverySignSeed: Uint8Array;
  readonly recoveryId: Uint8Array;
  /** XChaCha20-Poly1305 key of the recovery store. */
  readonly recoveryKey: Uint8Array;
  /** The root of the delivery secrets this wallet hands out in its contact cards. */
  readonly deliveryRoot: Uint8Array;
}

export function relayKeys(secret: Uint8Array): RelayKeys {
  const inboxSeed = derive(secret, "inbox/v1");
  const recoverySignSeed = derive(secret, "recovery-sign/v1");
  return {
    inboxSeed,
    inbox: ed25519.getPublicKey(inboxSeed),
    recoverySignSeed,
    recoveryId: ed25519.getPublicKey(recoverySignSeed),
    recoveryKey: derive(secret, "recovery-key/v1"),
    deliveryRoot: derive(secret, "delivery/v1"),
  };
}

/** The delivery secret of the card labelled `label` (one per contact the card is made for). */
export function deliverySecret(deliveryRoot: Uint8Array, label: string): Uint8Array {
  return hmac(sha256, deliveryRoot, utf8.encode(`card/${label}`)).subarray(0, 16);
}

/**
 * The token a card's holder shows guardian `guardian`: different at every guardian, so that guardians
 * cannot link one sender's items across them by token. The inbox owner registers SHA-256 of each.
 */
export function deliveryToken(secret: Uint8Array, guardian: number): Uint8Array {
  return hmac(
    sha256,
    secret,
    new Writer().bytes(utf8.encode("conclave/relay/token/v1")).u8(guardian).finish(),
  ).subarray(0, 16);
}
