// What the wallet's wXMR panel checks and reads itself, through the user's EVM wallet (EIP-1193):
// a signed mint from the SDK is checked here before it is sent (chain, contract, deposit id computed
// in the page, each signature recovered to a guardian address of the bridge config t guardians
// served at join, ascending, at least t), the wXMR balance and a transaction's Burned log are read
// from the chain. The ABI is the generated one (@conclave/evm/abi): the wallet bundle has it already
// (the SDK's bridge half sends with it), so it costs the page nothing more.
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import type { BridgeConfigView, MintCall as SdkMintCall } from "@conclave/wallet-standard";
import { decodeFunctionResult, encodeFunctionData, getAddress, parseEventLogs, recoverAddress } from "viem";
import type { Address, Hex, Log } from "viem";
import { formatXmr } from "../format.js";
import { mintDigest, outputDepositId } from "../wxmr.js";
import type { BridgeInfo, Eip1193Provider, MintCall } from "../wxmr.js";

export function bridgeInfoOf(c: BridgeConfigView): BridgeInfo {
  return {
    chainId: c.chainId,
    contract: getAddress(c.contract),
    guardians: c.guardians.map((g) => getAddress(g)),
    threshold: c.threshold,
  };
}

/** "1.25 wXMR" (12 decimals, every digit). */
export function formatWxmr(piconero: bigint | string): string {
  return formatXmr(piconero).replace(/ XMR$/, " wXMR");
}

/**
 * The SDK's signed mint, checked by the page before the user's wallet sends it: the bridge config's
 * chain and contract, the deposit id of (txid, output) under this federation, the recipient the user
 * asked for, and the signatures: each must recover to its stated signer, each signer a guardian of
 * the config, strictly ascending, at least t. Returns the call in the page's form, or throws what
 * is wrong (nothing is sent).
 */
export async function checkedCall(
  bridge: BridgeInfo,
  federationId: string,
  mint: { readonly txid: string; readonly output: number; readonly recipient: Address },
  call: SdkMintCall,
): Promise<MintCall> {
  if (call.chainId !== bridge.chainId || getAddress(call.contract) !== bridge.contract)
    throw new Error(
      `the mint is for contract ${call.contract} on chain ${call.chainId}, not the federation's`,
    );
  const depositId = outputDepositId(federationId, mint.txid, mint.output);
  if (call.depositId.toLowerCase() !== depositId)
    throw new Error(`the mint names deposit id ${call.depositId}; this page computes ${depositId}`);
  if (getAddress(call.recipient) !== getAddress(mint.recipient))
    throw new Error(`the mint pays ${call.recipient}, not ${mint.recipient}`);
  const recipient = getAddress(call.recipient);
  const digest = mintDigest(bridge, { ...call, recipient, depositId });
  const signers: Address[] = [];
  for (const [i, signature] of call.signatures.entries()) {
    const signer = await recoverAddress({ hash: digest, signature }).catch(() => undefined);
    const stated = call.signers[i];
    if (!signer || !stated || signer !== getAddress(stated))
      throw new Error(`signature ${i + 1} does not recover to the signer it names`);
    if (!bridge.guardians.includes(signer)) throw new Error(`signer ${signer} is not one of the guardians`);
    const prev = signers.at(-1);
    if (prev && BigInt(prev) >= BigInt(signer)) throw new Error("the signers are not in ascending order");
    signers.push(signer);
  }
  if (signers.length < bridge.threshold)
    throw new Error(`${signers.length} good signatures; the contract needs ${bridge.threshold}`);
  return {
    recipient,
    amount: call.amount,
    depositId,
    deadline: call.deadline,
    setIndex: call.setIndex,
    signatures: [...call.signatures],
    signers,
    bad: [...call.badGuardians],
    good: signers.length,
  };
}

export async function wxmrBalance(p: Eip1193Provider, contract: Address, owner: Address): Promise<bigint> {
  const data = encodeFunctionData({ abi: wrappedMoneroAbi, functionName: "balanceOf", args: [owner] });
  const r = await p.request({ method: "eth_call", params: [{ to: contract, data }, "latest"] });
  if (typeof r !== "string") throw new Error("eth_call: not hex");
  return decodeFunctionResult({ abi: wrappedMoneroAbi, functionName: "balanceOf", data: r as Hex });
}

/** The Burned log of `contract` in a mined transaction (its log index names the burn at the guardians). */
export async function burnedLog(
  p: Eip1193Provider,
  contract: Address,
  hash: Hex,
): Promise<{ logIndex: number; burnId: bigint } | undefined> {
  const receipt = await p.request({ method: "eth_getTransactionReceipt", params: [hash] });
  const logs = (receipt as { logs?: unknown } | null)?.logs;
  if (!Array.isArray(logs)) return undefined;
  const parsed = parseEventLogs({ abi: wrappedMoneroAbi, logs: logs as Log[], eventName: "Burned" }).filter(
    (l) => getAddress(l.address) === contract,
  );
  const first = parsed[0];
  // Raw JSON-RPC logs carry the index as hex ("0x1"): Number reads both forms.
  return first ? { logIndex: Number(first.logIndex), burnId: first.args.burnId } : undefined;
}
