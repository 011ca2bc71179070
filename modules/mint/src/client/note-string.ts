// The note string: what `spend` hands out and `reissue` / `validate` read. Text that survives
// copy-paste (base64url: no characters a terminal, a chat or a URL changes; whitespace and line
// breaks inserted on the way are ignored), with its version, the federation, and a checksum.
//
//   text     = "cnotes1" | base64url(body | checksum)              (no padding)
//   body     = version u8 (1) | federation id (32) | count u16 | count x note
//   note     = denominationLog2 u8 | spend seed (32) | signature (48, compressed G1)
//   checksum = the first 4 bytes of SHA-256("conclave/notes" | body)
//
// The nonce is not carried: it is the spend seed's Ed25519 public key. Whoever holds the string
// holds the notes (bearer), so it is as secret as cash until redeemed.
import { sha256 } from "@noble/hashes/sha2.js";
import { Reader, Writer, bytesEqual, toHex, utf8 } from "@conclave/core-common";
import { base64UrlDecode, base64UrlEncode } from "./base64.js";
import { ClientError as WalletError } from "@conclave/core-client";

export const NOTES_PREFIX = "cnotes1";
export const NOTES_VERSION = 1;
/** Most notes in one string (a string of this many is ~108,000 characters). */
export const NOTES_PER_STRING_MAX = 1000;
const CHECKSUM_BYTES = 4;
const NOTE_BYTES = 1 + 32 + 48;
const HEADER_BYTES = 1 + 32 + 2;
const CHECKSUM_DOMAIN = utf8.encode("conclave/notes");

export interface BearerNote {
  readonly denominationLog2: number;
  readonly spendSeed: Uint8Array;
  readonly signature: Uint8Array;
}

export interface NoteString {
  readonly federationId: string;
  readonly notes: readonly BearerNote[];
}

function checksum(body: Uint8Array): Uint8Array {
  const h = sha256.create().update(CHECKSUM_DOMAIN).update(body).digest();
  return h.subarray(0, CHECKSUM_BYTES);
}

export function encodeNoteString(s: NoteString): string {
  if (s.notes.length < 1 || s.notes.length > NOTES_PER_STRING_MAX)
    throw new RangeError(`a note string holds 1 to ${NOTES_PER_STRING_MAX} notes, not ${s.notes.length}`);
  const w = new Writer(HEADER_BYTES + s.notes.length * NOTE_BYTES + CHECKSUM_BYTES)
    .u8(NOTES_VERSION)
    .fixed(fromHex32(s.federationId), 32)
    .u16(s.notes.length);
  for (const n of s.notes) w.u8(n.denominationLog2).fixed(n.spendSeed, 32).fixed(n.signature, 48);
  const body = w.finish();
  const withSum = new Uint8Array(body.length + CHECKSUM_BYTES);
  withSum.set(body);
  withSum.set(checksum(body), body.length);
  return NOTES_PREFIX + base64UrlEncode(withSum);
}

function fromHex32(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError("a federation id is 64 lowercase hex characters");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function malformed(message: string, details: Record<string, unknown> = {}): WalletError {
  return new WalletError("malformed_notes", `not a valid note string: ${message}`, details);
}

/** Decodes a note string; anything malformed throws malformed_notes saying what is wrong. */
export function decodeNoteString(input: string): NoteString {
  const text = input.replace(/\s+/g, "");
  if (text.length === 0) throw malformed("it is empty");
  if (!text.startsWith(NOTES_PREFIX)) {
    const hint = /^cnotes\d/i.test(text)
      ? `it starts with "${text.slice(0, 7)}", a note string version this wallet does not know`
      : `it must start with "${NOTES_PREFIX}"`;
    throw malformed(hint, { problem: "prefix" });
  }
  const maxChars = Math.ceil(((HEADER_BYTES + NOTES_PER_STRING_MAX * NOTE_BYTES + CHECKSUM_BYTES) * 4) / 3);
  const payload = text.slice(NOTES_PREFIX.length);
  if (payload.length > maxChars)
    throw malformed(`it is too long (${text.length} characters; at most ${NOTES_PER_STRING_MAX} notes)`, {
      problem: "length",
    });
  const decoded = base64UrlDecode(payload);
  if (!decoded.ok)
    throw malformed(`at character ${NOTES_PREFIX.length + decoded.position + 1}: ${decoded.reason}`, {
      problem: "encoding",
    });
  const bytes = decoded.bytes;
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES)
    throw malformed(`it is too short (${text.length} characters): was it cut when copied?`, {
      problem: "length",
    });
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!bytesEqual(checksum(body), bytes.subarray(bytes.length - CHECKSUM_BYTES)))
    throw malformed("its checksum does not match: it was changed or cut when copied", {
      problem: "checksum",
    });
  const r = new Reader(body);
  const version = r.u8();
  if (version !== NOTES_VERSION)
    throw malformed(`version ${version} is not supported (this wallet reads version ${NOTES_VERSION})`, {
      problem: "version",
    });
  const federationId = toHex(r.fixed(32));
  const count = r.u16();
  if (count < 1 || count > NOTES_PER_STRING_MAX)
    throw malformed(`it says it holds ${count} notes (1 to ${NOTES_PER_STRING_MAX} allowed)`, {
      problem: "length",
    });
  if (body.length !== HEADER_BYTES + count * NOTE_BYTES)
    throw malformed(
      `it says it holds ${count} notes but has ${body.length - HEADER_BYTES} bytes of notes, not ${count * NOTE_BYTES}`,
      { problem: "length" },
    );
  const notes: BearerNote[] = [];
  for (let i = 0; i < count; i++)
    notes.push({ denominationLog2: r.u8(), spendSeed: r.fixed(32), signature: r.fixed(48) });
  r.end();
  return { federationId, notes };
}
