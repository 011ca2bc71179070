// Client half of the test-only dummy module: builds faucet and spend transactions.
import { randomBytes } from "node:crypto";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { encodeDummyInput } from "./common.js";

export function faucetInput(
  module: number,
  amount: bigint,
  nonce: Uint8Array = new Uint8Array(randomBytes(16)),
): TxInput {
  return { module, amount, payload: encodeDummyInput({ kind: "faucet", nonce }) };
}

export function spendInput(module: number, amount: bigint, txid: Uint8Array, index: number): TxInput {
  return { module, amount, payload: encodeDummyInput({ kind: "spend", txid, index }) };
}

export function coinOutput(module: number, amount: bigint, owner: Uint8Array): TxOutput {
  return { module, amount, payload: owner };
}

/** The transaction model's own builder, re-exported so module clients offer one entry point. */
export { buildTransaction } from "@conclave/core-common";
