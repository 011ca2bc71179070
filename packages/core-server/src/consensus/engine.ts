// The consensus engine: Tendermint ("The latest gossip on BFT consensus", Buchman, Kwon,
// Milosevic 2018, Algorithm 1) as a pure state machine, with items carried in signed per-guardian
// bundles and heights grouped into signed sessions. See docs/consensus.md for the protocol, the
// proof obligations and where each one is discharged below (look for "[Lnn]" and "[S..]" / "[V..]").
//
// Inputs: a message from a peer, a clock reading (tick), items to propose. Outputs (drainOutput):
// state to persist, messages to send, committed blocks, evidence. The engine never reads a clock,
// a socket, the disk or a random source: `now` is passed in, signing is deterministic Ed25519.
import { bytesEqual, toHex } from "@conclave/core-common";
import type { Hash, Signer, Verifier } from "@conclave/core-common";
import { blockBytesMax, faultTolerance, quorumThreshold, validateConsensusConfig } from "./config.js";
import type { ConsensusConfig } from "./config.js";
import {
  MessageType,
  NIL_ID,
  blockId as computeBlockId,
  decodeBlock,
  decodeEnvelope,
  encodeBlock,
  encodeEnvelope,
  messageDigest,
  sessionHash as computeSessionHash,
  sessionSigningBytes,
} from "./messages.js";
import type { Block, Body, Envelope, VoteBody } from "./messages.js";
import { DROP_REASONS, Step } from "./types.js";
import type {
  ChainState,
  Commit,
  DecidedBlock,
  DropReason,
  Evidence,
  Output,
  RestoredState,
  RoundSnapshot,
  SessionRecord,
} from "./types.js";

export interface EngineCrypto {
  readonly signer: Signer;
  readonly verifier: Verifier;
  readonly hash: Hash;
}

/** What `ConsensusEngine.memoryUse` reports; the largest per-peer or per-origin figure where there are several. */
export interface EngineMemoryUse {
  /** Peers with messages buffered for future heights (at most n - 1). */
  readonly futurePeers: number;
  /** At most limits.futureMessagesPerPeerMax and limits.futureBytesPerPeerMax. */
  readonly futureMessagesPerPeer: number;
  readonly futureBytesPerPeer: number;
  /** At most limits.verifiedCacheEntriesMax. */
  readonly verifiedCacheEntries: number;
  /** Proposals, vote sets and validity results of this height: at most one per round up to round + roundsAheadMax. */
  readonly validityCacheEntries: number;
  readonly proposalRounds: number;
  readonly voteRounds: number;
  readonly round: number;
  /** At most limits.bundlesPendingPerOriginMax. */
  readonly pendingBundlesPerOrigin: number;
  /** Sessions whose signatures are being collected (at most UNSIGNED_SESSIONS_TRACKED_MAX + 2). */
  readonly sessionsTracked: number;
  /** At most limits.itemsQueuedMax and limits.bundlesInFlightMax. */
  readonly ownQueued: number;
  readonly ownInFlight: number;
  /** Per-peer rate-limit timestamps (at most n). */
  readonly peersTimed: number;
}

/** Unsigned sessions an engine collects signatures for, beyond which the oldest are dropped. */
export const UNSIGNED_SESSIONS_TRACKED_MAX = 8;

interface ProposalRecord {
  readonly envelope: Uint8Array;
  readonly blockBytes: Uint8Array;
  readonly blockId: Uint8Array;
  readonly idHex: string;
  readonly validRound: number;
  /** Cached result of valid(v); undefined until evaluated. */
  valid: boolean | undefined;
}

interface VoteRecord {
  readonly idHex: string;
  readonly envelope: Uint8Array;
}

/**
 * The votes of one type in one round. `bySender` keeps each sender's first vote (what "q votes of
 * any kind" counts); `countById` counts, per block id, the distinct senders that voted for it. As in
 * the paper (its rules count messages <PREVOTE, h, r, id> from distinct senders, per id), an
 * equivocating sender counts for each id it voted for: two ids reaching q in one round would still
 * need an honest guardian to vote twice. Without that, a guardian that happened to receive an
 * equivocator's other vote first could never count the relayed proof of lock of a peer locked on
 * this id, and the federation could stay stuck forever (found by the simulator, seed 52 at N=4).
 * A conflicting vote is kept only when the caller says its id can matter (nil or a proposed block),
 * so a Byzantine sender cannot grow the set with votes for made-up ids.
 */
class VoteSet {
  readonly bySender = new Map<number, VoteRecord>();
  readonly countById = new Map<string, number>();
  private readonly byId = new Map<string, Map<number, Uint8Array>>();
  /** Senders already reported for equivocating in this set (one piece of evidence is enough). */
  private readonly accused = new Set<number>();

  /**
   * `first` is the sender's earlier first vote (undefined if this is it), `added` whether this
   * (sender, id) is new and counted, `accuse` whether this vote is the sender's first conflict here.
   */
  add(
    sender: number,
    record: VoteRecord,
    conflictMayCount: boolean,
  ): { first: VoteRecord | undefined; added: boolean; accuse: boolean } {
    const first = this.bySender.get(sender);
    const conflicting = first !== undefined && first.idHex !== record.idHex;
    const accuse = conflicting && !this.accused.has(sender);
    if (accuse) this.accused.add(sender);
    if (conflicting && !conflictMayCount) return { first, added: false, accuse };
    let voters = this.byId.get(record.idHex);
    if (!voters) {
      voters = new Map();
      this.byId.set(record.idHex, voters);
    }
    if (voters.has(sender)) return { first, added: false, accuse };
    voters.set(sender, record.envelope);
    this.countById.set(record.idHex, voters.size);
    if (first === undefined) this.bySender.set(sender, record);
    return { first, added: true, accuse };
  }

  count(idHex: string): number {
    return this.countById.get(idHex) ?? 0;
  }

  get total(): number {
    return this.bySender.size;
  }

  envelopesFor(idHex: string): Uint8Array[] {
    return [...(this.byId.get(idHex)?.values() ?? [])];
  }
}

/** A message for a height above ours, kept until we reach that height. */
interface FutureMessage {
  readonly height: number;
  readonly envelope: Envelope;
  readonly bytes: Uint8Array;
}

/**
 * One peer's future messages, bounded in count (futureMessagesPerPeerMax) and bytes
 * (futureBytesPerPeerMax). `signatures` refuses byte-identical copies (rebroadcasts; Ed25519 is
 * deterministic, so one message has one signature); `proposals` keeps one proposal per slot, and
 * `accused` the slots for which a second, conflicting proposal was already reported.
 */
interface FutureBuffer {
  messages: FutureMessage[];
  bytes: number;
  readonly signatures: Set<string>;
  readonly proposals: Map<string, FutureMessage>;
  readonly accused: Set<string>;
}

function emptyFutureBuffer(): FutureBuffer {
  return { messages: [], bytes: 0, signatures: new Set(), proposals: new Map(), accused: new Set() };
}

const slotKey = (height: number, round: number): string => `${height}/${round}`;

interface Timer {
  readonly deadline: number;
  readonly kind: "propose" | "prevote" | "precommit";
  readonly height: number;
  readonly round: number;
}

interface PendingBundle {
  readonly envelope: Uint8Array;
  readonly items: readonly Uint8Array[];
}

