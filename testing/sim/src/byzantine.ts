// Byzantine guardians. Each runs a real engine underneath (its own replica and store), so it always
// knows the height, the round and the chain state, and can build messages that honest guardians
// accept as valid. Everything its engine sends passes through a filter that equivocates, corrupts,
// drops or duplicates it; on its own it injects garbage, replays, forged proofs and votes for
// unknown blocks or future slots. Which of these it does, and how often, is drawn from the seed.
import { bytesEqual } from "@conclave/core-common";
import {
  MemoryConsensusStore,
  MessageType,
  NIL_ID,
  Replica,
  blockId,
  decodeBlock,
  decodeEnvelope,
  encodeBlock,
  encodeEnvelope,
  sessionHash,
  sessionSigningBytes,
} from "./consensus.js";
import type { Block, Body, ConsensusConfig, EngineCrypto, Envelope } from "./consensus.js";
import { byzantineFaults } from "./lock-attacks.js";
import type { LockAttacker } from "./lock-attacks.js";
import type { SimNetwork } from "./network.js";
import type { Rng } from "./rng.js";

/** How one Byzantine guardian misbehaves. Rates "per message" apply to what its engine sends. */
export interface ByzantineProfile {
  /** Never sends anything (a mute guardian: silence counts as misbehaviour). */
  readonly mute: boolean;
  /** Silent periods: how often one starts (per second) and their mean length (ms). */
  readonly silencesPerSec: number;
  readonly silenceMeanMs: number;
  /** Per message: drop it (selective silence), equivocate, flip a signature bit, claim another sender, send twice. */
  readonly dropRate: number;
  readonly equivocateRate: number;
  readonly badSignatureRate: number;
  readonly wrongSenderRate: number;
  readonly duplicateRate: number;
  /** Per second of simulated time: what it injects on its own. */
  readonly garbagePerSec: number;
  readonly unknownBlockVotesPerSec: number;
  readonly futureVotesPerSec: number;
  readonly replaysPerSec: number;
  readonly oversizedPerSec: number;
  readonly forgedProofsPerSec: number;
  readonly statusLiesPerSec: number;
  /** Items it submits to its own engine, so that it has bundles to equivocate about. */
  readonly ownItemsPerSec: number;
}

export function drawByzantineProfile(rng: Rng): ByzantineProfile {
  const some = (p: number, lo: number, hi: number): number => (rng.chance(p) ? rng.between(lo, hi) : 0);
  return {
    mute: rng.chance(0.1),
    silencesPerSec: some(0.3, 0.05, 0.5),
    silenceMeanMs: rng.range(200, 3_000),
    dropRate: some(0.4, 0, 0.5),
    equivocateRate: some(0.75, 0.3, 1),
    badSignatureRate: some(0.5, 0, 0.2),
    wrongSenderRate: some(0.4, 0, 0.1),
    duplicateRate: some(0.3, 0, 0.3),
    garbagePerSec: some(0.5, 0.5, 20),
    unknownBlockVotesPerSec: some(0.5, 0.5, 10),
    futureVotesPerSec: some(0.5, 0.5, 20),
    replaysPerSec: some(0.5, 0.5, 20),
    oversizedPerSec: some(0.3, 0.1, 2),
    forgedProofsPerSec: some(0.4, 0.1, 3),
    statusLiesPerSec: some(0.3, 0.1, 2),
    ownItemsPerSec: some(0.6, 0.5, 10),
  };
}

const slotKey = (height: number, round: number): string => `${height}/${round}`;
const COALITION_SLOTS_MAX = 4096;

/**
 * What the Byzantine guardians share, as a real coalition would: for each slot the same split of
 * the honest guardians into two halves, and the two blocks a Byzantine proposer showed them. Its
 * members then vote for block A towards one half and block B towards the other, which is the
 * attack that builds two conflicting quorums as soon as quorums are too small to intersect in an
 * honest guardian.
 */
