// npm start: a local federation on 127.0.0.1. Each guardian is its own process with its own LMDB
// store; they set the federation up with the real key ceremony (no dealer), then run consensus and
// serve the client API. Prints the invite code and the API URLs. Ctrl-C stops every process.
//
// With Monero (the default): monerod in regtest, one monero-wallet-rpc per guardian holding that
// guardian's wallet, and a demo user's wallet with mined coins. The ceremony turns the guardians'
// wallets into one t-of-n multisig wallet whose address is the federation's deposit address; a
// block is mined every few seconds so that deposits confirm.
//
// With the EVM bridge (the default): anvil (foundry's dev chain, from npm) on 127.0.0.1, its state
// in DIR/evm; the bridge module's config names the contract address anvil's first dev account
// creates next (`conclaved bridge address`), the ceremony adds the guardians' EVM addresses, and
// the contract is deployed for that set (`conclaved bridge deploy`; on a restart only verified). Every
// guardian runs the bridge module against anvil, and refuses to start unless the contract holds its
// set. npm start prints the RPC URL, chain id, contract and a funded dev account.
//
// Restarting without --fresh reopens everything: the regtest chain (monerod --keep-fakechain), the
// wallets and the federation. A guardian that dies (kill -9) leaves the others running (they
// tolerate f = ⌊(n−1)/3⌋ down); npm start prints the command that brings it back. Each guardian's
// log is DIR/logs/guardian-N.log.
//
//   npm start [-- --guardians 4 --dir .tmp/local-federation --fresh --no-monero --block-seconds 5
//                 --no-bridge --evm-block-seconds 5]
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodeInvite, parseFederationConfig, faultTolerance, quorumThreshold } from "@conclave/core-common";
import { hashAdminPassword } from "@conclave/core-server";
import { startGuardianFromDir, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess, StatusReply } from "./guardian-processes.js";
import type { DemoMonero } from "./demo-pay.js";
import {
  DEV_MONERO_CONFIG,
  DEV_WALLET_PASSWORD,
  runLocalCeremony,
  writeBridgeLocal,
  writeMoneroLocal,
} from "./monero-federation.js";
import { ANVIL_MNEMONIC, startAnvil } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { bytesToHex } from "viem";
import type { Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { deployBridge, nextContractAddress } from "./bridge-deploy.js";
import type { BridgeDeploymentRecord } from "./bridge-deploy.js";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { inviteOf } from "./setup-cli.js";

const { values } = parseArgs({
  options: {
    guardians: { type: "string", default: "4" },
    dir: { type: "string", default: ".tmp/local-federation" },
    fresh: { type: "boolean", default: false },
    "no-monero": { type: "boolean", default: false },
    "block-seconds": { type: "string", default: "5" },
    "no-bridge": { type: "boolean", default: false },
    "evm-block-seconds": { type: "string", default: "5" },
  },
});
const startedAt = Date.now();
const evmBlockSeconds = Number(values["evm-block-seconds"]);
if (!Number.isInteger(evmBlockSeconds) || evmBlockSeconds < 1 || evmBlockSeconds > 600) {
  process.stderr.write("--evm-block-seconds takes a whole number from 1 to 600\n");
  process.exit(2);
}
const withMonero = !values["no-monero"];
const blockSeconds = Number(values["block-seconds"]);
if (!(blockSeconds >= 1 && blockSeconds <= 600)) {
  process.stderr.write("--block-seconds takes a number from 1 to 600\n");
  process.exit(2);
}
const n = Number(values.guardians);
if (!Number.isInteger(n) || n < 1 || n > 16) {
  process.stderr.write("--guardians takes a whole number from 1 to 16\n");
  process.exit(2);
}
const root = resolve(values.dir);
if (values.fresh) rmSync(root, { recursive: true, force: true });
const dirs = Array.from({ length: n }, (_, i) => join(root, `guardian-${i}`));
const logDir = join(root, "logs");
const logOf = (i: number): string => join(logDir, `guardian-${i}.log`);
const f = faultTolerance(n);

/**
 * `demo:pay` holds this file while the demo wallet builds its transfer: wallet-rpc 0.18's transfer
 * asks the daemon for ring members and starts over when the chain grew meanwhile, so with a block
 * every second or two on a loaded machine it can go on for minutes (seen in tests). A file older
 * than MINING_PAUSE_MAX_MS (a demo:pay that died) is ignored.
 */
const MINING_PAUSE_FILE = "mining-paused"; // also in demo-pay.ts
const MINING_PAUSE_MAX_MS = 120_000;
function miningPaused(): boolean {
  try {
    return Date.now() - statSync(join(root, MINING_PAUSE_FILE)).mtimeMs < MINING_PAUSE_MAX_MS;
  } catch {
    return false;
  }
}

const guardians: GuardianProcess[] = [];
let net: Regtest | undefined;
let anvil: Anvil | undefined;
let evmMiner: NodeJS.Timeout | undefined;
/** anvil's first dev account deploys the contract; the second is the user's to try with. */
const deployer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 });
const user = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 });
const privateKeyOf = (account: typeof deployer): Hex => bytesToHex(account.getHdKey().privateKey!);
let miner: NodeJS.Timeout | undefined;
let stopping = false;
let report: NodeJS.Timeout | undefined = undefined;
async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  if (report) clearInterval(report);
  if (miner) clearInterval(miner);
  if (evmMiner) clearInterval(evmMiner);
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  await Promise.all([net?.stop(), anvil?.stop()]);
  process.exit(code);
}

