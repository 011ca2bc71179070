// @conclave/module-mint/client: the mint's client half (browser-safe), for the client core of
// @conclave/core-client. docs/client-architecture.md shows where it sits.
export * from "./backup.js";
export * from "./config.js";
export * from "./keys.js";
export * from "./mint-client.js";
export * from "./note-string.js";
export * from "./restore.js";
export * from "./select.js";
export * from "./store.js";
export * from "./transactions.js";
export type * from "./types.js";
export * from "./commands.js";