export class Coalition {
  private readonly halves = new Map<string, ReadonlySet<number>>();
  private readonly blocks = new Map<string, { primary?: Uint8Array; alt?: Uint8Array; seen?: Uint8Array }>();

  constructor(
    private readonly rng: Rng,
    private readonly honest: readonly number[],
  ) {}

  /** The honest guardians that are shown the alternative message for this slot. */
  half(slot: string): ReadonlySet<number> {
    let h = this.halves.get(slot);
    if (h === undefined) {
      const order = this.rng.shuffle([...this.honest]);
      const size = order.length < 2 ? order.length : this.rng.range(1, order.length - 1);
      h = new Set(order.slice(0, size));
      if (this.halves.size >= COALITION_SLOTS_MAX) this.halves.clear();
      this.halves.set(slot, h);
    }
    return h;
  }

  noteEquivocation(slot: string, primary: Uint8Array, alt: Uint8Array): void {
    this.entry(slot).primary = primary;
    this.entry(slot).alt = alt;
  }

  noteSeenProposal(slot: string, id: Uint8Array): void {
    this.entry(slot).seen ??= id;
  }

  blocksFor(slot: string): { primary?: Uint8Array; alt?: Uint8Array; seen?: Uint8Array } | undefined {
    return this.blocks.get(slot);
  }

  private entry(slot: string): { primary?: Uint8Array; alt?: Uint8Array; seen?: Uint8Array } {
    let e = this.blocks.get(slot);
    if (e === undefined) {
      e = {};
      if (this.blocks.size >= COALITION_SLOTS_MAX) this.blocks.clear();
      this.blocks.set(slot, e);
    }
    return e;
  }
}

export interface ByzantineDeps {
  readonly index: number;
  readonly config: ConsensusConfig;
  readonly crypto: EngineCrypto;
  readonly net: SimNetwork;
  readonly rng: Rng;
  readonly profile: ByzantineProfile;
  readonly coalition: Coalition;
  /** Simulated time (for the network) and this guardian's local clock reading (for its engine). */
  readonly clock: { now(): number; local(node: number): number };
  /** Attacks aimed at locks (lock-attacks.ts), when this guardian makes them. */
  readonly lockAttacks?: LockAttacker;
}

export interface ByzantineStats {
  /** Exceptions its own engine threw (it is restarted from its store; never a violation). */
  engineErrors: number;
  sent: number;
  suppressed: number;
  equivocations: number;
  corrupted: number;
  injected: number;
  /** Lock attacks (lock-attacks.ts): restarts with amnesia, swapped prevotes, fake validRounds. */
  amnesias: number;
  lockViolations: number;
  fakeValidRounds: number;
}

const SEEN_MAX = 64;
/** Large junk frames are the same bytes every time: allocate each size once per process. */
const junkFrames = new Map<number, Uint8Array>();

export class ByzantineGuardian {
  private readonly own = {
    engineErrors: 0,
    sent: 0,
    suppressed: 0,
    equivocations: 0,
    corrupted: 0,
    injected: 0,
  };
  private readonly engineConfig: ConsensusConfig;
  private replica: Replica | null = null;
  private readonly store: MemoryConsensusStore;
  private readonly others: number[];
  private readonly n: number;
  private readonly seen: Uint8Array[] = [];
  private silentUntil = -Infinity;
  private lastTick: number;
  private itemCounter = 0;
  private oversizedBundle: Uint8Array | undefined;

  constructor(private readonly deps: ByzantineDeps) {
    this.n = deps.config.publicKeys.length;
    this.others = Array.from({ length: this.n }, (_, i) => i).filter((i) => i !== deps.index);
    this.store = new MemoryConsensusStore(deps.index, deps.config.heightsPerSession);
    this.lastTick = deps.clock.now();
    const attacks = deps.lockAttacks;
    this.engineConfig =
      attacks === undefined
        ? deps.config
        : { ...deps.config, faultInjection: byzantineFaults(attacks.profile, deps.config.faultInjection) };
    this.start();
  }

