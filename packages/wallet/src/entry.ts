// Opening wallets by location (a directory in Node, a database name in the browser): the
// NodeWalletEntry shape of types.ts over any client database.
import type { ClientDb } from "./db.js";
import { checkMnemonic, newMnemonic } from "./keys.js";
import { relaySealedClaim } from "@conclave/module-monero/client";
import type { NodeWalletEntry, RestoreResult } from "./types.js";
import { Wallet } from "./wallet.js";
import type { WalletOptions } from "./wallet.js";

async function closingOnError<T>(db: ClientDb, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** NodeWalletEntry, typed with the Wallet class (its extra `warnings` field included). */
export interface WalletEntry extends NodeWalletEntry {
  joinWallet(
    dir: string,
    invite: string,
    options?: { mnemonic?: string },
  ): Promise<{ wallet: Wallet; mnemonic: string }>;
  openWallet(dir: string): Promise<Wallet>;
  restoreWallet(
    dir: string,
    invite: string,
    mnemonic: string,
  ): Promise<{ wallet: Wallet; result: RestoreResult }>;
}

/** The three ways to get a wallet, over databases that `openDb` opens by location. */
export function walletEntry(
  openDb: (location: string) => Promise<ClientDb>,
  options: WalletOptions,
): WalletEntry {
  return {
    async joinWallet(dir, invite, joinOptions = {}) {
      const mnemonic =
        joinOptions.mnemonic === undefined ? newMnemonic() : checkMnemonic(joinOptions.mnemonic);
      const db = await openDb(dir);
      const wallet = await closingOnError(db, () => Wallet.join(db, invite, mnemonic, options));
      return { wallet, mnemonic };
    },
    async openWallet(dir) {
      const db = await openDb(dir);
      return closingOnError(db, () => Wallet.open(db, options));
    },
    relaySealed(url, sealed) {
      return relaySealedClaim(url, sealed, options.client);
    },
    async restoreWallet(dir, invite, mnemonic) {
      const normalized = checkMnemonic(mnemonic);
      const db = await openDb(dir);
      return closingOnError(db, () => Wallet.restore(db, invite, normalized, options));
    },
  };
}
