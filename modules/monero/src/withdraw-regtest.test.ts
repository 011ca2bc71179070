// A withdrawal end to end against real Monero software, set up as `npm start` does
// (apps/guardiand/src/dev.ts): monerod in regtest, a monero-wallet-rpc per guardian and one for the
// user, 80 blocks mined to the user, the real key ceremony in four `conclaved setup run` processes
// (DKG, the mint's keys, and the 3-of-4 multisig rounds between the guardians' wallets), then four
// guardian processes, a block mined every second. The user pays the federation's multisig address,
// the wallet SDK claims the deposit into notes, then withdraws part of it to the user's address:
// the user's wallet receives exactly that amount, and the outcome's tx key proves it
// (check_tx_key). A withdrawal to an invalid address is refused at submission, nothing lost.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TransactionRejectedError,
  encodeInvite,
  encodeSetupCode,
  parseFederationConfig,
} from "@conclave/core-common";
import {
  freePort,
  runConclaved,
  startGuardianFromDir,
  stopGuardian,
  waitConnected,
} from "@conclave/guardiand";
import type { GuardianProcess } from "@conclave/guardiand";
import { parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet/node";
import type { Wallet, WithdrawProgress } from "@conclave/wallet/node";
import { inviteOf, setupInit } from "../../../apps/guardiand/src/setup-cli.js";

const N = 4;
const MONERO_INSTANCE = 2;
const WALLET_PASSWORD = "dev-wallet-password";
const DEPOSIT = parseXmr("2");
const WITHDRAWAL = parseXmr("0.5");

let net: Regtest | undefined;
let root = "";
let dirs: string[] = [];
const ceremonyChildren: ChildProcess[] = [];
const guardians: GuardianProcess[] = [];
let user: WalletRpc;
let userAddress = "";
let federationAddress = "";
let wallet: Wallet | undefined;
let mining: Promise<void> | undefined;
let stopMining = false;
const miningFailures: string[] = [];
const timings: Record<string, number> = {};
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A block every second, as `npm start -- --block-seconds 1` mines (to the user, as dev.ts to the demo wallet). */
function startMining(): void {
  mining = (async () => {
    while (!stopMining) {
      await mineBlocks(net!.daemon.rpc, 1, userAddress).catch((e: unknown) => {
        miningFailures.push(e instanceof Error ? e.message : String(e));
      });
      await sleep(1000);
    }
  })();
}

beforeAll(async () => {
  ensureMoneroInstalled();
  lapStart = Date.now();
  root = mkdtempSync(join(tmpdir(), "conclave-monero-withdraw-"));
  dirs = Array.from({ length: N }, (_, i) => join(root, `guardian-${i}`));
  net = await startRegtest({ walletRpcs: N + 1, dir: join(root, "monero") });
  const names = [...dirs.map((_, i) => `guardian-${i}`), "user"];
  await Promise.all(
    net.walletRpcs.map((w, i) => w.rpc.createWallet({ filename: names[i]!, password: WALLET_PASSWORD })),
  );
  user = net.walletRpcs[N]!.rpc;
  userAddress = (await user.getAddress()).address;
  await mineBlocks(net.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, userAddress);
  lap("monerod + 5 wallet-rpc, wallets, 80 blocks");

  // The key ceremony, as dev.ts runs it.
  const codes: string[] = [];
  for (let i = 0; i < N; i++)
    codes.push(
      encodeSetupCode(
        setupInit(
          dirs[i]!,
          `guardian-${i}`,
          `127.0.0.1:${await freePort()}`,
          `http://127.0.0.1:${await freePort()}`,
        ),
      ),
    );
  const modulesFile = join(root, "monero-module.json");
  writeFileSync(
    modulesFile,
    JSON.stringify([
      {
        instanceId: MONERO_INSTANCE,
        kind: "monero",
        config: { network: "mainnet", confirmations: 2, depositMinPiconero: "1000000" },
      },
    ]),
  );
  await Promise.all(
    dirs.map(async (d, i) => {
      const w = net!.walletRpcs[i]!;
      const localFile = join(d, "setup-local.json");
      const settings = {
        walletRpcUrl: w.url,
        walletName: `guardian-${i}`,
        walletPassword: WALLET_PASSWORD,
        walletDir: w.walletDir,
      };
      writeFileSync(localFile, JSON.stringify({ modules: { [MONERO_INSTANCE]: settings } }), { mode: 0o600 });
      const run = await runConclaved([
        "setup",
        "run",
        "--data",
        d,
        "--codes",
        codes.join(","),
        "--federation-name",
        "local",
        "--environment",
        "dev",
        "--dummy-module",
        "--mint",
        "--modules",
        modulesFile,
        "--local",
        localFile,
      ]);
      ceremonyChildren.push(run.child);
      return run.done;
    }),
  );
  lap("key ceremony (DKG + 3-of-4 multisig)");

  for (let i = 0; i < N; i++) {
    const local = { daemonUrl: net.daemon.url, walletRpcUrl: net.walletRpcs[i]!.url, pollMs: 500 };
    writeFileSync(
      join(dirs[i]!, "guardian.local.json"),
      JSON.stringify({ modules: { [MONERO_INSTANCE]: local } }, null, 2),
      { mode: 0o600 },
    );
  }
  const config = parseFederationConfig(JSON.parse(readFileSync(join(dirs[0]!, "federation.json"), "utf8")));
  const address = config.modules.find((m) => m.kind === "monero")?.config["address"];
  federationAddress = typeof address === "string" ? address : "";
  startMining();
  for (let i = 0; i < N; i++) guardians.push(await startGuardianFromDir(dirs[i]!, i));
  await waitConnected(guardians);
  const invite = encodeInvite(inviteOf(config));
  wallet = (await nodeWallets().joinWallet(join(root, "wallet"), invite)).wallet;
  lap("4 guardians, a wallet joined");
}, 240_000);

afterAll(async () => {
  stopMining = true;
  await mining;
  await wallet?.close();
  for (const c of ceremonyChildren) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.allSettled(guardians.map((g) => stopGuardian(g)));
  await net?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
  console.log(`monero withdraw e2e timings (ms): ${JSON.stringify(timings)}`);
  if (miningFailures.length > 0) console.log(`mining failures: ${miningFailures.slice(-5).join("; ")}`);
});

describe("withdraw to a Monero address (real monerod, the real ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  it("the ceremony made the guardians' wallets one 3-of-4 multisig wallet: the federation's address", async () => {
    expect(federationAddress).toMatch(/^4[1-9A-HJ-NP-Za-km-z]{94}$/);
    const guardianRpcs = net!.walletRpcs.slice(0, N).map((w) => w.rpc);
    const status = await Promise.all(guardianRpcs.map((w) => w.isMultisig()));
    expect(status).toEqual(Array(N).fill({ multisig: true, ready: true, threshold: 3, total: N }));
    const addresses = await Promise.all(guardianRpcs.map(async (w) => (await w.getAddress()).address));
    expect(addresses).toEqual(Array(N).fill(federationAddress));
    expect(federationAddress).not.toBe(userAddress);
  });

  it("a deposit to the federation is claimed into notes", async () => {
    lapStart = Date.now();
    await user.refresh();
    const sent = await user.transfer({ destinations: [{ address: federationAddress, amount: DEPOSIT }] });
    expect(sent.txid).toBeTruthy();
    const txKey = await user.getTxKey(sent.txid!);
    const r = await wallet!.claimDeposit({ txid: sent.txid!, txKey }, { pollMs: 200, timeoutMs: 120_000 });
    expect(r.amount + r.dust).toBe(DEPOSIT);
    expect((await wallet!.info()).balance).toBe(r.amount);
    lap("deposit claimed");
  }, 150_000);

  it("a withdrawal to an invalid address is refused at submission, nothing lost", async () => {
    const before = await wallet!.info();
    // One character changed: still base58 of the right length, but the checksum fails.
    const at = 50;
    const bad = userAddress.slice(0, at) + (userAddress[at] === "A" ? "B" : "A") + userAddress.slice(at + 1);
    const e = await wallet!.withdraw(bad, WITHDRAWAL).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).code).toBe("invalid_address");
    const after = await wallet!.info();
    expect(after.balance).toBe(before.balance);
    expect(after.pendingOperations).toBe(0);
  }, 60_000);

  it("withdraws part of it: the user's wallet receives exactly that amount, and the tx key proves it", async () => {
    lapStart = Date.now();
    const before = (await wallet!.info()).balance;
    const progress: WithdrawProgress[] = [];
    const r = await wallet!.withdraw(userAddress, WITHDRAWAL, {
      pollMs: 250,
      timeoutMs: 180_000,
      onProgress: (p) => progress.push(p),
    });
    lap("withdrawal confirmed");
    expect(r.amount).toBe(WITHDRAWAL);
    expect(r.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)?.stage).toBe("confirmed");
    expect(new Set(progress.map((p) => p.stage)).has("submitted")).toBe(true);
    // The notes paid the amount and the fees; the change came back as notes.
    expect((await wallet!.info()).balance).toBe(before - WITHDRAWAL - r.fee);
    const proof = await user.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey, address: userAddress });
    expect(proof.received).toBe(WITHDRAWAL);
    expect(proof.confirmations).toBeGreaterThanOrEqual(1);
    await user.refresh();
    const incoming = (await user.getTransferByTxid(r.moneroTxid)).filter((t) => t.type === "in");
    expect(incoming.map((t) => t.amount)).toEqual([WITHDRAWAL]);
  }, 200_000);
});