  get stats(): ByzantineStats {
    const lock = this.deps.lockAttacks?.stats;
    return {
      ...this.own,
      amnesias: lock?.amnesias ?? 0,
      lockViolations: lock?.lockViolations ?? 0,
      fakeValidRounds: lock?.fakeValidRounds ?? 0,
    };
  }

  get index(): number {
    return this.deps.index;
  }

  /** Its own engine (null while it has none). */
  get engine(): Replica["engine"] | undefined {
    return this.replica?.engine;
  }

  receive(from: number, bytes: Uint8Array): void {
    this.remember(bytes);
    this.observe(bytes);
    this.deps.lockAttacks?.observe(bytes);
    this.guard(() => this.replica?.receive(from, bytes, this.local()));
  }

  tick(): void {
    const now = this.deps.clock.now();
    const dt = Math.max(0, now - this.lastTick);
    this.lastTick = now;
    // Amnesia: a restart whose engine ignores the round state in its store (engineConfig).
    if (this.deps.lockAttacks?.amnesiaDue(dt) === true) this.start();
    this.guard(() => this.replica?.tick(this.local()));
    const p = this.deps.profile;
    const rng = this.deps.rng;
    const happens = (perSec: number): boolean => rng.chance((perSec * dt) / 1000);
    if (now >= this.silentUntil && happens(p.silencesPerSec)) {
      this.silentUntil = now + rng.exponential(p.silenceMeanMs);
    }
    if (happens(p.ownItemsPerSec)) this.submitOwnItems();
    if (happens(p.garbagePerSec)) this.injectGarbage();
    if (happens(p.unknownBlockVotesPerSec)) this.injectUnknownBlockVote();
    if (happens(p.futureVotesPerSec)) this.injectFutureVote();
    if (happens(p.replaysPerSec)) this.injectReplay();
    if (happens(p.oversizedPerSec)) this.injectOversized();
    if (happens(p.forgedProofsPerSec)) this.injectForgedProof();
    if (happens(p.statusLiesPerSec)) this.injectStatusLie();
  }

  // ---------------------------------------------------------------- its engine

  private local(): number {
    return this.deps.clock.local(this.deps.index);
  }

  private start(): void {
    try {
      this.replica = new Replica(
        this.engineConfig,
        this.deps.crypto,
        this.deps.index,
        this.store,
        {
          send: (to, bytes) => this.emit([to], bytes),
          broadcast: (bytes) => this.emit(this.others, bytes),
        },
        {},
        this.local(),
      );
    } catch {
      // Its store is in a state its own engine refuses (it equivocated itself into a corner):
      // it carries on without an engine, injecting junk only.
      this.own.engineErrors++;
      this.replica = null;
    }
  }

