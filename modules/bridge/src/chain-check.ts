// The start check (wPOKT's validator does the same): before a guardian runs the bridge, its own EVM
// node must show the configured chain id, a contract at the configured address, and that contract's
// current guardian set and threshold equal to the config's. Anything else refuses to start with an
// error that says which value differs, from what to what.
import { sortedSigners } from "./common.js";
import type { BridgeConfig } from "./common.js";
import type { EvmSource } from "./watcher.js";

export class BridgeChainMismatchError extends Error {
  override readonly name = "BridgeChainMismatchError";
}

export async function checkChain(source: EvmSource, config: BridgeConfig): Promise<void> {
  const chainId = await source.chainId();
  if (chainId !== config.chainId)
    throw new BridgeChainMismatchError(
      `bridge start check: the EVM node is on chain ${chainId}, the federation config says ${config.chainId}: point rpcUrl at the right chain`,
    );
  const onChain = await source.contractState();
  if (onChain.codeBytes === 0)
    throw new BridgeChainMismatchError(
      `bridge start check: no contract at ${config.contract} on chain ${chainId}`,
    );
  if (onChain.setIndex !== config.setIndex)
    throw new BridgeChainMismatchError(
      `bridge start check: the contract's current guardian set is ${onChain.setIndex}, the config's ${config.setIndex}`,
    );
  const expected = sortedSigners(config.guardians).map((a) => a.toLowerCase());
  const actual = onChain.guardians.map((a) => a.toLowerCase());
  if (expected.length !== actual.length || expected.some((a, i) => a !== actual[i]))
    throw new BridgeChainMismatchError(
      `bridge start check: the contract's guardian set ${onChain.setIndex} is [${actual.join(", ")}], the config's [${expected.join(", ")}]`,
    );
  if (onChain.threshold !== config.threshold)
    throw new BridgeChainMismatchError(
      `bridge start check: the contract's threshold is ${onChain.threshold}, the config's ${config.threshold}`,
    );
}
