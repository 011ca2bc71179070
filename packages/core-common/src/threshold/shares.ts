// Feldman verifiable secret sharing in G2: a dealer publishes C_k = a_k * G2 for the coefficients
// of its polynomial f, and anyone can check a share s_i = f(i + 1) against them, because
// s_i * G2 = Σ_k C_k * (i + 1)^k. The same sum is guardian i's public key share.
//
// Also the strict decoders for the points that peers send: compressed encodings only (one encoding
// per point), on the curve, in the prime-order subgroup, never the point at infinity.
import { mulAddUnsafe } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual, utf8 } from "../bytes.js";
import { Writer } from "../codec.js";
import {
  Fr,
  assert,
  evaluationPoint,
  isScalar,
  scalarToBytes,
  type G1Point,
  type G2Point,
  type Polynomial,
} from "./poly.js";

export const G1_POINT_BYTES = 48;
export const G2_POINT_BYTES = 96;

export type PointErrorCode =
  "point-length" | "point-encoding" | "point-not-on-curve" | "point-not-in-subgroup" | "point-at-infinity";

/** What is wrong with a point a peer sent; a value, never thrown. */
export interface PointError {
  readonly code: PointErrorCode;
  readonly message: string;
}

export type Decoded<P> =
  { readonly ok: true; readonly point: P } | { readonly ok: false; readonly error: PointError };

function classify(err: unknown): PointErrorCode {
  const text = err instanceof Error ? err.message : String(err);
  if (/subgroup/i.test(text)) return "point-not-in-subgroup";
  // noble reports an x with no matching y as a failed square root.
  if (/square root|not on curve/i.test(text)) return "point-not-on-curve";
  return "point-encoding";
}

function decodePoint<P extends G1Point | G2Point>(
  name: "G1" | "G2",
  bytes: Uint8Array,
  length: number,
  fromBytes: (b: Uint8Array) => P,
  encode: (p: P) => Uint8Array,
): Decoded<P> {
  if (bytes.length !== length) {
    return {
      ok: false,
      error: { code: "point-length", message: `${name} point must be ${length} bytes, got ${bytes.length}` },
    };
  }
  let point: P;
  try {
    // noble checks the curve equation and the subgroup (assertValidity) while decoding.
    point = fromBytes(bytes);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: classify(err), message: `invalid ${name} point: ${detail}` } };
  }
  if (point.is0()) {
    return {
      ok: false,
      error: { code: "point-at-infinity", message: `${name} point is the point at infinity` },
    };
  }
  // noble also accepts uncompressed input; only one encoding is ours.
  if (!bytesEqual(encode(point), bytes)) {
    return {
      ok: false,
      error: { code: "point-encoding", message: `${name} point is not canonically encoded` },
    };
  }
  return { ok: true, point };
}

export function decodeG1(bytes: Uint8Array): Decoded<G1Point> {
  return decodePoint("G1", bytes, G1_POINT_BYTES, (b) => bls12_381.G1.Point.fromBytes(b), encodeG1);
}

export function decodeG2(bytes: Uint8Array): Decoded<G2Point> {
  return decodePoint("G2", bytes, G2_POINT_BYTES, (b) => bls12_381.G2.Point.fromBytes(b), encodeG2);
}

const FIELD_BYTES = 48;
const FLAG_COMPRESSED = 0x80;
const FLAG_INFINITY = 0x40;
const FLAG_SORT = 0x20;

