// Opening wallets by location (a directory in Node, a database name in the browser), whatever
// client halves the wallet is built with: the database is opened here and closed again when the
// wallet cannot be opened on it, and a mnemonic is made or checked before anything is written.
// The wallet itself (its halves, its API) is the caller's `WalletKind`: @conclave/wallet-standard's
// Wallet is the one the CLI, the web page and the tests use.
import type { ClientDb } from "./db.js";
import { checkMnemonic, newMnemonic } from "./keys.js";

/** How a kind of wallet opens, joins and restores in a client database. */
export interface WalletKind<W, R> {
  open(db: ClientDb): Promise<W>;
  /** Joins the federation of `invite` in an empty database, with the keys of a checked `mnemonic`. */
  join(db: ClientDb, invite: string, mnemonic: string): Promise<W>;
  restore(db: ClientDb, invite: string, mnemonic: string): Promise<{ wallet: W; result: R }>;
}

/** Wallets of one kind by location. */
export interface LocatedWallets<W, R> {
  /** Joins the federation of `invite` with a fresh mnemonic (returned) or the given one. */
  joinWallet(
    location: string,
    invite: string,
    options?: { mnemonic?: string },
  ): Promise<{ wallet: W; mnemonic: string }>;
  openWallet(location: string): Promise<W>;
  /** A new wallet from the mnemonic alone. */
  restoreWallet(location: string, invite: string, mnemonic: string): Promise<{ wallet: W; result: R }>;
}

async function closingOnError<T>(db: ClientDb, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** The wallets of `kind` over the databases that `openDb` opens by location. */
export function locatedWallets<W, R>(
  openDb: (location: string) => Promise<ClientDb>,
  kind: WalletKind<W, R>,
): LocatedWallets<W, R> {
  return {
    async joinWallet(location, invite, options = {}) {
      const mnemonic = options.mnemonic === undefined ? newMnemonic() : checkMnemonic(options.mnemonic);
      const db = await openDb(location);
      const wallet = await closingOnError(db, () => kind.join(db, invite, mnemonic));
      return { wallet, mnemonic };
    },
    async openWallet(location) {
      const db = await openDb(location);
      return closingOnError(db, () => kind.open(db));
    },
    async restoreWallet(location, invite, mnemonic) {
      const normalized = checkMnemonic(mnemonic);
      const db = await openDb(location);
      return closingOnError(db, () => kind.restore(db, invite, normalized));
    },
  };
}
