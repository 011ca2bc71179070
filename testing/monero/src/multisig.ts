// A t-of-n multisig wallet on a fresh regtest network, made the way the key ceremony makes it
// (prepare with enable-multisig-experimental, make, exchange until ready), with a miner and a user
// wallet beside it: the set-up shared by the payout and burn-payout regtest tests. In a test run
// (REGTEST_CACHE_ENV, template.ts) it is made once and each file gets a copy: its own monerod and
// wallet-rpcs on its own copy of the chain and wallet files.
import { multisigExchange, multisigMake, multisigPrepare, othersOf } from "@conclave/monero";
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

// The phases of the set-up, exported so that bench/regtest-setup.ts times these same steps.

/** Creates guardian wallets `guardian-<i>` (password MULTISIG_PASSWORD), one per wallet-rpc, at once. */
export async function createGuardianWallets(guardianWallets: readonly WalletRpc[]): Promise<void> {
  await Promise.all(
    guardianWallets.map((g, i) => g.createWallet({ filename: `guardian-${i}`, password: MULTISIG_PASSWORD })),
  );
}

/**
 * prepare_multisig in every guardian wallet, with enable-multisig-experimental turned on by its flag
 * (multisigPrepare): before, each wallet was closed, set by monero-wallet-cli and opened again, three
 * RSA key generations per wallet (docs/benchmarks.md "Suite time").
 */
export function prepareGuardianWallets(guardianWallets: readonly WalletRpc[]): Promise<string[]> {
  return Promise.all(guardianWallets.map((g) => multisigPrepare(g)));
}

/** make_multisig in every guardian wallet with the others' prepare messages. */
export function makeGuardianWallets(
  guardianWallets: readonly WalletRpc[],
  threshold: number,
  prepared: readonly string[],
): Promise<KexStepResult[]> {
  const params = { threshold, total: guardianWallets.length, password: MULTISIG_PASSWORD };
  return Promise.all(guardianWallets.map((g, i) => multisigMake(g, params, othersOf(prepared, i))));
}

/** One exchange_multisig_keys round in every guardian wallet with the others' previous messages. */
export function exchangeGuardianWallets(
  guardianWallets: readonly WalletRpc[],
  threshold: number,
  previous: readonly KexStepResult[],
): Promise<KexStepResult[]> {
  const params = { threshold, total: guardianWallets.length, password: MULTISIG_PASSWORD };
  const m = previous.map((r) => r.message ?? "");
  return Promise.all(guardianWallets.map((g, i) => multisigExchange(g, params, othersOf(m, i))));
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
  await createGuardianWallets(guardianWallets);
  await user.createWallet({ filename: "user", password: "" });
  const prepared = await prepareGuardianWallets(guardianWallets);
  let round = await makeGuardianWallets(guardianWallets, threshold, prepared);
  while (!round.every((r) => r.ready))
    round = await exchangeGuardianWallets(guardianWallets, threshold, round);
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
