// The guardian/Node fast path of the threshold blind signature scheme: the same functions, inputs,
// outputs and TbsResult error codes as the pure-TypeScript module in core-common, computed with the
// blst native library through the raw SWIG bindings of @chainsafe/blst (its top-level API only signs
// and verifies whole BLS messages; the bindings expose points, scalar multiplication and pairings).
//
// Three things the bindings do not do for us, done here:
// - P1.mult(bigint) throws on Node 20, so scalars go in as 32-byte (or 8-byte) little-endian bytes;
// - decompressing a point does not check the subgroup, so every decoded point is checked with in_group();
// - constructors throw on bad encodings, so every decode runs inside try/catch and becomes a typed error.
import {
  blst as bindings,
  type P1,
  type P1_Affine,
  type P2_Affine,
  type PT,
} from "@chainsafe/blst/dist/bindings.js";
import {
  Fr,
  GUARDIAN_INDEX_MAX,
  decodeG1 as decodeNobleG1,
  lagrangeAtZero,
  randomScalar,
  type G1Point,
  type PointErrorCode,
  type Rng,
} from "@conclave/core-common/threshold";
// The noble module is not among core-common's package exports; its types, domain tag and (in
// tests) its functions are taken from the source directly.
import {
  TBS_DST,
  type BlindShare,
  type Blinded,
  type KeyedNote,
  type ShareItem,
  type TbsBackend,
  type Note,
  type TbsError,
  type TbsErrorCode,
  type TbsResult,
} from "@conclave/core-common/tbs";
import { toHex } from "@conclave/core-common";

/** The 2-argument PT constructor (a Miller loop) is in the bindings but missing from their typings. */
interface MillerLoopConstructor {
  new (p: P1_Affine, q: P2_Affine): PT;
}
const MillerLoop = bindings.PT as typeof bindings.PT & MillerLoopConstructor;

const G1_BYTES = 48;
const G2_BYTES = 96;
const SCALAR_BYTES = 32;
const BATCH_COEFFICIENT_BYTES = 8;

function fail(code: TbsErrorCode, message: string, guardian?: number): { ok: false; error: TbsError } {
  return { ok: false, error: guardian === undefined ? { code, message } : { code, message, guardian } };
}

type Decoded<P> = { readonly ok: true; readonly point: P } | { readonly ok: false; readonly error: TbsError };

interface BlstAffine {
  is_inf(): boolean;
  in_group(): boolean;
  compress(): Uint8Array;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function classify(err: unknown): PointErrorCode {
  const text = err instanceof Error ? err.message : String(err);
  if (/not in group|subgroup/i.test(text)) return "point-not-in-subgroup";
  if (/not on curve/i.test(text)) return "point-not-on-curve";
  return "point-encoding";
}

/**
 * The checks of core-common's decodeG1/decodeG2, in the same order with the same codes: length,
 * encoding and curve (blst's decompression), infinity, subgroup, canonical encoding.
 */
function decodeAffine<P extends BlstAffine>(
  name: "G1" | "G2",
  bytes: Uint8Array,
  length: number,
  construct: (b: Uint8Array) => P,
): Decoded<P> {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    const got = bytes instanceof Uint8Array ? bytes.length : typeof bytes;
    return fail("point-length", `${name} point must be ${length} bytes, got ${got}`);
  }
  let point: P;
  try {
    point = construct(bytes);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return fail(classify(err), `invalid ${name} point: ${detail}`);
  }
  if (point.is_inf()) return fail("point-at-infinity", `${name} point is the point at infinity`);
  if (!point.in_group()) return fail("point-not-in-subgroup", `invalid ${name} point: not in the subgroup`);
  if (!bytesEqual(point.compress(), bytes)) {
    return fail("point-encoding", `${name} point is not canonically encoded`);
  }
  return { ok: true, point };
}

function decodeG1(bytes: Uint8Array): Decoded<P1_Affine> {
  return decodeAffine("G1", bytes, G1_BYTES, (b) => new bindings.P1_Affine(b));
}

function decodeG2(bytes: Uint8Array): Decoded<P2_Affine> {
  return decodeAffine("G2", bytes, G2_BYTES, (b) => new bindings.P2_Affine(b));
}

