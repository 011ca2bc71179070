// npm run bench:regtest-setup: where a regtest test file's set-up time goes. Times each phase of
// what startMultisigRegtest (testing/monero/src/multisig.ts) does — monerod start, wallet-rpc starts,
// wallet creation, enable-multisig-experimental, the 3-of-4 key exchange rounds, mining in batches —
// plus what test bodies wait on: one block mined and seen by a wallet refresh, and mining to an
// unlock window. Prints one line per phase (ms) and a JSON summary. Everything started is stopped by
// PID and its directory removed.
import { join } from "node:path";
import { loadavg } from "node:os";
import {
  enableMultisigExperimental,
  multisigExchange,
  multisigMake,
  multisigPrepare,
  othersOf,
} from "@conclave/monero";
import type { KexStepResult } from "@conclave/monero";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  MULTISIG_PASSWORD,
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  makeTempDir,
  mineBlocks,
  removeDir,
  startMonerod,
  startWalletRpc,
} from "@conclave/testing-monero";
import type { MonerodHandle, WalletRpcHandle } from "@conclave/testing-monero";

const T = 3;
const N = 4;
const figures: Record<string, number> = {};
let lapStart = performance.now();
function lap(name: string): void {
  const ms = Math.round(performance.now() - lapStart);
  figures[name] = ms;
  console.log(`${String(ms).padStart(7)} ms  ${name}`);
  lapStart = performance.now();
}

async function main(): Promise<void> {
  ensureMoneroInstalled();
  const load = loadavg().map((l) => l.toFixed(1));
  console.log(`load average at start: ${load.join(" ")}`);
  const dir = makeTempDir("conclave-bench-setup-");
  let daemon: MonerodHandle | undefined;
  const wallets: WalletRpcHandle[] = [];
  try {
    lapStart = performance.now();
    daemon = await startMonerod({ dataDir: join(dir, "monerod") });
    lap("monerod started (RPC answers)");
    const d = daemon;
    wallets.push(
      ...(await Promise.all(
        Array.from({ length: N + 2 }, (_, i) =>
          startWalletRpc({ daemonUrl: d.url, walletDir: join(dir, `wallet-rpc-${i}`) }),
        ),
      )),
    );
    lap(`${N + 2} wallet-rpc started`);
    const guardians = wallets.slice(0, N).map((w) => w.rpc);
    const miner = wallets[N]!.rpc;
    await miner.createWallet({ filename: "miner", password: "" });
    const minerAddress = (await miner.getAddress()).address;
    lap("1 wallet created (miner)");
    await Promise.all(
      guardians.map((g, i) => g.createWallet({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
    );
    lap(`${N} wallets created at once`);
    await Promise.all(guardians.map((g) => g.closeWallet()));
    await Promise.all(
      wallets
        .slice(0, N)
        .map((w, i) => enableMultisigExperimental(join(w.walletDir, `guardian-${i}`), MULTISIG_PASSWORD)),
    );
    await Promise.all(
      guardians.map((g, i) => g.openWallet({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
    );
    lap("enable-multisig-experimental (close, wallet-cli, open) x4");
    const params = { threshold: T, total: N, password: MULTISIG_PASSWORD };
    const prepared = await Promise.all(guardians.map((g) => multisigPrepare(g)));
    lap("prepare_multisig x4");
    let round: KexStepResult[] = await Promise.all(
      guardians.map((g, i) => multisigMake(g, params, othersOf(prepared, i))),
    );
    lap("make_multisig x4");
    let rounds = 0;
    while (!round.every((r) => r.ready)) {
      const m = round.map((r) => r.message ?? "");
      round = await Promise.all(guardians.map((g, i) => multisigExchange(g, params, othersOf(m, i))));
      rounds++;
      lap(`exchange_multisig_keys round ${rounds} x4`);
    }
    await mineBlocks(d.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, minerAddress, 10);
    lap(`${BLOCKS_BEFORE_FIRST_TRANSFER} blocks mined, batches of 10`);
    await mineBlocks(d.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, minerAddress, 40);
    lap(`${BLOCKS_BEFORE_FIRST_TRANSFER} more blocks mined, batches of 40`);
    await miner.refresh();
    lap(`miner wallet refresh over ${2 * BLOCKS_BEFORE_FIRST_TRANSFER} blocks`);
    await Promise.all(guardians.map((g) => g.refresh()));
    lap(`${N} multisig wallets refresh over ${2 * BLOCKS_BEFORE_FIRST_TRANSFER} blocks`);
    for (let i = 0; i < 5; i++) {
      await d.rpc.generateBlocks(1, minerAddress);
      await miner.refresh();
    }
    lap("5 x (1 block mined + miner refresh)");
    await mineBlocks(d.rpc, OUTPUT_UNLOCK_BLOCKS, minerAddress);
    lap(`${OUTPUT_UNLOCK_BLOCKS} blocks (an output unlock window) in one call`);
    for (const w of wallets) await w.stop();
    lap(`${N + 2} wallet-rpc stopped (one at a time)`);
    await daemon.stop();
    daemon = undefined;
    lap("monerod stopped");
  } finally {
    await Promise.allSettled(wallets.map((w) => w.stop()));
    await daemon?.stop();
    removeDir(dir);
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(`regtest set-up figures (ms): ${JSON.stringify(figures)}`);
}

await main();
