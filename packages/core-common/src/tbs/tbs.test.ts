import { readFileSync } from "node:fs";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex, utf8 } from "../bytes.js";
import { hashToG1 } from "../threshold/bls.js";
import { Fr, evaluatePolynomial, randomPolynomial } from "../threshold/poly.js";
import { encodeG1, encodeG2, g2Mul } from "../threshold/shares.js";
import {
  TBS_DST,
  blind,
  combineBlindShares,
  decodeBlindingKey,
  encodeBlindingKey,
  findBadNotes,
  hashNote,
  signBlindShare,
  unblind,
  verifyBlindShare,
  verifyNote,
  verifyNotesBatch,
  type BlindShare,
  type Note,
  type TbsResult,
} from "./index.js";
import { computeVectors, seededRng } from "./vectors.js";

function unwrap<T>(result: TbsResult<T>): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

// A trusted dealer's keys: n = 4, t = 3.
const n = 4;
const t = 3;
const poly = randomPolynomial(t, seededRng("tbs/dealer"));
const secretShares = Array.from({ length: n }, (_, i) => evaluatePolynomial(poly, i));
const aggregatePublicKey = encodeG2(g2Mul(poly[0]!));
const publicKeyShares = secretShares.map((s) => encodeG2(g2Mul(s)));

/** Shares of guardians `signers`, as a client would receive them. */
function sharesOf(signers: readonly number[], blindShares: readonly Uint8Array[]): BlindShare[] {
  return signers.map((guardian) => ({ guardian, share: blindShares[guardian]! }));
}

/** A note signed by the federation without blinding, for the tests that need many. */
function issue(nonce: Uint8Array): Note {
  return { nonce, signature: encodeG1(hashNote(nonce).multiply(poly[0]!)) };
}

describe("hashNote", () => {
  it("uses its own domain tag, not the plain BLS one", () => {
    expect(TBS_DST).toBe("CONCLAVE-TBS-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_");
    const nonce = utf8.encode("nonce");
    expect(hashNote(nonce).equals(hashToG1(nonce, TBS_DST))).toBe(true);
    expect(hashNote(nonce).equals(hashToG1(nonce))).toBe(false);
  });
});

