// Simulated external chains for the whole-federation simulation: the generic parts (chain.ts), the
// Monero chain, each guardian's node and multisig share, and the money checkers' questions; the
// bridge's EVM chain with the WrappedMonero contract's rules and each guardian's EVM node (evm-chain.ts).
export * from "./chain.js";
export * from "./monero-chain.js";
export * from "./monero-checks.js";
export * from "./monero-node.js";
export * from "./monero-sets.js";
export * from "./monero-wallet.js";
export * from "./evm-chain.js";
