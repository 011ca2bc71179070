// The federation's transaction: inputs and outputs of any modules, balanced in one base unit.
//
//   Transaction = inputs[] | outputs[] | nonce(32) | signatures[]
//   Input/Output = module instance u16 | amount u64 | payload bytes (the module's own encoding)
//
// The txid hashes everything but the signatures; each input names (through its module) the keys
// that must sign the txid, and `signatures[i]` belongs to the i-th required key in input order.
import { CodecError, Reader, Writer } from "./codec.js";
import type { Hash, Signer } from "./crypto.js";
import { toHex } from "./bytes.js";

export interface TxInput {
  readonly module: number;
  readonly amount: bigint;
  readonly payload: Uint8Array;
}

export interface TxOutput {
  readonly module: number;
  readonly amount: bigint;
  readonly payload: Uint8Array;
}

export interface Transaction {
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  /** 32 random bytes: two otherwise identical transactions get different ids. */
  readonly nonce: Uint8Array;
  readonly signatures: readonly Uint8Array[];
}

export interface TransactionLimits {
  readonly inputsPerTxMax: number;
  readonly outputsPerTxMax: number;
  readonly payloadBytesMax: number;
  readonly txBytesMax: number;
}

export const DEFAULT_TRANSACTION_LIMITS: TransactionLimits = {
  inputsPerTxMax: 256,
  outputsPerTxMax: 256,
  payloadBytesMax: 8 * 1024,
  txBytesMax: 48 * 1024,
};

const DOMAIN_TXID = new TextEncoder().encode("conclave/txid/v1");
export const SIGNATURE_BYTES = 64;

function writeParts(w: Writer, tx: Pick<Transaction, "inputs" | "outputs" | "nonce">): void {
  w.u32(tx.inputs.length);
  for (const i of tx.inputs) w.u16(i.module).u64big(i.amount).bytes(i.payload);
  w.u32(tx.outputs.length);
  for (const o of tx.outputs) w.u16(o.module).u64big(o.amount).bytes(o.payload);
  w.fixed(tx.nonce, 32);
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new Writer(512);
  writeParts(w, tx);
  w.u32(tx.signatures.length);
  for (const s of tx.signatures) w.fixed(s, SIGNATURE_BYTES);
  return w.finish();
}

export function decodeTransaction(
  bytes: Uint8Array,
  limits: TransactionLimits = DEFAULT_TRANSACTION_LIMITS,
): Transaction {
  if (bytes.length > limits.txBytesMax)
    throw new CodecError(`transaction of ${bytes.length} bytes exceeds ${limits.txBytesMax}`);
  const r = new Reader(bytes);
  const inputs: TxInput[] = [];
  for (let i = 0, n = r.count(limits.inputsPerTxMax); i < n; i++) {
    inputs.push({ module: r.u16(), amount: r.u64big(), payload: r.bytes(limits.payloadBytesMax) });
  }
  const outputs: TxOutput[] = [];
  for (let i = 0, n = r.count(limits.outputsPerTxMax); i < n; i++) {
    outputs.push({ module: r.u16(), amount: r.u64big(), payload: r.bytes(limits.payloadBytesMax) });
  }
  const nonce = r.fixed(32);
  const signatures: Uint8Array[] = [];
  for (let i = 0, n = r.count(limits.inputsPerTxMax * 4); i < n; i++)
    signatures.push(r.fixed(SIGNATURE_BYTES));
  r.end();
  return { inputs, outputs, nonce, signatures };
}

/** The id every signature covers: all of the transaction but its signatures. */
export function transactionId(tx: Pick<Transaction, "inputs" | "outputs" | "nonce">, hash: Hash): Uint8Array {
  const w = new Writer(512).raw(DOMAIN_TXID);
  writeParts(w, tx);
  return hash(w.finish());
}

const DOMAIN_TX_SIGNATURE = new TextEncoder().encode("conclave/tx-signature/v1");

/** What each required key signs: the domain tag and the txid. */
export function txSignatureMessage(txid: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN_TX_SIGNATURE.length + txid.length);
  out.set(DOMAIN_TX_SIGNATURE);
  out.set(txid, DOMAIN_TX_SIGNATURE.length);
  return out;
}

/**
 * A signed transaction: one signer per input that needs one, in input order. The nonce defaults to
 * 32 random bytes from the Web Crypto API (Node and browsers).
 */
export function buildTransaction(
  inputs: readonly TxInput[],
  outputs: readonly TxOutput[],
  signers: readonly Signer[],
  hash: Hash,
  nonce: Uint8Array = globalThis.crypto.getRandomValues(new Uint8Array(32)),
): Transaction {
  const message = txSignatureMessage(transactionId({ inputs, outputs, nonce }, hash));
  return { inputs, outputs, nonce, signatures: signers.map((s) => s.sign(message)) };
}

export function txidHex(tx: Pick<Transaction, "inputs" | "outputs" | "nonce">, hash: Hash): string {
  return toHex(transactionId(tx, hash));
}

/** What consensus orders: a client's transaction, or an item a module of a guardian proposes. */
export type ConsensusItem =
  | { readonly kind: "transaction"; readonly tx: Transaction }
  | { readonly kind: "module"; readonly module: number; readonly payload: Uint8Array };

const ITEM_TRANSACTION = 1;
const ITEM_MODULE = 2;

export function encodeConsensusItem(item: ConsensusItem): Uint8Array {
  if (item.kind === "transaction")
    return new Writer().u8(ITEM_TRANSACTION).raw(encodeTransaction(item.tx)).finish();
  return new Writer().u8(ITEM_MODULE).u16(item.module).bytes(item.payload).finish();
}

export function decodeConsensusItem(
  bytes: Uint8Array,
  limits: TransactionLimits = DEFAULT_TRANSACTION_LIMITS,
): ConsensusItem {
  if (bytes.length < 1) throw new CodecError("empty consensus item");
  const tag = bytes[0]!;
  if (tag === ITEM_TRANSACTION)
    return { kind: "transaction", tx: decodeTransaction(bytes.subarray(1), limits) };
  if (tag === ITEM_MODULE) {
    const r = new Reader(bytes.subarray(1));
    const module = r.u16();
    const payload = r.bytes(limits.txBytesMax);
    r.end();
    return { kind: "module", module, payload };
  }
  throw new CodecError(`unknown consensus item kind ${tag}`);
}