describe("blind signing end to end", () => {
  const rng = seededRng("tbs/client");
  const nonce = rng(32);
  const { blindingKey, blindedMessage } = blind(nonce, rng);
  let blindShares: Uint8Array[] = [];
  let signature: Uint8Array = new Uint8Array();

  beforeAll(() => {
    blindShares = secretShares.map((s) => unwrap(signBlindShare(s, blindedMessage)));
    signature = encodeG1(hashNote(nonce).multiply(poly[0]!));
  });

  it("blinded message hides the nonce's hash but is r * H(nonce)", () => {
    expect(toHex(blindedMessage)).not.toBe(toHex(encodeG1(hashNote(nonce))));
    expect(toHex(blindedMessage)).toBe(toHex(encodeG1(hashNote(nonce).multiply(blindingKey))));
  });

  it("t guardians sign, the client verifies each share, combines, unblinds and verifies the note", () => {
    const signers = [2, 0, 3];
    for (const g of signers) {
      expect(verifyBlindShare(publicKeyShares[g]!, blindedMessage, blindShares[g]!)).toBe(true);
    }
    const blindSignature = unwrap(combineBlindShares(t, sharesOf(signers, blindShares)));
    const noteSignature = unwrap(unblind(blindSignature, blindingKey));
    expect(toHex(noteSignature)).toBe(toHex(signature));
    expect(verifyNote(aggregatePublicKey, nonce, noteSignature)).toBe(true);
  });

  it("any t of the n shares, in any order, combine to the same signature", () => {
    const expected = toHex(unwrap(combineBlindShares(t, sharesOf([0, 1, 2], blindShares))));
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2, 3], { minLength: t, maxLength: t }), (subset) => {
        const blindSig = unwrap(combineBlindShares(t, sharesOf(subset, blindShares)));
        expect(toHex(blindSig)).toBe(expected);
      }),
      { numRuns: 12, seed: 1 },
    );
  });

  it("extra shares beyond t are ignored", () => {
    const all = unwrap(combineBlindShares(t, sharesOf([3, 1, 0, 2], blindShares)));
    const three = unwrap(combineBlindShares(t, sharesOf([3, 1, 0], blindShares)));
    expect(toHex(all)).toBe(toHex(three));
  });

  it("unblinding commutes with combining", () => {
    const signers = [3, 1, 2];
    const combineThenUnblind = unwrap(
      unblind(unwrap(combineBlindShares(t, sharesOf(signers, blindShares))), blindingKey),
    );
    const unblindedShares = blindShares.map((s) => unwrap(unblind(s, blindingKey)));
    const unblindThenCombine = unwrap(combineBlindShares(t, sharesOf(signers, unblindedShares)));
    expect(toHex(unblindThenCombine)).toBe(toHex(combineThenUnblind));
    expect(toHex(unblindThenCombine)).toBe(toHex(signature));
  });

  it("t - 1 shares never give a valid note signature", () => {
    const pairs = [
      [0, 1],
      [2, 3],
      [3, 0],
    ];
    for (const signers of pairs) {
      expect(combineBlindShares(t, sharesOf(signers, blindShares))).toMatchObject({
        ok: false,
        error: { code: "too-few-shares" },
      });
      // Pretending the threshold is t - 1 combines to something, but not to the signature.
      const fake = unwrap(
        unblind(unwrap(combineBlindShares(t - 1, sharesOf(signers, blindShares))), blindingKey),
      );
      expect(toHex(fake)).not.toBe(toHex(signature));
    }
    const fake = unwrap(
      unblind(unwrap(combineBlindShares(t - 1, sharesOf([1, 2], blindShares))), blindingKey),
    );
    expect(verifyNote(aggregatePublicKey, nonce, fake)).toBe(false);
  });

  it("a wrong share is detected and its guardian named", () => {
    const tampered = blindShares.slice();
    // Guardian 1 signs with the wrong key.
    tampered[1] = unwrap(signBlindShare(Fr.add(secretShares[1]!, 1n), blindedMessage));
    const blamed = [0, 1, 2].filter(
      (g) => !verifyBlindShare(publicKeyShares[g]!, blindedMessage, tampered[g]!),
    );
    expect(blamed).toEqual([1]);
    const bad = unwrap(unblind(unwrap(combineBlindShares(t, sharesOf([0, 1, 2], tampered))), blindingKey));
    expect(verifyNote(aggregatePublicKey, nonce, bad)).toBe(false);
    // A share that is not a point at all is named by the combiner.
    tampered[2] = new Uint8Array(48);
    expect(combineBlindShares(t, sharesOf([0, 2, 3], tampered))).toMatchObject({
      ok: false,
      error: { code: "point-encoding", guardian: 2 },
    });
  });

  it("a note with a tampered nonce or signature fails", () => {
    const otherNonce = nonce.slice();
    otherNonce[0]! ^= 1;
    expect(verifyNote(aggregatePublicKey, otherNonce, signature)).toBe(false);
    const otherSignature = encodeG1(hashNote(nonce).multiply(Fr.add(poly[0]!, 1n)));
    expect(verifyNote(aggregatePublicKey, nonce, otherSignature)).toBe(false);
    const flipped = signature.slice();
    flipped[47]! ^= 1;
    expect(verifyNote(aggregatePublicKey, nonce, flipped)).toBe(false);
    // A valid signature under a different key.
    expect(verifyNote(publicKeyShares[0]!, nonce, signature)).toBe(false);
  });

  it("combines rejects duplicates, bad indices and bad thresholds as values", () => {
    expect(combineBlindShares(t, sharesOf([0, 1, 1], blindShares))).toMatchObject({
      ok: false,
      error: { code: "duplicate-share", guardian: 1 },
    });
    expect(combineBlindShares(t, [{ guardian: -1, share: blindShares[0]! }])).toMatchObject({
      ok: false,
      error: { code: "guardian-index" },
    });
    expect(combineBlindShares(t, [{ guardian: 1.5, share: blindShares[0]! }])).toMatchObject({
      ok: false,
      error: { code: "guardian-index" },
    });
    expect(combineBlindShares(0, sharesOf([0], blindShares))).toMatchObject({
      ok: false,
      error: { code: "threshold-invalid" },
    });
  });
});

describe("batch verification", () => {
  const notes = Array.from({ length: 8 }, (_, i) => issue(utf8.encode(`note ${i}`)));

  it("accepts 8 good notes", () => {
    expect(verifyNotesBatch(aggregatePublicKey, notes, seededRng("batch/1"))).toBe(true);
    expect(findBadNotes(aggregatePublicKey, notes, seededRng("batch/2"))).toEqual([]);
  });

  it("rejects a batch with one bad note, and findBadNotes names it", () => {
    const bad = notes.slice();
    bad[5] = { nonce: notes[5]!.nonce, signature: notes[6]!.signature };
    expect(verifyNotesBatch(aggregatePublicKey, bad, seededRng("batch/3"))).toBe(false);
    expect(findBadNotes(aggregatePublicKey, bad, seededRng("batch/4"))).toEqual([5]);
  });

  it("rejects swapped signatures that a plain sum would accept", () => {
    // sig_a + sig_b = s(H_a + H_b): only the random coefficients tell the swap apart.
    const swapped = [
      { nonce: notes[0]!.nonce, signature: notes[1]!.signature },
      { nonce: notes[1]!.nonce, signature: notes[0]!.signature },
    ];
    expect(verifyNotesBatch(aggregatePublicKey, swapped, seededRng("batch/5"))).toBe(false);
  });

  it("handles the empty batch, and rejects malformed signatures or keys without throwing", () => {
    expect(verifyNotesBatch(aggregatePublicKey, [], seededRng("batch/6"))).toBe(true);
    const malformed = [notes[0]!, { nonce: notes[1]!.nonce, signature: new Uint8Array(47) }];
    expect(verifyNotesBatch(aggregatePublicKey, malformed, seededRng("batch/7"))).toBe(false);
    expect(verifyNotesBatch(new Uint8Array(96), notes, seededRng("batch/8"))).toBe(false);
  });
});

