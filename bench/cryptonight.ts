// Times CryptoNight variant 0 (packages/monero cryptonight.ts, hand-written TypeScript), the one hash a signer
// computes per multisig wallet to derive the chacha key of its transaction sets, and prints the figure
// for docs/benchmarks.md. Run: npx tsx bench/cryptonight.ts [--runs 5]
import { loadavg } from "node:os";
import { cnSlowHashV0 } from "@conclave/monero";

const at = process.argv.indexOf("--runs");
const runs = at >= 0 ? Number(process.argv[at + 1]) : 5;
const input = new Uint8Array(32).fill(7); // a view key's size
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  cnSlowHashV0(input);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const ms = (v: number): string => `${v.toFixed(0)} ms`;
console.log(
  `cn_slow_hash v0 of 32 bytes, ${runs} runs: min ${ms(times[0]!)}, median ${ms(times[Math.floor(runs / 2)]!)}, ` +
    `max ${ms(times[runs - 1]!)} (first run includes JIT warm-up); load average ${loadavg()[0]!.toFixed(1)}`,
);
