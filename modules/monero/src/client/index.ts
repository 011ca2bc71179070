// @conclave/module-monero/client: the Monero module's client half (browser-safe), for the client
// core of @conclave/core-client; it moves value through the mint half's interface.
// docs/client-architecture.md shows where it sits.
export * from "./config.js";
export * from "./keys.js";
export * from "./monero-client.js";
export * from "./relay.js";
export * from "./store.js";
export type * from "./types.js";
export * from "./commands.js";
