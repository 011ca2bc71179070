// The bridge half's EVM side, through viem: the user's own key and node (never a guardian's). Sends
// the signed mint, signs and sends burns (the signed bytes written down before they are sent, so a
// crash resends the same transaction), and reads what the chain says of a mint or a burn.
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  encodeFunctionData,
  http,
  keccak256,
  parseEventLogs,
} from "viem";
import type { Chain, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { GAS_MARGIN_PERCENT, bridgeError, errorText, reissueOf } from "./config.js";
import type { EvmSender, MintCall, ReissueInfo } from "./config.js";

type Hex = `0x${string}`;

/** The node's answer to a mint: its transaction and what the contract did. */
export interface MintSubmission {
  readonly txHash: Hex;
  readonly status: "success" | "reverted";
  readonly blockNumber: bigint;
  readonly gasUsed: bigint;
  readonly gasLimit: bigint;
  /** True when the contract queued it (an amount above its single-mint cap): executeDelayed later. */
  readonly delayed: boolean;
  /** The mint sent was a re-issue of an expired one (its attempt and deadline). */
  readonly reissue?: ReissueInfo;
}

/** A Burned event as the chain logged it. */
export interface BurnLog {
  readonly txHash: Hex;
  readonly logIndex: number;
  readonly blockNumber: bigint;
  readonly burnId: bigint;
  readonly from: Hex;
  readonly amount: bigint;
  readonly kind: number;
  readonly destination: Hex;
}

/** An EIP-1193 provider: a browser's injected EVM wallet (window.ethereum). */
export interface Eip1193Requester {
  request(args: { readonly method: string; readonly params?: readonly unknown[] }): Promise<unknown>;
}

/**
 * The EVM node the wallet reads the chain from: a JSON-RPC URL (the CLI's --rpc), or an EIP-1193
 * provider (the wallet page reads through the user's browser wallet, whose node URL it never sees).
 */
export type EvmRpc = string | Eip1193Requester;

function rpcName(rpc: EvmRpc): string {
  return typeof rpc === "string" ? `the EVM node at ${rpc}` : "the EVM wallet's node";
}

function chainOf(chainId: number, rpc: EvmRpc): Chain {
  return defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: typeof rpc === "string" ? [rpc] : [] } },
  });
}

export function publicClientOf(chainId: number, rpc: EvmRpc): PublicClient {
  // Receipts are polled every 250 ms (viem's default of 4 s is one block on mainnet, slow on a dev chain).
  return createPublicClient({
    chain: chainOf(chainId, rpc),
    transport: typeof rpc === "string" ? http(rpc) : custom(rpc),
    pollingInterval: 250,
  });
}

/** Refuses a node of another chain than the federation's contract (before anything is signed). */
export async function checkChainId(client: PublicClient, chainId: number, rpc: EvmRpc): Promise<void> {
  let actual: number;
  try {
    actual = await client.getChainId();
  } catch (e) {
    throw bridgeError("evm_failed", `${rpcName(rpc)} does not answer: ${errorText(e)}`);
  }
  if (actual !== chainId)
    throw bridgeError(
      "wrong_chain",
      `${rpcName(rpc)} is on chain ${actual}; the federation's wXMR contract is on chain ${chainId}`,
      { chainId, actual },
    );
}

function accountOf(sender: EvmSender) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(sender.privateKey))
    throw bridgeError("invalid_evm_key", "an EVM private key is 0x and 64 hex digits");
  try {
    return privateKeyToAccount(sender.privateKey);
  } catch (e) {
    throw bridgeError("invalid_evm_key", `not a valid secp256k1 private key: ${errorText(e)}`);
  }
}

/** The name of the contract's custom error, or the node's message. */
export function revertText(e: unknown): string {
  if (e instanceof BaseError) {
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName)
      return `${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(", ")})`;
    return e.shortMessage;
  }
  return errorText(e);
}

/**
 * `sendMint`, with the call's re-issue (if any) in the result; `sent` sees the submission before a
 * reverted one is refused (`evm_failed`), so a caller can record its EVM transaction either way.
 */
