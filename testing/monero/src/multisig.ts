// A t-of-n multisig wallet on a fresh regtest network, made the way the key ceremony makes it
// (enable-multisig-experimental, prepare, make, exchange until ready), with a miner and a user
// wallet beside it: the set-up shared by the payout and burn-payout regtest tests. In a test run
// (REGTEST_CACHE_ENV, template.ts) it is made once and each file gets a copy: its own monerod and
// wallet-rpcs on its own copy of the chain and wallet files.
import { join } from "node:path";
import {
  enableMultisigExperimental,
  multisigExchange,
  multisigMake,
  multisigPrepare,
  othersOf,
} from "@conclave/monero";
import type { KexStepResult, WalletRpc } from "@conclave/monero";
import { BLOCKS_BEFORE_FIRST_TRANSFER, makeTempDir, mineBlocks, removeDir, startRegtest } from "./regtest.js";
import type { Regtest } from "./regtest.js";
import { copyFromTemplate } from "./template.js";

export const MULTISIG_PASSWORD = "regtest-password";

export interface MultisigRegtest {
  readonly net: Regtest;
  /** The guardians' wallet-rpcs (index = guardian), each holding its share of the multisig wallet. */
  readonly guardianWallets: readonly WalletRpc[];
  readonly miner: WalletRpc;
  readonly minerAddress: string;
  /** A wallet of its own, for the user who deposits and is paid. */
  readonly user: WalletRpc;
  readonly userAddress: string;
  readonly multisigAddress: string;
}

/** Wallet file names in wallet-rpc 0..total+1 and their passwords. */
function walletFiles(total: number): { filename: string; password: string }[] {
  return [
    ...Array.from({ length: total }, (_, i) => ({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
    { filename: "miner", password: "" },
    { filename: "user", password: "" },
  ];
}

/**
 * Makes the wallets and the multisig wallet on `net` (fresh wallet-rpcs, no wallet open) and mines
 * BLOCKS_BEFORE_FIRST_TRANSFER blocks to the miner.
 */
async function makeMultisigWallets(net: Regtest, threshold: number, total: number): Promise<void> {
  const { daemon, walletRpcs } = net;
  const guardianWallets = walletRpcs.slice(0, total).map((w) => w.rpc);
  const miner = walletRpcs[total]!.rpc;
  const user = walletRpcs[total + 1]!.rpc;
  await miner.createWallet({ filename: "miner", password: "" });
  const minerAddress = (await miner.getAddress()).address;
  await Promise.all(
    guardianWallets.map((g, i) => g.createWallet({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
  );
  await user.createWallet({ filename: "user", password: "" });
  // enable-multisig-experimental first (close, wallet-cli, open), then the setup steps.
  await Promise.all(guardianWallets.map((g) => g.closeWallet()));
  await Promise.all(
    walletRpcs
      .slice(0, total)
      .map((w, i) => enableMultisigExperimental(join(w.walletDir, `guardian-${i}`), MULTISIG_PASSWORD)),
  );
  await Promise.all(
    guardianWallets.map((g, i) => g.openWallet({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
  );
  const params = { threshold, total, password: MULTISIG_PASSWORD };
  const prepared = await Promise.all(guardianWallets.map((g) => multisigPrepare(g)));
  let round: KexStepResult[] = await Promise.all(
    guardianWallets.map((g, i) => multisigMake(g, params, othersOf(prepared, i))),
  );
  while (!round.every((r) => r.ready)) {
    const m = round.map((r) => r.message ?? "");
    round = await Promise.all(guardianWallets.map((g, i) => multisigExchange(g, params, othersOf(m, i))));
  }
  await mineBlocks(daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, minerAddress, 10);
}

/**
 * monerod regtest with n + 2 wallet-rpcs: n guardian wallets made one t-of-n multisig wallet
 * (wallet files `guardian-<i>`, password MULTISIG_PASSWORD), a miner and a user; then
 * BLOCKS_BEFORE_FIRST_TRANSFER blocks to the miner, in batches of 10 after the wallets are made (at
 * load 25 a batch mined beside four wallet creations got no answer within the client's 60 s).
 * Stopping is the caller's (`net.stop()`); on a failure here what started is stopped.
 */
export async function startMultisigRegtest(options: {
  readonly threshold: number;
  readonly total: number;
}): Promise<MultisigRegtest> {
  const { threshold, total } = options;
  const walletRpcs = total + 2;
  const dir = makeTempDir();
  let net: Regtest | undefined;
  try {
    const copied = await copyFromTemplate(
      `multisig-${threshold}-of-${total}`,
      async (template) => {
        const built = await startRegtest({ walletRpcs, dir: template, keepDir: true });
        try {
          await makeMultisigWallets(built, threshold, total);
          // close_wallet stores each wallet; then monerod and the wallet-rpcs stop by PID.
          await Promise.all(built.walletRpcs.map((w) => w.rpc.closeWallet()));
        } finally {
          await built.stop();
        }
      },
      dir,
    );
    net = await startRegtest({ walletRpcs, dir, ...(copied ? { keepChain: true } : {}) });
    const rpcs = net.walletRpcs.map((w) => w.rpc);
    if (copied) {
      await Promise.all(walletFiles(total).map((f, i) => rpcs[i]!.openWallet(f)));
    } else {
      await makeMultisigWallets(net, threshold, total);
    }
    const guardianWallets = rpcs.slice(0, total);
    const miner = rpcs[total]!;
    const user = rpcs[total + 1]!;
    const [minerAddress, userAddress, multisigAddress] = await Promise.all(
      [miner, user, guardianWallets[0]!].map(async (w) => (await w.getAddress()).address),
    );
    return {
      net,
      guardianWallets,
      miner,
      minerAddress: minerAddress!,
      user,
      userAddress: userAddress!,
      multisigAddress: multisigAddress!,
    };
  } catch (e) {
    if (net) await net.stop();
    else removeDir(dir);
    throw e;
  }
}
