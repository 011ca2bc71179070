// Threshold blind BLS signatures for e-cash notes (the scheme of Fedimint's `tbs` crate), on the
// key ceremony's keys: signatures in G1, public keys in G2.
//
// The client picks a note nonce, hashes it to H = H(nonce) in G1 and sends the guardians the
// blinded message B = r * H, r a random scalar. Guardian i answers s_i * B with its secret share.
// The client checks each answer against the guardian's public key share, e(s_i B, G2) = e(B, PK_i),
// combines any t of them by Lagrange interpolation at zero into s * B, and unblinds it with r^-1
// into s * H: the note's signature, an ordinary BLS signature on the nonce under the aggregate
// public key. Unblinding and combining are both linear, so their order does not matter.
//
// Every function that reads bytes from a peer or a user returns a typed error value instead of
// throwing; boolean checks answer false for malformed input.
import { mulAddUnsafe } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import {
  Fr,
  GUARDIAN_INDEX_MAX,
  interpolateG1,
  isScalar,
  randomScalar,
  scalarFromBytes,
  scalarToBytes,
  type G1Point,
  type G2Point,
  type PointShare,
  type Rng,
} from "../threshold/poly.js";
import { toHex } from "../bytes.js";
import { decodeG1, decodeG2, encodeG1, type PointErrorCode } from "../threshold/shares.js";

/** RFC 9380 hash_to_curve suite BLS12381G1_XMD:SHA-256_SSWU_RO_ with the note-hashing domain tag. */
export const TBS_DST = "CONCLAVE-TBS-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
/** Compressed G1: blinded messages, blind shares, blind signatures and note signatures. */
export const TBS_G1_BYTES = 48;
export const BLINDING_KEY_BYTES = 32;
/** Bytes drawn from the rng per batch-verification coefficient. */
const BATCH_COEFFICIENT_BYTES = 8;

export type TbsErrorCode =
  | PointErrorCode
  | "scalar-out-of-range"
  | "threshold-invalid"
  | "too-few-shares"
  | "guardian-index"
  | "duplicate-share";

/** What is wrong with an input; a value, never thrown. */
export interface TbsError {
  readonly code: TbsErrorCode;
  readonly message: string;
  /** The guardian whose share caused the error, when there is one. */
  readonly guardian?: number;
}

export type TbsResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: TbsError };

function fail(code: TbsErrorCode, message: string, guardian?: number): { ok: false; error: TbsError } {
  return { ok: false, error: guardian === undefined ? { code, message } : { code, message, guardian } };
}

function decodePoint(what: string, bytes: Uint8Array, guardian?: number): TbsResult<G1Point> {
  const decoded = decodeG1(bytes);
  if (decoded.ok) return { ok: true, value: decoded.point };
  return fail(decoded.error.code, `${what}: ${decoded.error.message}`, guardian);
}

/**
 * Keys are few (one per denomination, one share per guardian) and used for every note, while a G2
 * decompression with its subgroup check costs about a pairing's worth of work: valid keys are
 * remembered by their bytes (bounded; cleared when full). Invalid ones are decoded each time.
 */
const KEY_CACHE_ENTRIES = 4096;
const decodedKeys = new Map<string, G2Point>();

function decodeKey(what: string, bytes: Uint8Array): TbsResult<G2Point> {
  const id = bytes instanceof Uint8Array && bytes.length === 96 ? toHex(bytes) : undefined;
  const known = id === undefined ? undefined : decodedKeys.get(id);
  if (known) return { ok: true, value: known };
  const decoded = decodeG2(bytes);
  if (decoded.ok) {
    if (id !== undefined) {
      if (decodedKeys.size >= KEY_CACHE_ENTRIES) decodedKeys.clear();
      decodedKeys.set(id, decoded.point);
    }
    return { ok: true, value: decoded.point };
  }
  return fail(decoded.error.code, `${what}: ${decoded.error.message}`);
}

function isNonZeroScalar(value: bigint): boolean {
  return isScalar(value) && value !== 0n;
}

/** The note nonce as a G1 point (random-oracle hash_to_curve, the TBS domain tag). */
export function hashNote(nonce: Uint8Array): G1Point {
  return bls12_381.G1.hashToCurve(nonce, { DST: TBS_DST });
}

export interface Blinded {
  /** r: kept by the client until it unblinds; never sent. */
  readonly blindingKey: bigint;
  /** r * H(nonce), compressed: what the guardians sign. */
  readonly blindedMessage: Uint8Array;
}

/** Blinds a note nonce with a fresh random non-zero scalar. */
export function blind(nonce: Uint8Array, rng: Rng): Blinded {
  const blindingKey = randomScalar(rng);
  return { blindingKey, blindedMessage: encodeG1(hashNote(nonce).multiply(blindingKey)) };
}

