import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex, utf8 } from "../bytes.js";
import {
  combineSignature,
  hashToG1,
  signPartial,
  verifyPartial,
  verifySignature,
  type PartialSignature,
} from "./bls.js";
import { quorumThreshold } from "../quorum.js";
import { evaluatePolynomial, interpolateG1, randomPolynomial } from "./poly.js";
import { decodeG1, encodeG1, encodeG2, g2Mul } from "./shares.js";
import { Ceremony, seededRng } from "./test-ceremony.js";

describe("hash to G1", () => {
  // RFC 9380 appendix J.9.1, suite BLS12381G1_XMD:SHA-256_SSWU_RO_.
  const dst = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
  const vectors: [string, string, string][] = [
    [
      "",
      "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
      "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265",
    ],
    [
      "abc",
      "03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903",
      "0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d",
    ],
  ];

  for (const [msg, x, y] of vectors) {
    it(`matches the RFC 9380 vector for "${msg}"`, () => {
      expect(toHex(hashToG1(utf8.encode(msg), dst).toBytes(false))).toBe(x + y);
    });
  }

  it("uses Conclave's own domain tag by default", () => {
    expect(hashToG1(utf8.encode("abc")).equals(hashToG1(utf8.encode("abc"), dst))).toBe(false);
  });
});

describe("threshold BLS signatures", () => {
  // A trusted dealer, for speed: the ceremony's own keys are exercised at the end.
  const n = 7;
  const t = quorumThreshold(n);
  const poly = randomPolynomial(t, seededRng("bls"));
  const publicKey = encodeG2(g2Mul(poly[0]!));
  const publicKeyShares = Array.from({ length: n }, (_, i) => encodeG2(g2Mul(evaluatePolynomial(poly, i))));
  const message = utf8.encode("e-cash note 42");
  let partials: PartialSignature[] = [];
  let expected = "";

  beforeAll(() => {
    partials = Array.from({ length: n }, (_, i) => ({
      guardian: i,
      signature: signPartial(evaluatePolynomial(poly, i), message),
    }));
    expected = toHex(encodeG1(hashToG1(message).multiply(poly[0]!)));
  });

  const input = (chosen: readonly PartialSignature[]) => ({
    message,
    threshold: t,
    publicKey,
    publicKeyShares,
    partials: chosen,
  });

  it("combines any t signature shares, in any order, into the one signature that verifies", () => {
    expect(verifySignature(publicKey, message, fromHex(expected))).toBe(true);
    fc.assert(
      fc.property(fc.shuffledSubarray([...Array(n).keys()], { minLength: t, maxLength: n }), (chosen) => {
        const result = combineSignature(input(chosen.map((i) => partials[i]!)));
        expect(result.ok && toHex(result.signature)).toBe(expected);
      }),
      { numRuns: 8 },
    );
  });

  it("never verifies with t - 1 shares", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...Array(n).keys()], { minLength: t - 1, maxLength: t - 1 }),
        (chosen) => {
          expect(combineSignature(input(chosen.map((i) => partials[i]!)))).toMatchObject({
            ok: false,
            error: { code: "too-few-partials" },
          });
          const forced = interpolateG1(
            chosen.map((i) => {
              const d = decodeG1(partials[i]!.signature);
              if (!d.ok) throw new Error("test partial does not decode");
              return { index: i, point: d.point };
            }),
          );
          expect(verifySignature(publicKey, message, encodeG1(forced))).toBe(false);
        },
      ),
      { numRuns: 3 },
    );
  });

  it("verifies a signature share against its guardian's public key share only", () => {
    expect(verifyPartial(publicKeyShares[2]!, message, partials[2]!.signature)).toBe(true);
    expect(verifyPartial(publicKeyShares[3]!, message, partials[2]!.signature)).toBe(false);
    expect(verifyPartial(publicKeyShares[2]!, utf8.encode("other"), partials[2]!.signature)).toBe(false);
    expect(verifyPartial(publicKeyShares[2]!, message, new Uint8Array(48))).toBe(false);
  });

  it("names the guardian of a wrong share and still combines from the good ones", () => {
    const wrong = { guardian: 1, signature: partials[2]!.signature };
    const result = combineSignature(input([wrong, ...partials.filter((p) => p.guardian !== 1)]));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rejected.map((r) => r.guardian)).toEqual([1]);
    expect(result.rejected[0]?.reason).toMatch(/does not verify/);
    expect(result.ok && toHex(result.signature)).toBe(expected);
  });

  it("rejects garbage, duplicate and unknown-guardian shares by name, and fails when too few remain", () => {
    const garbage = { guardian: 0, signature: new Uint8Array(48).fill(0xff) };
    const infinity = { guardian: 1, signature: encodeG1(bls12_381.G1.Point.ZERO) };
    const stranger = { guardian: 9, signature: partials[2]!.signature };
    const result = combineSignature(
      input([garbage, infinity, stranger, partials[3]!, partials[3]!, ...partials.slice(4)]),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("too-few-partials");
    expect(result.error.rejected.map((r) => r.guardian)).toEqual([0, 1, 9, 3]);
    expect(combineSignature({ ...input(partials), publicKey: new Uint8Array(96) })).toMatchObject({
      ok: false,
      error: { code: "invalid-public-key" },
    });
  });

  it("signs with keys from a real 4-guardian ceremony", () => {
    const results = new Ceremony({ n: 4, t: 3, keyCount: 2, seed: "bls-ceremony" }).run().results();
    const key = 1;
    const { publicKey: pk, publicKeyShares: shares } = results[0]!.keys[key]!;
    const signed = [3, 1, 0].map((i) => ({
      guardian: i,
      signature: signPartial(results[i]!.keys[key]!.secretShare, message),
    }));
    const result = combineSignature({
      message,
      threshold: 3,
      publicKey: pk,
      publicKeyShares: shares,
      partials: signed,
    });
    expect(result.ok && verifySignature(pk, message, result.signature)).toBe(true);
    expect(result.ok && verifySignature(results[0]!.keys[0]!.publicKey, message, result.signature)).toBe(
      false,
    );
  });
});
