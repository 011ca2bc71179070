// Wire format of consensus messages. Every message is an envelope signed by its sender:
//
//   version u8 | type u8 | sender u16 | body ... | signature 64
//
// The signature is Ed25519 over  DOMAIN | federationId | sha256(envelope without signature),
// so a message cannot be replayed in another federation, and large blocks are hashed once.
// Decoders are strict: every length is bounded before it is read and trailing bytes are refused,
// so an encoding is canonical and its hash identifies the value.
import {
  CodecError,
  Reader,
  Writer,
  blockIdOf,
  concatBytes,
  sessionHashOf,
  sessionSigningBytes,
  utf8,
} from "@conclave/core-common";
import type { Hash, Signer } from "@conclave/core-common";
import type { ConsensusLimits } from "./config.js";

export const WIRE_VERSION = 1;
export const SIGNATURE_BYTES = 64;
export const ID_BYTES = 32;
const ENVELOPE_HEADER_BYTES = 4;
const DOMAIN_MESSAGE = utf8.encode("conclave/consensus/message/v1");

export const NIL_ID = new Uint8Array(ID_BYTES);

export enum MessageType {
  Proposal = 1,
  Prevote = 2,
  Precommit = 3,
  Bundle = 4,
  Status = 5,
  SessionSig = 6,
  Decision = 7,
  SignedSession = 8,
}

export type VoteType = MessageType.Prevote | MessageType.Precommit;

/** A guardian's signed batch of items; blocks carry bundles verbatim (their envelopes). */
export interface BundleBody {
  readonly seq: number;
  readonly items: readonly Uint8Array[];
}

export interface Block {
  readonly height: number;
  readonly prevBlockId: Uint8Array;
  /** Bundle envelopes, each signed by its origin. */
  readonly bundles: readonly Uint8Array[];
}

export interface ProposalBody {
  readonly height: number;
  readonly round: number;
  /** -1 when the proposer holds no valid value from an earlier round. */
  readonly validRound: number;
  readonly block: Uint8Array;
}

export interface VoteBody {
  readonly height: number;
  readonly round: number;
  /** NIL_ID votes for nothing. */
  readonly blockId: Uint8Array;
}

export interface StatusBody {
  /** The next height this guardian has to decide. */
  readonly height: number;
  readonly round: number;
  /** Sessions 0..sessionsSigned-1 are held with a quorum of signatures. */
  readonly sessionsSigned: number;
}

export interface SessionSigBody {
  readonly session: number;
  readonly sessionHash: Uint8Array;
  readonly signature: Uint8Array;
}

export interface DecisionBody {
  readonly height: number;
  readonly round: number;
  readonly block: Uint8Array;
  /** Precommit envelopes for (height, round, id(block)) from a quorum. */
  readonly precommits: readonly Uint8Array[];
}

export interface SessionSignature {
  readonly signer: number;
  readonly signature: Uint8Array;
}

export interface SignedSessionBody {
  readonly session: number;
  readonly blocks: readonly Uint8Array[];
  readonly signatures: readonly SessionSignature[];
}

export type Body =
  | { readonly type: MessageType.Proposal; readonly proposal: ProposalBody }
  | { readonly type: MessageType.Prevote; readonly vote: VoteBody }
  | { readonly type: MessageType.Precommit; readonly vote: VoteBody }
  | { readonly type: MessageType.Bundle; readonly bundle: BundleBody }
  | { readonly type: MessageType.Status; readonly status: StatusBody }
  | { readonly type: MessageType.SessionSig; readonly sessionSig: SessionSigBody }
  | { readonly type: MessageType.Decision; readonly decision: DecisionBody }
  | { readonly type: MessageType.SignedSession; readonly signedSession: SignedSessionBody };

export interface Envelope {
  readonly sender: number;
  readonly body: Body;
  /** Bytes covered by the signature (everything but the signature). */
  readonly signedPart: Uint8Array;
  readonly signature: Uint8Array;
}

const ROUND_NONE = 0xffffffff;

function writeBody(w: Writer, body: Body): void {
  switch (body.type) {
    case MessageType.Proposal: {
      const p = body.proposal;
      w.u64(p.height)
        .u32(p.round)
        .u32(p.validRound < 0 ? ROUND_NONE : p.validRound)
        .bytes(p.block);
      return;
    }
    case MessageType.Prevote:
    case MessageType.Precommit:
      w.u64(body.vote.height).u32(body.vote.round).fixed(body.vote.blockId, ID_BYTES);
      return;
    case MessageType.Bundle:
      w.u64(body.bundle.seq).u32(body.bundle.items.length);
      for (const item of body.bundle.items) w.bytes(item);
      return;
    case MessageType.Status:
      w.u64(body.status.height).u32(body.status.round).u64(body.status.sessionsSigned);
      return;
    case MessageType.SessionSig:
      w.u64(body.sessionSig.session)
        .fixed(body.sessionSig.sessionHash, ID_BYTES)
        .fixed(body.sessionSig.signature, SIGNATURE_BYTES);
      return;
    case MessageType.Decision: {
      const d = body.decision;
      w.u64(d.height).u32(d.round).bytes(d.block).u32(d.precommits.length);
      for (const p of d.precommits) w.bytes(p);
      return;
    }
    case MessageType.SignedSession: {
      const s = body.signedSession;
      w.u64(s.session).u32(s.blocks.length);
      for (const b of s.blocks) w.bytes(b);
      w.u32(s.signatures.length);
      for (const sig of s.signatures) w.u16(sig.signer).fixed(sig.signature, SIGNATURE_BYTES);
      return;
    }
  }
}