  /** Its engine may trip over what the coalition did; a Byzantine guardian just restarts it. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.own.engineErrors++;
      this.start();
    }
  }

  private status(): { height: number; round: number; sessionsSigned: number; lastBlockId: Uint8Array } {
    const r = this.replica;
    if (r === null) return { height: 0, round: 0, sessionsSigned: 0, lastBlockId: new Uint8Array(32) };
    return r.engine.status;
  }

  private nextOwnSeq(): number {
    return (this.replica?.engine.chainState.originSeq[this.deps.index] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- the output filter

  private emit(targets: readonly number[], frame: Uint8Array): void {
    const p = this.deps.profile;
    const rng = this.deps.rng;
    if (p.mute || this.deps.clock.now() < this.silentUntil) {
      this.own.suppressed += targets.length;
      return;
    }
    const attacks = this.deps.lockAttacks;
    attacks?.observe(frame);
    const bytes = attacks === undefined ? frame : attacks.rewrite(frame);
    this.remember(bytes);
    if (targets.length > 1 && rng.chance(p.equivocateRate) && this.equivocate(targets, bytes)) return;
    for (const to of targets) {
      if (rng.chance(p.dropRate)) {
        this.own.suppressed++;
        continue;
      }
      let out = bytes;
      if (rng.chance(p.badSignatureRate)) out = this.flipSignatureBit(bytes);
      else if (rng.chance(p.wrongSenderRate)) out = this.claimOtherSender(bytes);
      this.send(to, out);
      if (rng.chance(p.duplicateRate)) this.send(to, out);
    }
  }

  private equivocate(targets: readonly number[], bytes: Uint8Array): boolean {
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes, this.deps.config.limits, this.n);
    } catch {
      return false;
    }
    const body = env.body;
    switch (body.type) {
      case MessageType.Proposal:
        return this.equivocateProposal(targets, bytes, body.proposal);
      case MessageType.Prevote:
      case MessageType.Precommit:
        return this.equivocateVote(targets, bytes, body.type, body.vote);
      case MessageType.Bundle:
        return this.equivocateBundle(targets, bytes, body.bundle.seq);
      default:
        return false;
    }
  }

  /** Two different valid proposals for one slot, one to each half. */
  private equivocateProposal(
    targets: readonly number[],
    bytes: Uint8Array,
    p: { height: number; round: number; block: Uint8Array },
  ): boolean {
    let block: Block;
    try {
      block = decodeBlock(p.block, this.deps.config.limits, this.n);
    } catch {
      return false;
    }
    const alt = encodeBlock(this.alternativeBlock(block));
    const altBytes = this.sign({
      type: MessageType.Proposal,
      proposal: { height: p.height, round: p.round, validRound: -1, block: alt },
    });
    const slot = slotKey(p.height, p.round);
    const hash = this.deps.crypto.hash;
    this.deps.coalition.noteEquivocation(slot, blockId(p.block, hash), blockId(alt, hash));
    this.sendSplit(targets, slot, bytes, altBytes);
    return true;
  }

  /** Empty instead of full, one origin's bundles left out, a fresh bundle of its own instead of none, or invalid. */
  private alternativeBlock(block: Block): Block {
    const rng = this.deps.rng;
    // Now and then an invalid one (it names another parent): honest guardians must prevote nil.
    if (rng.chance(0.15)) return { ...block, prevBlockId: rng.bytes(32) };
    if (block.bundles.length > 0 && rng.chance(0.5)) return { ...block, bundles: [] };
    if (block.bundles.length > 0) {
      const origins = block.bundles.map((b) => ((b[2]! << 8) | b[3]!) >>> 0);
      const leaveOut = rng.pick(origins);
      return { ...block, bundles: block.bundles.filter((_, i) => origins[i] !== leaveOut) };
    }
    const seq = this.nextOwnSeq();
    return {
      ...block,
      bundles: [this.sign({ type: MessageType.Bundle, bundle: { seq, items: this.junkItems() } })],
    };
  }

  /** Two different signed votes for one slot. With a coalition proposal on record: A to one half, B to the other. */
  private equivocateVote(
    targets: readonly number[],
    bytes: Uint8Array,
    type: MessageType.Prevote | MessageType.Precommit,
    vote: { height: number; round: number; blockId: Uint8Array },
  ): boolean {
    const slot = slotKey(vote.height, vote.round);
    const known = this.deps.coalition.blocksFor(slot);
    const voteFor = (id: Uint8Array): Uint8Array =>
      this.sign({ type, vote: { height: vote.height, round: vote.round, blockId: id } });
    let a = bytes;
    let b: Uint8Array;
    if (known?.primary !== undefined && known.alt !== undefined) {
      a = voteFor(known.primary);
      b = voteFor(known.alt);
    } else if (bytesEqual(vote.blockId, NIL_ID)) {
      b = voteFor(known?.seen ?? this.deps.rng.bytes(32));
    } else {
      b = voteFor(NIL_ID);
    }
    this.sendSplit(targets, slot, a, b);
    return true;
  }

