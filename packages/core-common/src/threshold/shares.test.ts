import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../bytes.js";
import { Fr, evaluatePolynomial, randomPolynomial, randomScalar } from "./poly.js";
import {
  commitPolynomial,
  decodeG1,
  decodeG2,
  encodeG1,
  encodeG2,
  g2Mul,
  publicKeyShare,
  verifyShare,
  verifyShares,
} from "./shares.js";
import { seededRng } from "./test-ceremony.js";

describe("Feldman commitments in G2", () => {
  const rng = seededRng("feldman");
  const polys = [randomPolynomial(3, rng), randomPolynomial(3, rng), randomPolynomial(3, rng)];
  const commitments = polys.map(commitPolynomial);

  it("accepts the right share and gives the public key share of its guardian", () => {
    for (const index of [0, 3, 6]) {
      const share = evaluatePolynomial(polys[0]!, index);
      expect(verifyShare(commitments[0]!, index, share)).toBe(true);
      expect(publicKeyShare(commitments[0]!, index).equals(g2Mul(share))).toBe(true);
    }
  });

  it("rejects a share that is off by one, meant for another guardian, or out of range", () => {
    const share = evaluatePolynomial(polys[0]!, 2);
    expect(verifyShare(commitments[0]!, 2, Fr.add(share, 1n))).toBe(false);
    expect(verifyShare(commitments[0]!, 1, share)).toBe(false);
    expect(verifyShare(commitments[0]!, 2, share + Fr.ORDER)).toBe(false);
  });

  it("checks one share per key in a batch, and a single bad share fails the batch", () => {
    const index = 4;
    const shares = polys.map((p) => evaluatePolynomial(p, index));
    expect(verifyShares(commitments, index, shares)).toBe(true);
    for (let bad = 0; bad < shares.length; bad++) {
      const wrong = shares.map((s, k) => (k === bad ? Fr.add(s, 1n) : s));
      expect(verifyShares(commitments, index, wrong)).toBe(false);
    }
    const swapped = [shares[1]!, shares[0]!, shares[2]!];
    expect(verifyShares(commitments, index, swapped)).toBe(false);
  });
});

describe("point codecs", () => {
  const points = fc.string().map((seed) => randomScalar(seededRng(seed)));

  it("encode like noble and decode back to the same point (G1 and G2)", () => {
    fc.assert(
      fc.property(points, (s) => {
        const p1 = bls12_381.G1.Point.BASE.multiply(s);
        const p2 = bls12_381.G2.Point.BASE.multiply(s);
        expect(toHex(encodeG1(p1))).toBe(toHex(p1.toBytes(true)));
        expect(toHex(encodeG2(p2))).toBe(toHex(p2.toBytes(true)));
        const d1 = decodeG1(encodeG1(p1));
        const d2 = decodeG2(encodeG2(p2));
        expect(d1.ok && d1.point.equals(p1)).toBe(true);
        expect(d2.ok && d2.point.equals(p2)).toBe(true);
        // Negated points differ only by the sort flag.
        expect(encodeG2(p2.negate())[0]! ^ encodeG2(p2)[0]!).toBe(0x20);
      }),
      { numRuns: 20 },
    );
  });

  it("reject bad lengths, the point at infinity, uncompressed forms, off-curve and out-of-subgroup points", () => {
    const g2 = encodeG2(bls12_381.G2.Point.BASE);
    expect(decodeG2(g2.subarray(0, 95))).toMatchObject({ ok: false, error: { code: "point-length" } });
    expect(decodeG2(encodeG2(bls12_381.G2.Point.ZERO))).toMatchObject({
      ok: false,
      error: { code: "point-at-infinity" },
    });
    expect(decodeG2(bls12_381.G2.Point.BASE.toBytes(false))).toMatchObject({
      ok: false,
      error: { code: "point-length" },
    });
    const flags = g2.slice();
    flags[0] = (flags[0]! & 0x1f) | 0xe0;
    expect(decodeG2(flags)).toMatchObject({ ok: false, error: { code: "point-encoding" } });
    const tooBig = new Uint8Array(96).fill(0xff);
    tooBig[0] = 0x9f;
    expect(decodeG2(tooBig)).toMatchObject({ ok: false, error: { code: "point-encoding" } });

    const codes = new Set<string>();
    for (let x = 1; x < 40; x++) {
      const bytes = new Uint8Array(48);
      bytes[0] = 0x80;
      bytes[47] = x;
      const decoded = decodeG1(bytes);
      if (!decoded.ok) codes.add(decoded.error.code);
    }
    expect([...codes].sort()).toEqual(["point-not-in-subgroup", "point-not-on-curve"]);
  });

  it("decodes random bytes only to points that re-encode to the same bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (bytes) => {
        bytes[0] = (bytes[0]! & 0x3f) | 0x80;
        const decoded = decodeG1(bytes);
        if (decoded.ok) expect(toHex(encodeG1(decoded.point))).toBe(toHex(bytes));
        else expect(decoded.error.message).toMatch(/G1/);
      }),
      { numRuns: 50 },
    );
  });
});
