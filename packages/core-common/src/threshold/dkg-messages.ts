// The messages of the key ceremony (see dkg.ts for the protocol) and their wire format:
//
//   version u8 | kind u8 | body
//
// Decoding is strict: every count is bounded before anything is allocated, index lists are strictly
// increasing, scalars are canonical (below r), text is printable ASCII and trailing bytes are
// refused, so each message has exactly one encoding and its hash identifies it. Points travel as
// their 96-byte compressed encodings; the state machine decodes and subgroup-checks them, because
// it alone knows how many to expect and what to do about a bad one.
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../bytes.js";
import { CodecError, Reader, Writer } from "../codec.js";
import { SCALAR_BYTES, scalarFromBytes, scalarToBytes } from "./poly.js";
import { G2_POINT_BYTES } from "./shares.js";

export const DKG_WIRE_VERSION = 1;
export const DIGEST_BYTES = 32;

/** Limits on what a peer can make us allocate, whatever the ceremony's own parameters. */
export const dkgLimits = {
  /** Guardians in one ceremony (and so entries in an echo, indices in a complaint). */
  guardiansMax: 64,
  /**
   * Independent keys made by one ceremony (e-cash denominations and other modules). With 64
   * guardians (43 coefficients per key) the largest deal is 128 * 43 * 96 bytes, about 530 KB.
   */
  keysMax: 128,
  /** Text of an abort notice. */
  abortReasonBytesMax: 512,
  /**
   * The largest encoding of any message (a deal with keysMax keys of guardiansMax coefficients),
   * for the transport's frame limit; decoding refuses anything longer before reading it.
   */
  messageBytesMax: 2 + 8 + 128 * 64 * 96 + 4 + 128 * 32,
} as const;

export type DkgMessageKind = DkgMessage["kind"];

/** Round 1: sha256 over this dealer's commitment vectors, so nobody can choose theirs after seeing others'. */
export interface CommitMessage {
  readonly kind: "commit";
  readonly digest: Uint8Array;
}

/**
 * Round 2: the commitment vectors (public, the same for every recipient) and the recipient's shares
 * (private: one scalar per key). `commitments[key][k]` commits to coefficient k of that key's polynomial.
 */
export interface DealMessage {
  readonly kind: "deal";
  readonly commitments: readonly (readonly Uint8Array[])[];
  readonly shares: readonly bigint[];
}

/** Round 3: the echo of rounds 1-2 and the dealers whose shares to the sender failed verification. */
export interface ComplainMessage {
  readonly kind: "complain";
  readonly echo: readonly Uint8Array[];
  readonly accused: readonly number[];
}

export interface Answer {
  readonly complainer: number;
  readonly shares: readonly bigint[];
}

/** Round 4: the echo of rounds 1-3 and, per complaint against the sender, the disputed shares in public. */
export interface AnswerMessage {
  readonly kind: "answer";
  readonly echo: readonly Uint8Array[];
  readonly answers: readonly Answer[];
}

/** Round 5: the echo of rounds 1-4; once all agree, everyone holds the same public transcript. */
export interface ConfirmMessage {
  readonly kind: "confirm";
  readonly echo: readonly Uint8Array[];
}

/** Any time: the sender gave up, and why (printable ASCII). */
export interface AbortMessage {
  readonly kind: "abort";
  readonly reason: string;
}

export type DkgMessage =
  CommitMessage | DealMessage | ComplainMessage | AnswerMessage | ConfirmMessage | AbortMessage;

const KIND_CODES = { commit: 1, deal: 2, complain: 3, answer: 4, confirm: 5, abort: 6 } as const;

/** The protocol round a message belongs to (abort belongs to none). */
export function roundOf(kind: Exclude<DkgMessageKind, "abort">): 1 | 2 | 3 | 4 | 5 {
  return KIND_CODES[kind];
}

function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text) && text.length <= dkgLimits.abortReasonBytesMax;
}

function writeEcho(w: Writer, echo: readonly Uint8Array[]): void {
  w.u32(echo.length);
  for (const d of echo) w.fixed(d, DIGEST_BYTES);
}

function writeIndices(w: Writer, indices: readonly number[]): void {
  w.u32(indices.length);
  for (const i of indices) w.u16(i);
}

function writeScalars(w: Writer, scalars: readonly bigint[]): void {
  w.u32(scalars.length);
  for (const s of scalars) w.fixed(scalarToBytes(s), SCALAR_BYTES);
}

function writeCommitments(w: Writer, commitments: readonly (readonly Uint8Array[])[]): void {
  const coefficients = commitments[0]?.length ?? 0;
  w.u32(commitments.length).u32(coefficients);
  for (const vector of commitments) {
    if (vector.length !== coefficients) throw new CodecError("commitment vectors of different lengths");
    for (const c of vector) w.fixed(c, G2_POINT_BYTES);
  }
}