/**
 * Is `bytes` a G1 point a guardian may sign (canonical compressed encoding, on the curve, in the
 * subgroup, not infinity)? What the mint checks when it accepts a blinded message.
 */
export function checkG1Point(what: string, bytes: Uint8Array): TbsResult<void> {
  const point = decodePoint(what, bytes);
  return point.ok ? { ok: true, value: undefined } : point;
}

export function encodeBlindingKey(blindingKey: bigint): Uint8Array {
  return scalarToBytes(blindingKey);
}

/** 32 bytes big-endian, canonical and non-zero. */
export function decodeBlindingKey(bytes: Uint8Array): TbsResult<bigint> {
  const value = scalarFromBytes(bytes);
  if (value === undefined || value === 0n) {
    return fail("scalar-out-of-range", `blinding key must be ${BLINDING_KEY_BYTES} bytes encoding 1..r-1`);
  }
  return { ok: true, value };
}

/** Guardian side: secretShare * B for a blinded message B received from a client. */
export function signBlindShare(secretShare: bigint, blindedMessage: Uint8Array): TbsResult<Uint8Array> {
  if (!isNonZeroScalar(secretShare)) return fail("scalar-out-of-range", "secret share out of range");
  const point = decodePoint("blinded message", blindedMessage);
  if (!point.ok) return point;
  return { ok: true, value: encodeG1(point.value.multiply(secretShare)) };
}

/** e(signature, G2) = e(message, publicKey), as one two-pairing product compared with 1. */
function pairingCheck(signature: G1Point, message: G1Point, publicKey: G2Point): boolean {
  const { Fp12 } = bls12_381.fields;
  const product = bls12_381.pairingBatch([
    { g1: signature, g2: bls12_381.G2.Point.BASE.negate() },
    { g1: message, g2: publicKey },
  ]);
  return Fp12.eql(product, Fp12.ONE);
}

/**
 * Client side: is `blindShare` guardian i's signature share on `blindedMessage`, checked against its
 * public key share? False also for any malformed input, so a false names the guardian at fault.
 */
export function verifyBlindShare(
  publicKeyShare: Uint8Array,
  blindedMessage: Uint8Array,
  blindShare: Uint8Array,
): boolean {
  const pk = decodeKey("public key share", publicKeyShare);
  const message = decodePoint("blinded message", blindedMessage);
  const share = decodePoint("blind share", blindShare);
  if (!pk.ok || !message.ok || !share.ok) return false;
  return pairingCheck(share.value, message.value, pk.value);
}

/**
 * Removes the blinding: multiplies a blind share or a combined blind signature by r^-1. On a
 * combined blind signature this yields the note's signature; on guardian i's share, guardian i's
 * signature share on H(nonce).
 */
export function unblind(blindSignature: Uint8Array, blindingKey: bigint): TbsResult<Uint8Array> {
  if (!isNonZeroScalar(blindingKey)) return fail("scalar-out-of-range", "blinding key out of range");
  const point = decodePoint("blind signature", blindSignature);
  if (!point.ok) return point;
  return { ok: true, value: encodeG1(point.value.multiply(Fr.inv(blindingKey))) };
}

export interface BlindShare {
  /** 0-based guardian index; its evaluation point is index + 1. */
  readonly guardian: number;
  readonly share: Uint8Array;
}

/**
 * Lagrange-combines the first `threshold` shares (in any order, from any guardians) into the
 * federation's signature on whatever the shares sign: the blinded message, or H(nonce) if the
 * shares were unblinded first. The shares are not checked here; verify each with
 * `verifyBlindShare` first, or the result with `verifyNote` after unblinding. Extra shares beyond
 * the threshold are ignored, after being checked for well-formedness.
 */
export function combineBlindShares(threshold: number, shares: readonly BlindShare[]): TbsResult<Uint8Array> {
  if (!Number.isInteger(threshold) || threshold < 1) {
    return fail("threshold-invalid", `threshold must be a positive integer, got ${threshold}`);
  }
  const points: PointShare<G1Point>[] = [];
  for (const { guardian, share } of shares) {
    if (!Number.isInteger(guardian) || guardian < 0 || guardian > GUARDIAN_INDEX_MAX) {
      return fail("guardian-index", `guardian index out of range: ${guardian}`, guardian);
    }
    if (points.some((p) => p.index === guardian)) {
      return fail("duplicate-share", `more than one share from guardian ${guardian}`, guardian);
    }
    const point = decodePoint(`share of guardian ${guardian}`, share, guardian);
    if (!point.ok) return point;
    points.push({ index: guardian, point: point.value });
  }
  if (points.length < threshold) {
    return fail("too-few-shares", `${points.length} shares, ${threshold} needed`);
  }
  const combined = interpolateG1(points.slice(0, threshold));
  // Only for shares that do not belong together (never for t shares that verify).
  if (combined.is0()) return fail("point-at-infinity", "shares combine to the point at infinity");
  return { ok: true, value: encodeG1(combined) };
}