describe("decoding peer and user input", () => {
  const base = encodeG1(bls12_381.G1.Point.BASE);
  const infinity = encodeG1(bls12_381.G1.Point.ZERO);
  const offCurve: Uint8Array[] = [];
  const outOfSubgroup: Uint8Array[] = [];
  for (let x = 1; x < 40; x++) {
    const bytes = new Uint8Array(48);
    bytes[0] = 0x80;
    bytes[47] = x;
    let decoded = true;
    try {
      bls12_381.G1.Point.fromBytes(bytes);
    } catch (err) {
      decoded = false;
      const message = err instanceof Error ? err.message : String(err);
      if (/subgroup/i.test(message)) outOfSubgroup.push(bytes);
      else offCurve.push(bytes);
    }
    expect(decoded).toBe(false);
  }

  const cases: [string, Uint8Array, string][] = [
    ["wrong length (short)", base.subarray(0, 47), "point-length"],
    ["wrong length (uncompressed)", bls12_381.G1.Point.BASE.toBytes(false), "point-length"],
    ["infinity", infinity, "point-at-infinity"],
    ["off curve", offCurve[0]!, "point-not-on-curve"],
    ["out of subgroup", outOfSubgroup[0]!, "point-not-in-subgroup"],
    ["all zero", new Uint8Array(48), "point-encoding"],
  ];

  it("found test points of both bad kinds", () => {
    expect(offCurve.length).toBeGreaterThan(0);
    expect(outOfSubgroup.length).toBeGreaterThan(0);
  });

  for (const [name, bytes, code] of cases) {
    it(`rejects a ${name} point as a typed error everywhere`, () => {
      expect(signBlindShare(secretShares[0]!, bytes)).toMatchObject({ ok: false, error: { code } });
      expect(unblind(bytes, 5n)).toMatchObject({ ok: false, error: { code } });
      expect(combineBlindShares(1, [{ guardian: 0, share: bytes }])).toMatchObject({
        ok: false,
        error: { code, guardian: 0 },
      });
      expect(verifyBlindShare(publicKeyShares[0]!, bytes, base)).toBe(false);
      expect(verifyBlindShare(publicKeyShares[0]!, base, bytes)).toBe(false);
      expect(verifyNote(aggregatePublicKey, utf8.encode("x"), bytes)).toBe(false);
    });
  }

  it("rejects bad public keys as false", () => {
    expect(verifyNote(aggregatePublicKey.subarray(1), utf8.encode("x"), base)).toBe(false);
    expect(verifyNote(encodeG2(bls12_381.G2.Point.ZERO), utf8.encode("x"), base)).toBe(false);
    expect(verifyBlindShare(new Uint8Array(96), base, base)).toBe(false);
  });

  it("rejects out-of-range scalars as typed errors", () => {
    expect(signBlindShare(0n, base)).toMatchObject({ ok: false, error: { code: "scalar-out-of-range" } });
    expect(signBlindShare(Fr.ORDER, base)).toMatchObject({
      ok: false,
      error: { code: "scalar-out-of-range" },
    });
    expect(unblind(base, 0n)).toMatchObject({ ok: false, error: { code: "scalar-out-of-range" } });
    expect(unblind(base, -1n)).toMatchObject({ ok: false, error: { code: "scalar-out-of-range" } });
    expect(decodeBlindingKey(new Uint8Array(32))).toMatchObject({
      ok: false,
      error: { code: "scalar-out-of-range" },
    });
    expect(decodeBlindingKey(new Uint8Array(31).fill(1))).toMatchObject({ ok: false });
    expect(decodeBlindingKey(new Uint8Array(32).fill(0xff))).toMatchObject({ ok: false });
    expect(decodeBlindingKey(encodeBlindingKey(12345n))).toEqual({ ok: true, value: 12345n });
  });

  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 50 }), (bytes) => {
        const signed = signBlindShare(secretShares[0]!, bytes);
        const combined = combineBlindShares(1, [{ guardian: 0, share: bytes }]);
        expect(signed.ok).toBe(combined.ok);
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});

describe("test vectors", () => {
  it("vectors.json is recomputed exactly from its seed", () => {
    const stored: unknown = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8"));
    expect(stored).toEqual(computeVectors());
  });

  it("the vector signature verifies and the blind shares verify against their key shares", () => {
    const v = computeVectors();
    expect(verifyNote(fromHex(v.aggregatePublicKey), fromHex(v.nonce), fromHex(v.signature))).toBe(true);
    expect(
      verifyBlindShare(fromHex(v.publicKeyShares[3]!), fromHex(v.blindedMessage), fromHex(v.blindShares[3]!)),
    ).toBe(true);
  });
});