/**
 * Monero regtest for the federation: monerod, a wallet-rpc per guardian and one for the demo user.
 * First run: wallets created, 80 blocks mined to the demo wallet (coinbase unlocks after 60).
 * Later runs: the same chain and wallets, reopened.
 */
async function startMonero(fresh: boolean): Promise<Regtest> {
  ensureMoneroInstalled();
  console.log("Monero regtest: monerod and a monero-wallet-rpc per guardian…");
  // keepChain: monerod --regtest deletes its chain at start unless told to keep it, while the
  // guardians (and their wallets) remember the height they agreed on.
  const regtest = await startRegtest({
    walletRpcs: n + 1,
    dir: join(root, "monero"),
    keepDir: true,
    keepChain: true,
  });
  const names = [...dirs.map((_, i) => `guardian-${i}`), "demo"];
  await Promise.all(
    regtest.walletRpcs.map((w, i) =>
      fresh
        ? w.rpc.createWallet({ filename: names[i]!, password: DEV_WALLET_PASSWORD })
        : w.rpc.openWallet({ filename: names[i]!, password: DEV_WALLET_PASSWORD }),
    ),
  );
  if (fresh) {
    const demo = (await regtest.walletRpcs[n]!.rpc.getAddress()).address;
    // 60 more than the minimum: the demo wallet's first payment needs 15 unlocked decoys (see
    // startMoneroFederation's EXTRA_DECOY_BLOCKS; with 80 it sometimes got no answer for minutes).
    // 10 blocks per call: on a loaded machine a call of 40 got no answer within its 60 s.
    await mineBlocks(regtest.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER + 60, demo, 10);
  }
  return regtest;
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

/** The multisig deposit address the ceremony wrote into the monero module's config. */
function addressOf(config: Record<string, unknown> | undefined): string {
  const address = config?.["address"];
  return typeof address === "string" ? address : "";
}

/**
 * anvil with its chain kept in DIR/evm/state.json (loaded at start, written every 5 s and on stop),
 * so that a restart finds the contract, balances and burns the guardians remember. It mines each
 * transaction at once (automine), and npm start mines an empty block every --evm-block-seconds so
 * that burns reach the guardians' depth: each new block makes every guardian report it in
 * consensus, so a block a second would keep the four guardians ordering items all the time.
 */
async function startEvm(): Promise<Anvil> {
  console.log(`EVM: anvil on 127.0.0.1…`);
  const dir = join(root, "evm");
  return startAnvil({
    dir,
    accounts: 2,
    args: ["--state", join(dir, "state.json"), "--state-interval", "5"],
  });
}

/** The bridge module's config before the ceremony: the contract is the deployer's next creation. */
async function bridgeConfigBeforeCeremony(rpcUrl: string): Promise<Record<string, unknown>> {
  const next = await nextContractAddress(rpcUrl, deployer.address);
  return {
    chainId: next.chainId,
    contract: next.contract,
    setIndex: 1,
    confirmations: 2,
    mintDeadlineSeconds: 3600,
    moneroNetwork: DEV_MONERO_CONFIG["network"],
  };
}

function federationHasBridge(): boolean {
  const path = join(dirs[0]!, "federation.json");
  if (!existsSync(path)) return false;
  return parseFederationConfig(JSON.parse(readFileSync(path, "utf8"))).modules.some(
    (m) => m.kind === "bridge",
  );
}

function hasFederation(): boolean {
  return dirs.every((d) => existsSync(join(d, "federation.json")));
}

async function ceremony(bridge: Record<string, unknown> | undefined): Promise<void> {
  if (hasFederation()) return;
  console.log(`Key ceremony: ${n} guardians exchange setup codes and run the DKG over TLS…`);
  const started = Date.now();
  await runLocalCeremony({
    root,
    dirs,
    ...(net
      ? { monero: { walletRpcs: net.walletRpcs.slice(0, n), walletPassword: DEV_WALLET_PASSWORD } }
      : {}),
    ...(bridge ? { bridge } : {}),
    // Wallet services at every guardian (docs/relay.md): `conclave contact|inbox|recovery`.
    relay: true,
  });
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const d of dirs) {
    // Dev only: a fresh admin password per guardian, printed below; operators choose their own.
    const password = randomBytes(12).toString("base64url");
    writeFileSync(join(d, "admin-password.hash"), await hashAdminPassword(password), { mode: 0o600 });
    writeFileSync(join(d, "admin-password.dev.txt"), password, { mode: 0o600 });
  }
}

