// Times CryptoNight variant 0 (packages/monero cryptonight.ts, hand-written TypeScript), the one hash a signer
// computes per multisig wallet to derive the chacha key of its transaction sets, then the reading of a
// real multisig set once that key is cached (readMultisigTxSetKeyImages on the regtest fixture), and
// prints the figures for docs/benchmarks.md. Run: npx tsx bench/cryptonight.ts [--runs 5] [--reads 200]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { cnSlowHashV0, readMultisigTxSetKeyImages } from "@conclave/monero";

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const runs = arg("--runs", 5);
const reads = arg("--reads", 200);
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

const fixture = JSON.parse(
  readFileSync(new URL("../packages/monero/src/fixtures/multisig-txset-3of4.json", import.meta.url), "utf8"),
) as { viewKey: string; signedTxset: string };
readMultisigTxSetKeyImages(fixture.signedTxset, fixture.viewKey); // derives and caches the key
const t = performance.now();
for (let i = 0; i < reads; i++) readMultisigTxSetKeyImages(fixture.signedTxset, fixture.viewKey);
console.log(
  `readMultisigTxSetKeyImages of a real ${fixture.signedTxset.length / 2}-byte set, key cached: ` +
    `${((performance.now() - t) / reads).toFixed(2)} ms each over ${reads} reads; load average ${loadavg()[0]!.toFixed(1)}`,
);
