// A Monero federation on 127.0.0.1, set up as `npm start` does (dev.ts), for end-to-end tests and
// benchmarks: monerod in regtest, a monero-wallet-rpc per guardian and one for a user, 80 blocks mined
// to the user, the real key ceremony in N `conclaved setup run` processes (DKG, the mint's keys and
// the t-of-N multisig rounds between the guardians' wallets), then N guardian processes (dummy, mint
// and monero modules) watching the chain through their own wallet-rpc.
//
//   const fed = await startMoneroFederation({ moneroConfig: { payoutConfirmations: 2 } });
//   try { ... fed.user pays fed.address, a wallet joins fed.invite ... } finally { await fed.stop(); }
//
// Everything it starts is stopped by stop() by its own PID, and its directory removed. Guardians can
// be stopped, killed (`kill -9`) and started again from their data directories (stopGuardian,
// killGuardian, startGuardian).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeInvite, encodeSetupCode, parseFederationConfig, toHex } from "@conclave/core-common";
import { ed25519PublicKeyOf, generateEd25519Seed } from "@conclave/core-server";
import type { FederationConfig } from "@conclave/core-common";
import { payStallSafe } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  BlockMiner,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { runConclaved, startGuardianFromDir, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess, StartOptions } from "./guardian-processes.js";
import { freePort } from "./local-federation.js";
import { inviteOf, setupInit } from "./setup-cli.js";

/** The monero module's instance id in a dev federation (dummy 0, mint 1, monero 2). */
export const MONERO_INSTANCE = 2;
/** The bridge module's instance id in a dev federation with the EVM bridge (npm start). */
export const BRIDGE_INSTANCE = 3;
/** The relay module's instance id in `npm start`'s federation (mailbox, recovery: docs/relay.md). */
export const RELAY_INSTANCE = 4;
/** Where each guardian of a dev federation keeps its EVM signing key (made in the ceremony). */
export const EVM_KEY_FILE = "evm-key.json";
export const DEV_WALLET_PASSWORD = "dev-wallet-password";
/** The monero module's config in dev federations; the ceremony adds `address` and `guardians`. */
export const DEV_MONERO_CONFIG: Readonly<Record<string, unknown>> = {
  network: "mainnet",
  confirmations: 2,
  depositMinPiconero: "1000000",
};

export interface CeremonyMonero {
  /** The module's config (merged over DEV_MONERO_CONFIG). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Per guardian: its wallet-rpc, serving a fresh wallet named `guardian-i`. */
  readonly walletRpcs: readonly { readonly url: string; readonly walletDir: string }[];
  readonly walletPassword: string;
}

/**
 * The key ceremony of a local federation: one `conclaved setup run` process per data directory
 * (dummy module, mint, and the monero module with its multisig rounds when `monero` is given).
 * Every guardian's directory ends with federation.json. `children` receives the processes as they
 * start (a caller that gives up kills them).
 */