function fieldToBytes(value: bigint, out: Uint8Array, offset: number): void {
  let v = value;
  for (let i = offset + FIELD_BYTES - 1; i >= offset; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** The ZCash sort flag: set when y is the larger of y and -y, comparing its parts in order. */
function sortFlag(parts: readonly bigint[]): number {
  const p = bls12_381.fields.Fp.ORDER;
  for (const part of parts) if (part !== 0n) return 2n * part >= p ? FLAG_SORT : 0;
  return 0;
}

// The compressed ZCash encodings, written here because noble's toBytes() re-runs the subgroup
// check (about 3 ms in G2) on every point it encodes, and the ceremony encodes hundreds of points
// it computed itself from points already checked. Tests compare these with noble's encoder.

/** Compressed G1 encoding (48 bytes) of a point known to be in the subgroup. */
export function encodeG1(point: G1Point): Uint8Array {
  const out = new Uint8Array(G1_POINT_BYTES);
  if (point.is0()) {
    out[0] = FLAG_COMPRESSED | FLAG_INFINITY;
    return out;
  }
  const { x, y } = point.toAffine();
  fieldToBytes(x, out, 0);
  out[0]! |= FLAG_COMPRESSED | sortFlag([y]);
  return out;
}

/** Compressed G2 encoding (96 bytes: x.c1 then x.c0) of a point known to be in the subgroup. */
export function encodeG2(point: G2Point): Uint8Array {
  const out = new Uint8Array(G2_POINT_BYTES);
  if (point.is0()) {
    out[0] = FLAG_COMPRESSED | FLAG_INFINITY;
    return out;
  }
  const { x, y } = point.toAffine();
  fieldToBytes(x.c1, out, 0);
  fieldToBytes(x.c0, out, FIELD_BYTES);
  out[0]! |= FLAG_COMPRESSED | sortFlag([y.c1, y.c0]);
  return out;
}

/** s * G2, with s secret: the constant-time multiplication. */
export function g2Mul(scalar: bigint): G2Point {
  assert(isScalar(scalar), "scalar out of range");
  return scalar === 0n ? bls12_381.G2.Point.ZERO : bls12_381.G2.Point.BASE.multiply(scalar);
}

/** Feldman commitments C_k = a_k * G2 to the coefficients of a polynomial. */
export function commitPolynomial(poly: Polynomial): G2Point[] {
  return poly.map(g2Mul);
}

/**
 * Σ_k C_k * (index + 1)^k by Horner's rule: the commitment to f(index + 1), i.e. the public key
 * share of guardian `index` for that polynomial. The multipliers are tiny public numbers, so the
 * variable-time multiplication is both safe and about 25x faster here.
 */
export function evaluateCommitments(commitments: readonly G2Point[], index: number): G2Point {
  assert(commitments.length > 0, "empty commitment vector");
  const x = evaluationPoint(index);
  let acc = commitments[commitments.length - 1]!;
  for (let k = commitments.length - 2; k >= 0; k--) acc = acc.multiplyUnsafe(x).add(commitments[k]!);
  return acc;
}

/** Guardian `index`'s public key share for a polynomial with these commitments. */
export const publicKeyShare = evaluateCommitments;

/** Does `share` equal f(index + 1) for the polynomial committed to? */
export function verifyShare(commitments: readonly G2Point[], index: number, share: bigint): boolean {
  if (!isScalar(share)) return false;
  return g2Mul(share).equals(evaluateCommitments(commitments, index));
}

const DOMAIN_BATCH = utf8.encode("conclave/threshold/share-batch/v1");

/**
 * Checks one share per polynomial (one dealer's shares to one guardian, one per key) with a single
 * random linear combination: Σ r_k s_k * G2 = Σ r_k E_k, where E_k is the commitment evaluation.
 * If any share is wrong the two sides differ except with probability 2^-128 over r. The r_k are
 * derived by hashing every input (Fiat-Shamir), which keeps verification a pure function: a dealer
 * who wants a bad share to pass has to find a hash output that cancels its error, one 2^-128 chance
 * per hash evaluation.
 */
export function verifyShares(
  commitmentsPerKey: readonly (readonly G2Point[])[],
  index: number,
  shares: readonly bigint[],
): boolean {
  assert(commitmentsPerKey.length === shares.length, "one share per commitment vector");
  if (!shares.every(isScalar)) return false;
  if (shares.length === 1) return verifyShare(commitmentsPerKey[0]!, index, shares[0]!);
  const w = new Writer().raw(DOMAIN_BATCH).u16(index).u32(shares.length);
  for (const commitments of commitmentsPerKey) {
    w.u32(commitments.length);
    for (const c of commitments) w.fixed(encodeG2(c), G2_POINT_BYTES);
  }
  for (const s of shares) w.fixed(scalarToBytes(s), 32);
  const seed = sha256(w.finish());
  const weights = shares.map((_, k) => batchWeight(seed, k));
  const evaluations = commitmentsPerKey.map((c) => evaluateCommitments(c, index));
  const combinedShare = shares.reduce((acc, s, k) => Fr.add(acc, Fr.mul(weights[k]!, s)), 0n);
  const combinedCommitment = mulAddUnsafe(bls12_381.G2.Point, evaluations, weights);
  return g2Mul(combinedShare).equals(combinedCommitment);
}

/** A non-zero 128-bit weight: the first 16 bytes of sha256(seed || k). */
function batchWeight(seed: Uint8Array, k: number): bigint {
  const digest = sha256(new Writer().raw(seed).u32(k).finish());
  let w = 0n;
  for (let i = 0; i < 16; i++) w = (w << 8n) | BigInt(digest[i]!);
  return w === 0n ? 1n : w;
}
