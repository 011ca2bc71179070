export * from "./node-crypto.js";
export * from "./consensus/index.js";
