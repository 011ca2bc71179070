// @conclave/wallet: what every wallet needs whatever client halves it is built with, browser-safe
// (no node: imports, no native code): the client databases, the cryptography backends, the mnemonic
// and the federation root, and opening wallets by location. It imports no module: the wallet of the
// mint, Monero and faucet halves is composed at the edge, in @conclave/wallet-standard
// (docs/client-architecture.md). The Node entry, `@conclave/wallet/node`, adds the embedded LMDB
// database and the native backends.
export { WalletError } from "./errors.js";
export {
  ROOT_BYTES,
  WALLET_INFO,
  checkMnemonic,
  federationRoot,
  newMnemonic,
  normalizeMnemonic,
} from "./keys.js";
export { MemoryClientDb, scanPrefix } from "./db.js";
export type { ClientDb, DbOp } from "./db.js";
export { IndexedDbClientDb } from "./indexeddb-db.js";
export { nobleCrypto, webRandom } from "./crypto.js";
export type { WalletCrypto } from "./crypto.js";
export { locatedWallets } from "./entry.js";
export type { LocatedWallets, WalletKind } from "./entry.js";
