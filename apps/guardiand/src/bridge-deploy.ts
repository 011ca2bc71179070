// `conclaved bridge address` and `conclaved bridge deploy`: the operator's side of the wXMR contract.
//
// The bridge module's config names the contract's address before the key ceremony ends (each
// guardian checks at start that this address holds the federation's set), while the set itself
// (each guardian's EVM address, and t) is known only once the ceremony's exchange ran. So the address
// is fixed in advance as the one a deployer's next contract creation gets, keccak(rlp(deployer,
// nonce)) (the CREATE rule), and deployed for the agreed set afterwards:
//
//   conclaved bridge address --rpc URL --deployer-key FILE
//       prints the chain id and the address the deployer's next transaction creates: put both in
//       the bridge module's config (the --modules file of `setup run`); the deployer must send
//       nothing else before `bridge deploy`
//   conclaved bridge deploy --data DIR --rpc URL --deployer-key FILE [--limits FILE]
//       [--grace-seconds S] [--redeploy]
//       reads DIR/federation.json; when the config's address already holds a contract, only verifies
//       it (chain id, current set index, set and threshold equal to the config, as every guardian's
//       start check) and deploys nothing; otherwise deploys WrappedMonero for the config's set and
//       threshold from the deployer's next nonce, refusing unless that creates exactly the config's
//       address. Records chain id, contract, set index and transaction in
//       DIR/bridge-deployment.json; once recorded, a chain without the contract is refused (a reset
//       chain or the wrong node) unless --redeploy.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { federationId, parseFederationConfig, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { DEV_LIMITS, wrappedMoneroAbi, wrappedMoneroBytecode } from "@conclave/evm";
import type { WxmrLimits } from "@conclave/evm";
import {
  BRIDGE_KIND,
  ViemEvmSource,
  checkChain,
  parseBridgeConfig,
  sortedSigners,
} from "@conclave/module-bridge";
import type { BridgeConfig, EvmAddress } from "@conclave/module-bridge";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  getContractAddress,
  http,
  isHex,
} from "viem";
import type { Hex, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";

export const DEPLOYMENT_FILE = "bridge-deployment.json";
/** How long one RPC call may take (a deploy waits for its receipt separately). */
const RPC_TIMEOUT_MS = 15_000;
const RECEIPT_TIMEOUT_MS = 120_000;

const recordSchema = z.strictObject({
  federationId: z.string().regex(/^[0-9a-f]{64}$/),
  instanceId: z.number().int(),
  chainId: z.number().int(),
  contract: z.string(),
  setIndex: z.number().int(),
  guardians: z.array(z.string()),
  threshold: z.number().int(),
  deployer: z.string().optional(),
  txHash: z.string().optional(),
  blockNumber: z.string().optional(),
  verifiedAt: z.string(),
});
export type BridgeDeploymentRecord = z.infer<typeof recordSchema>;

export interface BridgeDeployResult {
  readonly record: BridgeDeploymentRecord;
  /** True when this call created the contract; false when it found and verified it. */
  readonly deployed: boolean;
}

/**
 * A deployer key file: `{"privateKey": "0x…"}` (the format of the guardians' EVM key files) or the
 * 0x-prefixed key alone.
 */
export function readDeployerKey(path: string): Hex {
  const text = readFileSync(path, "utf8").trim();
  let key: string = text;
  if (text.startsWith("{")) {
    const parsed = z.strictObject({ privateKey: z.string() }).safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${path}: not a key file ({"privateKey": "0x" + 64 hex digits})`);
    key = parsed.data.privateKey;
  }
  if (!isHex(key) || key.length !== 66)
    throw new Error(`${path}: the deployer key must be 0x and 64 hex digits, or {"privateKey": "0x…"}`);
  return key;
}

function publicClientOf(rpcUrl: string): PublicClient {
  return createPublicClient({ transport: http(rpcUrl, { timeout: RPC_TIMEOUT_MS, retryCount: 1 }) });
}

/** The address the deployer's next transaction creates if it is a contract creation. */
export async function nextContractAddress(
  rpcUrl: string,
  deployer: EvmAddress,
): Promise<{ chainId: number; contract: EvmAddress; nonce: number }> {
  const client = publicClientOf(rpcUrl);
  const chainId = await client.getChainId();
  const nonce = await client.getTransactionCount({ address: deployer, blockTag: "pending" });
  return { chainId, contract: getContractAddress({ from: deployer, nonce: BigInt(nonce) }), nonce };
}

/** The federation's bridge module entry (exactly one) and its parsed config. */
export function bridgeModuleOf(federation: FederationConfig): { instanceId: number; config: BridgeConfig } {
  const entries = federation.modules.filter((m) => m.kind === BRIDGE_KIND);
  if (entries.length !== 1)
    throw new Error(
      `the federation config has ${entries.length} bridge modules; bridge deploy handles a federation with exactly one`,
    );
  return { instanceId: entries[0]!.instanceId, config: parseBridgeConfig(entries[0]!.config) };
}

function readRecord(path: string): BridgeDeploymentRecord | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = recordSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`${path} is not a bridge deployment record: remove or fix it`);
  return parsed.data;
}

export interface BridgeDeployOptions {
  /** The guardian data directory holding federation.json; the record is written there. */
  readonly dataDir: string;
  readonly rpcUrl: string;
  readonly deployerKey: Hex;
  /** Deploy even though this directory's record says the contract was deployed (a reset chain). */
  readonly redeploy?: boolean;
  /** The contract's rate limit, single-mint cap, delay and minimum burn (default: DEV_LIMITS). */
  readonly limits?: WxmrLimits;
  /** How long an old set may still mint after a rotation (default 1 day). */
  readonly gracePeriodSeconds?: bigint;
}

export async function deployBridge(options: BridgeDeployOptions): Promise<BridgeDeployResult> {
  const federation = parseFederationConfig(
    JSON.parse(readFileSync(join(options.dataDir, "federation.json"), "utf8")),
  );
  const fedId = toHex(federationId(federation, sha256));
  const { instanceId, config } = bridgeModuleOf(federation);
  const recordPath = join(options.dataDir, DEPLOYMENT_FILE);
  const previous = readRecord(recordPath);
  if (previous && (previous.federationId !== fedId || previous.contract !== config.contract))
    throw new Error(
      `${recordPath} records contract ${previous.contract} of federation ${previous.federationId.slice(0, 16)}…, not this federation's ${config.contract}: remove it if it is stale`,
    );
  const client = publicClientOf(options.rpcUrl);
  const chainId = await client.getChainId();
  if (chainId !== config.chainId)
    throw new Error(
      `the EVM node at ${options.rpcUrl} is on chain ${chainId}, the federation's bridge config says ${config.chainId}`,
    );
  const source = new ViemEvmSource(options.rpcUrl, config.contract, RPC_TIMEOUT_MS);
  const record = (extra: Partial<BridgeDeploymentRecord>): BridgeDeploymentRecord => ({
    federationId: fedId,
    instanceId,
    chainId,
    contract: config.contract,
    setIndex: config.setIndex,
    guardians: sortedSigners(config.guardians),
    threshold: config.threshold,
    ...extra,
    verifiedAt: new Date().toISOString(),
  });
  const code = await client.getCode({ address: config.contract });
  if (code !== undefined && code !== "0x") {
    // Deployed already (by this command earlier, or by another operator of the federation): verify
    // it as every guardian's start check does, and deploy nothing.
    await checkChain(source, config);
    const r = record(
      previous
        ? {
            ...(previous.deployer ? { deployer: previous.deployer } : {}),
            ...(previous.txHash ? { txHash: previous.txHash } : {}),
            ...(previous.blockNumber ? { blockNumber: previous.blockNumber } : {}),
          }
        : {},
    );
    writeFileSync(recordPath, JSON.stringify(r, null, 2) + "\n");
    return { record: r, deployed: false };
  }
  if (previous && !options.redeploy)
    throw new Error(
      `this federation's contract was deployed at ${previous.contract} on chain ${previous.chainId}` +
        `${previous.txHash ? ` (tx ${previous.txHash})` : ""} as ${recordPath} records, and the node at ${options.rpcUrl} ` +
        `has no code there: a reset chain or the wrong node. Pass --redeploy to deploy it again`,
    );
  if (config.setIndex !== 1)
    throw new Error(
      `the bridge config names guardian set ${config.setIndex}; a new contract starts at set 1 (a later set comes from a rotation signed by the current one)`,
    );
  const account = privateKeyToAccount(options.deployerKey);
  const nonce = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
  const next = getContractAddress({ from: account.address, nonce: BigInt(nonce) });
  if (next !== config.contract)
    throw new Error(
      `the deployer ${account.address} would create ${next} (its nonce is ${nonce}), but the federation's bridge config ` +
        `names ${config.contract}: deploy with the key whose next contract was put into the config, before it sends anything else`,
    );
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const wallet = createWalletClient({
    account,
    chain,
    transport: http(options.rpcUrl, { timeout: RPC_TIMEOUT_MS, retryCount: 0 }),
  });
  const txHash = await wallet.deployContract({
    abi: wrappedMoneroAbi,
    bytecode: wrappedMoneroBytecode,
    args: [
      sortedSigners(config.guardians),
      config.threshold,
      options.limits ?? DEV_LIMITS,
      options.gracePeriodSeconds ?? 86_400n,
    ],
    nonce,
  });
  const receipt = await client.waitForTransactionReceipt({
    hash: txHash,
    timeout: RECEIPT_TIMEOUT_MS,
    pollingInterval: 200,
  });
  if (receipt.status !== "success" || receipt.contractAddress == null)
    throw new Error(`the deployment transaction ${txHash} failed (status ${receipt.status})`);
  if (getAddress(receipt.contractAddress) !== config.contract)
    throw new Error(`the deployment created ${receipt.contractAddress}, not ${config.contract}`);
  await checkChain(source, config);
  const r = record({ deployer: account.address, txHash, blockNumber: receipt.blockNumber.toString() });
  writeFileSync(recordPath, JSON.stringify(r, null, 2) + "\n");
  return { record: r, deployed: true };
}

const limitsFileSchema = z.strictObject({
  rateCapacity: z.string().regex(/^\d{1,22}$/),
  ratePerSecond: z.string().regex(/^\d{1,22}$/),
  singleMintCap: z.string().regex(/^\d{1,22}$/),
  mintDelay: z.string().regex(/^\d{1,10}$/),
  minBurn: z.string().regex(/^\d{1,22}$/),
});

function readLimits(path: string): WxmrLimits {
  const parsed = limitsFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success)
    throw new Error(
      `${path}: limits are {"rateCapacity","ratePerSecond","singleMintCap","minBurn"} in piconero and "mintDelay" in seconds, as decimal strings`,
    );
  const l = parsed.data;
  return {
    rateCapacity: BigInt(l.rateCapacity),
    ratePerSecond: BigInt(l.ratePerSecond),
    singleMintCap: BigInt(l.singleMintCap),
    mintDelay: BigInt(l.mintDelay),
    minBurn: BigInt(l.minBurn),
  };
}