export async function sendMintChecked(
  call: MintCall,
  sender: EvmSender,
  sent?: (submission: MintSubmission) => Promise<void>,
): Promise<MintSubmission> {
  const submission = { ...(await sendMint(call, sender)), ...reissueOf(call) };
  await sent?.(submission);
  if (submission.status !== "success")
    throw bridgeError("evm_failed", `the mint transaction ${submission.txHash} reverted`, {
      txHash: submission.txHash,
    });
  return submission;
}

/**
 * Sends the mint from `sender` (which pays the gas) and waits for its receipt. The gas limit is the
 * node's estimate plus GAS_MARGIN_PERCENT (config.ts says why). The estimate runs the call: a mint
 * the contract would refuse (a used deposit id, an expired deadline, a bad signature) fails here
 * with the contract's error name and costs nothing.
 */
export async function sendMint(call: MintCall, sender: EvmSender): Promise<MintSubmission> {
  const account = accountOf(sender);
  const client = publicClientOf(call.chainId, sender.rpcUrl);
  await checkChainId(client, call.chainId, sender.rpcUrl);
  const wallet = createWalletClient({
    account,
    chain: chainOf(call.chainId, sender.rpcUrl),
    transport: http(sender.rpcUrl),
  });
  const args = [
    {
      recipient: call.recipient,
      amount: call.amount,
      depositId: call.depositId,
      deadline: call.deadline,
      setIndex: call.setIndex,
    },
    [...call.signatures],
  ] as const;
  let gasLimit: bigint;
  try {
    const estimate = await client.estimateContractGas({
      address: call.contract,
      abi: wrappedMoneroAbi,
      functionName: "mint",
      args,
      account,
    });
    gasLimit = (estimate * GAS_MARGIN_PERCENT) / 100n;
  } catch (e) {
    throw bridgeError("evm_failed", `the contract refuses this mint: ${revertText(e)}`, {
      depositId: call.depositId,
    });
  }
  const txHash = await wallet.writeContract({
    address: call.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args,
    gas: gasLimit,
  });
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  const delayed =
    parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "MintDelayed" }).length > 0;
  return {
    txHash,
    status: receipt.status,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    gasLimit,
    delayed,
  };
}

/** A burn's calldata: `burn(amount, moneroAddress)` or `burnToClaim(amount, claimKey)`. */
export function burnCalldata(
  to: { readonly moneroAddress: string } | { readonly claimKey: Hex },
  amount: bigint,
): Hex {
  return "moneroAddress" in to
    ? encodeFunctionData({ abi: wrappedMoneroAbi, functionName: "burn", args: [amount, to.moneroAddress] })
    : encodeFunctionData({ abi: wrappedMoneroAbi, functionName: "burnToClaim", args: [amount, to.claimKey] });
}

/**
 * Signs a burn from `sender` without sending it: its hash and raw bytes, for the wallet to write
 * down first. The estimate runs the call, so a burn the contract refuses (too small, more than the
 * balance, paused) fails here and nothing is signed.
 */
export async function signBurn(
  chainId: number,
  contract: Hex,
  data: Hex,
  sender: EvmSender,
): Promise<{ rawTx: Hex; txHash: Hex; from: Hex }> {
  const account = accountOf(sender);
  const client = publicClientOf(chainId, sender.rpcUrl);
  await checkChainId(client, chainId, sender.rpcUrl);
  const wallet = createWalletClient({
    account,
    chain: chainOf(chainId, sender.rpcUrl),
    transport: http(sender.rpcUrl),
  });
  let gas: bigint;
  try {
    gas = ((await client.estimateGas({ account, to: contract, data })) * GAS_MARGIN_PERCENT) / 100n;
  } catch (e) {
    throw bridgeError("evm_failed", `the contract refuses this burn: ${revertText(e)}`);
  }
  const request = await wallet.prepareTransactionRequest({
    account,
    to: contract,
    data,
    gas,
    chain: chainOf(chainId, sender.rpcUrl),
  });
  const rawTx = await wallet.signTransaction(request);
  return { rawTx, txHash: keccak256(rawTx), from: account.address };
}