interface SessionSigState {
  hash: Uint8Array | undefined;
  blockIds: readonly Uint8Array[] | undefined;
  readonly sigs: Map<number, Uint8Array>;
  /** Signatures received before this guardian knew the session's hash, checked once it does. */
  readonly early: Map<number, { hash: Uint8Array; signature: Uint8Array }>;
  done: boolean;
}

const NIL_HEX = toHex(NIL_ID);

export class ConsensusEngine {
  readonly n: number;
  readonly f: number;
  /** Votes needed for a quorum (t = n - f, unless a test injects a bug). */
  readonly q: number;
  readonly self: number;
  readonly counters: Record<DropReason | "received" | "sent" | "decided" | "rounds" | "evidence", number>;

  private readonly config: ConsensusConfig;
  private readonly crypto: EngineCrypto;
  private now = 0;
  /** Deliberate bugs (config.faultInjection; test harness only). */
  private readonly bugIgnoreLock: boolean;
  private readonly bugSkipVoteSync: boolean;

  // Chain state (durable through "decided" ops).
  private height: number;
  private lastBlockId: Uint8Array;
  private readonly originSeq: number[];
  private sessionsSigned: number;
  private sessionBlockIds: Uint8Array[];

  // Tendermint per-height state (durable through "round" ops).
  private round = 0;
  private step = Step.Propose;
  private lockedRound = -1;
  private lockedBlock: Uint8Array | null = null;
  private validRound = -1;
  private validBlock: Uint8Array | null = null;
  private sent: Uint8Array[] = [];
  private roundDirty = false;

  // Per-height volatile state.
  private proposals = new Map<number, ProposalRecord>();
  private prevotes = new Map<number, VoteSet>();
  private precommits = new Map<number, VoteSet>();
  private maxRoundBySender: number[];
  private prevoteTimeoutRounds = new Set<number>();
  private precommitTimeoutRounds = new Set<number>();
  private lockRuleRounds = new Set<number>();
  private active = false;
  private proposeDeferred = false;
  private timers: Timer[] = [];
  private readonly validityCache = new Map<string, boolean>();

  // Messages for heights above ours, per sender, bounded in count and bytes per sender.
  private readonly future = new Map<number, FutureBuffer>();

  // Bundles: pending per origin, keyed by seq; own queue and in-flight bundles.
  private readonly pending: Map<number, PendingBundle>[];
  private ownQueue: Uint8Array[] = [];
  private ownQueueBytes = 0;
  private readonly ownInFlight = new Map<number, Uint8Array>();
  private nextOwnSeq: number;

  // Sessions.
  private readonly sessions = new Map<number, SessionSigState>();

  // Timers for periodic work.
  private lastStatusAt = -Infinity;
  private lastRebroadcastAt = -Infinity;
  private heightAtLastRebroadcast = -1;
  private readonly lastCatchUpAt = new Map<number, number>();
  private readonly lastStatusToPeerAt = new Map<number, number>();

  private readonly verifiedCache = new Set<string>();
  private out: Output = ConsensusEngine.emptyOutput();

  constructor(
    config: ConsensusConfig,
    crypto: EngineCrypto,
    self: number,
    restored: RestoredState,
    now: number,
  ) {
    validateConsensusConfig(config);
    this.config = config;
    this.crypto = crypto;
    this.n = config.publicKeys.length;
    this.f = faultTolerance(this.n);
    this.q = quorumThreshold(this.n) + (config.faultInjection?.quorumDelta ?? 0);
    this.bugIgnoreLock = config.faultInjection?.ignoreLock === true;
    this.bugSkipVoteSync = config.faultInjection?.skipVoteSync === true;
    if (self < 0 || self >= this.n)
      throw new RangeError(`self index ${self} outside federation of ${this.n}`);
    if (!bytesEqual(config.publicKeys[self]!, crypto.signer.publicKey)) {
      throw new Error(`the signing key is not guardian ${self}'s key in the federation config`);
    }
    this.self = self;
    this.now = now;
    this.counters = Object.fromEntries(
      [...DROP_REASONS, "received", "sent", "decided", "rounds", "evidence"].map((k) => [k, 0]),
    ) as ConsensusEngine["counters"];

    const chain = restored.chain;
    if (chain.originSeq.length !== this.n)
      throw new Error("restored chain state has the wrong guardian count");
    this.height = chain.height;
    this.lastBlockId = chain.lastBlockId;
    this.originSeq = [...chain.originSeq];
    this.sessionsSigned = chain.sessionsSigned;
    this.sessionBlockIds = [...restored.sessionBlockIds];
    this.maxRoundBySender = new Array<number>(this.n).fill(-1);
    this.pending = Array.from({ length: this.n }, () => new Map<number, PendingBundle>());

    this.nextOwnSeq = this.originSeq[self]! + 1;
    for (const envelope of restored.ownBundles) {
      const env = decodeEnvelope(envelope, config.limits, this.n);
      if (env.body.type !== MessageType.Bundle) throw new Error("restored own bundle is not a bundle");
      const seq = env.body.bundle.seq;
      if (seq <= this.originSeq[self]!) continue;
      this.ownInFlight.set(seq, envelope);
      this.pending[self]!.set(seq, { envelope, items: env.body.bundle.items });
      this.nextOwnSeq = Math.max(this.nextOwnSeq, seq + 1);
    }
    for (const s of restored.unsignedSessions) this.completeSession(s.session, s.blockIds);

    const snap = config.faultInjection?.forgetRoundOnRestart === true ? null : restored.round;
    if (snap && snap.height === this.height) {
      this.restoreRound(snap);
    } else {
      this.startRound(0);
    }
  }

  private static emptyOutput(): Output {
    return {
      persist: [],
      send: [],
      commits: [],
      evidence: [],
      catchUp: [],
      bundled: [],
      sessionsSigned: [],
      syncRequired: false,
    };
  }

  // ---------------------------------------------------------------- public interface

  /** Everything produced since the last call. Persist `persist` atomically before sending `send`. */
  drainOutput(): Output {
    if (this.roundDirty) {
      this.out.persist.push({ kind: "round", round: this.snapshot() });
      this.roundDirty = false;
    }
    const out = this.out;
    this.out = ConsensusEngine.emptyOutput();
    return out;
  }

  get status(): {
    height: number;
    round: number;
    step: Step;
    sessionsSigned: number;
    lastBlockId: Uint8Array;
    ownQueued: number;
    ownInFlight: number;
  } {
    return {
      height: this.height,
      round: this.round,
      step: this.step,
      sessionsSigned: this.sessionsSigned,
      lastBlockId: this.lastBlockId,
      ownQueued: this.ownQueue.length,
      ownInFlight: this.ownInFlight.size,
    };
  }

  get chainState(): ChainState {
    return {
      height: this.height,
      lastBlockId: this.lastBlockId,
      originSeq: [...this.originSeq],
      sessionsSigned: this.sessionsSigned,
    };
  }

  /** What one peer has buffered for heights above ours (for metrics and tests). */
  futureBuffered(peer: number): { readonly messages: number; readonly bytes: number } {
    const b = this.future.get(peer);
    return { messages: b?.messages.length ?? 0, bytes: b?.bytes ?? 0 };
  }

