// Times readMultisigExport (packages/monero multisig-txset.ts) on the largest export consensus takes
// (a crafted one: 1 output whose nonce pairs fill ~3.7 MiB), once its view key's chacha key is cached,
// and prints the figure for docs/benchmarks.md. Before the review of 4819c19 every point was decoded
// and checked (~1 ms each: minutes for such an export); now the read is linear in the bytes.
// Run: npx tsx bench/multisig-export.ts [--reads 5]
import { loadavg } from "node:os";
import { ed25519 } from "@noble/curves/ed25519.js";
import { readMultisigExport, sealMultisigExport } from "@conclave/monero";

const at = process.argv.indexOf("--reads");
const reads = at >= 0 ? Number(process.argv[at + 1]) : 5;
const VIEW_KEY = "0a".repeat(31) + "01";
const point = (n: number): Uint8Array => ed25519.Point.BASE.multiply(BigInt(n)).toBytes();
const account = { publicSpendKey: point(11), publicViewKey: point(12) };
const signer = point(13);
const pairs = 58_000; // 58,000 x 64 bytes: ~3.7 MiB, 116,000 points
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const head = [...account.publicSpendKey, ...account.publicViewKey, ...signer, 1, ...signer, ...varint(pairs)];
const plain = new Uint8Array(head.length + pairs * 64 + 1 + 32);
plain.set(head, 0);
const p = point(7);
for (let i = 0; i < 2 * pairs; i++) plain.set(p, head.length + 32 * i);
plain.set([1, ...point(20)], head.length + pairs * 64);
const hex = sealMultisigExport(plain, VIEW_KEY);
readMultisigExport(hex, VIEW_KEY, account); // the chacha key (one CryptoNight hash) cached
const times: number[] = [];
for (let i = 0; i < reads; i++) {
  const t = performance.now();
  readMultisigExport(hex, VIEW_KEY, account);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(
  `readMultisigExport of a ${(hex.length / 2 / 1024 / 1024).toFixed(2)} MiB export (${2 * pairs} points), ${reads} reads: ` +
    `min ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(reads / 2)]!.toFixed(0)} ms, max ${times[reads - 1]!.toFixed(0)} ms; ` +
    `load average ${loadavg()[0]!.toFixed(1)}`,
);
