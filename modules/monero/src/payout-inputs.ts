// How a payout creator's `transfer` is held to an attempt's inputs (docs/monero.md, "Conflicting
// attempts"). One policy for the real wallet (RpcPayoutWallet) and the simulator's SimMoneroShare,
// so the simulation exercises exactly what guardians run.
import { MoneroMultisigError, MoneroRpcError, WalletRpcErrorCode } from "@conclave/monero";

export interface CreatedSet {
  readonly txset: string;
  readonly fee: bigint;
  readonly keyImages: readonly string[];
}

/** The wallet calls the policy needs (wallet-rpc's transfer, incoming_transfers, freeze, thaw). */
export interface FreezableWallet {
  transfer(destinations: readonly { address: string; amount: bigint }[]): Promise<CreatedSet>;
  /** Unspent outputs ("available"), with their key image where known and their frozen flag. */
  available(): Promise<readonly { readonly keyImage: string | undefined; readonly frozen: boolean }[]>;
  freeze(keyImage: string): Promise<void>;
  thaw(keyImage: string): Promise<void>;
}

/** wallet-rpc said the wallet cannot pay: not enough (unlocked) money. */
export function isShortOfMoney(e: unknown): boolean {
  return (
    MoneroRpcError.hasCode(e, WalletRpcErrorCode.NotEnoughMoney) ||
    MoneroRpcError.hasCode(e, WalletRpcErrorCode.NotEnoughUnlockedMoney)
  );
}

/**
 * The creator's transfer. With `only`, it spends only outputs with these key images: wallet-rpc has
 * no input selection for `transfer`, but wallet2 never selects a frozen output (measured), so every
 * other output is frozen for the transfer and thawed after. Without it, outputs left frozen by a
 * create that did not finish (the process died between freeze and thaw) must not starve this one:
 * they are thawed and the transfer tried once more.
 */
export async function createWithin(
  wallet: FreezableWallet,
  destinations: readonly { address: string; amount: bigint }[],
  only?: readonly string[],
): Promise<CreatedSet> {
  if (only === undefined) {
    try {
      return await wallet.transfer(destinations);
    } catch (e) {
      if (!isShortOfMoney(e) || (await setFrozen(wallet, undefined)).thawed === 0) throw e;
      return wallet.transfer(destinations);
    }
  }
  const allowed = new Set(only);
  const { frozen } = await setFrozen(wallet, allowed);
  try {
    const created = await wallet.transfer(destinations);
    if (created.keyImages.some((k) => !allowed.has(k)))
      throw new MoneroMultisigError("transfer spent an output outside the attempt's inputs");
    return created;
  } finally {
    for (const k of frozen) await wallet.thaw(k);
  }
}

/** Freezes every unspent output outside `allowed` (undefined: none) and thaws the other frozen ones. */
async function setFrozen(
  wallet: FreezableWallet,
  allowed: ReadonlySet<string> | undefined,
): Promise<{ frozen: string[]; thawed: number }> {
  const frozen: string[] = [];
  let thawed = 0;
  for (const o of await wallet.available()) {
    if (o.keyImage === undefined) continue;
    if (allowed !== undefined && !allowed.has(o.keyImage)) {
      await wallet.freeze(o.keyImage);
      frozen.push(o.keyImage);
    } else if (o.frozen) {
      await wallet.thaw(o.keyImage);
      thawed++;
    }
  }
  return { frozen, thawed };
}
