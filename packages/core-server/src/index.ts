export * from "./node-crypto.js";
export * from "./consensus/index.js";
export * from "./consensus-node.js";
export * from "./p2p/index.js";
export * from "./storage/lmdb-consensus-store.js";
export * from "./db/kv.js";
export * from "./federation/module.js";
export * from "./federation/processor.js";