  /** Two different bundles with the same sequence number. */
  private equivocateBundle(targets: readonly number[], bytes: Uint8Array, seq: number): boolean {
    const alt = this.sign({ type: MessageType.Bundle, bundle: { seq, items: this.junkItems() } });
    this.sendSplit(targets, `bundle/${this.deps.index}/${seq}`, bytes, alt);
    return true;
  }

  private sendSplit(targets: readonly number[], slot: string, a: Uint8Array, b: Uint8Array): void {
    this.own.equivocations++;
    const half = this.deps.coalition.half(slot);
    for (const to of targets) {
      this.send(to, half.has(to) ? b : a);
      // Now and then both, to the same guardian: it must keep the first and report evidence.
      if (this.deps.rng.chance(0.05)) this.send(to, half.has(to) ? a : b);
    }
  }

  private flipSignatureBit(bytes: Uint8Array): Uint8Array {
    const out = bytes.slice();
    if (out.length === 0) return out;
    const at = out.length - 1 - this.deps.rng.int(Math.min(64, out.length));
    out[at] = out[at]! ^ (1 << this.deps.rng.int(8));
    this.own.corrupted++;
    return out;
  }

  /** The frame names another guardian as its sender (the link still says who really sent it). */
  private claimOtherSender(bytes: Uint8Array): Uint8Array {
    const out = bytes.slice();
    if (out.length < 4) return out;
    const claimed = this.deps.rng.pick(this.others);
    out[2] = claimed >> 8;
    out[3] = claimed & 0xff;
    this.own.corrupted++;
    return out;
  }

  /** Items an application's Byzantine strategy wants in this guardian's own bundles. */
  submitItems(items: readonly Uint8Array[]): void {
    this.guard(() => this.replica?.submit(items, this.local()));
  }

  // ---------------------------------------------------------------- injections

  private submitOwnItems(): void {
    const items = this.junkItems();
    this.guard(() => this.replica?.submit(items, this.local()));
  }

  private injectGarbage(): void {
    const rng = this.deps.rng;
    let frame: Uint8Array;
    switch (rng.int(4)) {
      case 0:
        frame = rng.bytes(rng.range(0, 200));
        break;
      case 1: {
        // A plausible header (version, a known type, our own index) over a random body.
        const body = rng.bytes(rng.range(0, 160));
        frame = new Uint8Array(4 + body.length);
        frame.set([1, rng.range(1, 8), this.deps.index >> 8, this.deps.index & 0xff]);
        frame.set(body, 4);
        break;
      }
      case 2: {
        const own = this.recent();
        frame = own.subarray(0, rng.int(Math.max(1, own.length)));
        break;
      }
      default: {
        const own = this.recent();
        frame = new Uint8Array(own.length + 1);
        frame.set(own);
        frame[own.length] = rng.int(256);
        break;
      }
    }
    this.inject(frame);
  }

  private injectUnknownBlockVote(): void {
    const s = this.status();
    const type = this.deps.rng.chance(0.5) ? MessageType.Prevote : MessageType.Precommit;
    const round = s.round + this.deps.rng.range(0, 2);
    this.inject(this.sign({ type, vote: { height: s.height, round, blockId: this.deps.rng.bytes(32) } }));
  }

  private injectFutureVote(): void {
    const rng = this.deps.rng;
    const s = this.status();
    const limits = this.deps.config.limits;
    const type = rng.chance(0.5) ? MessageType.Prevote : MessageType.Precommit;
    const ahead = rng.chance(0.5);
    const height = ahead ? s.height + rng.range(1, limits.futureHeightsMax + 3) : s.height;
    const round = ahead ? rng.range(0, 5) : s.round + rng.range(1, limits.roundsAheadMax + 10);
    const id = rng.chance(0.5) ? NIL_ID : rng.bytes(32);
    if (ahead && type === MessageType.Precommit && id !== NIL_ID) {
      // A proposal for that future slot instead, of a junk block up to messageBytesMax: it must be
      // dropped unless this guardian is the slot's proposer, and then stay within its byte budget.
      // Built from the values drawn above with no draw of its own, so every seed keeps its random
      // stream (not its outcome: the forking seeds in simulator.test.ts moved when this was added).
      const size = Math.floor((id[0]! / 256) * limits.messageBytesMax * 0.9);
      this.inject(
        this.sign({
          type: MessageType.Proposal,
          proposal: { height, round, validRound: -1, block: new Uint8Array(size).fill(id[1]!) },
        }),
      );
      return;
    }
    this.inject(this.sign({ type, vote: { height, round, blockId: id } }));
  }