  /**
   * The sizes of everything this engine keeps that a peer can make grow, each against its bound
   * (for the simulator's memory checker and for metrics). O(n); allocates nothing per entry.
   */
  get memoryUse(): EngineMemoryUse {
    let futureMessages = 0;
    let futureBytes = 0;
    for (const b of this.future.values()) {
      futureMessages = Math.max(futureMessages, b.messages.length);
      futureBytes = Math.max(futureBytes, b.bytes);
    }
    let pendingBundles = 0;
    for (const p of this.pending) pendingBundles = Math.max(pendingBundles, p.size);
    return {
      futurePeers: this.future.size,
      futureMessagesPerPeer: futureMessages,
      futureBytesPerPeer: futureBytes,
      verifiedCacheEntries: this.verifiedCache.size,
      validityCacheEntries: this.validityCache.size,
      proposalRounds: this.proposals.size,
      voteRounds: Math.max(this.prevotes.size, this.precommits.size),
      round: this.round,
      pendingBundlesPerOrigin: pendingBundles,
      sessionsTracked: this.sessions.size,
      ownQueued: this.ownQueue.length,
      ownInFlight: this.ownInFlight.size,
      peersTimed: Math.max(this.lastCatchUpAt.size, this.lastStatusToPeerAt.size),
    };
  }

  /** The earliest instant at which tick() has work to do. */
  nextDeadline(): number {
    let d = Math.min(
      this.lastStatusAt + this.config.timeouts.statusMs,
      this.lastRebroadcastAt + this.config.timeouts.rebroadcastMs,
    );
    for (const t of this.timers) d = Math.min(d, t.deadline);
    return d;
  }

  /**
   * Queue own items for the next bundle. Returns how many were taken; items beyond the queue
   * bound, or larger than itemBytesMax, are refused (the caller reports back-pressure or an error).
   */
  submit(items: readonly Uint8Array[], now: number): number {
    this.now = Math.max(this.now, now);
    const limits = this.config.limits;
    let taken = 0;
    for (const item of items) {
      if (item.length > limits.itemBytesMax) break;
      if (this.ownQueue.length >= limits.itemsQueuedMax) break;
      this.ownQueue.push(item);
      this.ownQueueBytes += item.length;
      taken++;
    }
    this.cutBundles();
    this.progress();
    return taken;
  }

  tick(now: number): void {
    this.now = Math.max(this.now, now);
    const due = this.timers.filter((t) => t.deadline <= this.now);
    if (due.length > 0) {
      this.timers = this.timers.filter((t) => t.deadline > this.now);
      for (const t of due) this.onTimeout(t);
    }
    if (this.now >= this.lastStatusAt + this.config.timeouts.statusMs) {
      this.lastStatusAt = this.now;
      this.broadcast(this.envelope({ type: MessageType.Status, status: this.statusBody() }));
    }
    if (this.now >= this.lastRebroadcastAt + this.config.timeouts.rebroadcastMs) {
      this.lastRebroadcastAt = this.now;
      this.rebroadcast();
    }
    this.progress();
  }

