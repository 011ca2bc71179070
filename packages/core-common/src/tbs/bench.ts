// Prints rough speeds: `npx tsx packages/core-common/src/tbs/bench.ts`. Informational, never asserted.
import { utf8 } from "../bytes.js";
import { evaluatePolynomial, randomPolynomial } from "../threshold/poly.js";
import { encodeG1, encodeG2, g2Mul } from "../threshold/shares.js";
import { blind, hashNote, signBlindShare, verifyNote, verifyNotesBatch } from "./tbs.js";
import { seededRng } from "./vectors.js";

function measure(name: string, iterations: number, fn: () => void): void {
  fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const ms = (performance.now() - start) / iterations;
  console.log(
    `${name.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms/op ${(1000 / ms).toFixed(1).padStart(8)} ops/s`,
  );
}

const rng = seededRng("tbs/bench");
const poly = randomPolynomial(3, rng);
const secretShare = evaluatePolynomial(poly, 0);
const publicKey = encodeG2(g2Mul(poly[0]!));
const { blindedMessage } = blind(utf8.encode("bench"), rng);
const notes = Array.from({ length: 8 }, (_, i) => {
  const nonce = utf8.encode(`note ${i}`);
  return { nonce, signature: encodeG1(hashNote(nonce).multiply(poly[0]!)) };
});

measure("sign blind share", 50, () => {
  if (!signBlindShare(secretShare, blindedMessage).ok) throw new Error("sign failed");
});
measure("verify note", 20, () => {
  if (!verifyNote(publicKey, notes[0]!.nonce, notes[0]!.signature)) throw new Error("verify failed");
});
measure("verify batch of 8", 10, () => {
  if (!verifyNotesBatch(publicKey, notes, rng)) throw new Error("batch failed");
});
