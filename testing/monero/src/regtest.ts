// A Monero regtest network for tests and the dev federation: monerod with a private chain (fixed
// difficulty 1, offline, blocks only when generateblocks is called) and monero-wallet-rpc processes
// attached to it. Every server binds 127.0.0.1 on a free port. Flags as measured in
// shared/design/MEASURED.md ("Monero").
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonRpc, WalletRpc } from "@conclave/monero";
import { freePort, startProcess, waitUntilReady } from "./processes.js";
import type { ManagedProcess } from "./processes.js";

/** Coinbase outputs unlock after 60 blocks; the first transfer also needs decoys: mine at least 80. */
export const COINBASE_UNLOCK_BLOCKS = 60;
export const BLOCKS_BEFORE_FIRST_TRANSFER = 80;
/** Ordinary outputs (and change) unlock after 10 blocks. */
export const OUTPUT_UNLOCK_BLOCKS = 10;

const START_ATTEMPTS = 3;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Makes sure monerod, monero-wallet-rpc and monero-wallet-cli are installed, by running
 * scripts/ensure-system-packages.mjs (it installs the Debian package when root). Throws with its
 * message otherwise.
 */
export function ensureMoneroInstalled(): void {
  const script = join(REPO_ROOT, "scripts", "ensure-system-packages.mjs");
  const r = spawnSync(process.execPath, [script, "monero"], {
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(
      `Monero is not installed and could not be installed (${script} exited ${r.status ?? r.signal}):\n${r.stderr}`,
    );
  }
}

/** A temporary directory under os.tmpdir(); the caller removes it (removeDir). */
export function makeTempDir(prefix = "conclave-monero-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface MonerodHandle {
  readonly rpc: DaemonRpc;
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Its p2p port on 127.0.0.1 (it listens only when started with `peers`). */
  readonly p2pPort: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface WalletRpcHandle {
  readonly rpc: WalletRpc;
  readonly url: string;
  readonly pid: number;
  readonly walletDir: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts monerod in regtest on free 127.0.0.1 ports and waits until its RPC answers. */
export async function startMonerod(options: {
  dataDir: string;
  binary?: string;
  readyTimeoutMs?: number;
  /** Keep the chain already in dataDir (monerod --regtest deletes it at start without --keep-fakechain). */
  keepChain?: boolean;
  /**
   * Peers ("127.0.0.1:port") to connect to and no others (--add-exclusive-node), listening on
   * `p2pPort`; without it the node is --offline (the default: no p2p at all).
   */
  peers?: readonly string[];
  p2pPort?: number;
}): Promise<MonerodHandle> {
  mkdirSync(options.dataDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const [rpcPort, p2pPort] = [await freePort(), options.p2pPort ?? (await freePort())];
    const args = [
      "--regtest",
      ...(options.peers === undefined
        ? ["--offline"]
        : options.peers.flatMap((peer) => ["--add-exclusive-node", peer])),
      "--fixed-difficulty",
      "1",
      "--data-dir",
      options.dataDir,
      "--rpc-bind-ip",
      "127.0.0.1",
      "--rpc-bind-port",
      String(rpcPort),
      "--p2p-bind-ip",
      "127.0.0.1",
      "--p2p-bind-port",
      String(p2pPort),
      "--no-zmq",
      // Plain HTTP on 127.0.0.1 (every client here uses http://): without this monerod generates an
      // RSA certificate in each fresh data directory at start (17.5 s to its first answer instead
      // of 3.8 s at load 24, docs/benchmarks.md "Suite time").
      "--rpc-ssl",
      "disabled",
      "--no-igd",
      "--hide-my-port",
      "--disable-dns-checkpoints",
      "--non-interactive",
      "--log-level",
      "0",
      "--log-file",
      join(options.dataDir, "monerod-internal.log"),
      ...(options.keepChain === true ? ["--keep-fakechain"] : []),
    ];
    const proc = startProcess(
      "monerod",
      options.binary ?? "monerod",
      args,
      join(options.dataDir, "monerod.log"),
    );
    const url = `http://127.0.0.1:${rpcPort}`;
    const rpc = new DaemonRpc({ url, timeoutMs: 60_000 });
    try {
      await waitUntilReady(
        proc,
        async () => (await rpc.getInfo({ timeoutMs: 2_000 })).nettype === "fakechain",
        options.readyTimeoutMs ?? 60_000,
      );
      return {
        rpc,
        url,
        pid: proc.pid,
        dataDir: options.dataDir,
        p2pPort,
        process: proc,
        stop: () => proc.stop(20_000),
      };
    } catch (e) {
      lastError = e;
      await proc.stop(5_000);
      if (!proc.logTail(50).includes("Failed to bind")) break;
    }
  }
  throw lastError;
}

/** Starts monero-wallet-rpc against `daemonUrl`, serving the wallets in `walletDir`; waits until it answers. */
export async function startWalletRpc(options: {
  daemonUrl: string;
  walletDir: string;
  binary?: string;
  readyTimeoutMs?: number;
}): Promise<WalletRpcHandle> {
  mkdirSync(options.walletDir, { recursive: true });
  const daemonAddress = new URL(options.daemonUrl).host;
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const args = [
      "--daemon-address",
      daemonAddress,
      "--trusted-daemon",
      "--daemon-ssl",
      "disabled",
      "--rpc-ssl",
      "disabled",
      "--disable-rpc-login",
      "--rpc-bind-ip",
      "127.0.0.1",
      "--rpc-bind-port",
      String(port),
      "--wallet-dir",
      options.walletDir,
      "--shared-ringdb-dir",
      join(options.walletDir, ".ringdb"),
      "--non-interactive",
      "--log-level",
      "0",
      "--log-file",
      join(options.walletDir, "wallet-rpc-internal.log"),
    ];
    const proc = startProcess(
      "monero-wallet-rpc",
      options.binary ?? "monero-wallet-rpc",
      args,
      join(options.walletDir, "wallet-rpc.log"),
    );
    const url = `http://127.0.0.1:${port}`;
    const rpc = new WalletRpc({ url });
    try {
      await waitUntilReady(
        proc,
        async () => (await rpc.getVersion()).version > 0,
        options.readyTimeoutMs ?? 30_000,
      );
      return {
        rpc,
        url,
        pid: proc.pid,
        walletDir: options.walletDir,
        process: proc,
        stop: () => proc.stop(15_000),
      };
    } catch (e) {
      lastError = e;
      await proc.stop(5_000);
      if (!proc.logTail(50).includes("Failed to bind")) break;
    }
  }
  throw lastError;
}

/**
 * Mines `count` blocks to `address` in batches (so no single RPC call runs long). Returns the new
 * height. Batches of 10 by default: at load 28-34 a call of 40 got no answer within the client's
 * 60 s and failed the file's set-up (tx-proof-regtest, subaddress-regtest, withdraw-regtest,
 * 2026-12-06); 80 blocks took 59.9 s in calls of 10 and 44.8 s in calls of 40 at load 23.
 */
export async function mineBlocks(
  daemon: DaemonRpc,
  count: number,
  address: string,
  batch = 10,
): Promise<number> {
  let height = (await daemon.getHeight()).height - 1;
  for (let left = count; left > 0; left -= batch) {
    height = (await daemon.generateBlocks(Math.min(batch, left), address)).height;
  }
  return height;
}

/**
 * Mines `batch` blocks at a time to `address` until `wallet` has at least `amount` unlocked (after a
 * refresh). Returns the blocks mined. Gives up after `blocksMax`.
 */
export async function mineUntilUnlocked(
  daemon: DaemonRpc,
  wallet: WalletRpc,
  options: { amount: bigint; address: string; batch?: number; blocksMax?: number; accountIndex?: number },
): Promise<number> {
  const batch = options.batch ?? 5;
  const blocksMax = options.blocksMax ?? 200;
  let mined = 0;
  for (;;) {
    await wallet.refresh();
    const balance = await wallet.getBalance(
      options.accountIndex === undefined ? {} : { accountIndex: options.accountIndex },
    );
    if (balance.unlockedBalance >= options.amount) return mined;
    if (mined >= blocksMax) {
      throw new Error(
        `${wallet.url}: unlocked ${balance.unlockedBalance} < ${options.amount} piconero after mining ${mined} blocks`,
      );
    }
    await daemon.generateBlocks(batch, options.address);
    mined += batch;
  }
}

export interface Regtest {
  /** The temporary directory holding the chain and the wallets (removed by stop unless kept). */
  readonly dir: string;
  readonly daemon: MonerodHandle;
  readonly walletRpcs: readonly WalletRpcHandle[];
  /** Stops every process (wallets first, by PID) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * monerod plus `walletRpcs` monero-wallet-rpc processes (each with its own wallet directory) in a
 * fresh temporary directory. If anything fails to start, what did start is stopped again.
 */
export async function startRegtest(options: {
  walletRpcs: number;
  dir?: string;
  keepDir?: boolean;
  /** Reopen the chain a previous run left in dir (see startMonerod). */
  keepChain?: boolean;
}): Promise<Regtest> {
  const dir = options.dir ?? makeTempDir();
  const started: { stop(): Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const wallets = started.slice(1);
      await Promise.allSettled(wallets.map((w) => w.stop()));
      await started[0]?.stop();
      if (options.keepDir !== true) removeDir(dir);
    })());
  try {
    const daemon = await startMonerod({
      dataDir: join(dir, "monerod"),
      ...(options.keepChain === true ? { keepChain: true } : {}),
    });
    started.push(daemon);
    const walletRpcs = await Promise.all(
      Array.from({ length: options.walletRpcs }, async (_, i) => {
        const w = await startWalletRpc({ daemonUrl: daemon.url, walletDir: join(dir, `wallet-rpc-${i}`) });
        started.push(w);
        return w;
      }),
    );
    return { dir, daemon, walletRpcs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