  /** An old message again: its own (stale or duplicate) or another guardian's (wrong link). */
  private injectReplay(): void {
    if (this.seen.length === 0) return;
    this.inject(this.deps.rng.pick(this.seen));
  }

  private injectOversized(): void {
    const limits = this.deps.config.limits;
    if (this.deps.rng.chance(0.5)) {
      const size = limits.messageBytesMax + 1;
      let frame = junkFrames.get(size);
      if (frame === undefined) {
        frame = new Uint8Array(size).fill(0xa5);
        junkFrames.set(size, frame);
      }
      this.inject(frame);
      return;
    }
    // A correctly signed bundle above bundleBytesMax.
    if (this.oversizedBundle === undefined) {
      const count = Math.min(
        limits.itemsPerBundleMax,
        Math.ceil(limits.bundleBytesMax / limits.itemBytesMax) + 1,
      );
      const items = Array.from({ length: count }, () => new Uint8Array(limits.itemBytesMax).fill(0x5a));
      this.oversizedBundle = this.sign({
        type: MessageType.Bundle,
        bundle: { seq: this.nextOwnSeq(), items },
      });
    }
    this.inject(this.oversizedBundle);
  }

  /**
   * Messages that claim what they cannot prove: a decision with its own precommit repeated, a
   * session signed by itself only, session signatures over made-up hashes, a proposal out of turn,
   * a bundle far out of sequence.
   */
  private injectForgedProof(): void {
    const rng = this.deps.rng;
    const s = this.status();
    const config = this.deps.config;
    const k = config.heightsPerSession;
    switch (rng.int(5)) {
      case 3: {
        // A proposal out of turn (for a round it does not lead), for a perfectly valid block.
        let round = s.round;
        while ((s.height + round) % this.n === this.deps.index) round++;
        const block = encodeBlock({ height: s.height, prevBlockId: s.lastBlockId, bundles: [] });
        this.inject(
          this.sign({
            type: MessageType.Proposal,
            proposal: { height: s.height, round, validRound: -1, block },
          }),
        );
        return;
      }
      case 4: {
        // A bundle far beyond its next sequence number (outside every pending window).
        const seq = this.nextOwnSeq() + config.limits.bundlesPendingPerOriginMax + rng.range(1, 100);
        this.inject(this.sign({ type: MessageType.Bundle, bundle: { seq, items: this.junkItems() } }));
        return;
      }
      case 0: {
        const block = encodeBlock({ height: s.height, prevBlockId: s.lastBlockId, bundles: [] });
        const id = blockId(block, this.deps.crypto.hash);
        const precommit = this.sign({
          type: MessageType.Precommit,
          vote: { height: s.height, round: s.round, blockId: id },
        });
        const precommits = new Array<Uint8Array>(this.n - Math.floor((this.n - 1) / 3)).fill(precommit);
        this.inject(
          this.sign({
            type: MessageType.Decision,
            decision: { height: s.height, round: s.round, block, precommits },
          }),
        );
        return;
      }
      case 1: {
        const session = s.sessionsSigned;
        const blocks: Uint8Array[] = [];
        let prev = rng.bytes(32);
        for (let h = session * k; h < (session + 1) * k; h++) {
          const b = encodeBlock({ height: h, prevBlockId: prev, bundles: [] });
          prev = blockId(b, this.deps.crypto.hash);
          blocks.push(b);
        }
        const ids = blocks.map((b) => blockId(b, this.deps.crypto.hash));
        const hash = sessionHash(config.federationId, session, ids, this.deps.crypto.hash);
        const own = this.deps.crypto.signer.sign(sessionSigningBytes(config.federationId, session, hash));
        const signatures = [{ signer: this.deps.index, signature: own }];
        for (const other of this.others) signatures.push({ signer: other, signature: rng.bytes(64) });
        this.inject(
          this.sign({ type: MessageType.SignedSession, signedSession: { session, blocks, signatures } }),
        );
        return;
      }
      default: {
        const session = Math.floor(s.height / k) + rng.range(-1, 1);
        if (session < 0) return;
        const hash = rng.bytes(32);
        const signature = this.deps.crypto.signer.sign(
          sessionSigningBytes(config.federationId, session, hash),
        );
        this.inject(
          this.sign({ type: MessageType.SessionSig, sessionSig: { session, sessionHash: hash, signature } }),
        );
        return;
      }
    }
  }

