// @conclave/wallet: the e-cash wallet SDK, browser-safe (no node: imports, no native code). The
// Node entry, `@conclave/wallet/node`, adds the embedded LMDB database and the native backends.
//
//   const { joinWallet } = browserWallets();
//   const { wallet, mnemonic } = await joinWallet("my-wallet", inviteCode);
//   await wallet.reissue(noteString);
//   const { notes } = await wallet.spend(1000n);
import { nobleCrypto } from "./crypto.js";
import { walletEntry } from "./entry.js";
import { IndexedDbClientDb } from "./indexeddb-db.js";
import type { WalletOptions } from "./wallet.js";

export * from "./types.js";
export { WalletError } from "./errors.js";
export { newMnemonic, checkMnemonic, federationRoot, WalletKeys } from "./keys.js";
export {
  NOTES_PREFIX,
  NOTES_PER_STRING_MAX,
  decodeNoteString,
  encodeNoteString,
} from "@conclave/module-mint/client";
export type { BearerNote, NoteString } from "@conclave/module-mint/client";
export { MemoryClientDb, scanPrefix } from "./db.js";
export type { ClientDb, DbOp } from "./db.js";
export { IndexedDbClientDb } from "./indexeddb-db.js";
export { nobleCrypto } from "./crypto.js";
export type { WalletCrypto } from "./crypto.js";
export { Wallet, RESTORE_GAP_DEFAULT } from "./wallet.js";
export type { WalletHooks, WalletOptions } from "./wallet.js";
export { walletEntry } from "./entry.js";
export { walletCommands } from "./commands.js";
export type { WalletCommand } from "./commands.js";
export { relaySealedClaim, SEALED_CLAIMS_PATH } from "@conclave/module-monero/client";
export type { WalletEntry } from "./entry.js";

/** Wallets in the browser: IndexedDB databases by name, noble cryptography. */
export function browserWallets(options: Partial<WalletOptions> = {}) {
  return walletEntry((name) => IndexedDbClientDb.open(name), { crypto: nobleCrypto, ...options });
}
