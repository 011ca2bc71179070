// @conclave/wallet/node: the browser entry plus what only Node has: the embedded LMDB database (one
// directory = one database = one wallet) and Ed25519 on node:crypto with the blind signatures on
// native blst.
export * from "./index.js";
export { LmdbClientDb } from "./lmdb-db.js";
export { nodeCrypto } from "./node-crypto.js";