  /** A status far ahead (peers answer with their own) or far behind (peers serve catch-up). */
  private injectStatusLie(): void {
    const rng = this.deps.rng;
    const s = this.status();
    const height = rng.chance(0.5) ? s.height + rng.range(1, 1_000) : rng.range(0, s.height);
    const sessionsSigned = rng.range(0, s.sessionsSigned + 10);
    this.inject(
      this.sign({ type: MessageType.Status, status: { height, round: rng.range(0, 50), sessionsSigned } }),
    );
  }

  private inject(frame: Uint8Array): void {
    if (this.deps.profile.mute || this.deps.clock.now() < this.silentUntil) return;
    this.own.injected++;
    if (this.deps.rng.chance(0.5)) {
      for (const to of this.others) this.send(to, frame);
    } else {
      this.send(this.deps.rng.pick(this.others), frame);
    }
  }

  // ---------------------------------------------------------------- plumbing

  private send(to: number, bytes: Uint8Array): void {
    this.own.sent++;
    this.deps.net.send(this.deps.index, to, bytes, this.deps.clock.now());
  }

  private sign(body: Body): Uint8Array {
    return encodeEnvelope(
      this.deps.index,
      body,
      this.deps.crypto.signer,
      this.deps.config.federationId,
      this.deps.crypto.hash,
    );
  }

  private junkItems(): Uint8Array[] {
    const rng = this.deps.rng;
    return Array.from({ length: rng.range(1, 3) }, () => {
      const tag = new TextEncoder().encode(`byz${this.deps.index}.${this.itemCounter++}.`);
      const out = new Uint8Array(tag.length + rng.range(0, 24));
      out.set(tag);
      out.set(rng.bytes(out.length - tag.length), tag.length);
      return out;
    });
  }

  /** Keeps a sample of frames it has seen or sent, for replays. */
  private remember(bytes: Uint8Array): void {
    if (bytes.length > 64 * 1024) return;
    if (this.seen.length < SEEN_MAX) this.seen.push(bytes);
    else this.seen[this.deps.rng.int(SEEN_MAX)] = bytes;
  }

  private recent(): Uint8Array {
    return this.seen.length === 0 ? new Uint8Array(0) : this.deps.rng.pick(this.seen);
  }

  /** Honest proposals it receives, so that its equivocating votes can name a real block. */
  private observe(bytes: Uint8Array): void {
    if (bytes[1] !== MessageType.Proposal) return;
    try {
      const env = decodeEnvelope(bytes, this.deps.config.limits, this.n);
      if (env.body.type !== MessageType.Proposal) return;
      const p = env.body.proposal;
      this.deps.coalition.noteSeenProposal(
        slotKey(p.height, p.round),
        blockId(p.block, this.deps.crypto.hash),
      );
    } catch {
      // Garbage from another coalition member: nothing to learn.
    }
  }
}