let deployment: BridgeDeploymentRecord | undefined;
try {
  const fresh = !hasFederation();
  if (fresh) rmSync(root, { recursive: true, force: true });
  const withBridge = fresh ? !values["no-bridge"] : federationHasBridge();
  if (withMonero) net = await startMonero(fresh);
  if (withBridge) anvil = await startEvm();
  await ceremony(fresh && anvil ? await bridgeConfigBeforeCeremony(anvil.rpcUrl) : undefined);
  if (net) {
    writeMoneroLocal(
      dirs,
      net.daemon.url,
      net.walletRpcs.slice(0, n).map((w) => w.url),
      500,
    );
    const demo = (await net.walletRpcs[n]!.rpc.getAddress()).address;
    const daemon = net.daemon.rpc;
    const federation = parseFederationConfig(
      JSON.parse(readFileSync(join(dirs[0]!, "federation.json"), "utf8")),
    );
    const monero = federation.modules.find((m) => m.kind === "monero");
    const state: DemoMonero = {
      daemonUrl: net.daemon.url,
      demoWalletRpcUrl: net.walletRpcs[n]!.url,
      federationAddress: addressOf(monero?.config),
    };
    writeFileSync(join(root, "monero.json"), JSON.stringify(state, null, 2));
    miner = setInterval(() => {
      if (miningPaused()) return;
      mineBlocks(daemon, 1, demo).catch((e: unknown) => {
        if (!stopping) console.log(`mining failed: ${String(e)}`);
      });
    }, blockSeconds * 1000);
  }
  if (anvil) {
    // On a restart this only verifies the contract (anvil reloaded its state).
    const { record, deployed } = await deployBridge({
      dataDir: dirs[0]!,
      rpcUrl: anvil.rpcUrl,
      deployerKey: privateKeyOf(deployer),
    });
    deployment = record;
    console.log(`wXMR contract ${deployed ? "deployed" : "verified"} at ${record.contract}`);
    writeBridgeLocal(dirs, anvil.rpcUrl, 500);
    const chain = anvil;
    evmMiner = setInterval(() => {
      chain.testClient.mine({ blocks: 1 }).catch((e: unknown) => {
        if (!stopping) console.log(`EVM mining failed: ${String(e)}`);
      });
    }, evmBlockSeconds * 1000);
    writeFileSync(
      join(root, "evm.json"),
      JSON.stringify(
        {
          rpcUrl: anvil.rpcUrl,
          chainId: record.chainId,
          contract: record.contract,
          account: user.address,
          privateKey: privateKeyOf(user),
        },
        null,
        2,
      ),
    );
  }
  mkdirSync(logDir, { recursive: true });
  for (let i = 0; i < n; i++)
    guardians.push(await startGuardianFromDir(dirs[i]!, i, { quiet: false, logFile: logOf(i) }));
  await waitConnected(guardians);
} catch (e) {
  process.stderr.write(
    `could not start the local federation: ${e instanceof Error ? e.message : String(e)}\n`,
  );
  await stopAll(1);
}

