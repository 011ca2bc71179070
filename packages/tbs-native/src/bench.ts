// Prints rough speeds of blst against noble: `npx tsx packages/tbs-native/src/bench.ts`.
// Informational, never asserted.
import { utf8 } from "@conclave/core-common";
import {
  commitPolynomial,
  encodeG1,
  encodeG2,
  evaluatePolynomial,
  randomPolynomial,
} from "@conclave/core-common/threshold";
import * as noble from "@conclave/core-common/tbs";
import { seededRng } from "../../core-common/src/tbs/vectors.js";
import * as fast from "./index.js";

function measure(name: string, iterations: number, fn: () => void): number {
  fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const opsPerSecond = (1000 * iterations) / (performance.now() - start);
  console.log(`${name.padEnd(32)} ${opsPerSecond.toFixed(1).padStart(10)} ops/s`);
  return opsPerSecond;
}

const rng = seededRng("tbs-native/bench");
const poly = randomPolynomial(3, rng);
const secretShare = evaluatePolynomial(poly, 0);
const publicKey = encodeG2(commitPolynomial([poly[0]!])[0]!);
const { blindedMessage } = noble.blind(utf8.encode("bench"), rng);
const notes = Array.from({ length: 8 }, (_, i) => {
  const nonce = utf8.encode(`note ${i}`);
  return { nonce, signature: encodeG1(noble.hashNote(nonce).multiply(poly[0]!)) };
});
const note = notes[0]!;

const impls = [
  { name: "blst", tbs: fast, scale: 20 },
  { name: "noble", tbs: noble, scale: 1 },
] as const;
const results = new Map<string, number>();
for (const { name, tbs, scale } of impls) {
  const sign = measure(`${name}: sign blind share`, 50 * scale, () => {
    if (!tbs.signBlindShare(secretShare, blindedMessage).ok) throw new Error("sign failed");
  });
  const verify = measure(`${name}: verify note`, 20 * scale, () => {
    if (!tbs.verifyNote(publicKey, note.nonce, note.signature)) throw new Error("verify failed");
  });
  const batch = measure(`${name}: verify batch of 8`, 10 * scale, () => {
    if (!tbs.verifyNotesBatch(publicKey, notes, rng)) throw new Error("batch failed");
  });
  results.set(`${name}/sign`, sign);
  results.set(`${name}/verify`, verify);
  results.set(`${name}/batch`, batch);
}
for (const op of ["sign", "verify", "batch"]) {
  const ratio = (results.get(`blst/${op}`) ?? 0) / (results.get(`noble/${op}`) ?? 1);
  console.log(`blst/noble ${op.padEnd(8)} ${ratio.toFixed(1)}x`);
}