  /** A frame from an authenticated link. Anything wrong with it is counted and dropped. */
  receive(from: number, bytes: Uint8Array, now: number): void {
    this.now = Math.max(this.now, now);
    this.counters.received++;
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes, this.config.limits, this.n);
    } catch {
      this.drop("malformed");
      return;
    }
    if (env.sender === this.self) {
      this.drop("unexpected");
      return;
    }
    // A guardian signs what it sends on its own link; a relayed envelope is refused here (votes
    // that travel further do so inside decisions, which carry their own signatures), except
    // prevotes at our height: a guardian relays the proof of its lock (see [L36]), as Tendermint's
    // gossip does. The signature binds a prevote to its signer whoever relays it.
    const relayable = env.body.type === MessageType.Prevote && env.body.vote.height === this.height;
    if (env.sender !== from && !relayable) {
      this.drop("unexpected");
      return;
    }
    // Cheap checks before the signature check: signature verification is most of the engine's
    // CPU, and late votes for a decided height or rebroadcast copies need none.
    if (this.obsoleteOrDuplicate(env, bytes)) return;
    if (!this.verifyEnvelope(env)) {
      this.drop("badSignature");
      return;
    }
    this.handle(env, bytes);
    this.progress();
  }

  /**
   * A message for an old height usually means only that its sender decided a moment after us; a
   * sender two or more heights behind is really lagging, and gets decisions (rate-limited). The
   * one-height case is left to the Status heartbeat, so no block is sent to a guardian that is
   * about to decide it anyway.
   */
  private helpIfBehind(peer: number, height: number): void {
    if (height + 1 < this.height) this.requestCatchUpFor(peer, height, this.sessionsSigned);
  }

  /** True (and counted) when the message can change nothing, whoever signed it. */
  private obsoleteOrDuplicate(env: Envelope, bytes: Uint8Array): boolean {
    const b = env.body;
    switch (b.type) {
      case MessageType.Prevote:
      case MessageType.Precommit: {
        if (b.vote.height < this.height) {
          this.drop("stale");
          this.helpIfBehind(env.sender, b.vote.height);
          return true;
        }
        if (b.vote.height > this.height) return this.refuseFuture(env, bytes, b.vote.height, b.vote.round);
        const set = (b.type === MessageType.Prevote ? this.prevotes : this.precommits).get(b.vote.round);
        const existing = set?.bySender.get(env.sender);
        if (existing && bytesEqual(existing.envelope, bytes)) {
          this.drop("duplicate");
          return true;
        }
        return false;
      }
      case MessageType.Proposal: {
        if (b.proposal.height < this.height) {
          this.drop("stale");
          this.helpIfBehind(env.sender, b.proposal.height);
          return true;
        }
        if (b.proposal.height > this.height) {
          return this.refuseFuture(env, bytes, b.proposal.height, b.proposal.round);
        }
        const existing = this.proposals.get(b.proposal.round);
        if (existing && bytesEqual(existing.envelope, bytes)) {
          this.drop("duplicate");
          return true;
        }
        return false;
      }
      case MessageType.Bundle: {
        if (b.bundle.seq <= this.originSeq[env.sender]!) {
          this.drop("stale");
          return true;
        }
        const existing = this.pending[env.sender]!.get(b.bundle.seq);
        if (existing && bytesEqual(existing.envelope, bytes)) {
          this.drop("duplicate");
          return true;
        }
        return false;
      }
      case MessageType.SessionSig:
        if (b.sessionSig.session < this.sessionsSigned || this.sessions.get(b.sessionSig.session)?.done) {
          this.drop("stale");
          return true;
        }
        return false;
      case MessageType.Decision:
        if (b.decision.height !== this.height) {
          this.drop(b.decision.height < this.height ? "stale" : "future");
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  /** Build a signed envelope (also used by the driver to answer catch-up requests). */
  envelope(body: Body): Uint8Array {
    return encodeEnvelope(this.self, body, this.crypto.signer, this.config.federationId, this.crypto.hash);
  }

  // ---------------------------------------------------------------- message handling

  private handle(env: Envelope, bytes: Uint8Array): void {
    const body = env.body;
    switch (body.type) {
      case MessageType.Bundle:
        this.onBundle(env.sender, body.bundle.seq, body.bundle.items, bytes);
        return;
      case MessageType.Status:
        this.onStatus(env.sender, body.status.height, body.status.sessionsSigned);
        return;
      case MessageType.SessionSig:
        this.onSessionSig(
          env.sender,
          body.sessionSig.session,
          body.sessionSig.sessionHash,
          body.sessionSig.signature,
          bytes,
        );
        return;
      case MessageType.Decision:
        this.onDecision(
          env.sender,
          body.decision.height,
          body.decision.round,
          body.decision.block,
          body.decision.precommits,
        );
        return;
      case MessageType.SignedSession:
        this.onSignedSession(
          env.sender,
          body.signedSession.session,
          body.signedSession.blocks,
          body.signedSession.signatures,
        );
        return;
      case MessageType.Proposal:
      case MessageType.Prevote:
      case MessageType.Precommit: {
        const h = body.type === MessageType.Proposal ? body.proposal.height : body.vote.height;
        if (h < this.height) {
          this.drop("stale");
          this.helpIfBehind(env.sender, h);
          return;
        }
        if (h > this.height) {
          this.bufferFuture(env, bytes, h);
          return;
        }
        this.onConsensusMessage(env, bytes);
        return;
      }
    }
  }

  private onConsensusMessage(env: Envelope, bytes: Uint8Array): void {
    const body = env.body;
    const round =
      body.type === MessageType.Proposal
        ? body.proposal.round
        : body.type === MessageType.Prevote || body.type === MessageType.Precommit
          ? body.vote.round
          : -1;
    if (round < 0) return;
    this.noteRound(env.sender, round);
    if (round > this.round + this.config.limits.roundsAheadMax) {
      // Too far ahead to store; it still counts towards round skipping [L55] via noteRound.
      this.drop("future");
      return;
    }
    this.becomeActive();
    if (body.type === MessageType.Proposal) {
      this.onProposal(env.sender, body.proposal.round, body.proposal.validRound, body.proposal.block, bytes);
    } else if (body.type === MessageType.Prevote || body.type === MessageType.Precommit) {
      this.onVote(env.sender, body.type, body.vote, bytes);
    }
  }

  private onProposal(
    sender: number,
    round: number,
    validRound: number,
    blockBytes: Uint8Array,
    bytes: Uint8Array,
  ): void {
    if (sender !== this.proposer(this.height, round)) {
      this.drop("wrongProposer");
      return;
    }
    const id = computeBlockId(blockBytes, this.crypto.hash);
    const idHex = toHex(id);
    const existing = this.proposals.get(round);
    if (existing) {
      if (existing.idHex !== idHex)
        this.reportEquivocation(sender, "proposal", round, existing.envelope, bytes);
      else this.drop("duplicate");
      return;
    }
    this.proposals.set(round, {
      envelope: bytes,
      blockBytes,
      blockId: id,
      idHex,
      validRound,
      valid: undefined,
    });
  }

  private onVote(
    sender: number,
    type: MessageType.Prevote | MessageType.Precommit,
    vote: VoteBody,
    bytes: Uint8Array,
  ): void {
    const sets = type === MessageType.Prevote ? this.prevotes : this.precommits;
    let set = sets.get(vote.round);
    if (!set) {
      set = new VoteSet();
      sets.set(vote.round, set);
    }
    const idHex = toHex(vote.blockId);
    const mayCount = idHex === NIL_HEX || this.isProposedId(idHex);
    const { first, added, accuse } = set.add(sender, { idHex, envelope: bytes }, mayCount);
    if (accuse && first) {
      this.reportEquivocation(
        sender,
        type === MessageType.Prevote ? "prevote" : "precommit",
        vote.round,
        first.envelope,
        bytes,
      );
    } else if (!added) {
      this.drop("duplicate");
    }
  }

  /** Whether a block with this id was proposed at our height (in any round). */
  private isProposedId(idHex: string): boolean {
    for (const p of this.proposals.values()) if (p.idHex === idHex) return true;
    return false;
  }

  private onBundle(origin: number, seq: number, items: readonly Uint8Array[], bytes: Uint8Array): void {
    const limits = this.config.limits;
    if (bytes.length > limits.bundleBytesMax) {
      this.drop("malformed");
      return;
    }
    const committed = this.originSeq[origin]!;
    if (seq <= committed) {
      this.drop("stale");
      return;
    }
    if (seq > committed + limits.bundlesPendingPerOriginMax) {
      this.drop("bundleOutOfWindow");
      return;
    }
    const existing = this.pending[origin]!.get(seq);
    if (existing) {
      if (!bytesEqual(existing.envelope, bytes))
        this.reportEquivocation(origin, "bundle", seq, existing.envelope, bytes);
      else this.drop("duplicate");
      return;
    }
    this.pending[origin]!.set(seq, { envelope: bytes, items });
    if (seq === committed + 1) this.becomeActive();
  }

  private onStatus(peer: number, height: number, sessionsSigned: number): void {
    if (height < this.height || sessionsSigned < this.sessionsSigned) {
      this.requestCatchUpFor(peer, height, sessionsSigned);
    } else if (height > this.height || sessionsSigned > this.sessionsSigned) {
      // We are behind: tell this peer where we are so that it serves us.
      this.sendStatusTo(peer);
    }
  }

  private requestCatchUpFor(peer: number, height: number, sessionsSigned: number): void {
    const last = this.lastCatchUpAt.get(peer) ?? -Infinity;
    if (this.now < last + this.config.timeouts.catchUpMs) return;
    this.lastCatchUpAt.set(peer, this.now);
    this.out.catchUp.push({
      peer,
      height,
      sessionsSigned: Math.min(sessionsSigned, this.sessionsSigned),
      at: this.now,
    });
  }

  private sendStatusTo(peer: number): void {
    const last = this.lastStatusToPeerAt.get(peer) ?? -Infinity;
    if (this.now < last + this.config.timeouts.catchUpMs) return;
    this.lastStatusToPeerAt.set(peer, this.now);
    this.send(peer, this.envelope({ type: MessageType.Status, status: this.statusBody() }));
  }

  /**
   * Admission of a message for a height above ours, decided before its signature is verified (the
   * most expensive step) and before it takes any memory. True (and counted) when it is refused.
   * Everything is keyed by the sender, which is the link it came on (relayed envelopes are refused
   * for future heights), so one peer can fill only its own budget.
   */
  private refuseFuture(env: Envelope, bytes: Uint8Array, height: number, round: number): boolean {
    const limits = this.config.limits;
    if (height > this.height + limits.futureHeightsMax) {
      this.drop("future");
      this.sendStatusTo(env.sender);
      return true;
    }
    const b = env.body;
    if (b.type === MessageType.Proposal) {
      // Only the slot's proposer may propose, and proposer() is a function of (height, round)
      // alone, so a proposal from anyone else is useless now and later.
      if (env.sender !== this.proposer(height, round)) {
        this.drop("wrongProposer");
        return true;
      }
      // A proposal for a round we would not store on reaching its height, or with a block larger
      // than any valid one, would only take memory. (Votes of far rounds stay: they are small,
      // and count for round skipping [L55].)
      if (round > limits.roundsAheadMax) {
        this.drop("future");
        return true;
      }
      if (b.proposal.block.length > blockBytesMax(this.n, limits)) {
        this.drop("invalidBlock");
        return true;
      }
    }
    const buf = this.future.get(env.sender) ?? emptyFutureBuffer();
    if (buf.signatures.has(toHex(env.signature))) {
      this.drop("duplicate");
      return true;
    }
    if (b.type === MessageType.Proposal) {
      const slot = slotKey(height, round);
      const first = buf.proposals.get(slot);
      // One proposal per (peer, height, round) is buffered. A second one with another block is
      // let through to signature verification once, to be reported as evidence (bufferFuture);
      // anything else for the slot is refused here.
      if (first !== undefined && (buf.accused.has(slot) || !this.conflicts(first, b.proposal.block))) {
        this.drop("duplicate");
        return true;
      }
      if (first !== undefined) return false;
    }
    if (buf.messages.length >= limits.futureMessagesPerPeerMax) {
      this.drop("futureBufferFull");
      return true;
    }
    if (buf.bytes + bytes.length > limits.futureBytesPerPeerMax) {
      this.drop("futureBytesFull");
      return true;
    }
    return false;
  }

  private conflicts(first: FutureMessage, block: Uint8Array): boolean {
    const b = first.envelope.body;
    if (b.type !== MessageType.Proposal) throw new Error("a buffered proposal slot holds a vote (bug)");
    return !bytesEqual(b.proposal.block, block);
  }

  /** Keeps a message admitted by refuseFuture (its signature is verified by now). */
  private bufferFuture(env: Envelope, bytes: Uint8Array, h: number): void {
    let buf = this.future.get(env.sender);
    if (!buf) {
      buf = emptyFutureBuffer();
      this.future.set(env.sender, buf);
    }
    const b = env.body;
    const first =
      b.type === MessageType.Proposal ? buf.proposals.get(slotKey(h, b.proposal.round)) : undefined;
    if (b.type === MessageType.Proposal && first !== undefined) {
      buf.accused.add(slotKey(h, b.proposal.round));
      this.counters.evidence++;
      this.out.evidence.push({
        kind: "equivocation",
        sender: env.sender,
        what: "proposal",
        height: h,
        round: b.proposal.round,
        first: first.bytes,
        second: bytes,
      });
      return;
    }
    const limits = this.config.limits;
    if (
      buf.messages.length >= limits.futureMessagesPerPeerMax ||
      buf.bytes + bytes.length > limits.futureBytesPerPeerMax
    ) {
      throw new Error("a future message was buffered beyond its sender's budget (bug)");
    }
    this.addFuture(buf, { height: h, envelope: env, bytes });
    this.sendStatusTo(env.sender);
  }

  private addFuture(buf: FutureBuffer, m: FutureMessage): void {
    buf.messages.push(m);
    buf.bytes += m.bytes.length;
    buf.signatures.add(toHex(m.envelope.signature));
    const b = m.envelope.body;
    if (b.type === MessageType.Proposal) buf.proposals.set(slotKey(m.height, b.proposal.round), m);
  }

  // ---------------------------------------------------------------- Tendermint rules

  private proposer(height: number, round: number): number {
    return (height + round) % this.n;
  }

  /** Re-evaluates the "upon" rules of Algorithm 1 until none fires. */
  private progress(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.progressOnce()) return;
    }
    throw new Error("consensus progress did not reach a fixed point (bug)");
  }

  private progressOnce(): boolean {
    const h = this.height;
    const r = this.round;
    // [L49] decide: a proposal and a quorum of precommits for it, in any round.
    for (const [round, set] of this.precommits) {
      for (const [idHex, count] of set.countById) {
        if (count < this.q || idHex === NIL_HEX) continue;
        const p = this.proposals.get(round);
        if (p && p.idHex === idHex && this.isValid(p)) {
          this.decide(round, p.blockBytes, p.blockId, set.envelopesFor(idHex));
          return true;
        }
      }
    }
    // [L55] skip to a higher round once f+1 guardians are there.
    const skipTo = this.roundSupportedByFPlusOne();
    if (skipTo > r) {
      this.startRound(skipTo);
      return true;
    }
    const proposal = this.proposals.get(r);
    if (this.step === Step.Propose && proposal) {
      if (proposal.validRound === -1) {
        // [L22]
        const ok =
          this.isValid(proposal) &&
          (this.lockedRound === -1 || this.lockedIdHex() === proposal.idHex || this.bugIgnoreLock);
        this.castVote(MessageType.Prevote, r, ok ? proposal.blockId : NIL_ID);
        this.step = Step.Prevote;
        return true;
      }
      const vr = proposal.validRound;
      if (vr < r && (this.prevotes.get(vr)?.count(proposal.idHex) ?? 0) >= this.q) {
        // [L28]
        const ok =
          this.isValid(proposal) &&
          (this.lockedRound <= vr || this.lockedIdHex() === proposal.idHex || this.bugIgnoreLock);
        this.castVote(MessageType.Prevote, r, ok ? proposal.blockId : NIL_ID);
        this.step = Step.Prevote;
        return true;
      }
    }
    const prevotes = this.prevotes.get(r);
    if (
      this.step === Step.Prevote &&
      prevotes &&
      prevotes.total >= this.q &&
      !this.prevoteTimeoutRounds.has(r)
    ) {
      // [L34]
      this.prevoteTimeoutRounds.add(r);
      this.schedule("prevote", h, r, this.config.timeouts.prevoteMs);
      return true;
    }
    if (this.step >= Step.Prevote && proposal && prevotes && !this.lockRuleRounds.has(r)) {
      if (prevotes.count(proposal.idHex) >= this.q && this.isValid(proposal)) {
        // [L36]
        this.lockRuleRounds.add(r);
        if (this.step === Step.Prevote) {
          this.lockedRound = r;
          this.lockedBlock = proposal.blockBytes;
          this.castVote(MessageType.Precommit, r, proposal.blockId);
          this.step = Step.Precommit;
        }
        this.validRound = r;
        this.validBlock = proposal.blockBytes;
        // Keep the proof of lock (these q prevotes) with our own messages: it is persisted with the
        // round state and rebroadcast while we are stuck, so that peers that missed some of these
        // votes, or got an equivocator's other vote, can accept a re-proposal of this block [L28].
        for (const e of prevotes.envelopesFor(proposal.idHex)) if (!this.sent.includes(e)) this.sent.push(e);
        this.roundDirty = true;
        return true;
      }
    }
    if (this.step === Step.Prevote && prevotes && prevotes.count(NIL_HEX) >= this.q) {
      // [L44]
      this.castVote(MessageType.Precommit, r, NIL_ID);
      this.step = Step.Precommit;
      return true;
    }
    const precommits = this.precommits.get(r);
    if (precommits && precommits.total >= this.q && !this.precommitTimeoutRounds.has(r)) {
      // [L47]
      this.precommitTimeoutRounds.add(r);
      this.schedule("precommit", h, r, this.config.timeouts.precommitMs);
      return true;
    }
    if (this.proposeDeferred && this.active) {
      this.proposeDeferred = false;
      this.proposeNow();
      return true;
    }
    return false;
  }

  private roundSupportedByFPlusOne(): number {
    // The (f+1)-th highest round among the rounds guardians have shown us: at least one honest
    // guardian is at that round or beyond, so moving there cannot be forced by Byzantine ones.
    const rounds = [...this.maxRoundBySender].sort((a, b) => b - a);
    return rounds[this.f] ?? -1;
  }

  private noteRound(sender: number, round: number): void {
    if (round > this.maxRoundBySender[sender]!) this.maxRoundBySender[sender] = round;
  }

  /** [L11] StartRound. */
  private startRound(round: number): void {
    this.round = round;
    this.step = Step.Propose;
    this.roundDirty = true;
    this.proposeDeferred = false;
    this.counters.rounds++;
    if (round > 0) this.active = true;
    this.noteRound(this.self, round);
    if (this.proposer(this.height, round) === this.self) {
      if (this.validBlock !== null || this.active) this.proposeNow();
      else this.proposeDeferred = true;
    } else if (this.active) {
      this.schedule("propose", this.height, round, this.config.timeouts.proposeMs);
    }
  }

  private proposeNow(): void {
    const r = this.round;
    if (this.proposals.has(r)) return;
    let blockBytes: Uint8Array;
    let validRound: number;
    if (this.validBlock !== null) {
      blockBytes = this.validBlock;
      validRound = this.validRound;
    } else {
      blockBytes = encodeBlock(this.buildBlock());
      validRound = -1;
    }
    const bytes = this.envelope({
      type: MessageType.Proposal,
      proposal: { height: this.height, round: r, validRound, block: blockBytes },
    });
    const id = computeBlockId(blockBytes, this.crypto.hash);
    this.proposals.set(r, {
      envelope: bytes,
      blockBytes,
      blockId: id,
      idHex: toHex(id),
      validRound,
      valid: undefined,
    });
    this.sent.push(bytes);
    this.roundDirty = true;
    if (!this.bugSkipVoteSync) this.out.syncRequired = true;
    this.broadcast(bytes);
  }

  private becomeActive(): void {
    if (this.active) return;
    this.active = true;
    if (this.step === Step.Propose && this.proposer(this.height, this.round) !== this.self) {
      this.schedule("propose", this.height, this.round, this.config.timeouts.proposeMs);
    }
  }

  private schedule(kind: Timer["kind"], height: number, round: number, baseMs: number): void {
    const deadline = this.now + baseMs + round * this.config.timeouts.roundIncrementMs;
    this.timers.push({ deadline, kind, height, round });
  }

  /** [L57] [L61] [L65] */
  private onTimeout(t: Timer): void {
    if (t.height !== this.height || t.round !== this.round) return;
    if (t.kind === "propose" && this.step === Step.Propose) {
      this.castVote(MessageType.Prevote, t.round, NIL_ID);
      this.step = Step.Prevote;
    } else if (t.kind === "prevote" && this.step === Step.Prevote) {
      this.castVote(MessageType.Precommit, t.round, NIL_ID);
      this.step = Step.Precommit;
    } else if (t.kind === "precommit") {
      this.startRound(t.round + 1);
    }
  }

  private castVote(type: MessageType.Prevote | MessageType.Precommit, round: number, id: Uint8Array): void {
    const bytes = this.envelope({ type, vote: { height: this.height, round, blockId: id } });
    const sets = type === MessageType.Prevote ? this.prevotes : this.precommits;
    let set = sets.get(round);
    if (!set) {
      set = new VoteSet();
      sets.set(round, set);
    }
    set.add(this.self, { idHex: toHex(id), envelope: bytes }, true);
    this.sent.push(bytes);
    this.roundDirty = true;
    if (!this.bugSkipVoteSync) this.out.syncRequired = true;
    this.broadcast(bytes);
  }

  private lockedIdHex(): string | undefined {
    return this.lockedBlock === null ? undefined : toHex(computeBlockId(this.lockedBlock, this.crypto.hash));
  }

  // ---------------------------------------------------------------- validity of blocks [V1-V4]

  private isValid(p: ProposalRecord): boolean {
    if (p.valid === undefined) {
      const cached = this.validityCache.get(p.idHex);
      p.valid = cached ?? this.validateBlock(p.blockBytes);
      this.validityCache.set(p.idHex, p.valid);
      if (!p.valid) this.drop("invalidBlock");
    }
    return p.valid;
  }

  /** valid(v): a deterministic function of the block and the committed chain only. */
  private validateBlock(blockBytes: Uint8Array): boolean {
    return this.checkBlock(blockBytes) !== null;
  }

  /** Returns the decoded bundles when the block is valid at the current height, else null. */
  private checkBlock(
    blockBytes: Uint8Array,
  ): { origin: number; seq: number; items: readonly Uint8Array[] }[] | null {
    const limits = this.config.limits;
    let block: Block;
    try {
      block = decodeBlock(blockBytes, limits, this.n);
    } catch {
      return null;
    }
    if (block.height !== this.height || !bytesEqual(block.prevBlockId, this.lastBlockId)) return null; // [V1]
    const nextSeq = this.originSeq.map((s) => s + 1);
    const perOrigin = new Array<number>(this.n).fill(0);
    const bundles: { origin: number; seq: number; items: readonly Uint8Array[] }[] = [];
    for (const bytes of block.bundles) {
      let env: Envelope;
      try {
        env = decodeEnvelope(bytes, limits, this.n);
      } catch {
        return null;
      }
      if (env.body.type !== MessageType.Bundle) return null;
      if (!this.verifyEnvelope(env)) return null; // [V2] each bundle signed by its origin
      const origin = env.sender;
      if (env.body.bundle.seq !== nextSeq[origin]) return null; // [V3] no gap, no replay
      nextSeq[origin]++;
      if (++perOrigin[origin]! > limits.bundlesPerOriginPerBlockMax) return null; // [V4]
      bundles.push({ origin, seq: env.body.bundle.seq, items: env.body.bundle.items });
    }
    return bundles;
  }

  /** getValue(): fair across origins, so no guardian's bundles can crowd out another's. */
  private buildBlock(): Block {
    const bundles: Uint8Array[] = [];
    const start = this.height % this.n;
    for (let k = 0; k < this.n; k++) {
      const origin = (start + k) % this.n;
      for (let j = 1; j <= this.config.limits.bundlesPerOriginPerBlockMax; j++) {
        const b = this.pending[origin]!.get(this.originSeq[origin]! + j);
        if (!b) break;
        bundles.push(b.envelope);
      }
    }
    return { height: this.height, prevBlockId: this.lastBlockId, bundles };
  }

  // ---------------------------------------------------------------- deciding

  private decide(
    round: number,
    blockBytes: Uint8Array,
    id: Uint8Array,
    certificate: readonly Uint8Array[],
  ): void {
    const bundles = this.checkBlock(blockBytes);
    if (bundles === null) throw new Error("decide called with an invalid block (bug)");
    const decided: DecidedBlock = { height: this.height, round, blockId: id, block: blockBytes, certificate };
    for (const b of bundles) {
      this.originSeq[b.origin] = b.seq;
      this.pending[b.origin]!.delete(b.seq);
      if (b.origin === this.self) this.ownInFlight.delete(b.seq);
    }
    for (let o = 0; o < this.n; o++) {
      for (const seq of this.pending[o]!.keys()) if (seq <= this.originSeq[o]!) this.pending[o]!.delete(seq);
    }
    const commit: Commit = { height: this.height, blockId: id, bundles };
    this.height++;
    this.lastBlockId = id;
    this.sessionBlockIds.push(id);
    this.counters.decided++;
    this.out.persist.push({ kind: "decided", decided, chain: this.chainState });
    this.out.commits.push(commit);

    const k = this.config.heightsPerSession;
    if (this.height % k === 0) {
      const session = this.height / k - 1;
      const ids = this.sessionBlockIds;
      this.sessionBlockIds = [];
      this.completeSession(session, ids);
    }
    this.resetHeight();
    this.cutBundles();
    this.startRound(0);
    this.replayFuture();
  }

  private resetHeight(): void {
    this.lockedRound = -1;
    this.lockedBlock = null;
    this.validRound = -1;
    this.validBlock = null;
    this.sent = [];
    this.proposals = new Map();
    this.prevotes = new Map();
    this.precommits = new Map();
    this.maxRoundBySender = new Array<number>(this.n).fill(-1);
    this.prevoteTimeoutRounds = new Set();
    this.precommitTimeoutRounds = new Set();
    this.lockRuleRounds = new Set();
    this.timers = [];
    this.validityCache.clear();
    this.active = false;
    for (let o = 0; o < this.n; o++) {
      if (this.pending[o]!.has(this.originSeq[o]! + 1)) this.active = true;
    }
  }

  private replayFuture(): void {
    const ready: FutureMessage[] = [];
    for (const [sender, buf] of this.future) {
      const keep = emptyFutureBuffer();
      for (const m of buf.messages) {
        if (m.height === this.height) ready.push(m);
        else if (m.height > this.height) this.addFuture(keep, m);
      }
      if (keep.messages.length > 0) this.future.set(sender, keep);
      else this.future.delete(sender);
    }
    for (const m of ready) this.onConsensusMessage(m.envelope, m.bytes);
  }

  /** A decision proven by a quorum of precommits, sent to a lagging guardian. */
  private onDecision(
    _sender: number,
    height: number,
    round: number,
    blockBytes: Uint8Array,
    precommits: readonly Uint8Array[],
  ): void {
    if (height !== this.height) {
      this.drop(height < this.height ? "stale" : "future");
      return;
    }
    const id = computeBlockId(blockBytes, this.crypto.hash);
    if (!this.verifyCertificate(height, round, id, precommits)) {
      this.drop("invalidCertificate");
      return;
    }
    if (this.checkBlock(blockBytes) === null) {
      this.drop("invalidBlock");
      return;
    }
    this.decide(round, blockBytes, id, precommits);
  }

  private verifyCertificate(
    height: number,
    round: number,
    id: Uint8Array,
    precommits: readonly Uint8Array[],
  ): boolean {
    const signers = new Set<number>();
    for (const bytes of precommits) {
      let env: Envelope;
      try {
        env = decodeEnvelope(bytes, this.config.limits, this.n);
      } catch {
        return false;
      }
      const b = env.body;
      if (b.type !== MessageType.Precommit) return false;
      if (b.vote.height !== height || b.vote.round !== round || !bytesEqual(b.vote.blockId, id)) return false;
      if (signers.has(env.sender) || !this.verifyEnvelope(env)) return false;
      signers.add(env.sender);
    }
    return signers.size >= this.q;
  }

  // ---------------------------------------------------------------- sessions

  private completeSession(session: number, blockIds: readonly Uint8Array[]): void {
    const hash = computeSessionHash(this.config.federationId, session, blockIds, this.crypto.hash);
    const state = this.sessionState(session);
    state.hash = hash;
    state.blockIds = blockIds;
    const signature = this.crypto.signer.sign(sessionSigningBytes(this.config.federationId, session, hash));
    state.sigs.set(this.self, signature);
    for (const [signer, early] of state.early) {
      if (bytesEqual(early.hash, hash)) this.addSessionSig(session, signer, early.signature);
    }
    state.early.clear();
    this.broadcast(
      this.envelope({ type: MessageType.SessionSig, sessionSig: { session, sessionHash: hash, signature } }),
    );
    this.checkSessionQuorum(session);
    this.pruneSessions();
  }

  private sessionState(session: number): SessionSigState {
    let s = this.sessions.get(session);
    if (!s) {
      s = { hash: undefined, blockIds: undefined, sigs: new Map(), early: new Map(), done: false };
      this.sessions.set(session, s);
    }
    return s;
  }

  private onSessionSig(
    sender: number,
    session: number,
    hash: Uint8Array,
    signature: Uint8Array,
    bytes: Uint8Array,
  ): void {
    const k = this.config.heightsPerSession;
    const current = Math.floor(this.height / k);
    if (session < this.sessionsSigned || this.sessions.get(session)?.done) {
      this.drop("stale");
      return;
    }
    if (session > current + 1) {
      this.drop("future");
      return;
    }
    if (
      !this.crypto.verifier.verify(
        this.config.publicKeys[sender]!,
        sessionSigningBytes(this.config.federationId, session, hash),
        signature,
      )
    ) {
      this.drop("badSignature");
      return;
    }
    const state = this.sessionState(session);
    if (state.hash === undefined) {
      const prior = state.early.get(sender);
      if (prior && !bytesEqual(prior.hash, hash)) {
        this.reportEquivocation(sender, "sessionSig", session, prior.hash, bytes);
        return;
      }
      state.early.set(sender, { hash, signature });
      return;
    }
    if (!bytesEqual(state.hash, hash)) {
      // A signature over another history for this session: either the sender equivocates or it
      // diverged. It never counts towards our quorum.
      this.drop("invalidSession");
      return;
    }
    this.addSessionSig(session, sender, signature);
    this.checkSessionQuorum(session);
  }

  private addSessionSig(session: number, signer: number, signature: Uint8Array): void {
    this.sessionState(session).sigs.set(signer, signature);
  }

  private checkSessionQuorum(session: number): void {
    const state = this.sessions.get(session);
    if (!state || state.done || state.hash === undefined || state.blockIds === undefined) return;
    if (state.sigs.size < this.q) return;
    state.done = true;
    const signatures = [...state.sigs.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([signer, signature]) => ({ signer, signature }));
    this.recordSignedSession({ session, sessionHash: state.hash, blockIds: state.blockIds, signatures });
  }

  private recordSignedSession(record: SessionRecord): void {
    const state = this.sessionState(record.session);
    state.done = true;
    while (this.sessions.get(this.sessionsSigned)?.done) this.sessionsSigned++;
    this.out.persist.push({ kind: "sessionSigned", record, sessionsSigned: this.sessionsSigned });
    this.out.sessionsSigned.push(record);
    this.pruneSessions();
  }

  private pruneSessions(): void {
    for (const s of this.sessions.keys()) if (s < this.sessionsSigned) this.sessions.delete(s);
    const unsigned = [...this.sessions.keys()].sort((a, b) => a - b);
    while (unsigned.length > UNSIGNED_SESSIONS_TRACKED_MAX) this.sessions.delete(unsigned.shift()!);
  }

  /** A session with a quorum of signatures: verify, then commit the blocks we lack. */
  private onSignedSession(
    _sender: number,
    session: number,
    blocks: readonly Uint8Array[],
    signatures: readonly { signer: number; signature: Uint8Array }[],
  ): void {
    const k = this.config.heightsPerSession;
    const first = session * k;
    if (session < this.sessionsSigned) {
      this.drop("stale");
      return;
    }
    if (blocks.length !== k || first > this.height) {
      this.drop(first > this.height ? "future" : "invalidSession");
      return;
    }
    const ids = blocks.map((b) => computeBlockId(b, this.crypto.hash));
    const hash = computeSessionHash(this.config.federationId, session, ids, this.crypto.hash);
    const signing = sessionSigningBytes(this.config.federationId, session, hash);
    const signers = new Set<number>();
    for (const s of signatures) {
      if (s.signer >= this.n || signers.has(s.signer)) continue;
      if (!this.crypto.verifier.verify(this.config.publicKeys[s.signer]!, signing, s.signature)) continue;
      signers.add(s.signer);
    }
    if (signers.size < this.q) {
      this.drop("invalidSession");
      return;
    }
    // Blocks we already decided must be the certified ones: a mismatch means a quorum signed a
    // conflicting history, which the safety argument excludes. Crash loudly rather than diverge.
    const known = this.knownBlockIds(session);
    for (let i = 0; i < known.length && i < k; i++) {
      if (!bytesEqual(known[i]!, ids[i]!)) {
        throw new Error(
          `SAFETY VIOLATION: signed session ${session} conflicts with decided height ${first + i}`,
        );
      }
    }
    for (let i = this.height - first; i < k; i++) {
      const blockBytes = blocks[i]!;
      if (this.checkBlock(blockBytes) === null) {
        this.drop("invalidBlock");
        return;
      }
      this.decide(-1, blockBytes, ids[i]!, []);
    }
    const valid = signatures.filter((s) => signers.has(s.signer));
    const state = this.sessionState(session);
    if (!state.done) {
      for (const s of valid) state.sigs.set(s.signer, s.signature);
      state.hash = hash;
      state.blockIds = ids;
      this.checkSessionQuorum(session);
    }
  }

  private knownBlockIds(session: number): readonly Uint8Array[] {
    const k = this.config.heightsPerSession;
    if (session === Math.floor(this.height / k)) return this.sessionBlockIds;
    return this.sessions.get(session)?.blockIds ?? [];
  }

  // ---------------------------------------------------------------- own bundles

  private cutBundles(): void {
    const limits = this.config.limits;
    while (this.ownQueue.length > 0 && this.ownInFlight.size < limits.bundlesInFlightMax) {
      const items: Uint8Array[] = [];
      let bytes = 96;
      while (items.length < this.ownQueue.length && items.length < limits.itemsPerBundleMax) {
        const next = this.ownQueue[items.length]!;
        if (bytes + next.length + 4 > limits.bundleBytesMax) break;
        bytes += next.length + 4;
        items.push(next);
      }
      this.ownQueue = this.ownQueue.slice(items.length);
      for (const i of items) this.ownQueueBytes -= i.length;
      const seq = this.nextOwnSeq++;
      const envelope = this.envelope({ type: MessageType.Bundle, bundle: { seq, items } });
      this.ownInFlight.set(seq, envelope);
      this.pending[this.self]!.set(seq, { envelope, items });
      this.out.persist.push({ kind: "ownBundle", seq, envelope });
      this.out.syncRequired = true;
      this.out.bundled.push({ seq, items });
      this.broadcast(envelope);
      if (seq === this.originSeq[this.self]! + 1) this.becomeActive();
    }
  }

  // ---------------------------------------------------------------- plumbing

  private rebroadcast(): void {
    for (const envelope of this.ownInFlight.values()) this.broadcast(envelope);
    // Own votes and proposals only when stuck on a height for a whole interval: in the common case
    // links are reliable and the height moves on before this fires.
    if (this.heightAtLastRebroadcast === this.height) {
      for (const envelope of this.sent) this.broadcast(envelope);
    }
    this.heightAtLastRebroadcast = this.height;
    for (const [session, state] of this.sessions) {
      const own = state.sigs.get(this.self);
      if (!state.done && state.hash && own) {
        this.broadcast(
          this.envelope({
            type: MessageType.SessionSig,
            sessionSig: { session, sessionHash: state.hash, signature: own },
          }),
        );
      }
    }
  }

  private statusBody(): { height: number; round: number; sessionsSigned: number } {
    return { height: this.height, round: this.round, sessionsSigned: this.sessionsSigned };
  }

  private restoreRound(snap: RoundSnapshot): void {
    this.round = snap.round;
    this.step = snap.step;
    this.lockedRound = snap.lockedRound;
    this.lockedBlock = snap.lockedBlock;
    this.validRound = snap.validRound;
    this.validBlock = snap.validBlock;
    this.sent = [...snap.sent];
    this.active = true;
    this.noteRound(this.self, snap.round);
    for (const bytes of snap.sent) {
      const env = decodeEnvelope(bytes, this.config.limits, this.n);
      const b = env.body;
      if (b.type === MessageType.Proposal) {
        const id = computeBlockId(b.proposal.block, this.crypto.hash);
        this.proposals.set(b.proposal.round, {
          envelope: bytes,
          blockBytes: b.proposal.block,
          blockId: id,
          idHex: toHex(id),
          validRound: b.proposal.validRound,
          valid: undefined,
        });
      } else if (b.type === MessageType.Prevote || b.type === MessageType.Precommit) {
        const sets = b.type === MessageType.Prevote ? this.prevotes : this.precommits;
        let set = sets.get(b.vote.round);
        if (!set) {
          set = new VoteSet();
          sets.set(b.vote.round, set);
        }
        // Our own votes, and the prevotes of others that prove our lock.
        set.add(env.sender, { idHex: toHex(b.vote.blockId), envelope: bytes }, true);
      }
      this.broadcast(bytes);
    }
    // Restart the timeout of the step we were in; timeouts only affect liveness, never safety.
    const kind =
      this.step === Step.Propose ? "propose" : this.step === Step.Prevote ? "prevote" : "precommit";
    const base =
      kind === "propose"
        ? this.config.timeouts.proposeMs
        : kind === "prevote"
          ? this.config.timeouts.prevoteMs
          : this.config.timeouts.precommitMs;
    if (this.step === Step.Propose && this.proposer(this.height, this.round) === this.self) this.proposeNow();
    else this.schedule(kind, this.height, this.round, base);
  }

  private snapshot(): RoundSnapshot {
    return {
      height: this.height,
      round: this.round,
      step: this.step,
      lockedRound: this.lockedRound,
      lockedBlock: this.lockedBlock,
      validRound: this.validRound,
      validBlock: this.validBlock,
      sent: [...this.sent],
    };
  }

  private verifyEnvelope(env: Envelope): boolean {
    const digest = messageDigest(this.config.federationId, env.signedPart, this.crypto.hash);
    const key = toHex(digest) + toHex(env.signature);
    if (this.verifiedCache.has(key)) return true;
    const ok = this.crypto.verifier.verify(this.config.publicKeys[env.sender]!, digest, env.signature);
    if (ok) {
      if (this.verifiedCache.size >= this.config.limits.verifiedCacheEntriesMax) this.verifiedCache.clear();
      this.verifiedCache.add(key);
    }
    return ok;
  }

  private reportEquivocation(
    sender: number,
    what: Evidence["what"],
    round: number,
    first: Uint8Array,
    second: Uint8Array,
  ): void {
    this.counters.evidence++;
    this.out.evidence.push({ kind: "equivocation", sender, what, height: this.height, round, first, second });
  }

  private broadcast(bytes: Uint8Array): void {
    this.counters.sent++;
    this.out.send.push({ to: "all", bytes });
  }

  private send(to: number, bytes: Uint8Array): void {
    this.counters.sent++;
    this.out.send.push({ to, bytes });
  }

  private drop(reason: DropReason): void {
    this.counters[reason]++;
  }
}
