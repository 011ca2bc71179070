// npm run bench:regtest-setup: where a regtest test file's set-up time goes. Times each phase of
// what startMultisigRegtest (testing/monero/src/multisig.ts) does, by calling that file's own phase
// functions — monerod start, wallet-rpc starts, wallet creation, prepare (which turns on
// enable-multisig-experimental), the 3-of-4 key exchange rounds, mining in batches —
// plus what test bodies wait on: one block mined and seen by a wallet refresh, and mining to an
// unlock window. Prints one line per phase (ms) and a JSON summary. Everything started is stopped by
// PID and its directory removed.
import { join } from "node:path";
import { loadavg } from "node:os";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  OUTPUT_UNLOCK_BLOCKS,
  createGuardianWallets,
  ensureMoneroInstalled,
  exchangeGuardianWallets,
  makeGuardianWallets,
  makeTempDir,
  mineBlocks,
  prepareGuardianWallets,
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
    await createGuardianWallets(guardians);
    lap(`${N} wallets created at once`);
    const prepared = await prepareGuardianWallets(guardians);
    lap(`prepare_multisig with enable_multisig_experimental x${N}`);
    let round = await makeGuardianWallets(guardians, T, prepared);
    lap("make_multisig x4");
    let rounds = 0;
    while (!round.every((r) => r.ready)) {
      round = await exchangeGuardianWallets(guardians, T, round);
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
