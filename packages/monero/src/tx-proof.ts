// Monero's outbound payment proof ("OutProofV2", what the sender's `get_tx_proof` makes), written here
// so that a browser can make one from the tx key without a wallet: browser-safe (@noble only).
//
// Ported from monero-project/monero: src/crypto/crypto.cpp `generate_tx_proof` / `check_tx_proof`
// (version 2) and src/wallet/wallet2.cpp `get_tx_proof` / `check_tx_proof`, for a payment to a
// STANDARD address (the federation's primary address: B absent). For one tx key part r:
//
//   prefix_hash = cn_fast_hash(txid || message)              (Keccak-256, the txid's 32 bytes raw)
//   R = r·G (the tx public key), A = the address's view key, D = r·A (the shared secret)
//   k: a nonce;  X = k·G,  Y = k·A
//   c = Hs(prefix_hash || D || X || Y || sep || R || A || B)  (struct s_comm_2; sep =
//       cn_fast_hash("TXPROOF_V2"), B = 32 zero bytes for a standard address; Hs = Keccak-256
//       reduced mod ℓ, Monero's hash_to_scalar)
//   s = k − c·r (mod ℓ);  the part's signature is (c, s)
//
// One part per tx key part: the main key, then each "additional" key (wallet2 signs each with R_i =
// r_i·G for a standard address). The text is "OutProofV2" then base58(D) + base58(c || s) per part.
// check_tx_proof accepts the proof when ANY part verifies, then counts what the address received
// with the verified parts' shared secrets. The proof shows knowledge of r for THIS message: without
// r nobody can make one for another message (a Schnorr proof of equal discrete logs, Fiat-Shamir'd
// over the message). The recipient's view key does not help: with it one can make an InProof
// (knowledge of a with D = a·R), never an OutProof; binary parts (D, c, s) carry no header, so a
// verifier that rebuilds the text with the "OutProofV2" header can only ever be handed an OutProof.
//
// The nonce is derived (SHA-512 of a domain, r and the whole statement, reduced mod ℓ, as EdDSA does)
// instead of drawn: the same claim always gives the same proof bytes, so a wallet that posts its claim
// again (or to several guardians) never sends two different proofs. The verifier cannot tell.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { decodeAddress } from "./address.js";
import { base58Decode, base58Encode } from "./base58.js";

/** ℓ, the order of the Ed25519 prime-order subgroup: scalars are below it. */
export const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
/** D (32) | c (32) | s (32): one part of an OutProofV2 in binary. */
export const TX_PROOF_PART_BYTES = 96;
/** One main tx key and at most 16 additional ones (one per output; 16 outputs is Monero's maximum). */
export const TX_PROOF_PARTS_MAX = 17;
export const OUT_PROOF_V2_HEADER = "OutProofV2";
/** base58 of 32 bytes: 4 full blocks of 11 characters. */
const POINT_CHARS = 44;
/** base58 of 64 bytes: 8 full blocks. */
const SIGNATURE_CHARS = 88;

const SEP = keccak_256(new TextEncoder().encode("TXPROOF_V2"));
const NONCE_DOMAIN = new TextEncoder().encode("conclave/monero/tx-proof-nonce/v1");

