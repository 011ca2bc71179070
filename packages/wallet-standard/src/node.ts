// @conclave/wallet-standard/node: the standard wallet in Node. One directory = one LMDB database =
// one wallet; Ed25519 signing on node:crypto and the blind signatures on native blst.
import { LmdbClientDb, nodeCrypto } from "@conclave/wallet/node";
import { WebSocket } from "ws";
import { walletEntry } from "./entry.js";
import type { NodeWalletEntry } from "./types.js";
import type { WalletOptions } from "./wallet.js";

export * from "./index.js";
export { LmdbClientDb, nodeCrypto } from "@conclave/wallet/node";

/** Node wallets with options (client limits, hooks, restore gap). */
export function nodeWallets(options: Partial<WalletOptions> = {}) {
  // Node 20 has no global WebSocket: watches use `ws`.
  return walletEntry((dir) => Promise.resolve(LmdbClientDb.open(dir)), {
    crypto: nodeCrypto,
    webSocket: (url) => new WebSocket(url),
    ...options,
  });
}

const defaults = nodeWallets();
export const joinWallet: NodeWalletEntry["joinWallet"] = (dir, invite, options) =>
  defaults.joinWallet(dir, invite, options);
export const openWallet: NodeWalletEntry["openWallet"] = (dir) => defaults.openWallet(dir);
export const relaySealed: NodeWalletEntry["relaySealed"] = (url, sealed) => defaults.relaySealed(url, sealed);
export const restoreWallet: NodeWalletEntry["restoreWallet"] = (dir, invite, mnemonic) =>
  defaults.restoreWallet(dir, invite, mnemonic);
