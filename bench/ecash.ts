// npm run bench:ecash — e-cash end to end on a 4-guardian federation on 127.0.0.1 (real guardian
// processes, native blst in the guardians and in the Node wallet, LMDB on both sides):
//
//   1. reissue of 8 notes into 8 notes through the wallet SDK (decode the note string, check the
//      notes, blind, submit, wait for t guardians, check every share, combine, unblind, verify,
//      store): p50 / p99 latency, one at a time;
//   2. sustained reissues per second with many wallets at once, against the crypto ceiling measured
//      in the same run (bench/ecash-ceiling.ts: the same operations in a loop, no federation);
//   3. restore speed from the mnemonic, in notes per second: from the guardians' encrypted backup,
//      and by scanning alone (no backup).
//
//   npm run bench:ecash [-- --latency 200 --seconds 20 --wallets 16 --restore-notes 4000]
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeInvite, federationId, toHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "@conclave/guardiand";
import type { GuardianProcess } from "@conclave/guardiand";
import { blstTbs } from "@conclave/tbs-native";
import { joinWallet, restoreWallet } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { measureCeiling } from "./ecash-ceiling.js";

const { values } = parseArgs({
  options: {
    latency: { type: "string", default: "200" },
    seconds: { type: "string", default: "20" },
    wallets: { type: "string", default: "16" },
    "restore-notes": { type: "string", default: "4000" },
    "ceiling-seconds": { type: "string", default: "10" },
  },
});
const LATENCY_RUNS = Number(values.latency);
const SECONDS = Number(values.seconds);
const WALLETS = Number(values.wallets);
const RESTORE_NOTES = Number(values["restore-notes"]);
const N = 4;
const UNIT = 20; // smallest denomination of MINT_PARAMS_XMR
/** 2^20 + 2^21 + ... + 2^27: the smallest amount that takes exactly 8 notes. */
const EIGHT_NOTES = 255n << BigInt(UNIT);

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Gives `wallet` `sets` note strings of exactly 8 notes each (one of each of 2^20..2^27). */
async function eightNoteStrings(wallet: WalletApi, sets: number): Promise<string[]> {
  for (let k = UNIT; k < UNIT + 8; k++) await wallet.split(k, sets);
  const out: string[] = [];
  for (let i = 0; i < sets; i++) out.push((await wallet.spend(EIGHT_NOTES)).notes);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "conclave-bench-ecash-"));
