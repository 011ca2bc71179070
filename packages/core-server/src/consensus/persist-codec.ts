// Binary encodings of the engine's durable records, for stores that keep bytes (LMDB, later
// PostgreSQL). Explicit and versioned rather than a generic serializer, so a stored record means
// the same thing to every future version of the guardian.
import { CodecError, Reader, Writer } from "@conclave/core-common";
import type { ChainState, DecidedBlock, RoundSnapshot, SessionRecord } from "./types.js";
import { Step } from "./types.js";

const RECORD_VERSION = 1;
const RECORD_BYTES_MAX = 1 << 30;
const NONE = 0xffffffff;
const STEPS: readonly Step[] = [Step.Propose, Step.Prevote, Step.Precommit];

function header(w: Writer): Writer {
  return w.u8(RECORD_VERSION);
}

function checkHeader(r: Reader): void {
  const v = r.u8();
  if (v !== RECORD_VERSION) throw new CodecError(`unknown stored record version ${v}`);
}

const signedRound = (v: number): number => (v < 0 ? NONE : v);
const readSignedRound = (v: number): number => (v === NONE ? -1 : v);

export function encodeChain(c: ChainState): Uint8Array {
  const w = header(new Writer())
    .u64(c.height)
    .fixed(c.lastBlockId, 32)
    .u64(c.sessionsSigned)
    .u32(c.originSeq.length);
  for (const s of c.originSeq) w.u64(s);
  return w.finish();
}

export function decodeChain(bytes: Uint8Array): ChainState {
  const r = new Reader(bytes);
  checkHeader(r);
  const height = r.u64();
  const lastBlockId = r.fixed(32);
  const sessionsSigned = r.u64();
  const n = r.count(1024);
  const originSeq: number[] = [];
  for (let i = 0; i < n; i++) originSeq.push(r.u64());
  r.end();
  return { height, lastBlockId, originSeq, sessionsSigned };
}

export function encodeRound(s: RoundSnapshot): Uint8Array {
  const w = header(new Writer())
    .u64(s.height)
    .u32(s.round)
    .u8(s.step)
    .u32(signedRound(s.lockedRound))
    .u8(s.lockedBlock ? 1 : 0);
  if (s.lockedBlock) w.bytes(s.lockedBlock);
  w.u32(signedRound(s.validRound)).u8(s.validBlock ? 1 : 0);
  if (s.validBlock) w.bytes(s.validBlock);
  w.u32(s.sent.length);
  for (const e of s.sent) w.bytes(e);
  return w.finish();
}

export function decodeRound(bytes: Uint8Array): RoundSnapshot {
  const r = new Reader(bytes);
  checkHeader(r);
  const height = r.u64();
  const round = r.u32();
  const step = STEPS[r.u8()];
  if (step === undefined) throw new CodecError("bad step");
  const lockedRound = readSignedRound(r.u32());
  const lockedBlock = r.u8() === 1 ? r.bytes(RECORD_BYTES_MAX) : null;
  const validRound = readSignedRound(r.u32());
  const validBlock = r.u8() === 1 ? r.bytes(RECORD_BYTES_MAX) : null;
  const count = r.count(1 << 20);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < count; i++) sent.push(r.bytes(RECORD_BYTES_MAX));
  r.end();
  return { height, round, step, lockedRound, lockedBlock, validRound, validBlock, sent };
}

export function encodeDecided(d: DecidedBlock): Uint8Array {
  const w = header(new Writer(d.block.length + 256))
    .u64(d.height)
    .u32(signedRound(d.round))
    .fixed(d.blockId, 32)
    .bytes(d.block)
    .u32(d.certificate.length);
  for (const c of d.certificate) w.bytes(c);
  return w.finish();
}

export function decodeDecided(bytes: Uint8Array): DecidedBlock {
  const r = new Reader(bytes);
  checkHeader(r);
  const height = r.u64();
  const round = readSignedRound(r.u32());
  const blockId = r.fixed(32);
  const block = r.bytes(RECORD_BYTES_MAX);
  const count = r.count(1024);
  const certificate: Uint8Array[] = [];
  for (let i = 0; i < count; i++) certificate.push(r.bytes(1024));
  r.end();
  return { height, round, blockId, block, certificate };
}

export function encodeSession(s: SessionRecord): Uint8Array {
  const w = header(new Writer()).u64(s.session).fixed(s.sessionHash, 32).u32(s.blockIds.length);
  for (const id of s.blockIds) w.fixed(id, 32);
  w.u32(s.signatures.length);
  for (const sig of s.signatures) w.u16(sig.signer).fixed(sig.signature, 64);
  return w.finish();
}

export function decodeSession(bytes: Uint8Array): SessionRecord {
  const r = new Reader(bytes);
  checkHeader(r);
  const session = r.u64();
  const sessionHash = r.fixed(32);
  const idCount = r.count(1 << 16);
  const blockIds: Uint8Array[] = [];
  for (let i = 0; i < idCount; i++) blockIds.push(r.fixed(32));
  const sigCount = r.count(1024);
  const signatures: { signer: number; signature: Uint8Array }[] = [];
  for (let i = 0; i < sigCount; i++) signatures.push({ signer: r.u16(), signature: r.fixed(64) });
  r.end();
  return { session, sessionHash, blockIds, signatures };
}
