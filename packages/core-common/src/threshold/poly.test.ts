import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Fr,
  evaluatePolynomial,
  interpolateG1,
  interpolateG2,
  interpolateScalars,
  lagrangeAtZero,
  randomPolynomial,
  randomScalar,
  scalarFromBytes,
  scalarToBytes,
} from "./poly.js";
import { seededRng } from "./test-ceremony.js";

/** n, t, and a random choice of t distinct guardian indices in a random order. */
const quorum = fc
  .integer({ min: 1, max: 10 })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n })))
  .chain(([n, t]) =>
    fc.tuple(
      fc.constant(n),
      fc.constant(t),
      fc.shuffledSubarray([...Array(n).keys()], { minLength: t, maxLength: t }),
      fc.string(),
    ),
  );

describe("polynomials over Fr", () => {
  it("recovers f(0) from any t shares, in any order", () => {
    fc.assert(
      fc.property(quorum, ([, t, indices, seed]) => {
        const f = randomPolynomial(t, seededRng(seed));
        const shares = indices.map((index) => ({ index, value: evaluatePolynomial(f, index) }));
        expect(interpolateScalars(shares)).toBe(f[0]);
      }),
    );
  });

  it("does not recover f(0) from t - 1 shares", () => {
    fc.assert(
      fc.property(quorum, ([, t, indices, seed]) => {
        fc.pre(t >= 2);
        const f = randomPolynomial(t, seededRng(seed));
        const shares = indices.slice(1).map((index) => ({ index, value: evaluatePolynomial(f, index) }));
        expect(interpolateScalars(shares)).not.toBe(f[0]);
      }),
    );
  });

  it("evaluates guardian i at i + 1", () => {
    const f = [5n, 3n, 2n];
    expect(evaluatePolynomial(f, 0)).toBe(10n);
    expect(evaluatePolynomial(f, 2)).toBe(5n + 9n + 18n);
  });

  it("has Lagrange coefficients that sum to 1 and refuses repeated indices", () => {
    fc.assert(
      fc.property(quorum, ([, , indices]) => {
        expect(lagrangeAtZero(indices).reduce((a, b) => Fr.add(a, b), 0n)).toBe(1n);
      }),
    );
    expect(() => lagrangeAtZero([1, 1])).toThrow(RangeError);
    expect(() => lagrangeAtZero([-1])).toThrow(RangeError);
  });

  it("interpolates G1 and G2 points in the exponent like the scalars", () => {
    const f = randomPolynomial(3, seededRng("exponent"));
    const indices = [4, 0, 2];
    const g1 = interpolateG1(
      indices.map((index) => ({
        index,
        point: bls12_381.G1.Point.BASE.multiply(evaluatePolynomial(f, index)),
      })),
    );
    const g2 = interpolateG2(
      indices.map((index) => ({
        index,
        point: bls12_381.G2.Point.BASE.multiply(evaluatePolynomial(f, index)),
      })),
    );
    expect(g1.equals(bls12_381.G1.Point.BASE.multiply(f[0]!))).toBe(true);
    expect(g2.equals(bls12_381.G2.Point.BASE.multiply(f[0]!))).toBe(true);
  });

  it("draws non-zero scalars below r and encodes them canonically", () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        const s = randomScalar(seededRng(seed));
        expect(s > 0n && s < Fr.ORDER).toBe(true);
        expect(scalarFromBytes(scalarToBytes(s))).toBe(s);
      }),
    );
    expect(
      scalarFromBytes(scalarToBytes(Fr.ORDER - 1n).map((b, i) => (i === 31 ? b + 1 : b))),
    ).toBeUndefined();
    expect(scalarFromBytes(new Uint8Array(31))).toBeUndefined();
    expect(() => randomScalar(() => new Uint8Array(3))).toThrow(/rng/);
  });
});
