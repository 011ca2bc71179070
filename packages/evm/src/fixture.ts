// A deployed WrappedMonero on a real anvil with n guardian keys, for tests and benchmarks: the keys
// are derived from a label (deterministic, test-only), the contract is deployed from anvil's first
// dev account, and `send` submits a call and returns its receipt.
import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  getContract,
  http,
  keccak256,
  toHex,
} from "viem";
import type { Address, Hex, LocalAccount, PrivateKeyAccount, TransactionReceipt } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployWrappedMonero, startAnvil } from "./anvil.js";
import type { Anvil, StartAnvilOptions } from "./anvil.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { compareAddresses, signMint, wxmrDomain } from "./typed-data.js";
import type { MintMessage, WxmrDomain, WxmrLimits } from "./typed-data.js";

/** n secp256k1 accounts from keccak256("<label>-<i>"), in ascending address order. Test keys only. */
export function testAccounts(n: number, label: string): PrivateKeyAccount[] {
  return Array.from({ length: n }, (_, i) => privateKeyToAccount(keccak256(toHex(`${label}-${i}`)))).sort(
    (a, b) => compareAddresses(a.address, b.address),
  );
}

export interface WxmrFixtureOptions {
  guardians: number;
  threshold: number;
  limits?: WxmrLimits;
  gracePeriodSeconds?: bigint;
  anvil?: StartAnvilOptions;
}

export async function startWxmrFixture(options: WxmrFixtureOptions) {
  const anvil = await startAnvil(options.anvil);
  try {
    const guardians = testAccounts(options.guardians, "guardian");
    const deployed = await deployWrappedMonero(anvil, {
      guardians: guardians.map((g) => g.address),
      threshold: options.threshold,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
    });
    return fixtureOf(anvil, deployed.address, guardians, options.threshold);
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

function fixtureOf(anvil: Anvil, address: Address, guardians: PrivateKeyAccount[], threshold: number) {
  const contract = getContract({
    address,
    abi: wrappedMoneroAbi,
    client: { public: anvil.publicClient, wallet: anvil.walletClient },
  });
  const domain: WxmrDomain = wxmrDomain(anvil.chain.id, address);

  /** Waits for a sent transaction and fails if it reverted. */
  async function receipt(hash: Promise<Hex>): Promise<TransactionReceipt> {
    const r = await anvil.publicClient.waitForTransactionReceipt({ hash: await hash });
    if (r.status !== "success") {
      const tx = await anvil.publicClient.getTransaction({ hash: r.transactionHash });
      throw new Error(
        `transaction ${r.transactionHash} reverted (gas used ${r.gasUsed} of ${tx.gas}, block ${r.blockNumber})`,
      );
    }
    return r;
  }

  /** The chain's latest block timestamp (the `block.timestamp` the next call sees, unless time is set). */
  async function now(): Promise<bigint> {
    return (await anvil.publicClient.getBlock()).timestamp;
  }

  /** A mint message with a fresh deposit id, valid for an hour from the latest block. */
  async function mintMessage(recipient: Address, amount: bigint, fields: Partial<MintMessage> = {}) {
    const message: MintMessage = {
      recipient,
      amount,
      depositId: keccak256(toHex(`deposit-${depositCounter++}`)),
      deadline: (await now()) + 3_600n,
      setIndex: await contract.read.setIndex(),
      ...fields,
    };
    return message;
  }
  let depositCounter = 0;

  /** Signs with the first `threshold` guardians and mints; returns the receipt. */
  async function mint(
    message: MintMessage,
    signers: readonly PrivateKeyAccount[] = guardians.slice(0, threshold),
  ) {
    const signatures = await signMint(signers, domain, message);
    return receipt(contract.write.mint([message, signatures]));
  }

  /** Moves the chain's clock forward and mines a block at the new time. */
  async function advance(seconds: bigint): Promise<void> {
    await anvil.testClient.increaseTime({ seconds: Number(seconds) });
    await anvil.testClient.mine({ blocks: 1 });
  }

  /** The contract as `account` sends it (funded with 1 ETH for gas). */
  async function as(account: LocalAccount) {
    await anvil.testClient.setBalance({ address: account.address, value: 10n ** 18n });
    const wallet = createWalletClient({
      account,
      chain: anvil.chain,
      transport: http(anvil.rpcUrl),
      pollingInterval: 50,
    });
    return getContract({ address, abi: wrappedMoneroAbi, client: { public: anvil.publicClient, wallet } });
  }

  return {
    anvil,
    address,
    contract,
    domain,
    guardians,
    threshold,
    receipt,
    now,
    mintMessage,
    mint,
    advance,
    as,
  };
}
export type WxmrFixture = ReturnType<typeof fixtureOf>;

/** The custom error a rejected call carries: its name and arguments, or undefined if none. */
export function revertOf(e: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const reverted = e.walk((c) => c instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError) || reverted.data === undefined) return undefined;
  return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
}

/** Resolves with the custom error `call` reverts with; throws if it does not revert with one. */
export async function revertWith(
  call: Promise<unknown>,
): Promise<{ errorName: string; args: readonly unknown[] }> {
  try {
    await call;
  } catch (e) {
    const r = revertOf(e);
    if (r !== undefined) return r;
    throw e;
  }
  throw new Error("expected the call to revert, it succeeded");
}
