// The dummy module (TEST ONLY): accounts of test money, so the core, the API and the benchmarks
// can run balanced transactions before real modules exist. A federation refuses to load it unless
// its config is marked as a dev federation, and that mark is part of the federation id.
//
// Input payloads:   0x01 | nonce(16)                       faucet: money from nothing (test only)
//                   0x02 | txid(32) | index u32             spend a coin, signed by its owner
// Output payload:   owner Ed25519 public key (32)           a coin owned by that key
import { CodecError, Reader, Writer } from "@conclave/core-common";

export const DUMMY_KIND = "dummy";
export const FAUCET = 0x01;
export const SPEND = 0x02;

export type DummyInput =
  | { readonly kind: "faucet"; readonly nonce: Uint8Array }
  | { readonly kind: "spend"; readonly txid: Uint8Array; readonly index: number };

export function encodeDummyInput(i: DummyInput): Uint8Array {
  if (i.kind === "faucet") return new Writer().u8(FAUCET).fixed(i.nonce, 16).finish();
  return new Writer().u8(SPEND).fixed(i.txid, 32).u32(i.index).finish();
}

export function decodeDummyInput(bytes: Uint8Array): DummyInput {
  const r = new Reader(bytes);
  const tag = r.u8();
  let out: DummyInput;
  if (tag === FAUCET) out = { kind: "faucet", nonce: r.fixed(16) };
  else if (tag === SPEND) out = { kind: "spend", txid: r.fixed(32), index: r.u32() };
  else throw new CodecError(`unknown dummy input kind ${tag}`);
  r.end();
  return out;
}

export function decodeDummyOutput(bytes: Uint8Array): { owner: Uint8Array } {
  if (bytes.length !== 32) throw new CodecError("a dummy output is the owner's 32-byte public key");
  return { owner: bytes };
}

export interface DummyConfig {
  /** Largest amount one faucet input may print. */
  readonly faucetAmountMax: bigint;
  readonly feePerInput: bigint;
}