/**
 * Sends a signed transaction (again: a node that has it already, or has mined it, says so, which is
 * fine) and waits for its receipt; returns the Burned log it emitted.
 */
export async function sendBurn(
  chainId: number,
  contract: Hex,
  rpcUrl: string,
  rawTx: Hex,
  txHash: Hex,
): Promise<BurnLog> {
  const client = publicClientOf(chainId, rpcUrl);
  try {
    await client.sendRawTransaction({ serializedTransaction: rawTx });
  } catch (e) {
    // Sent before a crash: "already known", or "nonce too low" once mined. The receipt decides.
    const mined = await client.getTransactionReceipt({ hash: txHash }).catch(() => undefined);
    if (!mined && !/already known|nonce too low/i.test(errorText(e)))
      throw bridgeError("evm_failed", `the EVM node did not take the burn ${txHash}: ${revertText(e)}`);
  }
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success")
    throw bridgeError("evm_failed", `the burn ${txHash} reverted on chain (block ${receipt.blockNumber})`);
  const log = burnLogsOf(contract, receipt)[0];
  if (!log)
    throw bridgeError("evm_failed", `the transaction ${txHash} emitted no Burned event of ${contract}`);
  return log;
}

/** The Burned logs of `contract` in a transaction's receipt. */
export function burnLogsOf(
  contract: Hex,
  receipt: { readonly logs: Parameters<typeof parseEventLogs>[0]["logs"]; readonly transactionHash: Hex },
): BurnLog[] {
  return parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Burned" })
    .filter((l) => l.address.toLowerCase() === contract.toLowerCase())
    .map((l) => ({
      txHash: receipt.transactionHash,
      logIndex: l.logIndex,
      blockNumber: l.blockNumber,
      burnId: l.args.burnId,
      from: l.args.from,
      amount: l.args.amount,
      kind: l.args.kind,
      destination: l.args.destination,
    }));
}

/** A burn transaction's Burned logs, read from the node (a burn made by another wallet or before a restore). */
export async function readBurn(chainId: number, contract: Hex, rpc: EvmRpc, txHash: Hex): Promise<BurnLog[]> {
  const client = publicClientOf(chainId, rpc);
  await checkChainId(client, chainId, rpc);
  let receipt;
  try {
    receipt = await client.getTransactionReceipt({ hash: txHash });
  } catch (e) {
    throw bridgeError("unknown_burn", `the EVM node has no mined transaction ${txHash}: ${errorText(e)}`);
  }
  return burnLogsOf(contract, receipt);
}

/** The contract's depositStatus codes, in order (WrappedMonero.sol DEPOSIT_*). */
const DEPOSIT_STATUS = ["unused", "minted", "queued", "cancelled"] as const;

/**
 * What the chain says of a mint: its deposit id's status (unused, minted, queued above the cap with
 * the time it may execute from, or cancelled by a guardian), its transaction, the time.
 */
export async function mintOnChain(
  chainId: number,
  contract: Hex,
  rpc: EvmRpc,
  depositId: Hex,
  evmTx: Hex | undefined,
): Promise<{
  deposit: (typeof DEPOSIT_STATUS)[number];
  executeAfter: bigint;
  tx?: "success" | "reverted" | "unknown";
  chainTime: bigint;
}> {
  const client = publicClientOf(chainId, rpc);
  await checkChainId(client, chainId, rpc);
  const [code, executeAfter] = await client.readContract({
    address: contract,
    abi: wrappedMoneroAbi,
    functionName: "depositStatus",
    args: [depositId],
  });
  const deposit = DEPOSIT_STATUS[code];
  if (deposit === undefined)
    throw new Error(`the contract's depositStatus ${code} is none this wallet knows`);
  const block = await client.getBlock();
  let tx: "success" | "reverted" | "unknown" | undefined;
  if (evmTx) {
    const r = await client.getTransactionReceipt({ hash: evmTx }).catch(() => undefined);
    tx = r ? r.status : "unknown";
  }
  return { deposit, executeAfter, ...(tx ? { tx } : {}), chainTime: block.timestamp };
}