/** Is `signature` the federation's signature on the note nonce? Malformed input: false. */
export function verifyNote(
  aggregatePublicKey: Uint8Array,
  nonce: Uint8Array,
  signature: Uint8Array,
): boolean {
  const pk = decodeKey("aggregate public key", aggregatePublicKey);
  const sig = decodePoint("note signature", signature);
  if (!pk.ok || !sig.ok) return false;
  return pairingCheck(sig.value, hashNote(nonce), pk.value);
}

export interface Note {
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
}

/** A random non-zero 64-bit coefficient. */
function batchCoefficient(rng: Rng): bigint {
  for (;;) {
    const bytes = rng(BATCH_COEFFICIENT_BYTES);
    if (bytes.length !== BATCH_COEFFICIENT_BYTES) {
      throw new Error(`rng returned ${bytes.length} bytes, not ${BATCH_COEFFICIENT_BYTES}`);
    }
    let c = 0n;
    for (const b of bytes) c = (c << 8n) | BigInt(b);
    if (c !== 0n) return c;
  }
}

/**
 * Verifies many notes under one key with one two-pairing product:
 * e(Σ c_i sig_i, G2) = e(Σ c_i H(nonce_i), PK), with random 64-bit c_i from `rng`. A set holding a
 * bad note passes with probability at most 2^-64 (the c_i are secret from whoever made the notes).
 * Any malformed signature or key: false. An empty batch: true.
 */
export function verifyNotesBatch(aggregatePublicKey: Uint8Array, notes: readonly Note[], rng: Rng): boolean {
  if (notes.length === 0) return true;
  const pk = decodeKey("aggregate public key", aggregatePublicKey);
  if (!pk.ok) return false;
  const signatures: G1Point[] = [];
  for (const note of notes) {
    const sig = decodePoint("note signature", note.signature);
    if (!sig.ok) return false;
    signatures.push(sig.value);
  }
  if (notes.length === 1) return pairingCheck(signatures[0]!, hashNote(notes[0]!.nonce), pk.value);
  const coefficients = notes.map(() => batchCoefficient(rng));
  const hashes = notes.map((note) => hashNote(note.nonce));
  // Public points and public-to-the-verifier coefficients: variable-time MSM is fine.
  const sigSum = mulAddUnsafe(bls12_381.G1.Point, signatures, coefficients);
  const hashSum = mulAddUnsafe(bls12_381.G1.Point, hashes, coefficients);
  return pairingCheck(sigSum, hashSum, pk.value);
}

/** A note with the aggregate key of its denomination, for a batch over several denominations. */
export interface KeyedNote extends Note {
  readonly publicKey: Uint8Array;
}

/**
 * Verifies notes of several denominations (keys) with one multi-pairing and one final
 * exponentiation: e(Σ c_i sig_i, G2) = Π_k e(Σ_{i: key k} c_i H(nonce_i), PK_k), random 64-bit
 * c_i. A transaction's notes usually have as many denominations as notes, so this costs one Miller
 * loop per denomination instead of one full pairing check per note. Malformed input: false.
 */
export function verifyKeyedNotesBatch(notes: readonly KeyedNote[], rng: Rng): boolean {
  if (notes.length === 0) return true;
  const groups = new Map<string, { key: G2Point; hashes: G1Point[]; coefficients: bigint[] }>();
  const signatures: G1Point[] = [];
  const coefficients: bigint[] = [];
  for (const note of notes) {
    const sig = decodePoint("note signature", note.signature);
    if (!sig.ok) return false;
    const id = toHex(note.publicKey);
    let g = groups.get(id);
    if (!g) {
      const key = decodeKey("aggregate public key", note.publicKey);
      if (!key.ok) return false;
      g = { key: key.value, hashes: [], coefficients: [] };
      groups.set(id, g);
    }
    const c = batchCoefficient(rng);
    signatures.push(sig.value);
    coefficients.push(c);
    g.hashes.push(hashNote(note.nonce));
    g.coefficients.push(c);
  }
  const { Fp12 } = bls12_381.fields;
  const pairs = [
    {
      g1: mulAddUnsafe(bls12_381.G1.Point, signatures, coefficients),
      g2: bls12_381.G2.Point.BASE.negate(),
    },
  ];
  for (const g of groups.values())
    pairs.push({ g1: mulAddUnsafe(bls12_381.G1.Point, g.hashes, g.coefficients), g2: g.key });
  return Fp12.eql(bls12_381.pairingBatch(pairs), Fp12.ONE);
}

