// @conclave/testing-monero: a Monero regtest network (monerod + monero-wallet-rpc processes on
// 127.0.0.1) for tests and the dev federation, with mining helpers.
export * from "./miner.js";
export * from "./processes.js";
export * from "./started.js";
export * from "./regtest.js";
export * from "./multisig.js";
export * from "./template.js";
