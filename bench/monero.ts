// npm run bench:monero — Monero deposits end to end on a 4-guardian federation (t = 3) on
// 127.0.0.1: monerod in regtest, a monero-wallet-rpc per guardian (each guardian checks claims on its
// own), a user wallet with mined coins, 4 guardian processes and the wallet SDK. The deposit address
// is guardian 0's plain wallet (as in the deposit tests): a multisig address changes nothing a deposit
// does, and costs ~30-60 s of setup (the key ceremony's multisig rounds).
//
// Measured per deposit: from the block that gives the payment its confirmation depth (the block
// count at which t guardians may credit it) to the e-cash notes stored in the wallet — the
// federation's overhead beyond the chain (issue 5's target: at most 1 s). The claim is posted while
// the payment is still in the pool, as a user would, and a block is mined every second meanwhile.
//
// Payouts (payout request -> transaction submitted) are not measured yet: the wallet has no
// `withdraw` (docs/monero.md, "Payouts").
//
//   npm run bench:monero [-- --deposits 10]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
import { parseXmr } from "@conclave/monero";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet/node";
import type { Wallet } from "@conclave/wallet/node";

const { values } = parseArgs({ options: { deposits: { type: "string", default: "10" } } });
const DEPOSITS = Number(values.deposits);
const GUARDIANS = 4;
const MONERO = 2;
const CONFIRMATIONS = 2;

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let net: Regtest | undefined;
const guardians: GuardianProcess[] = [];
let wallet: Wallet | undefined;
const dir = mkdtempSync(join(tmpdir(), "conclave-bench-monero-"));
let mining = true;
try {
  ensureMoneroInstalled();
  const t0 = Date.now();
  net = await startRegtest({ walletRpcs: GUARDIANS + 1 });
  const regtest = net;
  const user = regtest.walletRpcs[GUARDIANS]!.rpc;
  await user.createWallet({ filename: "user", password: "" });
  const userAddress = (await user.getAddress()).address;
  await Promise.all(
    regtest.walletRpcs
      .slice(0, GUARDIANS)
      .map((w, i) => w.rpc.createWallet({ filename: `guardian-${i}`, password: "" })),
  );
  await mineBlocks(regtest.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, userAddress);
  const federationAddress = (await regtest.walletRpcs[0]!.rpc.getAddress()).address;
  const files = await writeLocalFederation(dir, GUARDIANS, { heightsPerSession: 16 }, [
    ...DEV_MODULES_WITH_MINT,
    {
      instanceId: MONERO,
      kind: "monero",
      config: {
        network: "mainnet",
        address: federationAddress,
        guardians: GUARDIANS,
        confirmations: CONFIRMATIONS,
        depositMinPiconero: "1000000",
      },
    },
  ]);
  files.dataDirs.forEach((d, i) => {
    mkdirSync(d, { recursive: true });
    const local = { daemonUrl: regtest.daemon.url, walletRpcUrl: regtest.walletRpcs[i]!.url, pollMs: 200 };
    writeFileSync(join(d, "guardian.local.json"), JSON.stringify({ modules: { [MONERO]: local } }));
  });
  for (let i = 0; i < GUARDIANS; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  const invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: files.config.name,
    guardians: files.config.guardians.map((g) => ({ name: g.name, api: g.api!.url })),
  });
  wallet = (await nodeWallets().joinWallet(join(dir, "wallet"), invite)).wallet;
  console.log(
    `monero bench: ${GUARDIANS} guardians (t = 3), monerod regtest, ${CONFIRMATIONS} confirmations; ` +
      `setup ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  // A block every second while a claim waits (not while the user's wallet builds its payment: a
  // transfer and a block being added to the chain at once stall wallet-rpc here); remember when each
  // block count was reached.
  const reachedAt = new Map<number, number>();
  const daemon = regtest.daemon.rpc;
  let ticking = false;
  let ticker: Promise<void> = Promise.resolve();
  const startTicker = () => {
    ticking = true;
    ticker = (async () => {
      while (ticking && mining) {
        await sleep(1000);
        if (!ticking) break;
        await mineBlocks(daemon, 1, userAddress).catch(() => undefined);
        const height = (await daemon.getHeight()).height;
        if (!reachedAt.has(height)) reachedAt.set(height, performance.now());
      }
    })();
  };
  const stopTicker = async () => {
    ticking = false;
    await ticker;
  };

  const overheads: number[] = [];
  for (let k = 0; k < DEPOSITS; k++) {
    await user.refresh();
    const sent = await user.transfer({
      destinations: [{ address: federationAddress, amount: parseXmr("0.1") }],
    });
    if (!sent.txid) throw new Error("no txid");
    const txKey = await user.getTxKey(sent.txid);
    startTicker();
    const result = await wallet.claimDeposit({ txid: sent.txid, txKey }, { pollMs: 50 });
    const doneAt = performance.now();
    await stopTicker();
    // The block count at which the deposit had its depth: its block + confirmations (a count).
    const tx = (await daemon.getTransactions([sent.txid])).found[0];
    const txHeight = tx?.blockHeight;
    if (txHeight === undefined) throw new Error("the deposit is not in a block");
    const deepAt = reachedAt.get(txHeight + CONFIRMATIONS);
    if (deepAt === undefined) throw new Error(`block count ${txHeight + CONFIRMATIONS} not seen`);
    overheads.push(doneAt - deepAt);
    if (result.amount !== parseXmr("0.1")) throw new Error(`credited ${result.amount}`);
  }
  mining = false;
  console.log(
    `deposit at depth -> e-cash in the wallet (${overheads.length} deposits): ` +
      `p50 ${percentile(overheads, 50).toFixed(0)} ms  max ${Math.max(...overheads).toFixed(0)} ms`,
  );
} finally {
  mining = false;
  await wallet?.close().catch(() => undefined);
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
}
