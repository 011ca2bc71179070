// `conclaved bridge address` and `conclaved bridge deploy` as an operator runs them (the guardian
// binary as its own process) against a real anvil, for a federation made by the real key ceremony
// (four guardians over TLS, the bridge module's exchange collecting their EVM addresses): the
// contract lands at the address the config fixed before the ceremony, holds the ceremony's set and
// threshold, is deployed once, and the command refuses what would break that.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSetupCode, parseFederationConfig } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { ANVIL_MNEMONIC, deployWrappedMonero, startAnvil, wrappedMoneroAbi } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { parseBridgeConfig, sortedSigners } from "@conclave/module-bridge";
import { bytesToHex, createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { DEPLOYMENT_FILE } from "./bridge-deploy.js";
import { runConclaved } from "./guardian-processes.js";
import { freePort } from "./local-federation.js";
import { setupInit, setupRun } from "./setup-cli.js";

const root = mkdtempSync(join(tmpdir(), "conclave-bridge-deploy-"));
const n = 4;
const dirs = Array.from({ length: n }, (_, i) => join(root, `g${i}`));
const BRIDGE = 3;
let anvil: Anvil;
let federation: FederationConfig;
const deployerKeyFile = join(root, "deployer.key");
// anvil's second dev account: the first is the test's own wallet client.
const deployer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 });

/** `conclaved ARGS`: its exit code, stdout and stderr. */
async function conclaved(args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  const run = await runConclaved(args);
  return run.done.then(
    (out) => ({ ok: true, out }),
    (e: unknown) => ({ ok: false, out: e instanceof Error ? e.message : String(e) }),
  );
}

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 2 });
  writeFileSync(
    deployerKeyFile,
    JSON.stringify({ privateKey: bytesToHex(deployer.getHdKey().privateKey!) }),
    { mode: 0o600 },
  );
  // Before the ceremony: the operator asks which address the deployer's next contract gets.
  const address = await conclaved([
    "bridge",
    "address",
    "--rpc",
    anvil.rpcUrl,
    "--deployer-key",
    deployerKeyFile,
    "--json",
  ]);
  expect(address.ok, address.out).toBe(true);
  const next = JSON.parse(address.out) as { chainId: number; contract: string; nonce: number };
  expect(next.nonce).toBe(0);
  const codes: string[] = [];
  for (let i = 0; i < n; i++)
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
  const modules = [
    {
      instanceId: BRIDGE,
      kind: "bridge",
      config: {
        chainId: next.chainId,
        contract: next.contract,
        confirmations: 2,
        mintDeadlineSeconds: 3600,
        moneroNetwork: "mainnet",
      },
    },
  ];
  const results = await Promise.all(
    dirs.map((dataDir) =>
      setupRun({
        dataDir,
        codes,
        federationName: "bridge-deploy",
        environment: "dev",
        heightsPerSession: 4,
        modules,
        local: { modules: { [BRIDGE]: { evmKeyFile: join(dataDir, "evm-key.json") } } },
      }),
    ),
  );
  federation = parseFederationConfig(results[0]!.config);
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  rmSync(root, { recursive: true, force: true });
});

const bridgeConfig = () => parseBridgeConfig(federation.modules.find((m) => m.kind === "bridge")!.config);
const deployArgs = (dir: string, rpc = anvil.rpcUrl) => [
  "bridge",
  "deploy",
  "--data",
  dir,
  "--rpc",
  rpc,
  "--deployer-key",
  deployerKeyFile,
];

