// What a wallet keeps in its client database, and under which keys (schema version 1):
//
//   schema                    {"schema":1}                     the layout version; opened only if known
//   wallet                    WalletRecord (JSON)              federation, invite, config, root key
//   counter                   {"next":N}                       next unused note index
//   note/<ll>/<nonce hex>     85 bytes                         a spendable note (ll = denomination, 2 digits)
//   out/<spend id>            OutgoingRecord (JSON)            notes handed out by spend
//   op/<txid>                 PendingOp (JSON)                 a transaction written but not finished
//   backup                    {"version","notes","atMs"}       the last backup stored
//   claim-counter             {"next":J}                       next unused deposit claim index
//   claim/<monero txid>       ClaimRecord (JSON)               a deposit claim not yet turned into notes
//   subaddr/<claim key hex>   SubaddressRecord (JSON)          a deposit subaddress and its claim index
//
// Keys are ASCII so that LMDB (bytes), IndexedDB (UTF-16 units) and a Map order them alike.
import { Reader, fromHex, toHex, utf8 } from "@conclave/core-common";
import type { DbOp } from "./db.js";
import { put } from "./db.js";

export const SCHEMA_VERSION = 1;
export const K_SCHEMA = "schema";
export const K_WALLET = "wallet";
export const K_COUNTER = "counter";
export const K_BACKUP = "backup";
export const P_NOTE = "note/";
export const P_OUT = "out/";
export const P_OP = "op/";
export const K_CLAIM_COUNTER = "claim-counter";
export const P_CLAIM = "claim/";
export const P_SUBADDR = "subaddr/";
/** A withdrawal, by federation txid: written with its transaction, kept after it is confirmed. */
export const P_WITHDRAWAL = "withdrawal/";
const NOTE_RECORD_BYTES = 85;

export interface WalletRecord {
  readonly federationId: string;
  readonly invite: string;
  /** The federation config as joined (checked against the federation id by the client core). */
  readonly config: unknown;
  /** The wallet's federation root (keys.ts), hex: the mnemonic itself is not stored. */
  readonly root: string;
  readonly createdAtMs: number;
}

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

export type PendingKind =
  "faucet" | "reissue" | "change" | "split" | "combine" | "cancel" | "deposit" | "withdraw";

/** A Monero deposit being claimed: written before the claim is sent, so a crash resumes with the same key. */
export interface ClaimRecord {
  /** The Monero transaction id (hex). */
  readonly txid: string;
  readonly txKey: string;
  /** The claim key's index (keys.ts claimSeed). */
  readonly index: number;
  readonly createdAtMs: number;
  /** Sealed to this guardian (sealClaim): a relay delivers it; the wallet never posts it in clear. */
  readonly sealedTo?: number;
}

/** A deposit subaddress: written (claim index) before it is requested, kept for later payments. */
export interface SubaddressRecord {
  /** The claim key (hex), keys.ts claimSeed(index). */
  readonly claimKey: string;
  readonly index: number;
  readonly createdAtMs: number;
  /** Once t guardians agreed on it. */
  readonly address?: string;
  readonly subaddressIndex?: number;
}

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
  /** For a deposit: the claim it spends (restored if the transaction is refused). */
  readonly claim?: ClaimRecord;
  /** For a subaddress deposit: the deposit it spends (a second issue of it waits for this one). */
  readonly subaddressDeposit?: { readonly txid: string; readonly index: number };
  /** For a withdrawal: the Monero payout output (after the change notes) and what it pays. */
  readonly payout?: { readonly output: number; readonly address: string; readonly amount: string };
}

/** A withdrawal as the wallet last saw it (the tx key once confirmed: the user's proof of payment). */
export interface WithdrawalRecord {
  /** The federation transaction (notes in, change notes and the payout out). */
  readonly txid: string;
  /** The payout's output index in it. */
  readonly output: number;
  readonly address: string;
  /** Piconero paid to the address, decimal. */
  readonly amount: string;
  /** "submitting" until the federation accepted the transaction, then the payout's own state. */
  readonly state: "submitting" | "queued" | "signing" | "submitted" | "confirmed";
  readonly moneroTxid?: string;
  readonly txKey?: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
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

export function json(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

export function parseJson<T>(bytes: Uint8Array): T {
  return JSON.parse(utf8.decode(bytes)) as T;
}
