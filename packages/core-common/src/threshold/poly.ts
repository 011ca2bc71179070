// Arithmetic in the scalar field Fr of BLS12-381: random polynomials, their evaluation at guardian
// points, and Lagrange interpolation at zero, of scalars and "in the exponent" of G1 / G2 points.
//
// Guardian indices are 0-based everywhere in Conclave; a guardian's evaluation point is index + 1,
// because the polynomial's value at 0 is the secret.
//
// JavaScript bigints are not constant-time. Secrets pass through here only during the key ceremony
// and when signing, on the guardian's own machine; @noble/curves makes the same trade-off.
import { mulAddUnsafe } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";

/** The scalar field: integers modulo the prime order r of G1, G2 and GT. */
export const Fr = bls12_381.fields.Fr;
export const SCALAR_BYTES = 32;
/** Evaluation points are u16 in every encoding; far above any federation size. */
export const GUARDIAN_INDEX_MAX = 0xfffe;

export type G1Point = typeof bls12_381.G1.Point.BASE;
export type G2Point = typeof bls12_381.G2.Point.BASE;
/** Coefficients a_0 .. a_{t-1}; a_0 is the secret. */
export type Polynomial = readonly bigint[];
/** The only source of randomness: injected, so that tests and simulations are reproducible. */
export type Rng = (bytes: number) => Uint8Array;

/** Bytes drawn per scalar: 48 bytes reduced mod r leave a bias below 2^-128 (RFC 9380 hash_to_field). */
const RANDOM_SCALAR_BYTES = 48;

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function isScalar(value: bigint): boolean {
  return value >= 0n && value < Fr.ORDER;
}

/** A uniformly random non-zero scalar (zero would make a commitment the point at infinity). */
export function randomScalar(rng: Rng): bigint {
  for (;;) {
    const bytes = rng(RANDOM_SCALAR_BYTES);
    assert(
      bytes.length === RANDOM_SCALAR_BYTES,
      `rng returned ${bytes.length} bytes, not ${RANDOM_SCALAR_BYTES}`,
    );
    let value = 0n;
    for (const b of bytes) value = (value << 8n) | BigInt(b);
    const scalar = Fr.create(value);
    if (scalar !== 0n) return scalar;
  }
}

export function scalarToBytes(scalar: bigint): Uint8Array {
  assert(isScalar(scalar), "scalar out of range");
  const out = new Uint8Array(SCALAR_BYTES);
  let v = scalar;
  for (let i = SCALAR_BYTES - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Big-endian, 32 bytes; undefined unless canonical (below r), so every scalar has one encoding. */
export function scalarFromBytes(bytes: Uint8Array): bigint | undefined {
  if (bytes.length !== SCALAR_BYTES) return undefined;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return isScalar(value) ? value : undefined;
}

/** The point at which guardian `index` (0-based) holds its share. */
export function evaluationPoint(index: number): bigint {
  if (!Number.isInteger(index) || index < 0 || index > GUARDIAN_INDEX_MAX) {
    throw new RangeError(`guardian index out of range: ${index}`);
  }
  return BigInt(index + 1);
}

/** A random polynomial of degree t - 1: any t of its evaluations determine it, t - 1 reveal nothing. */
export function randomPolynomial(t: number, rng: Rng): bigint[] {
  assert(Number.isInteger(t) && t >= 1, `threshold must be a positive integer, got ${t}`);
  return Array.from({ length: t }, () => randomScalar(rng));
}

/** Horner's rule at x = index + 1. */
export function evaluatePolynomial(poly: Polynomial, index: number): bigint {
  assert(poly.length > 0, "empty polynomial");
  const x = evaluationPoint(index);
  let acc = 0n;
  for (let k = poly.length - 1; k >= 0; k--) acc = Fr.add(Fr.mul(acc, x), poly[k]!);
  return acc;
}

/**
 * λ_i = Π_{j≠i} x_j / (x_j - x_i) for the given guardian indices, so that f(0) = Σ λ_i f(x_i) for
 * any polynomial of degree below indices.length. Indices must be distinct: a repeated index is a
 * caller bug (peer-supplied indices are checked before they get here).
 */
export function lagrangeAtZero(indices: readonly number[]): bigint[] {
  const xs = indices.map(evaluationPoint);
  if (new Set(indices).size !== indices.length)
    throw new RangeError("lagrangeAtZero: repeated guardian index");
  return xs.map((xi, i) => {
    let num = 1n;
    let den = 1n;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = Fr.mul(num, xj);
      den = Fr.mul(den, Fr.sub(xj, xi));
    });
    return Fr.div(num, den);
  });
}

export interface ScalarShare {
  readonly index: number;
  readonly value: bigint;
}

export interface PointShare<P> {
  readonly index: number;
  readonly point: P;
}

/** f(0) from shares at distinct indices (exactly t of them for a polynomial of degree t - 1). */
export function interpolateScalars(shares: readonly ScalarShare[]): bigint {
  const lambdas = lagrangeAtZero(shares.map((s) => s.index));
  return shares.reduce((acc, s, i) => Fr.add(acc, Fr.mul(lambdas[i]!, s.value)), 0n);
}

/** Σ λ_i P_i in G1: combines signature shares into the signature of the shared secret. */
export function interpolateG1(shares: readonly PointShare<G1Point>[]): G1Point {
  assert(shares.length > 0, "nothing to interpolate");
  const lambdas = lagrangeAtZero(shares.map((s) => s.index));
  // Public points only (signature shares): the variable-time multi-scalar multiplication is fine.
  return mulAddUnsafe(
    bls12_381.G1.Point,
    shares.map((s) => s.point),
    lambdas,
  );
}

/** Σ λ_i P_i in G2: recovers a public key from t public key shares. */
export function interpolateG2(shares: readonly PointShare<G2Point>[]): G2Point {
  assert(shares.length > 0, "nothing to interpolate");
  const lambdas = lagrangeAtZero(shares.map((s) => s.index));
  return mulAddUnsafe(
    bls12_381.G2.Point,
    shares.map((s) => s.point),
    lambdas,
  );
}
