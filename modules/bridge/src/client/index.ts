// @conclave/module-bridge/client: the bridge module's client half (browser-safe), for the client
// core of @conclave/core-client; it moves value through the mint half's interface.
// docs/client-architecture.md shows where it sits; docs/bridge.md what it does.
export * from "./config.js";
export * from "./bridge-client.js";
export * from "./burns.js";
export * from "./evm.js";
export * from "./mints.js";
export * from "./refunds.js";
export * from "./recover.js";
export type { DepositMintOptions, DepositSource, SealedDepositMint } from "./deposit-mints.js";
export { parseEvmAddress } from "./part.js";
export * from "./commands.js";
export * from "./lookup.js";
