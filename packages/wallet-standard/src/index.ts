// @conclave/wallet-standard: the e-cash wallet of the standard client halves (mint, Monero, dev
// faucet), browser-safe (no node: imports, no native code). It composes @conclave/wallet (databases,
// crypto, mnemonic: no module) with the halves; the Node entry, `@conclave/wallet-standard/node`,
// adds the embedded LMDB database and the native backends.
//
//   const { joinWallet } = browserWallets();
//   const { wallet, mnemonic } = await joinWallet("my-wallet", inviteCode);
//   await wallet.reissue(noteString);
//   const { notes } = await wallet.spend(1000n);
import { IndexedDbClientDb, nobleCrypto } from "@conclave/wallet";
import { walletEntry } from "./entry.js";
import type { WalletOptions } from "./wallet.js";

export * from "@conclave/wallet";
export * from "./types.js";
export { WalletKeys } from "./keys.js";
export {
  NOTES_PREFIX,
  NOTES_PER_STRING_MAX,
  decodeNoteString,
  encodeNoteString,
} from "@conclave/module-mint/client";
export type { BearerNote, NoteString } from "@conclave/module-mint/client";
export { Wallet, RESTORE_GAP_DEFAULT, walletFactories } from "./wallet.js";
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
