// Deterministic test vectors for the blind signature scheme: a trusted dealer's keys (n = 4,
// t = 3) from a fixed seed, one note blinded, signed by guardians 0, 1 and 3 (shares of all four
// are listed), combined, unblinded. `make-vectors.ts` writes them to vectors.json; a test
// recomputes them and compares.
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../bytes.js";
import { Writer } from "../codec.js";
import { evaluatePolynomial, randomPolynomial, scalarToBytes, type Rng } from "../threshold/poly.js";
import { encodeG1, encodeG2, g2Mul } from "../threshold/shares.js";
import {
  TBS_DST,
  blind,
  combineBlindShares,
  hashNote,
  signBlindShare,
  unblind,
  type TbsResult,
} from "./tbs.js";

export const VECTOR_SEED = "conclave/tbs/vectors/v1";

/** sha256(seed || u32 counter) in counter mode: reproducible randomness, for vectors and tests only. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  return (bytes: number) => {
    const out = new Uint8Array(bytes);
    for (let offset = 0; offset < bytes; offset += 32) {
      const block = sha256(new Writer().raw(utf8.encode(seed)).u32(counter++).finish());
      out.set(block.subarray(0, Math.min(32, bytes - offset)), offset);
    }
    return out;
  };
}

export interface TbsVectors {
  readonly dst: string;
  readonly seed: string;
  readonly n: number;
  readonly t: number;
  readonly aggregatePublicKey: string;
  readonly publicKeyShares: string[];
  readonly secretShares: string[];
  readonly nonce: string;
  readonly hashedNonce: string;
  readonly blindingKey: string;
  readonly blindedMessage: string;
  readonly blindShares: string[];
  readonly signers: number[];
  readonly blindSignature: string;
  readonly signature: string;
}

function unwrap<T>(result: TbsResult<T>): T {
  if (!result.ok) throw new Error(`test vector computation failed: ${result.error.message}`);
  return result.value;
}

export function computeVectors(seed: string = VECTOR_SEED): TbsVectors {
  const n = 4;
  const t = 3;
  const rng = seededRng(seed);
  const poly = randomPolynomial(t, rng);
  const secretShares = Array.from({ length: n }, (_, i) => evaluatePolynomial(poly, i));
  const nonce = rng(32);
  const { blindingKey, blindedMessage } = blind(nonce, rng);
  const blindShares = secretShares.map((s) => unwrap(signBlindShare(s, blindedMessage)));
  const signers = [0, 1, 3];
  const blindSignature = unwrap(
    combineBlindShares(
      t,
      signers.map((guardian) => ({ guardian, share: blindShares[guardian]! })),
    ),
  );
  return {
    dst: TBS_DST,
    seed,
    n,
    t,
    aggregatePublicKey: toHex(encodeG2(g2Mul(poly[0]!))),
    publicKeyShares: secretShares.map((s) => toHex(encodeG2(g2Mul(s)))),
    secretShares: secretShares.map((s) => toHex(scalarToBytes(s))),
    nonce: toHex(nonce),
    hashedNonce: toHex(encodeG1(hashNote(nonce))),
    blindingKey: toHex(scalarToBytes(blindingKey)),
    blindedMessage: toHex(blindedMessage),
    blindShares: blindShares.map(toHex),
    signers,
    blindSignature: toHex(blindSignature),
    signature: toHex(unwrap(unblind(blindSignature, blindingKey))),
  };
}