export async function runLocalCeremony(options: {
  readonly root: string;
  readonly dirs: readonly string[];
  readonly monero?: CeremonyMonero;
  /**
   * The bridge module's config before the exchange (chain id, contract address fixed in advance,
   * depths…); the ceremony adds the guardians' EVM addresses and t. Each guardian's key is made in
   * DIR/evm-key.json.
   */
  readonly bridge?: Readonly<Record<string, unknown>>;
  /** Adds the relay module (instance RELAY_INSTANCE): contacts, mailbox, recovery store. */
  readonly relay?: boolean;
  readonly children?: ChildProcess[];
}): Promise<void> {
  const { root, dirs, monero, bridge } = options;
  // The ceremony numbers guardians by public key (orderCodes): keys are made first and handed out
  // in that order, so that guardian-i (dirs[i], wallet guardian-i) is index i of the federation.
  const keys = dirs
    .map(() => {
      const seed = generateEd25519Seed();
      return { seed, publicKey: toHex(ed25519PublicKeyOf(seed)) };
    })
    .sort((a, b) => (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0));
  const codes: string[] = [];
  for (let i = 0; i < dirs.length; i++)
    codes.push(
      encodeSetupCode(
        setupInit(
          dirs[i]!,
          `guardian-${i}`,
          `127.0.0.1:${await freePort()}`,
          `http://127.0.0.1:${await freePort()}`,
          keys[i]!.seed,
        ),
      ),
    );
  const modulesFile = join(root, "ceremony-modules.json");
  const entries = [
    ...(monero
      ? [{ instanceId: MONERO_INSTANCE, kind: "monero", config: { ...DEV_MONERO_CONFIG, ...monero.config } }]
      : []),
    ...(bridge ? [{ instanceId: BRIDGE_INSTANCE, kind: "bridge", config: bridge }] : []),
    ...(options.relay === true ? [{ instanceId: RELAY_INSTANCE, kind: "relay", config: {} }] : []),
  ];
  if (entries.length > 0) writeFileSync(modulesFile, JSON.stringify(entries));
  const moduleArgs = (i: number): string[] => {
    if (entries.length === 0) return [];
    const settings: Record<string, Record<string, unknown>> = {};
    const w = monero?.walletRpcs[i];
    if (monero && w)
      settings[MONERO_INSTANCE] = {
        walletRpcUrl: w.url,
        walletName: `guardian-${i}`,
        walletPassword: monero.walletPassword,
      };
    if (bridge) settings[BRIDGE_INSTANCE] = { evmKeyFile: join(dirs[i]!, EVM_KEY_FILE) };
    const localFile = join(dirs[i]!, "setup-local.json");
    writeFileSync(localFile, JSON.stringify({ modules: settings }), { mode: 0o600 });
    return ["--modules", modulesFile, "--local", localFile];
  };
  await Promise.all(
    dirs.map(async (d, i) => {
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
        ...moduleArgs(i),
      ]);
      options.children?.push(run.child);
      return run.done;
    }),
  );
}

/** Each guardian watches the chain through monerod and its own wallet-rpc (guardian.local.json). */
export function writeMoneroLocal(
  dirs: readonly string[],
  daemonUrl: string,
  walletRpcUrls: readonly string[],
  pollMs: number,
  extra?: (index: number) => Readonly<Record<string, unknown>>,
): void {
  dirs.forEach((d, i) => {
    // The reserves check reads (and refreshes) the wallet: often enough to see a payout within seconds.
    const local = {
      daemonUrl,
      walletRpcUrl: walletRpcUrls[i]!,
      pollMs,
      reservesPollMs: Math.max(2_000, pollMs * 4),
      ...extra?.(i),
    };
    writeFileSync(
      join(d, "guardian.local.json"),
      JSON.stringify({ modules: { [MONERO_INSTANCE]: local } }, null, 2),
      { mode: 0o600 },
    );
  });
}

/**
 * Adds each guardian's bridge settings (its EVM key file and node) to its guardian.local.json,
 * keeping the other modules' settings.
 */
export function writeBridgeLocal(dirs: readonly string[], rpcUrl: string, pollMs: number): void {
  for (const d of dirs) {
    const path = join(d, "guardian.local.json");
    const local = existsSync(path)
      ? (JSON.parse(readFileSync(path, "utf8")) as { modules: Record<string, unknown> })
      : { modules: {} };
    local.modules[BRIDGE_INSTANCE] = { evmKeyFile: join(d, EVM_KEY_FILE), rpcUrl, pollMs };
    writeFileSync(path, JSON.stringify(local, null, 2), { mode: 0o600 });
  }
}

