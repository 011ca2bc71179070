// npm run bench:bridge — the EVM bridge end to end: N = 4 guardian processes on 127.0.0.1 (dummy
// faucet, mint and bridge modules; each guardian with its own EVM key and its own view of anvil) and
// a real anvil mining a block every second (as npm start), confirmation depth 2, guardians polling
// anvil every 500 ms (as npm start):
//
//   1. e-cash notes -> wXMR on chain: the wallet's notes spent into one federation transaction with a
//      "wXMR to <address>" output; each guardian's EIP-712 signature fetched from its API as soon as
//      the output is accepted in its state (checked against the set, sorted by signer, t of them);
//      `mint` sent and mined. Printed per step and in total.
//   2. burnToClaim -> accepted: from the burn's receipt until t guardians voted it at depth and the
//      burn is `claimable` at every guardian (depth wait included).
//
// The guardian keys come from a dealer here (bench only; npm start runs the real ceremony). The
// client side is apps/guardiand's notesToWxmr (the modules' own functions: decodeNoteString,
// noteInput, encodeMintOutput, collectMintSignatures), so that each step can be timed.
//
//   npm run bench:bridge [-- --runs 5]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeInvite, federationId, toHex, quorumThreshold } from "@conclave/core-common";
import { FederationClient } from "@conclave/core-client";
import { sha256 } from "@conclave/core-server";
import { PICONERO_PER_XMR, deployWrappedMonero, startAnvil, wrappedMoneroAbi } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import {
  DEV_MODULES_WITH_MINT,
  notesToWxmr,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "@conclave/guardiand";
import type { GuardianProcess } from "@conclave/guardiand";
import { evmAddressOfKey, parseBridgeConfig } from "@conclave/module-bridge";
import type { BurnView } from "@conclave/module-bridge";
import { joinWallet } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { bytesToHex, parseEventLogs } from "viem";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const N = 4;
const T = quorumThreshold(N);
const MINT_INSTANCE = 1;
const BRIDGE = 3;
const CONFIRMATIONS = 2;
const POLL_MS = 500;
/** 0.5 XMR per mint; each run burns 0.1 XMR of it to a claim key. */
const MINT_AMOUNT = PICONERO_PER_XMR / 2n;
const BURN_AMOUNT = PICONERO_PER_XMR / 10n;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const fmt = (xs: readonly number[]): string =>
  `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const dir = mkdtempSync(join(tmpdir(), "conclave-bench-bridge-"));
const guardians: GuardianProcess[] = [];
let anvil: Anvil | undefined;
let wallet: WalletApi | undefined;
try {
  anvil = await startAnvil({ accounts: 2, blockTimeSeconds: 1 });
  const user = anvil.accounts[1]!;
  const evmKeys = Array.from({ length: N }, (_, i) => new Uint8Array(32).fill(0x31 + i));
  const evmAddresses = evmKeys.map(evmAddressOfKey);
  const deployed = await deployWrappedMonero(anvil, { guardians: evmAddresses, threshold: T });
  const contract = deployed.address;
  const bridgeConfig = {
    chainId: anvil.chain.id,
    contract,
    guardians: evmAddresses,
    threshold: T,
    confirmations: CONFIRMATIONS,
    mintDeadlineSeconds: 3600,
    moneroNetwork: "mainnet",
  };
  const bridge = parseBridgeConfig(bridgeConfig);
  const files = await writeLocalFederation(dir, N, { heightsPerSession: 16 }, [
    ...DEV_MODULES_WITH_MINT,
    { instanceId: BRIDGE, kind: "bridge", config: bridgeConfig },
  ]);
  files.dataDirs.forEach((d, i) => {
    mkdirSync(d, { recursive: true });
    const keyFile = join(d, "evm-key.json");
    writeFileSync(keyFile, JSON.stringify({ privateKey: bytesToHex(evmKeys[i]!) }), { mode: 0o600 });
    writeFileSync(
      join(d, "guardian.local.json"),
      JSON.stringify({
        modules: { [BRIDGE]: { evmKeyFile: keyFile, rpcUrl: anvil!.rpcUrl, pollMs: POLL_MS } },
      }),
    );
  });
  for (let i = 0; i < N; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  const apis = files.config.guardians.map((g) => g.api!.url);
  const invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: files.config.name,
    guardians: files.config.guardians.map((g) => ({ name: g.name, api: g.api!.url })),
  });
  const client = await FederationClient.join(invite);
  wallet = (await joinWallet(join(dir, "alice"), invite)).wallet;
  await wallet.devFaucet(MINT_AMOUNT * BigInt(RUNS + 1));
  // The guardians' agreed EVM time must exist before a mint output is accepted.
  await until("every guardian's first scanned EVM block", 60_000, async () => {
    const v = await getJson<{ scanned: unknown[] }>(`${apis[0]}/v1/modules/bridge/chain`);
    return v && v.scanned.every((s) => s !== null) ? true : undefined;
  });
  console.log(
    `bridge bench: ${N} guardian processes (t = ${T}), anvil with a block every 1 s, depth ${CONFIRMATIONS}, ` +
      `guardians poll anvil every ${POLL_MS} ms; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; ${RUNS} runs`,
  );

  const accepted: number[] = [];
  const signed: number[] = [];
  const mined: number[] = [];
  const total: number[] = [];
  const burnAccepted: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    // 1. notes -> wXMR.
    const noteString = (await wallet.spend(MINT_AMOUNT)).notes;
    const t0 = performance.now();
    const r = await notesToWxmr({
      client,
      noteString,
      recipient: user.address,
      mintInstance: MINT_INSTANCE,
      bridgeInstance: BRIDGE,
      bridge,
    });
    const t1 = r.firstSignatureAt;
    const t2 = r.thresholdSignatureAt;
    const hash = await anvil.walletClient.writeContract({
      account: user,
      address: contract,
      abi: wrappedMoneroAbi,
      functionName: "mint",
      args: [r.message, r.signatures],
    });
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== "success") throw new Error(`mint ${hash} reverted`);
    const t3 = performance.now();

    // 2. burnToClaim -> accepted at every guardian.
    const claimKey = bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const burnHash = await anvil.walletClient.writeContract({
      account: user,
      address: contract,
      abi: wrappedMoneroAbi,
      functionName: "burnToClaim",
      args: [BURN_AMOUNT, claimKey],
    });
    const burnReceipt = await anvil.publicClient.waitForTransactionReceipt({
      hash: burnHash,
      pollingInterval: 20,
    });
    const b0 = performance.now();
    const burned = parseEventLogs({ abi: wrappedMoneroAbi, eventName: "Burned", logs: burnReceipt.logs })[0]!;
    await Promise.all(
      apis.map((api) =>
        until(`the burn accepted at ${api}`, 60_000, async () => {
          const view = await getJson<BurnView>(
            `${api}/v1/modules/bridge/burns/${burnHash}/${burned.logIndex}`,
          );
          return view?.state === "accepted" && view.settlement === "claimable" ? true : undefined;
        }),
      ),
    );
    const b1 = performance.now();
    if (run === 0) continue; // warm-up
    accepted.push(t1 - t0);
    signed.push(t2 - t1);
    mined.push(t3 - t2);
    total.push(t3 - t0);
    burnAccepted.push(b1 - b0);
  }
  console.log(`e-cash notes -> wXMR minted on chain (0.5 XMR, ${RUNS} runs after a warm-up):`);
  console.log(`  notes -> accepted, first guardian's signature   ${fmt(accepted)}`);
  console.log(`  first -> t-th guardian's signature               ${fmt(signed)}`);
  console.log(`  signatures -> mint mined (block every 1 s)       ${fmt(mined)}`);
  console.log(`  total                                            ${fmt(total)}`);
  console.log(`burnToClaim mined -> accepted and claimable at all ${N} guardians (depth ${CONFIRMATIONS}):`);
  console.log(`  ${fmt(burnAccepted)}`);
} finally {
  await wallet?.close();
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
}
