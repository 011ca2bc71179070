// Client helpers of the Monero module (browser-safe): the deposit input a wallet puts into the
// transaction that turns a credited deposit into e-cash.
import type { TxInput } from "@conclave/core-common";
import { encodeDepositInput, encodeSubaddressDepositInput } from "./common.js";

/** Spends credited deposit `txid` (worth `amount`, the attested amount); the claim key must sign. */
export function depositInput(module: number, amount: bigint, txid: Uint8Array): TxInput {
  return { module, amount, payload: encodeDepositInput(txid) };
}

/** Spends credited subaddress deposit (txid, index) (worth its attested amount); the bound claim key must sign. */
export function subaddressDepositInput(
  module: number,
  amount: bigint,
  txid: Uint8Array,
  index: number,
): TxInput {
  return { module, amount, payload: encodeSubaddressDepositInput(txid, index) };
}