const config = parseFederationConfig(JSON.parse(readFileSync(join(dirs[0]!, "federation.json"), "utf8")));
const invite = encodeInvite(inviteOf(config));
console.log(
  `\nConclave local federation "${config.name}": ${n} guardians on 127.0.0.1, any ${quorumThreshold(n)} can act`,
);
console.log(`\nInvite code (give it to users):\n  ${invite}\n`);
config.guardians.forEach((g, i) => {
  const ordinal = Number(g.name.replace("guardian-", ""));
  const dir = dirs[ordinal]!;
  const password = readFileSync(join(dir, "admin-password.dev.txt"), "utf8");
  console.log(
    `  ${g.name}: API ${g.api?.url}  admin password ${password}  (index ${i}, key ${g.publicKey.slice(0, 12)}…, pid ${guardians[ordinal]?.child.pid})`,
  );
});
console.log(`\nLogs: ${join(logDir, "guardian-N.log")} (one JSON line per event; tail -f one)`);
const api = config.guardians[0]!.api?.url ?? "";
console.log(
  `\nWeb page (status, proof of reserves, look-up; every guardian serves it at its API URL):\n  ${api}/`,
);
console.log(
  `\nWallet page (create or restore a wallet, send and receive notes, deposit and withdraw; kept in your browser):\n  ${api}/wallet`,
);
console.log(`\nTry:\n  curl ${api}/v1/status\n  curl ${api}/openapi.json`);
if (net) {
  const monero = config.modules.find((m) => m.kind === "monero");
  console.log(
    `\nMonero (regtest): the federation's ${quorumThreshold(n)}-of-${n} multisig deposit address is\n` +
      `  ${addressOf(monero?.config)}\n` +
      `monerod ${net.daemon.url}; a block every ${blockSeconds} s; a demo wallet with mined coins pays it:\n` +
      `  npm run demo:pay -- 1.5        (prints the txid and tx key for \`conclave claim\`)`,
  );
}
if (anvil && deployment) {
  const t = deployment.threshold;
  console.log(
    `\nEVM bridge (anvil): RPC ${anvil.rpcUrl}  chain id ${deployment.chainId}  a block per transaction and every ${evmBlockSeconds} s\n` +
      `  wXMR contract ${deployment.contract} (WrappedMonero, 12 decimals; guardian set ${deployment.setIndex}: ${t}-of-${deployment.guardians.length})\n` +
      `  a funded dev account to try with (anvil's dev mnemonic: never a real key):\n` +
      `    address     ${user.address}\n    private key ${privateKeyOf(user)}\n` +
      `  npx cast call ${deployment.contract} "totalSupply()(uint256)" --rpc-url ${anvil.rpcUrl}`,
  );
}
if (config.modules.some((m) => m.kind === "relay"))
  console.log(
    `\nWallet services (relay module: contacts by QR, an end-to-end-encrypted mailbox, social recovery):\n` +
      `  conclave contact show --name alice   conclave inbox send bob "hi"   conclave recovery setup --help`,
  );
console.log(`\nStarted in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
const stopped = ["every guardian", ...(net ? ["monerod and the wallets"] : []), ...(anvil ? ["anvil"] : [])];
console.log(
  `Ctrl-C stops ${stopped.slice(0, -1).join(", ")}${stopped.length > 1 ? " and " : ""}${stopped.at(-1)}.\n`,
);

const down = new Set<number>();
report = setInterval(() => {
  void Promise.all(
    guardians.map((g) =>
      down.has(g.index)
        ? Promise.resolve(`g${g.index} down`)
        : g
            .request<StatusReply>({ cmd: "status" })
            .then(
              (x) => `g${g.index} h=${x.status.height} s=${x.status.sessionsSigned} peers=${x.connected}`,
            ),
    ),
  ).then(
    (line) => console.log(`[${new Date().toISOString()}] ${line.join("  ")}`),
    (e: unknown) => {
      if (!stopping) console.log(`status failed: ${String(e)}`);
    },
  );
}, 30_000);
/** A guardian that died leaves the others running: say so, and how to bring it back. */
function onGuardianExit(g: GuardianProcess, code: number | null): void {
  if (stopping) return;
  down.add(g.index);
  const how = g.child.signalCode ? `was killed (${g.child.signalCode})` : `exited with code ${code}`;
  const left = n - down.size;
  const verdict =
    down.size <= f
      ? `The other ${left} keep serving: ${n} guardians tolerate ${f} down.`
      : `Only ${left} of ${n} are left: the federation cannot agree on anything until ${down.size - f} come back.`;
  console.log(
    `\nguardian-${g.index} ${how}; its log: ${logOf(g.index)}\n${verdict}${net ? " monerod and the wallets keep running." : ""}\n` +
      `Bring it back (from the repository root, in another terminal; Ctrl-C there stops it):\n` +
      `  npx conclaved run --data ${dirs[g.index]} >> ${logOf(g.index)} 2>&1\n`,
  );
}
for (const g of guardians) void g.exited.then((code) => onGuardianExit(g, code));