describe("conclaved bridge deploy (real anvil, a federation from the real ceremony)", () => {
  it("deploys at the address fixed before the ceremony, for the ceremony's set and threshold, and records it", async () => {
    const config = bridgeConfig();
    expect(config.guardians).toHaveLength(n);
    expect(config.threshold).toBe(3);
    const r = await conclaved(deployArgs(dirs[0]!));
    expect(r.ok, r.out).toBe(true);
    expect(r.out).toContain("deployed: WrappedMonero");
    expect(r.out).toContain(`contract   ${config.contract}`);
    expect(r.out).toContain(`chain id   ${anvil.chain.id}`);
    expect(r.out).toContain("set index  1");
    const setIndex = await anvil.publicClient.readContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "setIndex",
    });
    expect(setIndex).toBe(1);
    const guardians = await anvil.publicClient.readContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "guardians",
      args: [1],
    });
    expect(guardians).toEqual(sortedSigners(config.guardians));
    const threshold = await anvil.publicClient.readContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "threshold",
      args: [1],
    });
    expect(Number(threshold)).toBe(3);
    const record = JSON.parse(readFileSync(join(dirs[0]!, DEPLOYMENT_FILE), "utf8")) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({
      chainId: anvil.chain.id,
      contract: config.contract,
      setIndex: 1,
      threshold: 3,
      deployer: deployer.address,
    });
  }, 60_000);

  it("run again (at this guardian or another): verifies the deployment and sends nothing", async () => {
    const nonce = await anvil.publicClient.getTransactionCount({ address: deployer.address });
    for (const dir of [dirs[0]!, dirs[2]!]) {
      const r = await conclaved(deployArgs(dir));
      expect(r.ok, r.out).toBe(true);
      expect(r.out).toContain("already deployed; verified");
    }
    expect(await anvil.publicClient.getTransactionCount({ address: deployer.address })).toBe(nonce);
  }, 60_000);

  it("refuses a chain without the recorded contract unless --redeploy, and a deployer whose next address is not the config's", async () => {
    const config = bridgeConfig();
    const fresh = await startAnvil({ accounts: 2 });
    try {
      const refused = await conclaved(deployArgs(dirs[0]!, fresh.rpcUrl));
      expect(refused.ok).toBe(false);
      expect(refused.out).toContain("has no code there");
      expect(refused.out).toContain("--redeploy");
      expect(await fresh.publicClient.getBytecode({ address: config.contract })).toBeUndefined();
      // The deployer spent its nonce 0 on something else: its next contract is not the config's.
      await fresh.testClient.impersonateAccount({ address: deployer.address });
      await fresh.walletClient.sendTransaction({
        account: deployer.address,
        to: deployer.address,
        value: 1n,
      });
      await fresh.testClient.stopImpersonatingAccount({ address: deployer.address });
      const moved = await conclaved([...deployArgs(dirs[0]!, fresh.rpcUrl), "--redeploy"]);
      expect(moved.ok).toBe(false);
      expect(moved.out).toContain(`would create`);
      expect(moved.out).toContain(`its nonce is 1`);
      expect(moved.out).toContain(config.contract);
      expect(await fresh.publicClient.getBytecode({ address: config.contract })).toBeUndefined();
    } finally {
      await fresh.stop();
    }
    // A reset chain where the deployer is at nonce 0 again: --redeploy puts the contract back at the
    // same address; a guardian with no record finds it there and only verifies it.
    const reset = await startAnvil({ accounts: 2 });
    try {
      const r = await conclaved([...deployArgs(dirs[0]!, reset.rpcUrl), "--redeploy"]);
      expect(r.ok, r.out).toBe(true);
      expect(r.out).toContain("deployed: WrappedMonero");
      expect(r.out).toContain(`contract   ${config.contract}`);
      const other = await conclaved(deployArgs(dirs[1]!, reset.rpcUrl));
      expect(other.ok, other.out).toBe(true);
      expect(other.out).toContain("already deployed; verified");
    } finally {
      await reset.stop();
    }
  }, 90_000);

  it("refuses another chain id, and a contract at the address that holds another set", async () => {
    const other = await startAnvil({ accounts: 2, chainId: 31338 });
    try {
      const r = await conclaved(deployArgs(dirs[0]!, other.rpcUrl));
      expect(r.ok).toBe(false);
      expect(r.out).toContain(`on chain 31338, the federation's bridge config says ${anvil.chain.id}`);
    } finally {
      await other.stop();
    }
    // The config's address on a fresh chain, where the deployer's nonce 0 created a contract for a
    // set of one outsider: the command names both sets and records nothing.
    const squat = await startAnvil({ accounts: 2 });
    try {
      const outsider = squat.accounts[0]!.address;
      const asDeployer = createWalletClient({
        account: squat.accounts[1]!,
        chain: squat.chain,
        transport: http(squat.rpcUrl),
      });
      const sq = await deployWrappedMonero(
        { publicClient: squat.publicClient, walletClient: asDeployer },
        { guardians: [outsider], threshold: 1 },
      );
      expect(sq.address).toBe(bridgeConfig().contract);
      const r = await conclaved(deployArgs(dirs[3]!, squat.rpcUrl));
      expect(r.ok).toBe(false);
      expect(r.out).toContain(`guardian set 1 is [${outsider.toLowerCase()}], the config's [`);
      expect(existsSync(join(dirs[3]!, DEPLOYMENT_FILE))).toBe(false);
    } finally {
      await squat.stop();
    }
  }, 90_000);
});
