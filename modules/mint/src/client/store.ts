// What the mint half keeps in the client database (schema 1 of the single-class wallet, unchanged
// so that existing wallets open; the half is `compat: "wallet-v1"`, its keys have no prefix):
//
//   counter                   {"next":N}                       next unused note index
//   note/<ll>/<nonce hex>     85 bytes                         a spendable note (ll = denomination, 2 digits)
//   out/<spend id>            OutgoingRecord (JSON)            notes handed out by spend
//   op/<txid>                 PendingOp (JSON)                 a transaction written but not finished
//   backup                    {"version","notes","atMs"}       the last backup stored
//
// A pending transaction may carry another half's attachments (top-level JSON fields the mint does
// not read: the Monero half's `claim`, `payout`, `subaddressDeposit`), handed back to that half
// when the transaction settles (MintClient.onRejected).
import { Reader, fromHex, toHex } from "@conclave/core-common";
import type { DbOp, JsonValue } from "@conclave/core-client";
import { put } from "@conclave/core-client";
export { json, parseJson } from "@conclave/core-client";

export const K_COUNTER = "counter";
export const K_BACKUP = "backup";
export const P_NOTE = "note/";
export const P_OUT = "out/";
export const P_OP = "op/";
const NOTE_RECORD_BYTES = 85;

/** A note this wallet can spend: its secrets re-derive from `index`. */
export interface OwnNote {
  readonly index: number;
  readonly denominationLog2: number;
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
}

export interface OutgoingRecord {
  readonly id: string;
  readonly amount: string;
  readonly createdAtMs: number;
  readonly notes: readonly NoteJson[];
}

export interface NoteJson {
  readonly index: number;
  readonly denominationLog2: number;
  readonly nonce: string;
  readonly signature: string;
}

/** A note of someone else being redeemed (from a note string): its seed travels with it. */
export interface ForeignNoteJson {
  readonly denominationLog2: number;
  readonly spendSeed: string;
  readonly nonce: string;
  readonly signature: string;
}

/** The mint's kinds, and the kinds other halves name their transactions with ("deposit", "withdraw", "faucet"). */
export type PendingKind = string;

/** Fields of other halves in a pending transaction (the mint stores and returns them untouched). */
export type Attachments = { readonly [field: string]: JsonValue };

export interface PendingOp {
  readonly txid: string;
  readonly kind: PendingKind;
  readonly createdAtMs: number;
  /** The signed transaction, hex: resubmitted byte for byte after a crash. */
  readonly tx: string;
  readonly ownInputs: readonly NoteJson[];
  readonly foreignInputs: readonly ForeignNoteJson[];
  /** New notes: the note index and the transaction output that issues it. */
  readonly outputs: readonly {
    readonly index: number;
    readonly denominationLog2: number;
    readonly output: number;
  }[];
  /** For a cancel: the outgoing entry being taken back. */
  readonly outgoing?: OutgoingRecord;
  /** Its entry in the client core's operation log (absent in transactions written before it). */
  readonly operationId?: string;
  /** Another half's fields (see the top of this file). */
  readonly [attachment: string]: unknown;
}

export interface BackupMeta {
  readonly version: number;
  readonly notes: number;
  readonly atMs: number;
}

export function noteKey(denominationLog2: number, nonce: Uint8Array | string): string {
  const hex = typeof nonce === "string" ? nonce : toHex(nonce);
  return `${P_NOTE}${String(denominationLog2).padStart(2, "0")}/${hex}`;
}

/** denominationLog2 u8 | index u32 | nonce (32) | signature (48); by hand: restores write thousands. */
export function encodeNote(n: OwnNote): Uint8Array {
  if (n.nonce.length !== 32 || n.signature.length !== 48)
    throw new TypeError("a note has a 32-byte nonce and a 48-byte signature");
  const out = new Uint8Array(NOTE_RECORD_BYTES);
  out[0] = n.denominationLog2;
  new DataView(out.buffer).setUint32(1, n.index);
  out.set(n.nonce, 5);
  out.set(n.signature, 37);
  return out;
}

export function decodeNote(bytes: Uint8Array): OwnNote {
  const r = new Reader(bytes);
  const n = { denominationLog2: r.u8(), index: r.u32(), nonce: r.fixed(32), signature: r.fixed(48) };
  r.end();
  return n;
}

export function notePut(n: OwnNote): DbOp {
  return put(noteKey(n.denominationLog2, n.nonce), encodeNote(n));
}

export function noteToJson(n: OwnNote): NoteJson {
  return {
    index: n.index,
    denominationLog2: n.denominationLog2,
    nonce: toHex(n.nonce),
    signature: toHex(n.signature),
  };
}

export function noteFromJson(n: NoteJson): OwnNote {
  return {
    index: n.index,
    denominationLog2: n.denominationLog2,
    nonce: fromHex(n.nonce),
    signature: fromHex(n.signature),
  };
}
