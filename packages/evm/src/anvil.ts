// A real anvil (foundry's dev chain, from npm: @foundry-rs/anvil's platform package) for tests, the
// dev federation and benchmarks: started on 127.0.0.1 on a port the OS picks, with its cache in a
// temp directory (anvil otherwise writes to ~/.foundry), stopped by PID. Returns viem clients.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
} from "viem";
import type { Address, Chain, Hash, HDAccount } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { wrappedMoneroAbi, wrappedMoneroBytecode } from "./generated/wrapped-monero.js";
import { sortAddresses } from "./typed-data.js";
import type { WxmrLimits } from "./typed-data.js";

/** anvil's default dev mnemonic: its accounts hold 10,000 ETH each. Never a real key. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
export const ANVIL_CHAIN_ID = 31337;
/** How long anvil may take to print its address (measured: 60-90 ms on a quiet machine). */
const startTimeoutMs = 20_000;

export interface StartAnvilOptions {
  chainId?: number;
  /** Dev accounts to fund and return (default 10). */
  accounts?: number;
  /** Mine a block every this many seconds; default: a block per transaction. */
  blockTimeSeconds?: number;
  /** Extra command-line arguments. */
  args?: readonly string[];
  /**
   * anvil's directory (its --cache-path and HOME), kept after stop (npm start keeps its chain state
   * there); default: a new temp directory, removed by stop.
   */
  dir?: string;
}

/** The path of the anvil binary inside the installed platform package. */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed (npm ci installs it with @foundry-rs/anvil on this platform)`);
  }
  return join(dirname(pkgJson), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

function makeClients(chain: Chain, rpcUrl: string, account: HDAccount) {
  const transport = http(rpcUrl);
  // anvil mines on each transaction: poll receipts often instead of viem's default 4 s.
  const pollingInterval = 50;
  return {
    publicClient: createPublicClient({ chain, transport, pollingInterval }),
    walletClient: createWalletClient({ account, chain, transport, pollingInterval }),
    testClient: createTestClient({ mode: "anvil", chain, transport, pollingInterval }),
  };
}
export type AnvilClients = ReturnType<typeof makeClients>;

export interface Anvil extends AnvilClients {
  pid: number;
  port: number;
  rpcUrl: string;
  wsUrl: string;
  chain: Chain;
  /** The funded dev accounts (the wallet client sends from the first). */
  accounts: HDAccount[];
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s) and removes its temp directory (not options.dir). */
  stop(): Promise<void>;
}

/** Starts anvil and resolves once it listens. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? ANVIL_CHAIN_ID;
  const accountCount = options.accounts ?? 10;
  const keepDir = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "conclave-anvil-"));
  if (keepDir) mkdirSync(dir, { recursive: true });
  const removeDir = () => {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--cache-path",
    join(dir, "cache"),
    "--chain-id",
    String(chainId),
    "--accounts",
    String(accountCount),
    "--mnemonic",
    ANVIL_MNEMONIC,
    ...(options.blockTimeSeconds === undefined ? [] : ["--block-time", String(options.blockTimeSeconds)]),
    ...(options.args ?? []),
  ];
  const child = spawn(anvilBinary(), args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HOME: dir },
  });
  const pid = child.pid;
  if (pid === undefined) {
    removeDir();
    throw new Error("anvil did not start (no pid)");
  }
  // If this process exits without stop(), do not leave anvil behind.
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (e) {
    process.removeListener("exit", onExit);
    await killChild(child);
    removeDir();
    throw e;
  }
  const rpcUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}`;
  const chain = defineChain({
    id: chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl], webSocket: [wsUrl] } },
  });
  const accounts = Array.from({ length: accountCount }, (_, i) =>
    mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i }),
  );
  const first = accounts[0];
  if (first === undefined) throw new Error("startAnvil: accounts must be at least 1");
  let stopped: Promise<void> | undefined;
  return {
    ...makeClients(chain, rpcUrl, first),
    pid,
    port,
    rpcUrl,
    wsUrl,
    chain,
    accounts,
    stop() {
      stopped ??= (async () => {
        process.removeListener("exit", onExit);
        await killChild(child);
        removeDir();
      })();
      return stopped;
    },
  };
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => fail(new Error(`anvil printed no address in ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    child.stdout?.on("data", (chunk: Buffer) => {
      // Keep reading after start so anvil never blocks on a full pipe; keep only the head.
      if (out.length > 65_536) return;
      out += chunk.toString("utf8");
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        out = "x".repeat(65_537);
        resolve(Number(m[1]));
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (err.length < 65_536) err += chunk.toString("utf8");
    });
    child.once("error", fail);
    child.once("exit", (code, signal) =>
      fail(new Error(`anvil exited before listening (code ${code}, signal ${signal}): ${err.trim()}`)),
    );
  });
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

// ---------------------------------------------------------------- deploy

/** Piconero per XMR. */
export const PICONERO_PER_XMR = 1_000_000_000_000n;

/** Limits for a dev chain: a 1,000 XMR bucket refilling 1 XMR/s, mints above 100 XMR delayed 1 h. */
export const DEV_LIMITS: WxmrLimits = {
  rateCapacity: 1_000n * PICONERO_PER_XMR,
  ratePerSecond: PICONERO_PER_XMR,
  singleMintCap: 100n * PICONERO_PER_XMR,
  mintDelay: 3_600n,
  minBurn: PICONERO_PER_XMR / 1_000n,
};

export interface DeployWrappedMoneroOptions {
  /** The first guardian set; sorted here (the contract requires ascending addresses). */
  guardians: readonly Address[];
  threshold: number;
  limits?: WxmrLimits;
  /** Seconds an old set may still mint after a rotation (default 1 day, as Wormhole's 24 h). */
  gracePeriodSeconds?: bigint;
}

export interface DeployedWrappedMonero {
  address: Address;
  txHash: Hash;
  blockNumber: bigint;
  gasUsed: bigint;
}

/** Deploys WrappedMonero from the wallet client's account and waits for the receipt. */
export async function deployWrappedMonero(
  clients: Pick<AnvilClients, "publicClient" | "walletClient">,
  options: DeployWrappedMoneroOptions,
): Promise<DeployedWrappedMonero> {
  const txHash = await clients.walletClient.deployContract({
    abi: wrappedMoneroAbi,
    bytecode: wrappedMoneroBytecode,
    args: [
      sortAddresses(options.guardians),
      options.threshold,
      options.limits ?? DEV_LIMITS,
      options.gracePeriodSeconds ?? 86_400n,
    ],
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success" || receipt.contractAddress == null) {
    throw new Error(`WrappedMonero deployment failed (tx ${txHash})`);
  }
  return {
    address: getAddress(receipt.contractAddress),
    txHash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
  };
}
