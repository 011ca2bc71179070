// Sealed messages: something a client encrypts to ONE guardian so that it can travel over an untrusted
// relay (email, I2P, a friend's machine) and only that guardian reads it. HPKE (RFC 9180) in base
// mode, DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + ChaCha20-Poly1305, from the @hpke packages (pure
// TypeScript over WebCrypto's HKDF: the same code in Node 20 and browsers).
//
// The recipient key is the guardian's Ed25519 identity key (federation.json) mapped to X25519 by the
// birational map (libsodium's crypto_sign_ed25519_pk_to_curve25519; the secret half is the clamped
// SHA-512 of the guardian's seed). Every client already has it, so no ceremony change and no second
// key to publish, rotate or get wrong; see docs/monero.md, "Sealed claims", for why that is safe.
//
// HPKE's info binds where the message may be opened: the federation id, the module instance, the
// guardian and the purpose, so a sealed message cannot be replayed to another federation, module,
// guardian or endpoint (it does not open there). The text form for relays:
//
//   text     = "csealed1" | base64url(body | checksum)              (no padding; whitespace ignored)
//   body     = version u8 (1) | federation id (32) | instance u16 | guardian u8 | enc (32) | ciphertext
//   checksum = the first 4 bytes of SHA-256("conclave/sealed" | body)
//
// The checksum only tells a damaged copy from a forgery (for the user's sake); the AEAD tag is what
// authenticates. Every failure is a SealError with a stable code; nothing else escapes.
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64UrlDecode, base64UrlEncode } from "./base64.js";
import { bytesEqual, toHex, utf8 } from "./bytes.js";
import { Reader, Writer } from "./codec.js";
import { ConclaveError } from "./errors.js";

declare global {
  /**
   * WebCrypto's key, which @hpke's types name: a DOM type that @types/node keeps out of the global
   * scope (only `webcrypto.CryptoKey`). The same declaration as the DOM's, so the two merge.
   */
  interface CryptoKey {
    readonly extractable: boolean;
  }
}

export const SEALED_PREFIX = "csealed1";
export const SEALED_VERSION = 1;
/** Largest plaintext a sealed message carries (a Monero claim is at most 610 bytes). */
export const SEALED_PLAINTEXT_BYTES_MAX = 4096;
/** Longest purpose label (HPKE limits info to 128 bytes; the rest of ours takes 58). */
export const SEAL_PURPOSE_CHARS_MAX = 48;
const ENC_BYTES = 32;
const TAG_BYTES = 16;
const CHECKSUM_BYTES = 4;
const HEADER_BYTES = 1 + 32 + 2 + 1 + ENC_BYTES;
/** Longest text form (of the largest plaintext), whitespace aside. */
export const SEALED_CHARS_MAX =
  SEALED_PREFIX.length +
  Math.ceil(((HEADER_BYTES + SEALED_PLAINTEXT_BYTES_MAX + TAG_BYTES + CHECKSUM_BYTES) * 4) / 3);

const INFO_DOMAIN = utf8.encode("conclave/seal/v1");
const CHECKSUM_DOMAIN = utf8.encode("conclave/sealed");

/** Where a sealed message may be opened. */
export interface SealTarget {
  /** 32 bytes. */
  readonly federationId: Uint8Array;
  readonly instanceId: number;
  readonly guardian: number;
}

export interface Sealed extends SealTarget {
  /** HPKE's encapsulated key (the sender's ephemeral X25519 public key), 32 bytes. */
  readonly enc: Uint8Array;
  /** The plaintext's ChaCha20-Poly1305 encryption with its 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

export type SealErrorCode =
  /** Not a sealed message: prefix, encoding, checksum, length or version. */
  | "malformed_sealed"
  /** Well-formed, but for another federation, module instance or guardian (the details say which). */
  | "misdirected_sealed"
  /** It does not open: changed on the way, or sealed for another key or purpose. */
  | "unsealable"
  /** The recipient's public key is not an Ed25519 point (a broken federation config). */
  | "invalid_recipient";

export class SealError extends ConclaveError {
  override readonly name = "SealError";
  constructor(code: SealErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { status: 400, details });
  }
}