/** A little-endian byte string as an integer (Monero's scalars and keys). */
export function scalarFromLe(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** An integer below 2^256 as 32 little-endian bytes. */
export function scalarToLe(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

const mod = (v: bigint): bigint => ((v % ED25519_ORDER) + ED25519_ORDER) % ED25519_ORDER;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Monero's hash_to_scalar: Keccak-256 (cn_fast_hash), read little-endian, reduced mod ℓ (sc_reduce32). */
export function hashToScalar(data: Uint8Array): bigint {
  return mod(scalarFromLe(keccak_256(data)));
}

/** True for a canonical scalar: 32 bytes, little-endian, below ℓ (Monero's sc_check). */
export function isCanonicalScalar(bytes: Uint8Array): boolean {
  return bytes.length === 32 && scalarFromLe(bytes) < ED25519_ORDER;
}

/** wallet2's prefix hash: cn_fast_hash(txid || message), the message's UTF-8 bytes as given. */
export function txProofPrefixHash(txid: Uint8Array, message: string): Uint8Array {
  if (txid.length !== 32) throw new Error("a txid is 32 bytes");
  return keccak_256(concat(txid, new TextEncoder().encode(message)));
}

function point(bytes: Uint8Array): ReturnType<typeof ed25519.Point.fromBytes> | undefined {
  try {
    return ed25519.Point.fromBytes(bytes, false);
  } catch {
    return undefined;
  }
}

/**
 * One OutProofV2 part for a standard address (crypto.cpp generate_tx_proof with B absent): proves
 * that log_G(R) = log_A(D) = r, for `prefixHash`. Returns D | c | s (96 bytes).
 */
export function generateTxProofPart(
  prefixHash: Uint8Array,
  viewKey: Uint8Array,
  txKey: Uint8Array,
): Uint8Array {
  if (!isCanonicalScalar(txKey) || scalarFromLe(txKey) === 0n)
    throw new Error("a tx key part is a canonical, non-zero scalar");
  const A = point(viewKey);
  if (!A) throw new Error("the address's view key is not a curve point");
  const r = scalarFromLe(txKey);
  const R = ed25519.Point.BASE.multiply(r).toBytes();
  const D = A.multiply(r).toBytes();
  const kSeed = sha512(concat(NONCE_DOMAIN, txKey, prefixHash, R, viewKey, D));
  const k = mod(scalarFromLe(kSeed)) || 1n;
  const X = ed25519.Point.BASE.multiply(k).toBytes();
  const Y = A.multiply(k).toBytes();
  const c = hashToScalar(concat(prefixHash, D, X, Y, SEP, R, viewKey, new Uint8Array(32)));
  const s = mod(k - c * r);
  return concat(D, scalarToLe(c), scalarToLe(s));
}

/**
 * Checks one part against the transaction's public key R (crypto.cpp check_tx_proof, version 2, B
 * absent): X = c·R + s·G, Y = c·D + s·A, c == Hs(...). For tests and offline checks; guardians ask
 * their own wallet-rpc, which reads R from the transaction.
 */
export function checkTxProofPart(
  prefixHash: Uint8Array,
  txPublicKey: Uint8Array,
  viewKey: Uint8Array,
  part: Uint8Array,
): boolean {
  if (part.length !== TX_PROOF_PART_BYTES) return false;
  const D = part.subarray(0, 32);
  const cBytes = part.subarray(32, 64);
  const sBytes = part.subarray(64, 96);
  const Rp = point(txPublicKey);
  const Ap = point(viewKey);
  const Dp = point(D);
  if (!Rp || !Ap || !Dp || !isCanonicalScalar(cBytes) || !isCanonicalScalar(sBytes)) return false;
  const c = scalarFromLe(cBytes);
  const s = scalarFromLe(sBytes);
  const X = Rp.multiplyUnsafe(c).add(ed25519.Point.BASE.multiplyUnsafe(s)).toBytes();
  const Y = Dp.multiplyUnsafe(c).add(Ap.multiplyUnsafe(s)).toBytes();
  const c2 = hashToScalar(concat(prefixHash, D, X, Y, SEP, txPublicKey, viewKey, new Uint8Array(32)));
  return c2 === c;
}

/** The public view key A of a standard address (what an OutProof to it is made against); throws for other kinds. */
export function standardAddressViewKey(address: string): Uint8Array {
  const a = decodeAddress(address);
  if (a.kind !== "standard")
    throw new Error(`an OutProof is made here for a standard address, not a ${a.kind} one`);
  return a.publicViewKey;
}

/**
 * wallet2::get_tx_proof for an outbound proof to a standard address, in binary: one part per 32-byte
 * part of `txKey` (the main key, then the additional ones, as get_tx_key returns them joined).
 */
export function makeOutProof(args: {
  readonly txid: Uint8Array;
  readonly txKey: Uint8Array;
  /** The recipient's public view key (a standard address's). */
  readonly viewKey: Uint8Array;
  readonly message: string;
}): Uint8Array {
  const parts = args.txKey.length / 32;
  if (!Number.isInteger(parts) || parts < 1 || parts > TX_PROOF_PARTS_MAX)
    throw new Error(`a tx key is 1 to ${TX_PROOF_PARTS_MAX} parts of 32 bytes`);
  const prefixHash = txProofPrefixHash(args.txid, args.message);
  const out = new Uint8Array(parts * TX_PROOF_PART_BYTES);
  for (let i = 0; i < parts; i++)
    out.set(
      generateTxProofPart(prefixHash, args.viewKey, args.txKey.subarray(i * 32, i * 32 + 32)),
      i * TX_PROOF_PART_BYTES,
    );
  return out;
}

/**
 * True when `proof` is 1..17 parts, each D a canonically encoded Ed25519 point of the prime-order
 * subgroup other than the identity (D = r·A is one; about 1 ms per part) and c, s canonical
 * scalars: what an honest prover makes. Checked before anything reaches a
 * wallet-rpc (monero-wallet-rpc 0.18 crashes on some malformed secrets; its proof checks return false
 * for these, but nothing malformed is ever sent).
 */
export function isWellFormedOutProof(proof: Uint8Array): boolean {
  const parts = proof.length / TX_PROOF_PART_BYTES;
  if (!Number.isInteger(parts) || parts < 1 || parts > TX_PROOF_PARTS_MAX) return false;
  for (let at = 0; at < proof.length; at += TX_PROOF_PART_BYTES) {
    const D = point(proof.subarray(at, at + 32));
    if (!D || D.equals(ed25519.Point.ZERO) || !D.isTorsionFree()) return false;
    if (!isCanonicalScalar(proof.subarray(at + 32, at + 64))) return false;
    if (!isCanonicalScalar(proof.subarray(at + 64, at + 96))) return false;
  }
  return true;
}

/** The text check_tx_proof takes: "OutProofV2" then base58(D) + base58(c || s) per part. */
export function outProofText(proof: Uint8Array): string {
  const parts = proof.length / TX_PROOF_PART_BYTES;
  if (!Number.isInteger(parts) || parts < 1) throw new Error("an OutProofV2 has at least one 96-byte part");
  let text = OUT_PROOF_V2_HEADER;
  for (let at = 0; at < proof.length; at += TX_PROOF_PART_BYTES)
    text +=
      base58Encode(proof.subarray(at, at + 32)) +
      base58Encode(proof.subarray(at + 32, at + TX_PROOF_PART_BYTES));
  return text;
}

/** Reads an "OutProofV2…" text (get_tx_proof's) into its binary parts; throws on anything else. */
export function parseOutProofText(text: string): Uint8Array {
  if (!text.startsWith(OUT_PROOF_V2_HEADER)) throw new Error("not an OutProofV2 (header)");
  const body = text.slice(OUT_PROOF_V2_HEADER.length);
  const partChars = POINT_CHARS + SIGNATURE_CHARS;
  if (body.length === 0 || body.length % partChars !== 0) throw new Error("not an OutProofV2 (length)");
  const out = new Uint8Array((body.length / partChars) * TX_PROOF_PART_BYTES);
  for (let i = 0; i * partChars < body.length; i++) {
    const chunk = body.slice(i * partChars, (i + 1) * partChars);
    out.set(base58Decode(chunk.slice(0, POINT_CHARS)), i * TX_PROOF_PART_BYTES);
    out.set(base58Decode(chunk.slice(POINT_CHARS)), i * TX_PROOF_PART_BYTES + 32);
  }
  return out;
}