export interface MoneroFederationOptions {
  /** Guardians (default 4: a 3-of-4 multisig wallet). */
  readonly n?: number;
  /** The monero module's config, merged over DEV_MONERO_CONFIG (e.g. payoutConfirmations). */
  readonly moneroConfig?: Readonly<Record<string, unknown>>;
  /** The guardians' chain poll interval, ms (guardian.local.json `pollMs`; default 500). */
  readonly pollMs?: number;
  /** Mine a block to the user every this many ms once the guardians run (default 1000; 0: never by itself). */
  readonly blockEveryMs?: number;
  /**
   * More of guardian i's monero settings in guardian.local.json (`guardian-i`), e.g. the test-only
   * `testByzantinePayout`.
   */
  readonly moneroLocal?: (index: number) => Readonly<Record<string, unknown>>;
  /** Each guardian process's options, e.g. `{quiet: false, onLine}` to read its module events. */
  readonly guardianOptions?: (index: number) => StartOptions;
  /** Prefix of the temporary directory. */
  readonly prefix?: string;
  /** Adds the relay module (instance RELAY_INSTANCE: watch and push, mailbox, recovery store). */
  readonly relay?: boolean;
}

export interface MoneroFederation {
  /** The temporary directory holding everything (removed by stop). */
  readonly root: string;
  readonly regtest: Regtest;
  /** Each guardian's data directory (federation.json, guardian.secret.json, db/). */
  readonly dirs: readonly string[];
  readonly config: FederationConfig;
  readonly invite: string;
  /** The federation's t-of-N multisig address (the deposit address, in its config). */
  readonly address: string;
  /**
   * The latest process of each guardian (replaced by startGuardian). Everywhere here `i` is the
   * guardian's number in its name and directory (`guardian-i`), not its index in the federation
   * config, which orders guardians by public key (payout rounds and blame use that one).
   */
  readonly guardians: GuardianProcess[];
  /** Each guardian's wallet-rpc (its share of the multisig wallet). */
  readonly guardianWallets: readonly WalletRpc[];
  /** The user's own wallet (wallet-rpc N), with the mined coins. */
  readonly user: WalletRpc;
  readonly userAddress: string;
  /** Mines to the user (started with blockEveryMs). */
  readonly miner: BlockMiner;
  /**
   * The user pays `amounts` to `address` in one transaction (one output each), with the miner paused
   * meanwhile (wallet-rpc's transfer can stall while blocks arrive); its txid and tx key.
   */
  userPay(address: string, amounts: readonly bigint[]): Promise<{ txid: string; txKey: string }>;
  /** Set-up phases, ms. */
  readonly timings: Readonly<Record<string, number>>;
  /** Guardian i's (`guardian-i`'s) API base URL. */
  apiUrl(i: number): string;
  /** Starts guardian i from its data directory (after stopGuardian or killGuardian). */
  startGuardian(i: number, options?: StartOptions): Promise<GuardianProcess>;
  /** SIGTERM (or `signal`) to guardian i's process; resolves once it exited. */
  stopGuardian(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** `kill -9` guardian i by its PID; resolves once it exited. */
  killGuardian(i: number): Promise<void>;
  /** Stops the miner, the guardians, the wallet-rpcs and monerod (by PID) and removes `root`. Idempotent. */
  stop(): Promise<void>;
}

/** Blocks mined beyond BLOCKS_BEFORE_FIRST_TRANSFER before the user's first payment (decoys). */
const EXTRA_DECOY_BLOCKS = 60;

/** See the file comment. If any step fails, what started is stopped and the error thrown. */
export async function startMoneroFederation(
  options: MoneroFederationOptions = {},
): Promise<MoneroFederation> {
  const n = options.n ?? 4;
  ensureMoneroInstalled();
  const timings: Record<string, number> = {};
  let lapStart = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - lapStart;
    lapStart = Date.now();
  };
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? "conclave-monero-federation-"));
  const dirs = Array.from({ length: n }, (_, i) => join(root, `guardian-${i}`));
  const ceremonyChildren: ChildProcess[] = [];
  const guardians: GuardianProcess[] = [];
  let net: Regtest | undefined;
  let miner: BlockMiner | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await miner?.stop();
      for (const c of ceremonyChildren) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.allSettled(guardians.map((g) => stopGuardian(g)));
      await net?.stop();
      rmSync(root, { recursive: true, force: true });
    })());
  try {
    net = await startRegtest({ walletRpcs: n + 1, dir: join(root, "monero") });
    const regtest = net;
    const names = [...dirs.map((_, i) => `guardian-${i}`), "user"];
    await Promise.all(
      regtest.walletRpcs.map((w, i) =>
        w.rpc.createWallet({ filename: names[i]!, password: DEV_WALLET_PASSWORD }),
      ),
    );
    const user = regtest.walletRpcs[n]!.rpc;
    const userAddress = (await user.getAddress()).address;
    // More than the minimum: a transfer needs 15 unlocked decoys (coinbase unlocks after 60 blocks),
    // and with only BLOCKS_BEFORE_FIRST_TRANSFER the user's first payment, made with the miner
    // paused, sometimes got no answer for minutes (three full test runs each lost a file to it).
    const blocks = BLOCKS_BEFORE_FIRST_TRANSFER + EXTRA_DECOY_BLOCKS;
    await mineBlocks(regtest.daemon.rpc, blocks, userAddress);
    lap(`monerod, ${n + 1} wallet-rpc and wallets, ${blocks} blocks`);

    await runLocalCeremony({
      root,
      dirs,
      children: ceremonyChildren,
      ...(options.relay === true ? { relay: true } : {}),
      monero: {
        ...(options.moneroConfig ? { config: options.moneroConfig } : {}),
        walletRpcs: regtest.walletRpcs.slice(0, n),
        walletPassword: DEV_WALLET_PASSWORD,
      },
    });
    lap("key ceremony (DKG + multisig)");

    writeMoneroLocal(
      dirs,
      regtest.daemon.url,
      regtest.walletRpcs.slice(0, n).map((w) => w.url),
      options.pollMs ?? 500,
      options.moneroLocal,
    );
    const config = parseFederationConfig(JSON.parse(readFileSync(join(dirs[0]!, "federation.json"), "utf8")));
    const address = config.modules.find((m) => m.kind === "monero")?.config["address"];
    if (typeof address !== "string") throw new Error("the ceremony wrote no monero address");
    miner = new BlockMiner(regtest.daemon.rpc, userAddress);
    if ((options.blockEveryMs ?? 1000) > 0) miner.start(options.blockEveryMs ?? 1000);
    const startGuardian = async (i: number, o?: StartOptions): Promise<GuardianProcess> => {
      const running = guardians[i];
      if (running && running.child.exitCode === null && running.child.signalCode === null)
        throw new Error(`guardian ${i} is running (pid ${running.child.pid})`);
      const g = await startGuardianFromDir(dirs[i]!, i, o ?? options.guardianOptions?.(i) ?? {});
      guardians[i] = g;
      return g;
    };
    for (let i = 0; i < n; i++) await startGuardian(i);
    await waitConnected(guardians);
    lap(`${n} guardians connected`);
    const apiUrl = (i: number): string => {
      const url = config.guardians.find((g) => g.name === `guardian-${i}`)?.api?.url;
      if (!url) throw new Error(`guardian ${i} has no API`);
      return url;
    };
    return {
      root,
      regtest,
      dirs,
      config,
      invite: encodeInvite(inviteOf(config)),
      address,
      guardians,
      guardianWallets: regtest.walletRpcs.slice(0, n).map((w) => w.rpc),
      user,
      userAddress,
      miner,
      timings,
      userPay: (to, amounts) => miner!.paused(() => payStallSafe(user, to, amounts)),
      apiUrl,
      startGuardian,
      stopGuardian: async (i, signal) => {
        const g = guardians[i];
        if (g) await stopGuardian(g, signal);
      },
      killGuardian: async (i) => {
        const g = guardians[i];
        const pid = g?.child.pid;
        if (!g || pid === undefined || g.child.exitCode !== null || g.child.signalCode !== null) return;
        process.kill(pid, "SIGKILL");
        await g.exited;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
