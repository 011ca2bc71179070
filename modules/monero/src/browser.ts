// The Monero module's browser-safe half (no node: imports, no Monero RPC client): wire formats,
// config schema, API schemas and the deposit input builder.
export * from "./common.js";
export * from "./payout-common.js";
export * from "./payout-status.js";
export * from "./api.js";
export * from "./client.js";
export * from "./sealed-claim.js";