let suiteCache: CipherSuite | undefined;
function suite(): CipherSuite {
  suiteCache ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
  return suiteCache;
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

function checkTarget(target: SealTarget): void {
  if (target.federationId.length !== 32) throw new RangeError("a federation id is 32 bytes");
  if (!Number.isInteger(target.instanceId) || target.instanceId < 0 || target.instanceId > 0xffff)
    throw new RangeError(`module instance ${target.instanceId} is not a u16`);
  if (!Number.isInteger(target.guardian) || target.guardian < 0 || target.guardian > 0xff)
    throw new RangeError(`guardian ${target.guardian} is not a u8`);
}

/** HPKE's info: the domain, the target and the purpose (length-prefixed, so no two read alike). */
export function sealInfo(target: SealTarget, purpose: string): Uint8Array {
  checkTarget(target);
  const p = utf8.encode(purpose);
  if (p.length === 0 || p.length > SEAL_PURPOSE_CHARS_MAX)
    throw new RangeError(`a seal purpose is 1 to ${SEAL_PURPOSE_CHARS_MAX} bytes`);
  return new Writer(128)
    .raw(INFO_DOMAIN)
    .fixed(target.federationId, 32)
    .u16(target.instanceId)
    .u8(target.guardian)
    .bytes(p)
    .finish();
}

/** The X25519 public key a guardian's Ed25519 identity key seals to. */
export function sealPublicKey(ed25519PublicKey: Uint8Array): Uint8Array {
  try {
    if (ed25519PublicKey.length !== 32) throw new RangeError("32 bytes expected");
    return ed25519.utils.toMontgomery(ed25519PublicKey);
  } catch (e) {
    throw new SealError("invalid_recipient", "the guardian's public key is not an Ed25519 key", {
      publicKey: toHex(ed25519PublicKey).slice(0, 64),
      cause: e instanceof Error ? e.message : String(e),
    });
  }
}

/** Encrypts `plaintext` to the guardian whose Ed25519 identity key is `guardianPublicKey`. */
export async function sealTo(
  guardianPublicKey: Uint8Array,
  target: SealTarget,
  purpose: string,
  plaintext: Uint8Array,
): Promise<Sealed> {
  if (plaintext.length > SEALED_PLAINTEXT_BYTES_MAX)
    throw new RangeError(`a sealed message carries at most ${SEALED_PLAINTEXT_BYTES_MAX} bytes`);
  const info = sealInfo(target, purpose);
  const s = suite();
  const recipientPublicKey = await s.kem.importKey(
    "raw",
    arrayBuffer(sealPublicKey(guardianPublicKey)),
    true,
  );
  const { ct, enc } = await s.seal({ recipientPublicKey, info }, plaintext);
  return {
    federationId: Uint8Array.from(target.federationId),
    instanceId: target.instanceId,
    guardian: target.guardian,
    enc: new Uint8Array(enc),
    ciphertext: new Uint8Array(ct),
  };
}

/**
 * Opens a message sealed to the guardian whose Ed25519 seed is `secretSeed`, for `purpose`. The
 * caller checks first that the target is itself (openSealed cannot tell a message for another
 * guardian from a forged one: neither opens). Throws SealError("unsealable") and nothing else.
 */
export async function openSealed(
  secretSeed: Uint8Array,
  sealed: Sealed,
  purpose: string,
): Promise<Uint8Array> {
  const info = sealInfo(sealed, purpose);
  const s = suite();
  try {
    const recipientKey = await s.kem.importKey(
      "raw",
      arrayBuffer(ed25519.utils.toMontgomerySecret(secretSeed)),
      false,
    );
    const plaintext = await s.open({ recipientKey, enc: sealed.enc, info }, sealed.ciphertext);
    return new Uint8Array(plaintext);
  } catch (e) {
    throw new SealError(
      "unsealable",
      "the sealed message does not open: it was changed on the way, or sealed for another guardian's key or another purpose",
      { cause: e instanceof Error ? `${e.name}: ${e.message}` : String(e) },
    );
  }
}

function checksum(body: Uint8Array): Uint8Array {
  return sha256.create().update(CHECKSUM_DOMAIN).update(body).digest().subarray(0, CHECKSUM_BYTES);
}

export function encodeSealed(sealed: Sealed): string {
  checkTarget(sealed);
  if (sealed.enc.length !== ENC_BYTES) throw new RangeError(`enc is ${ENC_BYTES} bytes`);
  if (
    sealed.ciphertext.length < TAG_BYTES ||
    sealed.ciphertext.length > SEALED_PLAINTEXT_BYTES_MAX + TAG_BYTES
  )
    throw new RangeError("the ciphertext's length is out of range");
  const body = new Writer(HEADER_BYTES + sealed.ciphertext.length + CHECKSUM_BYTES)
    .u8(SEALED_VERSION)
    .fixed(sealed.federationId, 32)
    .u16(sealed.instanceId)
    .u8(sealed.guardian)
    .fixed(sealed.enc, ENC_BYTES)
    .raw(sealed.ciphertext)
    .finish();
  const out = new Uint8Array(body.length + CHECKSUM_BYTES);
  out.set(body);
  out.set(checksum(body), body.length);
  return SEALED_PREFIX + base64UrlEncode(out);
}

function malformed(message: string, problem: string): SealError {
  return new SealError("malformed_sealed", `not a valid sealed message: ${message}`, { problem });
}

/** Reads the text form; anything malformed is a SealError("malformed_sealed") saying what is wrong. */
export function decodeSealed(input: string): Sealed {
  if (input.length > SEALED_CHARS_MAX * 2)
    throw malformed(`it is too long (${input.length} characters)`, "length");
  const text = input.replace(/\s+/g, "");
  if (text.length === 0) throw malformed("it is empty", "prefix");
  if (!text.startsWith(SEALED_PREFIX))
    throw malformed(
      /^csealed\d/i.test(text)
        ? `it starts with "${text.slice(0, SEALED_PREFIX.length)}", a version this software does not know`
        : `it must start with "${SEALED_PREFIX}"`,
      "prefix",
    );
  if (text.length > SEALED_CHARS_MAX)
    throw malformed(`it is too long (${text.length} characters, at most ${SEALED_CHARS_MAX})`, "length");
  const decoded = base64UrlDecode(text.slice(SEALED_PREFIX.length));
  if (!decoded.ok)
    throw malformed(
      `at character ${SEALED_PREFIX.length + decoded.position + 1}: ${decoded.reason}`,
      "encoding",
    );
  const bytes = decoded.bytes;
  if (bytes.length < HEADER_BYTES + TAG_BYTES + CHECKSUM_BYTES)
    throw malformed(`it is too short (${text.length} characters): was it cut when copied?`, "length");
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!bytesEqual(checksum(body), bytes.subarray(body.length)))
    throw malformed("its checksum does not match: it was changed or cut when copied", "checksum");
  const r = new Reader(body);
  const version = r.u8();
  if (version !== SEALED_VERSION)
    throw malformed(
      `version ${version} is not supported (this software reads version ${SEALED_VERSION})`,
      "version",
    );
  const federationId = r.fixed(32);
  const instanceId = r.u16();
  const guardian = r.u8();
  const enc = r.fixed(ENC_BYTES);
  const ciphertext = r.fixed(r.remaining);
  return { federationId, instanceId, guardian, enc, ciphertext };
}
