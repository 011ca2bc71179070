// Test fixture (not shipped): a real federation with the bridge module. anvil (@conclave/evm, stopped
// by PID) with the WrappedMonero contract deployed for four guardian EVM keys (t = 3); four guardian
// processes on 127.0.0.1 (apps/guardiand) running the dev faucet, the mint (Monero denominations, no
// fee) and the bridge, each reading anvil through its own guardian.local.json (evmKeyFile, rpcUrl).
// With `monero` (a 3-of-4 multisig wallet on monerod regtest, testing-monero's startMultisigRegtest,
// started and stopped by the caller) also the monero module (instance 2) for that wallet, each guardian
// watching the chain through monerod and its own share's wallet-rpc: no key ceremony. The depths
// (Monero `confirmations` / `payoutConfirmations`, the bridge's `confirmations`) default to 1 and
// may be set per caller (bench/bridge-monero.ts measures with 2).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeInvite, federationId, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { deployWrappedMonero, startAnvil } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "@conclave/guardiand";
import type { GuardianProcess } from "@conclave/guardiand";
import type { MultisigRegtest } from "@conclave/testing-monero";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "viem";
import { evmAddressOfKey } from "../eip712-mint.js";
import { CHAIN_PATH } from "./config.js";

export const BRIDGE_INSTANCE = 3;
export const MONERO_INSTANCE = 2;
/** With `relay`: the relay module (watches of wxmr-mint, wxmr-burn and monero-tx over its socket). */
export const RELAY_INSTANCE = 4;
export const N = 4;

/** Guardian i's EVM key: fixed test bytes. */
export const guardianEvmKey = (i: number): Uint8Array => new Uint8Array(32).fill(0x31 + i);

export interface BridgeFederation {
  readonly anvil: Anvil;
  readonly contract: `0x${string}`;
  readonly invite: string;
  readonly dir: string;
  readonly guardians: GuardianProcess[];
  readonly guardianUrls: readonly string[];
  stop(): Promise<void>;
}

/**
 * Waits until every guardian's bridge view has an agreed EVM time. Until then a mint output is
 * refused (`evm_time_unknown`, nothing spent), so a test that starts earlier races the guardians'
 * first `scanned` reports (CI at 14:44 on 2026-12-06: three mint tests failed that way).
 */
async function waitEvmTimeAgreed(guardianUrls: readonly string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const agreed = async (url: string): Promise<boolean> => {
    try {
      const res = await fetch(url + CHAIN_PATH);
      if (!res.ok) return false;
      const view: unknown = await res.json();
      return (
        typeof view === "object" &&
        view !== null &&
        "agreedTimestamp" in view &&
        typeof view.agreedTimestamp === "string" &&
        view.agreedTimestamp !== "0"
      );
    } catch {
      return false;
    }
  };
  for (;;) {
    const answers = await Promise.all(guardianUrls.map(agreed));
    if (answers.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error(
        `no agreed EVM time at guardians ${answers.flatMap((a, i) => (a ? [] : [i])).join(", ")}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface BridgeFederationOptions {
  readonly monero?: MultisigRegtest;
  /** Also the relay module (RELAY_INSTANCE). */
  readonly relay?: boolean;
  /** Blocks deep (its own block counts) before a Monero deposit is spendable (default 1). */
  readonly moneroConfirmations?: number;
  /** Blocks deep before a payout is attested confirmed (default 1). */
  readonly payoutConfirmations?: number;
  /** How often each guardian reads monerod's block count between its 300 ms polls (default: the module's, 250 ms). */
  readonly moneroTipPollMs?: number;
  /** EVM blocks deep before a burn is voted (default 1). */
  readonly bridgeConfirmations?: number;
  /**
   * Keep each guardian's log (every event, with its time) in DIR/guardian-<i>.log, e.g. for a
   * bench's per-step breakdown; quiet guardians otherwise.
   */
  readonly guardianLogDir?: string;
}

export async function startBridgeFederation(
  prefix = "bridge-client-",
  options: BridgeFederationOptions = {},
): Promise<BridgeFederation> {
  const monero = options.monero;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const guardians: GuardianProcess[] = [];
  let anvil: Anvil | undefined;
  const stop = async () => {
    await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Five funded accounts: deposit-mint-regtest gives each of its cases its own (0..4).
    anvil = await startAnvil({ accounts: 5 });
    const addresses = Array.from({ length: N }, (_, i) => evmAddressOfKey(guardianEvmKey(i)));
    const contract = (await deployWrappedMonero(anvil, { guardians: addresses, threshold: 3 })).address;
    // anvil mines only when sent a transaction: at a depth above 1 the guardians agree no EVM time
    // until blocks follow the deployment's.
    const bridgeConfirmations = options.bridgeConfirmations ?? 1;
    if (bridgeConfirmations > 1) await anvil.testClient.mine({ blocks: bridgeConfirmations });
    const files = await writeLocalFederation(dir, N, { heightsPerSession: 16 }, [
      ...DEV_MODULES_WITH_MINT,
      ...(monero
        ? [
            {
              instanceId: MONERO_INSTANCE,
              kind: "monero",
              config: {
                network: "mainnet",
                address: monero.multisigAddress,
                guardians: N,
                confirmations: options.moneroConfirmations ?? 1,
                depositMinPiconero: "1000000",
                payoutConfirmations: options.payoutConfirmations ?? 1,
              },
            },
          ]
        : []),
      {
        instanceId: BRIDGE_INSTANCE,
        kind: "bridge",
        config: {
          chainId: anvil.chain.id,
          contract,
          guardians: addresses,
          threshold: 3,
          confirmations: bridgeConfirmations,
          mintDeadlineSeconds: 3600,
          moneroNetwork: "mainnet",
        },
      },
      ...(options.relay ? [{ instanceId: RELAY_INSTANCE, kind: "relay", config: {} }] : []),
    ]);
    files.dataDirs.forEach((d, i) => {
      mkdirSync(d, { recursive: true });
      const keyFile = join(d, "evm-key.json");
      writeFileSync(keyFile, JSON.stringify({ privateKey: bytesToHex(guardianEvmKey(i)) }), { mode: 0o600 });
      writeFileSync(
        join(d, "guardian.local.json"),
        JSON.stringify({
          modules: {
            [BRIDGE_INSTANCE]: { evmKeyFile: keyFile, rpcUrl: anvil!.rpcUrl, pollMs: 200 },
            ...(monero
              ? {
                  [MONERO_INSTANCE]: {
                    daemonUrl: monero.net.daemon.url,
                    walletRpcUrl: monero.net.walletRpcs[i]!.url,
                    pollMs: 300,
                    ...(options.moneroTipPollMs === undefined ? {} : { tipPollMs: options.moneroTipPollMs }),
                    reservesPollMs: 2_000,
                  },
                }
              : {}),
          },
        }),
        { mode: 0o600 },
      );
    });
    const logDir = options.guardianLogDir;
    if (logDir !== undefined) mkdirSync(logDir, { recursive: true });
    const started = await Promise.allSettled(
      files.dataDirs.map((_, i) =>
        startGuardian(
          files,
          i,
          logDir === undefined ? {} : { quiet: false, logFile: join(logDir, `guardian-${i}.log`) },
        ),
      ),
    );
    for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    await waitConnected(guardians);
    const guardianUrls = files.config.guardians.map((g) => g.api?.url ?? "");
    await waitEvmTimeAgreed(guardianUrls);
    return { anvil, contract, invite: inviteOf(files.config), dir, guardians, guardianUrls, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function inviteOf(config: FederationConfig): string {
  return encodeInvite({
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  });
}