const guardians: GuardianProcess[] = [];
const wallets: WalletApi[] = [];
try {
  const files = await writeLocalFederation(dir, N, { heightsPerSession: 16 }, DEV_MODULES_WITH_MINT);
  for (let i = 0; i < N; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  const invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: files.config.name,
    guardians: files.config.guardians.map((g) => ({ name: g.name, api: g.api!.url })),
  });
  console.log(
    `e-cash bench: ${N} guardians on 127.0.0.1, ${cpus().length} cores, blst in guardians and wallets`,
  );

  // The crypto ceiling first, on a quiet machine.
  const ceiling = measureCeiling(blstTbs, N, Number(values["ceiling-seconds"]));
  console.log(
    `crypto ceiling (one thread, client + ${N} guardians' operations of one 8->8 reissue): ` +
      `${ceiling.perSecond.toFixed(1)} reissues/s (${ms(1000 / ceiling.perSecond)} each)`,
  );

  // 1. Latency, one reissue at a time.
  const alice = (await joinWallet(join(dir, "alice"), invite)).wallet;
  const bob = (await joinWallet(join(dir, "bob"), invite)).wallet;
  wallets.push(alice, bob);
  const total = EIGHT_NOTES * BigInt(LATENCY_RUNS + 4);
  for (let left = total; left > 0n;) {
    const chunk = left > EIGHT_NOTES * 24n ? EIGHT_NOTES * 24n : left;
    await alice.devFaucet(chunk);
    left -= chunk;
  }
  const strings = await eightNoteStrings(alice, LATENCY_RUNS + 4);
  for (const s of strings.slice(0, 4)) await bob.reissue(s); // warm-up
  const latencies: number[] = [];
  for (const s of strings.slice(4)) {
    const t0 = performance.now();
    const r = await bob.reissue(s);
    latencies.push(performance.now() - t0);
    if (r.notesIssued !== 8) throw new Error(`a reissue of 8 notes issued ${r.notesIssued}`);
  }
  console.log(
    `reissue 8 -> 8 end to end (${latencies.length} runs, one at a time): ` +
      `p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  max ${ms(Math.max(...latencies))}`,
  );

  // 2. Sustained rate: WALLETS receivers reissuing at once.
  const perWallet = Math.ceil((SECONDS * ceiling.perSecond * 1.2) / WALLETS) + 2;
  await alice.devFaucet(EIGHT_NOTES * BigInt(perWallet * WALLETS));
  const pool = await eightNoteStrings(alice, perWallet * WALLETS);
  const receivers: WalletApi[] = [];
  for (let i = 0; i < WALLETS; i++) {
    const w = (await joinWallet(join(dir, `receiver-${i}`), invite)).wallet;
    receivers.push(w);
    wallets.push(w);
  }
  let done = 0;
  const sustained: number[] = [];
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    receivers.map(async (w, i) => {
      for (let k = 0; k < perWallet && performance.now() < deadline; k++) {
        const t0 = performance.now();
        await w.reissue(pool[i * perWallet + k]!);
        sustained.push(performance.now() - t0);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const rate = done / elapsed;
  const machineCeiling = ceiling.perSecond * cpus().length;
  console.log(
    `sustained: ${done} reissues in ${elapsed.toFixed(1)} s with ${WALLETS} wallets = ${rate.toFixed(1)} reissues/s ` +
      `(p50 ${ms(percentile(sustained, 50))}); ${((100 * rate) / ceiling.perSecond).toFixed(0)}% of the one-thread ` +
      `ceiling, ${((100 * rate) / machineCeiling).toFixed(0)}% of ${cpus().length} threads' ceiling (${machineCeiling.toFixed(1)}/s)`,
  );

  // 3. Restore: a wallet holding RESTORE_NOTES notes, backed up, restored from its mnemonic.
  const { wallet: carol, mnemonic } = await joinWallet(join(dir, "carol"), invite);
  wallets.push(carol);
  const notesPerFaucet = 200;
  for (let made = 0; made < RESTORE_NOTES; made += notesPerFaucet) {
    // 200 notes of 2^20 each: split the faucet money into the smallest denomination.
    await carol.devFaucet(BigInt(notesPerFaucet) << BigInt(UNIT));
    await carol.split(UNIT, made + notesPerFaucet);
  }
  const held = (await carol.info()).notes.reduce((a, d) => a + d.count, 0);
  await carol.backup();
  const fromBackup = await restoreWallet(join(dir, "carol-restored"), invite, mnemonic);
  wallets.push(fromBackup.wallet);
  const rb = fromBackup.result;
  console.log(
    `restore from backup: ${rb.notes} notes (${rb.fromBackup} from the backup, ${rb.fromScan} by scan; wallet held ${held}) ` +
      `in ${rb.elapsedMs.toFixed(0)} ms = ${Math.round((rb.notes * 1000) / rb.elapsedMs)} notes/s`,
  );
  // Scan only: the same mnemonic in another wallet that never backed up (a fresh federation root
  // would differ, so instead: a new wallet, notes issued, no backup).
  const { wallet: dave, mnemonic: daveWords } = await joinWallet(join(dir, "dave"), invite);
  wallets.push(dave);
  await dave.devFaucet(BigInt(notesPerFaucet) << BigInt(UNIT));
  await dave.split(UNIT, notesPerFaucet);
  const scanned = await restoreWallet(join(dir, "dave-restored"), invite, daveWords);
  wallets.push(scanned.wallet);
  const rs = scanned.result;
  console.log(
    `restore by scan only (no backup): ${rs.notes} notes in ${rs.elapsedMs.toFixed(0)} ms = ` +
      `${Math.round((rs.notes * 1000) / rs.elapsedMs)} notes/s`,
  );
} finally {
  await Promise.all(wallets.map((w) => w.close().catch(() => undefined)));
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  rmSync(dir, { recursive: true, force: true });
}
