// Client half of the test-only dummy module: builds faucet and spend transactions.
import { randomBytes } from "node:crypto";
import { transactionId } from "@conclave/core-common";
import type { Hash, Signer, Transaction, TxInput, TxOutput } from "@conclave/core-common";
import { txSignatureMessage } from "@conclave/core-server";
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

/** Signs with one signer per spend input, in input order. */
export function buildTransaction(
  inputs: readonly TxInput[],
  outputs: readonly TxOutput[],
  signers: readonly Signer[],
  hash: Hash,
  nonce: Uint8Array = new Uint8Array(randomBytes(32)),
): Transaction {
  const txid = transactionId({ inputs, outputs, nonce }, hash);
  const message = txSignatureMessage(txid);
  return { inputs, outputs, nonce, signatures: signers.map((s) => s.sign(message)) };
}