function decodePoint(what: string, bytes: Uint8Array, guardian?: number): TbsResult<P1_Affine> {
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
const decodedKeys = new Map<string, P2_Affine>();

function decodeKey(what: string, bytes: Uint8Array): TbsResult<P2_Affine> {
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
  return typeof value === "bigint" && value > 0n && value < Fr.ORDER;
}

/** A scalar below r as 32 bytes little-endian: the form blst's mult accepts on Node 20. */
function scalarLE(scalar: bigint): Uint8Array {
  const out = new Uint8Array(SCALAR_BYTES);
  let v = scalar;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function mult(point: P1_Affine, scalarBytes: Uint8Array): P1 {
  return point.to_jacobian().mult(scalarBytes);
}

function hashToP1(nonce: Uint8Array): P1 {
  return new bindings.P1().hash_to(nonce, TBS_DST);
}

/**
 * The note nonce as a G1 point (random-oracle hash_to_curve, the TBS domain tag), returned as the
 * noble point the noble module returns. Converting costs a noble decode: the functions here use the
 * blst point internally, and `hashNoteBytes` gives the compressed form without the conversion.
 */
export function hashNote(nonce: Uint8Array): G1Point {
  const decoded = decodeNobleG1(hashNoteBytes(nonce));
  // hash_to_curve output is always a valid, non-infinity subgroup point.
  if (!decoded.ok) throw new Error(`blst hash_to_curve gave an invalid point: ${decoded.error.message}`);
  return decoded.point;
}

/** The note nonce hashed to G1, compressed (48 bytes). */
export function hashNoteBytes(nonce: Uint8Array): Uint8Array {
  return hashToP1(nonce).compress();
}

/** Guardian side: secretShare * B for a blinded message B received from a client. */
/** Same as core-common's blind: r * H(nonce) with a fresh non-zero scalar r from `rng`. */
export function blind(nonce: Uint8Array, rng: Rng): Blinded {
  const blindingKey = randomScalar(rng);
  const blindedMessage = hashToP1(nonce).mult(scalarLE(blindingKey)).to_affine().compress();
  return { blindingKey, blindedMessage };
}

/** Same as core-common's checkG1Point: a canonical G1 point in the subgroup, not infinity. */
export function checkG1Point(what: string, bytes: Uint8Array): TbsResult<void> {
  const point = decodePoint(what, bytes);
  return point.ok ? { ok: true, value: undefined } : point;
}

export function signBlindShare(secretShare: bigint, blindedMessage: Uint8Array): TbsResult<Uint8Array> {
  if (!isNonZeroScalar(secretShare)) return fail("scalar-out-of-range", "secret share out of range");
  const point = decodePoint("blinded message", blindedMessage);
  if (!point.ok) return point;
  return { ok: true, value: mult(point.value, scalarLE(secretShare)).compress() };
}

/** e(signature, G2) = e(message, publicKey), as one two-pairing product compared with 1. */
function pairingCheck(signature: P1_Affine, message: P1_Affine, publicKey: P2_Affine): boolean {
  const product = new MillerLoop(signature, bindings.BLS12_381_NEG_G2);
  product.mul(new MillerLoop(message, publicKey));
  return product.final_exp().is_one();
}

/**
 * Client side: is `blindShare` guardian i's signature share on `blindedMessage`, checked against its
 * public key share? False also for any malformed input.
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

/** Removes the blinding: multiplies a blind share or a combined blind signature by r^-1. */
export function unblind(blindSignature: Uint8Array, blindingKey: bigint): TbsResult<Uint8Array> {
  if (!isNonZeroScalar(blindingKey)) return fail("scalar-out-of-range", "blinding key out of range");
  const point = decodePoint("blind signature", blindSignature);
  if (!point.ok) return point;
  return { ok: true, value: mult(point.value, scalarLE(Fr.inv(blindingKey))).compress() };
}

/**
 * Lagrange-combines the first `threshold` shares into the federation's signature on whatever the
 * shares sign. Same checks, order and errors as the noble module: the shares are not verified here.
 */
export function combineBlindShares(threshold: number, shares: readonly BlindShare[]): TbsResult<Uint8Array> {
  if (!Number.isInteger(threshold) || threshold < 1) {
    return fail("threshold-invalid", `threshold must be a positive integer, got ${threshold}`);
  }
  const points: { index: number; point: P1_Affine }[] = [];
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
  const used = points.slice(0, threshold);
  const lambdas = lagrangeAtZero(used.map((p) => p.index));
  const combined = new bindings.P1();
  used.forEach(({ point }, i) => {
    combined.add(mult(point, scalarLE(lambdas[i]!)));
  });
  // Only for shares that do not belong together (never for t shares that verify).
  if (combined.is_inf()) return fail("point-at-infinity", "shares combine to the point at infinity");
  return { ok: true, value: combined.compress() };
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
  return pairingCheck(sig.value, hashToP1(nonce).to_affine(), pk.value);
}

/**
 * A random non-zero 64-bit coefficient, drawn exactly as the noble module draws it (8 bytes read
 * big-endian), returned as the 8 little-endian bytes blst multiplies by.
 */
function batchCoefficient(rng: Rng): Uint8Array {
  for (;;) {
    const bytes = rng(BATCH_COEFFICIENT_BYTES);
    if (bytes.length !== BATCH_COEFFICIENT_BYTES) {
      throw new Error(`rng returned ${bytes.length} bytes, not ${BATCH_COEFFICIENT_BYTES}`);
    }
    if (bytes.some((b) => b !== 0)) return Uint8Array.from(bytes).reverse();
  }
}

/**
 * Verifies many notes under one key with one two-pairing product:
 * e(Σ c_i sig_i, G2) = e(Σ c_i H(nonce_i), PK), with random 64-bit c_i from `rng`.
 * Any malformed signature or key: false. An empty batch: true.
 */
export function verifyNotesBatch(aggregatePublicKey: Uint8Array, notes: readonly Note[], rng: Rng): boolean {
  if (notes.length === 0) return true;
  const pk = decodeKey("aggregate public key", aggregatePublicKey);
  if (!pk.ok) return false;
  const signatures: P1_Affine[] = [];
  for (const note of notes) {
    const sig = decodePoint("note signature", note.signature);
    if (!sig.ok) return false;
    signatures.push(sig.value);
  }
  if (notes.length === 1) {
    return pairingCheck(signatures[0]!, hashToP1(notes[0]!.nonce).to_affine(), pk.value);
  }
  const coefficients = notes.map(() => batchCoefficient(rng));
  // No MSM in the bindings: one 64-bit multiplication per point, then additions.
  const sigSum = new bindings.P1();
  const hashSum = new bindings.P1();
  notes.forEach((note, i) => {
    const c = coefficients[i]!;
    sigSum.add(mult(signatures[i]!, c));
    hashSum.add(hashToP1(note.nonce).mult(c));
  });
  return pairingCheck(sigSum.to_affine(), hashSum.to_affine(), pk.value);
}

/** Same as core-common's verifyKeyedNotesBatch: notes of several keys, one multi-pairing. */
export function verifyKeyedNotesBatch(notes: readonly KeyedNote[], rng: Rng): boolean {
  if (notes.length === 0) return true;
  const sigSum = new bindings.P1();
  const groups = new Map<string, { key: P2_Affine; hashSum: P1 }>();
  for (const note of notes) {
    const sig = decodePoint("note signature", note.signature);
    if (!sig.ok) return false;
    const id = toHex(note.publicKey);
    let g = groups.get(id);
    if (!g) {
      const key = decodeKey("aggregate public key", note.publicKey);
      if (!key.ok) return false;
      g = { key: key.value, hashSum: new bindings.P1() };
      groups.set(id, g);
    }
    const c = batchCoefficient(rng);
    sigSum.add(mult(sig.value, c));
    g.hashSum.add(hashToP1(note.nonce).mult(c));
  }
  const product = new MillerLoop(sigSum.to_affine(), bindings.BLS12_381_NEG_G2);
  for (const g of groups.values()) product.mul(new MillerLoop(g.hashSum.to_affine(), g.key));
  return product.final_exp().is_one();
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

/** Same as core-common's verifyBlindSharesBatch: all of one guardian's shares in one check. */
export function verifyBlindSharesBatch(
  publicKeyShare: Uint8Array,
  items: readonly ShareItem[],
  rng: Rng,
): boolean {
  if (items.length === 0) return true;
  const pk = decodeKey("public key share", publicKeyShare);
  if (!pk.ok) return false;
  const shares: P1_Affine[] = [];
  const messages: P1_Affine[] = [];
  for (const item of items) {
    const share = decodePoint("blind share", item.blindShare);
    const message = decodePoint("blinded message", item.blindedMessage);
    if (!share.ok || !message.ok) return false;
    shares.push(share.value);
    messages.push(message.value);
  }
  if (items.length === 1) return pairingCheck(shares[0]!, messages[0]!, pk.value);
  const shareSum = new bindings.P1();
  const messageSum = new bindings.P1();
  items.forEach((_, i) => {
    const c = batchCoefficient(rng);
    shareSum.add(mult(shares[i]!, c));
    messageSum.add(mult(messages[i]!, c));
  });
  return pairingCheck(shareSum.to_affine(), messageSum.to_affine(), pk.value);
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

/** The blst backend as one object (core-common's TbsBackend), for callers that pick a backend once. */
export const blstTbs: TbsBackend = {
  name: "blst",
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