function writeBody(w: Writer, m: DkgMessage, includePrivate: boolean): void {
  w.u8(DKG_WIRE_VERSION).u8(KIND_CODES[m.kind]);
  switch (m.kind) {
    case "commit":
      w.fixed(m.digest, DIGEST_BYTES);
      return;
    case "deal":
      writeCommitments(w, m.commitments);
      if (includePrivate) writeScalars(w, m.shares);
      return;
    case "complain":
      writeEcho(w, m.echo);
      writeIndices(w, m.accused);
      return;
    case "answer":
      writeEcho(w, m.echo);
      w.u32(m.answers.length);
      for (const a of m.answers) {
        w.u16(a.complainer);
        writeScalars(w, a.shares);
      }
      return;
    case "confirm":
      writeEcho(w, m.echo);
      return;
    case "abort":
      if (!isPrintableAscii(m.reason)) throw new CodecError("abort reason must be printable ASCII");
      w.bytes(utf8.encode(m.reason));
      return;
  }
}

export function encodeDkgMessage(message: DkgMessage): Uint8Array {
  const w = new Writer();
  writeBody(w, message, true);
  return w.finish();
}

/**
 * What every guardian sees of a message: all of it, except the private shares of a deal. Echoes
 * hash this, so guardians compare the public transcript without revealing their shares.
 */
export function encodePublicPart(message: DkgMessage): Uint8Array {
  const w = new Writer();
  writeBody(w, message, false);
  return w.finish();
}

function readEcho(r: Reader): Uint8Array[] {
  const count = r.count(dkgLimits.guardiansMax);
  if (count === 0) throw new CodecError("empty echo");
  return Array.from({ length: count }, () => r.fixed(DIGEST_BYTES));
}

function readIndex(r: Reader, previous: number): number {
  const i = r.u16();
  if (i >= dkgLimits.guardiansMax) throw new CodecError(`guardian index ${i} above limit`);
  if (i <= previous) throw new CodecError("guardian indices must be strictly increasing");
  return i;
}

function readIndices(r: Reader): number[] {
  const count = r.count(dkgLimits.guardiansMax);
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(readIndex(r, out[out.length - 1] ?? -1));
  return out;
}

function readScalar(r: Reader): bigint {
  const s = scalarFromBytes(r.fixed(SCALAR_BYTES));
  if (s === undefined) throw new CodecError("scalar not below the group order");
  return s;
}

function readScalars(r: Reader): bigint[] {
  const count = r.count(dkgLimits.keysMax);
  if (count === 0) throw new CodecError("no shares");
  return Array.from({ length: count }, () => readScalar(r));
}

function readDeal(r: Reader): DealMessage {
  const keys = r.count(dkgLimits.keysMax);
  const coefficients = r.count(dkgLimits.guardiansMax);
  if (keys === 0 || coefficients === 0) throw new CodecError("empty commitments");
  const commitments = Array.from({ length: keys }, () =>
    Array.from({ length: coefficients }, () => r.fixed(G2_POINT_BYTES)),
  );
  const shares = readScalars(r);
  if (shares.length !== keys) throw new CodecError(`${shares.length} shares for ${keys} keys`);
  return { kind: "deal", commitments, shares };
}

function readAnswers(r: Reader): Answer[] {
  const count = r.count(dkgLimits.guardiansMax);
  const answers: Answer[] = [];
  for (let k = 0; k < count; k++) {
    const complainer = readIndex(r, answers[answers.length - 1]?.complainer ?? -1);
    answers.push({ complainer, shares: readScalars(r) });
  }
  return answers;
}

function readReason(r: Reader): string {
  const bytes = r.bytes(dkgLimits.abortReasonBytesMax);
  for (const b of bytes)
    if (b < 0x20 || b > 0x7e) throw new CodecError("abort reason is not printable ASCII");
  return utf8.decode(bytes);
}

/** Decodes one message from a peer; anything malformed is a CodecError, never another exception. */
export function decodeDkgMessage(bytes: Uint8Array): DkgMessage {
  if (bytes.length > dkgLimits.messageBytesMax) {
    throw new CodecError(`DKG message of ${bytes.length} bytes exceeds ${dkgLimits.messageBytesMax}`);
  }
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== DKG_WIRE_VERSION) throw new CodecError(`unknown DKG wire version ${version}`);
  const kind = r.u8();
  let message: DkgMessage;
  switch (kind) {
    case KIND_CODES.commit:
      message = { kind: "commit", digest: r.fixed(DIGEST_BYTES) };
      break;
    case KIND_CODES.deal:
      message = readDeal(r);
      break;
    case KIND_CODES.complain:
      message = { kind: "complain", echo: readEcho(r), accused: readIndices(r) };
      break;
    case KIND_CODES.answer:
      message = { kind: "answer", echo: readEcho(r), answers: readAnswers(r) };
      break;
    case KIND_CODES.confirm:
      message = { kind: "confirm", echo: readEcho(r) };
      break;
    case KIND_CODES.abort:
      message = { kind: "abort", reason: readReason(r) };
      break;
    default:
      throw new CodecError(`unknown DKG message kind ${kind}`);
  }
  r.end();
  return message;
}

export function digestOf(...parts: readonly Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}