/** Positions of the notes that do not verify: one multi-key batch first, then one by one. */
export function findBadKeyedNotes(notes: readonly KeyedNote[], rng: Rng): number[] {
  if (verifyKeyedNotesBatch(notes, rng)) return [];
  const bad: number[] = [];
  notes.forEach((n, i) => {
    if (!verifyNote(n.publicKey, n.nonce, n.signature)) bad.push(i);
  });
  return bad;
}

/** One guardian's blind share on one blinded message, for a batched share check. */
export interface ShareItem {
  readonly blindedMessage: Uint8Array;
  readonly blindShare: Uint8Array;
}

/**
 * Checks all of one guardian's shares (one per output of a transaction) with one two-pairing
 * product: e(Σ c_i share_i, G2) = e(Σ c_i B_i, PK_i), random 64-bit c_i. A false names the
 * guardian; call verifyBlindShare per share to find which shares are bad. Malformed input: false.
 */
export function verifyBlindSharesBatch(
  publicKeyShare: Uint8Array,
  items: readonly ShareItem[],
  rng: Rng,
): boolean {
  if (items.length === 0) return true;
  const pk = decodeKey("public key share", publicKeyShare);
  if (!pk.ok) return false;
  const shares: G1Point[] = [];
  const messages: G1Point[] = [];
  for (const item of items) {
    const share = decodePoint("blind share", item.blindShare);
    const message = decodePoint("blinded message", item.blindedMessage);
    if (!share.ok || !message.ok) return false;
    shares.push(share.value);
    messages.push(message.value);
  }
  if (items.length === 1) return pairingCheck(shares[0]!, messages[0]!, pk.value);
  const coefficients = items.map(() => batchCoefficient(rng));
  const shareSum = mulAddUnsafe(bls12_381.G1.Point, shares, coefficients);
  const messageSum = mulAddUnsafe(bls12_381.G1.Point, messages, coefficients);
  return pairingCheck(shareSum, messageSum, pk.value);
}

/**
 * Indices (ascending) of the notes that do not verify: one batch check first, and only if it fails
 * one check per note.
 */
export function findBadNotes(aggregatePublicKey: Uint8Array, notes: readonly Note[], rng: Rng): number[] {
  if (verifyNotesBatch(aggregatePublicKey, notes, rng)) return [];
  const bad: number[] = [];
  notes.forEach((note, i) => {
    if (!verifyNote(aggregatePublicKey, note.nonce, note.signature)) bad.push(i);
  });
  return bad;
}

/**
 * The scheme as one object, so that a caller picks a backend once: this pure-TypeScript one (any
 * runtime, the browser) or the native blst one in @conclave/tbs-native (Node, ~20x faster). Both
 * compute the same bytes and the same error codes (cross-checked on the vectors).
 */
export interface TbsBackend {
  readonly name: string;
  blind(nonce: Uint8Array, rng: Rng): Blinded;
  checkG1Point(what: string, bytes: Uint8Array): TbsResult<void>;
  signBlindShare(secretShare: bigint, blindedMessage: Uint8Array): TbsResult<Uint8Array>;
  verifyBlindShare(publicKeyShare: Uint8Array, blindedMessage: Uint8Array, blindShare: Uint8Array): boolean;
  verifyBlindSharesBatch(publicKeyShare: Uint8Array, items: readonly ShareItem[], rng: Rng): boolean;
  combineBlindShares(threshold: number, shares: readonly BlindShare[]): TbsResult<Uint8Array>;
  unblind(blindSignature: Uint8Array, blindingKey: bigint): TbsResult<Uint8Array>;
  verifyNote(aggregatePublicKey: Uint8Array, nonce: Uint8Array, signature: Uint8Array): boolean;
  verifyNotesBatch(aggregatePublicKey: Uint8Array, notes: readonly Note[], rng: Rng): boolean;
  findBadNotes(aggregatePublicKey: Uint8Array, notes: readonly Note[], rng: Rng): number[];
  verifyKeyedNotesBatch(notes: readonly KeyedNote[], rng: Rng): boolean;
  findBadKeyedNotes(notes: readonly KeyedNote[], rng: Rng): number[];
}

export const nobleTbs: TbsBackend = {
  name: "noble",
  blind,
  checkG1Point,
  signBlindShare,
  verifyBlindShare,
  verifyBlindSharesBatch,
  combineBlindShares,
  unblind,
  verifyNote,
  verifyNotesBatch,
  findBadNotes,
  verifyKeyedNotesBatch,
  findBadKeyedNotes,
};