// The type byte comes off the wire as a number; the switch is what turns it into a MessageType.
/* eslint-disable @typescript-eslint/no-unsafe-enum-comparison */
function readBody(r: Reader, type: number, limits: ConsensusLimits, n: number): Body {
  switch (type) {
    case MessageType.Proposal: {
      const height = r.u64();
      const round = r.u32();
      const vr = r.u32();
      const block = r.bytes(limits.messageBytesMax);
      if (vr !== ROUND_NONE && vr >= round) throw new CodecError("validRound must be below round");
      return {
        type,
        proposal: { height, round, validRound: vr === ROUND_NONE ? -1 : vr, block },
      };
    }
    case MessageType.Prevote:
    case MessageType.Precommit:
      return { type, vote: { height: r.u64(), round: r.u32(), blockId: r.fixed(ID_BYTES) } };
    case MessageType.Bundle: {
      const seq = r.u64();
      if (seq < 1) throw new CodecError("bundle sequence numbers start at 1");
      const count = r.count(limits.itemsPerBundleMax);
      const items: Uint8Array[] = [];
      for (let i = 0; i < count; i++) items.push(r.bytes(limits.itemBytesMax));
      return { type, bundle: { seq, items } };
    }
    case MessageType.Status:
      return { type, status: { height: r.u64(), round: r.u32(), sessionsSigned: r.u64() } };
    case MessageType.SessionSig:
      return {
        type,
        sessionSig: { session: r.u64(), sessionHash: r.fixed(ID_BYTES), signature: r.fixed(SIGNATURE_BYTES) },
      };
    case MessageType.Decision: {
      const height = r.u64();
      const round = r.u32();
      const block = r.bytes(limits.messageBytesMax);
      const count = r.count(n);
      const precommits: Uint8Array[] = [];
      for (let i = 0; i < count; i++) precommits.push(r.bytes(256));
      return { type, decision: { height, round, block, precommits } };
    }
    case MessageType.SignedSession: {
      const session = r.u64();
      const blockCount = r.count(4096);
      const blocks: Uint8Array[] = [];
      for (let i = 0; i < blockCount; i++) blocks.push(r.bytes(limits.messageBytesMax));
      const sigCount = r.count(n);
      const signatures: SessionSignature[] = [];
      for (let i = 0; i < sigCount; i++)
        signatures.push({ signer: r.u16(), signature: r.fixed(SIGNATURE_BYTES) });
      return { type, signedSession: { session, blocks, signatures } };
    }
    default:
      throw new CodecError(`unknown message type ${type}`);
  }
}
/* eslint-enable @typescript-eslint/no-unsafe-enum-comparison */

export function messageDigest(federationId: Uint8Array, signedPart: Uint8Array, hash: Hash): Uint8Array {
  return concatBytes(DOMAIN_MESSAGE, federationId, hash(signedPart));
}

export function encodeEnvelope(
  sender: number,
  body: Body,
  signer: Signer,
  federationId: Uint8Array,
  hash: Hash,
): Uint8Array {
  const w = new Writer(256).u8(WIRE_VERSION).u8(body.type).u16(sender);
  writeBody(w, body);
  const signedPart = w.finish();
  const signature = signer.sign(messageDigest(federationId, signedPart, hash));
  return concatBytes(signedPart, signature);
}

/** Decodes without checking the signature (the caller verifies it against the sender's key). */
export function decodeEnvelope(bytes: Uint8Array, limits: ConsensusLimits, n: number): Envelope {
  if (bytes.length > limits.messageBytesMax)
    throw new CodecError(`message of ${bytes.length} bytes too large`);
  if (bytes.length < ENVELOPE_HEADER_BYTES + SIGNATURE_BYTES) throw new CodecError("message too short");
  const signedPart = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const signature = bytes.subarray(bytes.length - SIGNATURE_BYTES);
  const r = new Reader(signedPart);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new CodecError(`unknown wire version ${version}`);
  const type = r.u8();
  const sender = r.u16();
  if (sender >= n) throw new CodecError(`unknown sender ${sender}`);
  const body = readBody(r, type, limits, n);
  r.end();
  return { sender, body, signedPart, signature };
}

export function encodeBlock(block: Block): Uint8Array {
  const w = new Writer(1024).u64(block.height).fixed(block.prevBlockId, ID_BYTES).u32(block.bundles.length);
  for (const b of block.bundles) w.bytes(b);
  return w.finish();
}

export function decodeBlock(bytes: Uint8Array, limits: ConsensusLimits, n: number): Block {
  const r = new Reader(bytes);
  const height = r.u64();
  const prevBlockId = r.fixed(ID_BYTES);
  const count = r.count(n * limits.bundlesPerOriginPerBlockMax);
  const bundles: Uint8Array[] = [];
  for (let i = 0; i < count; i++) bundles.push(r.bytes(limits.bundleBytesMax));
  r.end();
  return { height, prevBlockId, bundles };
}

export function blockId(blockBytes: Uint8Array, hash: Hash): Uint8Array {
  return blockIdOf(blockBytes, hash);
}

/** The hash that t guardians sign to certify a session: it names every block of the session in order. */
export function sessionHash(
  federationId: Uint8Array,
  session: number,
  blockIds: readonly Uint8Array[],
  hash: Hash,
): Uint8Array {
  return sessionHashOf(federationId, session, blockIds, hash);
}

/** Bytes a guardian signs for a session (also what a client verifies). */
export { sessionSigningBytes };
