// @conclave/monero: typed clients for monerod and monero-wallet-rpc, the multisig protocol in
// explicit steps, monero-wallet-cli for the one setting wallet-rpc cannot change, and address and
// amount handling. Server side only (Node): browsers get addresses and amounts from core-common later.
export * from "./address.js";
export * from "./amount.js";
export { base58Decode, base58Encode } from "./base58.js";
export * from "./daemon-rpc.js";
export * from "./errors.js";
export { hex32, parseJsonExact, quoteUnsafeIntegers, stringifyJson, txKeyHex, u64, uint } from "./json.js";
export type { JsonIn } from "./json.js";
export * from "./multisig.js";
export * from "./multisig-ceremony.js";
export { payStallSafe } from "./pay-stall-safe.js";
export { RESPONSE_BYTES_MAX, RpcTransport } from "./rpc.js";
export * from "./tx-proof.js";
export type { CallOptions, RpcClientOptions } from "./rpc.js";
export * from "./wallet-cli.js";
export * from "./wallet-rpc.js";
export { cnSlowHashV0 } from "./cryptonight.js";
export {
  MULTISIG_EXPORT_MAGIC,
  MULTISIG_TXSET_MAGIC,
  multisigTxSetChachaKey,
  openMultisigTxSet,
  readMultisigExport,
  readMultisigTxSetKeyImages,
  sealMultisigExport,
  sealMultisigTxSet,
} from "./multisig-txset.js";