export async function bridgeMain(argv: readonly string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: [...rest],
    options: {
      data: { type: "string" },
      rpc: { type: "string" },
      "deployer-key": { type: "string" },
      limits: { type: "string" },
      "grace-seconds": { type: "string" },
      redeploy: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.rpc || !values["deployer-key"])
    throw new Error(`bridge ${sub ?? ""} needs --rpc URL and --deployer-key FILE`);
  const key = readDeployerKey(values["deployer-key"]);
  if (sub === "address") {
    const deployer = privateKeyToAccount(key).address;
    const next = await nextContractAddress(values.rpc, deployer);
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...next, deployer }) + "\n");
      return;
    }
    process.stdout.write(
      `chain id  ${next.chainId}\ncontract  ${next.contract}\n` +
        `(the contract the deployer ${deployer} creates with its next transaction, nonce ${next.nonce}: put ` +
        `"chainId": ${next.chainId} and "contract": "${next.contract}" in the bridge module's config, and send ` +
        `nothing else from this key before \`conclaved bridge deploy\`)\n`,
    );
    return;
  }
  if (sub === "deploy") {
    if (!values.data)
      throw new Error("bridge deploy needs --data DIR (a guardian's directory with federation.json)");
    const grace = values["grace-seconds"];
    if (grace !== undefined && !/^\d{1,10}$/.test(grace))
      throw new Error("--grace-seconds takes whole seconds");
    const { record, deployed } = await deployBridge({
      dataDir: values.data,
      rpcUrl: values.rpc,
      deployerKey: key,
      redeploy: values.redeploy,
      ...(values.limits ? { limits: readLimits(values.limits) } : {}),
      ...(grace !== undefined ? { gracePeriodSeconds: BigInt(grace) } : {}),
    });
    if (values.json) {
      process.stdout.write(JSON.stringify({ deployed, ...record }) + "\n");
      return;
    }
    process.stdout.write(
      `${deployed ? "deployed" : "already deployed; verified"}: WrappedMonero\n` +
        `chain id   ${record.chainId}\ncontract   ${record.contract}\nset index  ${record.setIndex}\n` +
        `guardians  ${record.threshold}-of-${record.guardians.length}: ${record.guardians.join(", ")}\n` +
        (record.txHash ? `tx         ${record.txHash} (block ${record.blockNumber})\n` : "") +
        `record     ${join(values.data, DEPLOYMENT_FILE)}\n`,
    );
    return;
  }
  throw new Error(`unknown command "bridge ${sub ?? ""}": use "bridge address" or "bridge deploy"`);
}
