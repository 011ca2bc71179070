// Threshold BLS signatures with the ceremony's keys: signatures in G1 (48 bytes), public keys in G2
// (96 bytes), the "short signatures" mode, as the e-cash mint wants small notes. Guardian i signs
// with its secret share; any t valid signature shares combine, by Lagrange interpolation at 0 in
// the exponent, into the one signature of the shared secret, which verifies against the aggregate
// public key. This is the minimum that proves the keys work; blinding belongs to the mint module.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { assert, interpolateG1, isScalar, type G1Point, type G2Point, type PointShare } from "./poly.js";
import { decodeG1, decodeG2, encodeG1 } from "./shares.js";

/** RFC 9380 hash_to_curve suite BLS12381G1_XMD:SHA-256_SSWU_RO_, with our own domain tag. */
export const BLS_DST = "CONCLAVE-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
export const SIGNATURE_BYTES = 48;
export const PUBLIC_KEY_BYTES = 96;

/** The message as a G1 point (random-oracle hash_to_curve); `dst` exists for the RFC test vectors. */
export function hashToG1(message: Uint8Array, dst: string = BLS_DST): G1Point {
  return bls12_381.G1.hashToCurve(message, { DST: dst });
}

/** Guardian's signature share: secretShare * H(message), compressed. */
export function signPartial(secretShare: bigint, message: Uint8Array): Uint8Array {
  assert(isScalar(secretShare) && secretShare !== 0n, "secret share out of range");
  return encodeG1(hashToG1(message).multiply(secretShare));
}

/** e(signature, G2) = e(H(m), publicKey), as one two-pairing product compared with 1. */
function pairingCheck(signature: G1Point, hashed: G1Point, publicKey: G2Point): boolean {
  const { Fp12 } = bls12_381.fields;
  const product = bls12_381.pairingBatch([
    { g1: signature, g2: bls12_381.G2.Point.BASE.negate() },
    { g1: hashed, g2: publicKey },
  ]);
  return Fp12.eql(product, Fp12.ONE);
}

function check(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = decodeG2(publicKey);
  const sig = decodeG1(signature);
  return pk.ok && sig.ok && pairingCheck(sig.point, hashToG1(message), pk.point);
}

/** Does a signature share verify against the signer's public key share? Malformed input: false. */
export function verifyPartial(publicKeyShare: Uint8Array, message: Uint8Array, partial: Uint8Array): boolean {
  return check(publicKeyShare, message, partial);
}

/** Does a (combined) signature verify against the aggregate public key? Malformed input: false. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return check(publicKey, message, signature);
}

export interface PartialSignature {
  readonly guardian: number;
  readonly signature: Uint8Array;
}

export interface RejectedPartial {
  readonly guardian: number;
  readonly reason: string;
}

export type CombineResult =
  | { readonly ok: true; readonly signature: Uint8Array; readonly rejected: readonly RejectedPartial[] }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: "too-few-partials" | "invalid-public-key";
        readonly message: string;
        readonly rejected: readonly RejectedPartial[];
      };
    };

export interface CombineInput {
  readonly message: Uint8Array;
  readonly threshold: number;
  readonly publicKey: Uint8Array;
  /** By guardian index, as the ceremony made them. */
  readonly publicKeyShares: readonly Uint8Array[];
  /** As received from guardians, in any order; duplicates and strangers are rejected. */
  readonly partials: readonly PartialSignature[];
}

/**
 * Combines signature shares into the federation's signature. Optimistic: t well-formed shares are
 * combined and the result checked with one pairing product; only if that fails is every share
 * checked against its guardian's public key share (one pairing product each) to name the bad ones
 * and combine t good ones. Rejected shares are reported either way, by guardian.
 */
export function combineSignature(input: CombineInput): CombineResult {
  const { message, threshold, publicKeyShares } = input;
  assert(Number.isInteger(threshold) && threshold >= 1, "threshold must be a positive integer");
  const rejected: RejectedPartial[] = [];
  const pk = decodeG2(input.publicKey);
  if (!pk.ok) {
    return {
      ok: false,
      error: { code: "invalid-public-key", message: `public key: ${pk.error.message}`, rejected },
    };
  }
  const candidates: PointShare<G1Point>[] = [];
  for (const { guardian, signature } of input.partials) {
    if (!Number.isInteger(guardian) || guardian < 0 || guardian >= publicKeyShares.length) {
      rejected.push({ guardian, reason: "not a guardian of this key" });
    } else if (candidates.some((c) => c.index === guardian)) {
      rejected.push({ guardian, reason: "sent more than one signature share" });
    } else {
      const decoded = decodeG1(signature);
      if (decoded.ok) candidates.push({ index: guardian, point: decoded.point });
      else rejected.push({ guardian, reason: decoded.error.message });
    }
  }
  const tooFew = (valid: number): CombineResult => ({
    ok: false,
    error: {
      code: "too-few-partials",
      message: `${valid} valid signature shares, ${threshold} needed`,
      rejected,
    },
  });
  if (candidates.length < threshold) return tooFew(candidates.length);

  const hashed = hashToG1(message);
  const first = interpolateG1(candidates.slice(0, threshold));
  if (!first.is0() && pairingCheck(first, hashed, pk.point)) {
    return { ok: true, signature: encodeG1(first), rejected };
  }

  const good: PointShare<G1Point>[] = [];
  for (const c of candidates) {
    const share = decodeG2(publicKeyShares[c.index]!);
    if (!share.ok) {
      rejected.push({ guardian: c.index, reason: `its public key share is invalid: ${share.error.message}` });
    } else if (pairingCheck(c.point, hashed, share.point)) {
      good.push(c);
    } else {
      rejected.push({
        guardian: c.index,
        reason: "signature share does not verify against its public key share",
      });
    }
    if (good.length === threshold) break;
  }
  if (good.length < threshold) return tooFew(good.length);
  const combined = interpolateG1(good);
  if (combined.is0() || !pairingCheck(combined, hashed, pk.point)) {
    // t shares that each verify always combine correctly unless the key shares do not belong together.
    return {
      ok: false,
      error: {
        code: "invalid-public-key",
        message:
          "valid signature shares combine to a signature the public key rejects: the key shares are inconsistent",
        rejected,
      },
    };
  }
  return { ok: true, signature: encodeG1(combined), rejected };
}
