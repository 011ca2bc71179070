// npm run monero:regtest [-- --wallet-rpcs 2 --blocks 80]
// Starts a Monero regtest network in a temporary directory: monerod plus monero-wallet-rpc processes
// on 127.0.0.1, a wallet "miner" (empty password) in the first one with `--blocks` mined to it, and
// prints the URLs. Ctrl-C stops every process by its PID and removes the directory.
import { parseArgs } from "node:util";
import { formatXmr } from "@conclave/monero";
import { BLOCKS_BEFORE_FIRST_TRANSFER, ensureMoneroInstalled, mineBlocks, startRegtest } from "./regtest.js";

const WALLET_RPCS_MAX = 16;
const BLOCKS_MAX = 10_000;

function intOption(value: string | undefined, fallback: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`--${name} must be an integer in 0..${max}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { "wallet-rpcs": { type: "string" }, blocks: { type: "string" } },
    strict: true,
  });
  const walletRpcs = intOption(values["wallet-rpcs"], 1, WALLET_RPCS_MAX, "wallet-rpcs");
  const blocks = intOption(values.blocks, BLOCKS_BEFORE_FIRST_TRANSFER, BLOCKS_MAX, "blocks");

  ensureMoneroInstalled();
  const net = await startRegtest({ walletRpcs });
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping monerod and wallet-rpc (by PID)...");
    net.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  try {
    console.log(`monerod (regtest)   ${net.daemon.url}   pid ${net.daemon.pid}`);
    for (const [i, w] of net.walletRpcs.entries()) {
      console.log(`monero-wallet-rpc ${i} ${w.url}   pid ${w.pid}   wallets in ${w.walletDir}`);
    }
    const first = net.walletRpcs[0];
    if (first !== undefined) {
      await first.rpc.createWallet({ filename: "miner", password: "" });
      const address = (await first.rpc.getAddress()).address;
      if (blocks > 0) await mineBlocks(net.daemon.rpc, blocks, address);
      await first.rpc.refresh();
      const balance = await first.rpc.getBalance();
      console.log(`wallet "miner" (password "") open in wallet-rpc 0: ${address}`);
      console.log(
        `  balance ${formatXmr(balance.balance)} XMR, unlocked ${formatXmr(balance.unlockedBalance)} XMR`,
      );
    }
    console.log(`height ${(await net.daemon.rpc.getHeight()).height}; data in ${net.dir}; Ctrl-C stops.`);
  } catch (e) {
    console.error(e);
    shutdown();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
