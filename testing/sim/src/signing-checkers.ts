// Checkers over what guardians sign, read off the wire: every frame an honest guardian's engine
// hands to its network (before a crash may cut the send short) and every frame a Byzantine one
// sends. Four rules, each a sentence that names the seed:
// - one slot, one message: an honest guardian never signs two different proposals or votes for
//   one (height, round, type), two bundles with one sequence number, or two session hashes for
//   one session, across crashes, power cuts and restarts (its store must carry what it signed);
// - no equivocation evidence from an honest engine ever names an honest guardian;
// - an honest non-nil precommit is backed by a proof of lock: q prevotes for that block in that
//   round, validly signed by distinct guardians, seen on the wire ([L36]);
// - an honest guardian locked on block X since round lr prevotes another block Y in a later round
//   only for a proposal of Y whose validRound vr satisfies lr <= vr < round, with q prevotes for Y
//   in round vr ([L22], [L28]).
// The checkers see every honest message, so they know each honest guardian's lock without asking
// its engine (a forgetful engine cannot hide what it signed).
import { bytesEqual, toHex } from "@conclave/core-common";
import type { Hash, Verifier } from "@conclave/core-common";
import { MessageType, NIL_ID, blockId, decodeEnvelope, messageDigest } from "./consensus.js";
import type { ConsensusConfig, Envelope, Evidence } from "./consensus.js";

export interface SigningCheckerContext {
  readonly config: ConsensusConfig;
  readonly honest: readonly number[];
  /** t = n - f, the true quorum. */
  readonly threshold: number;
  readonly verifier: Verifier;
  readonly hash: Hash;
  readonly violation: (what: string) => void;
}

const NIL_HEX = toHex(NIL_ID);
const TYPE_NAME: Partial<Record<MessageType, string>> = {
  [MessageType.Proposal]: "proposals",
  [MessageType.Prevote]: "prevotes",
  [MessageType.Precommit]: "precommits",
};

interface Lock {
  readonly height: number;
  readonly round: number;
  readonly idHex: string;
}

export interface SigningStats {
  /** Honest frames checked against their slot, and slots recorded. */
  framesChecked: number;
  slots: number;
  /** Honest non-nil precommits whose proof of lock was checked; prevotes checked against a lock. */
  precommitsJustified: number;
  lockedPrevotesChecked: number;
}

export class SigningCheckers {
  readonly stats: SigningStats = {
    framesChecked: 0,
    slots: 0,
    precommitsJustified: 0,
    lockedPrevotesChecked: 0,
  };
  private readonly n: number;
  private readonly honestSet: ReadonlySet<number>;
  /** "guardian/kind/..." -> the first frame an honest guardian signed for that slot. */
  private readonly slots = new Map<string, Uint8Array>();
  /** Guardians already reported for double signing (one report each; a bug cascades). */
  private readonly doubleSigners = new Set<number>();
  /** "height/round/idHex" -> sender -> its prevote (verified lazily, when a count needs it). */
  private readonly prevotes = new Map<string, Map<number, { env: Envelope; valid?: boolean }>>();
  /** "height/round" -> the proposals seen for that slot (a Byzantine proposer may send several). */
  private readonly proposals = new Map<string, { idHex: string; validRound: number }[]>();
  private readonly locks: (Lock | undefined)[];
  private readonly lockReported = new Set<number>();
  private lastByzantineFrame: Uint8Array | undefined;

  constructor(private readonly ctx: SigningCheckerContext) {
    this.n = ctx.config.publicKeys.length;
    this.honestSet = new Set(ctx.honest);
    this.locks = new Array<Lock | undefined>(this.n).fill(undefined);
  }

  /** A frame an honest guardian's engine sent (once per broadcast), including relayed prevotes. */
  honestSent(g: number, bytes: Uint8Array): void {
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes, this.ctx.config.limits, this.n);
    } catch (e) {
      this.ctx.violation(`honest guardian ${g} sent a frame it cannot decode itself: ${String(e)}`);
      return;
    }
    this.record(env);
    if (env.sender !== g) return; // a relayed prevote (proof of lock): its signer's slot, not ours
    this.checkSlot(g, env, bytes);
    const b = env.body;
    if (b.type === MessageType.Precommit)
      this.checkPrecommit(g, b.vote.height, b.vote.round, toHex(b.vote.blockId));
    else if (b.type === MessageType.Prevote)
      this.checkPrevote(g, b.vote.height, b.vote.round, toHex(b.vote.blockId));
  }

  /** A frame a Byzantine guardian sent (called per link send: copies of one broadcast are skipped). */
  byzantineSent(bytes: Uint8Array): void {
    if (bytes === this.lastByzantineFrame) return;
    this.lastByzantineFrame = bytes;
    if (bytes[1] !== MessageType.Prevote && bytes[1] !== MessageType.Proposal) return;
    try {
      this.record(decodeEnvelope(bytes, this.ctx.config.limits, this.n));
    } catch {
      // Garbage: honest engines drop it too.
    }
  }

  /** Evidence an honest engine reported. */
  evidence(reporter: number, e: Evidence): void {
    if (!this.honestSet.has(e.sender)) return;
    this.ctx.violation(
      `honest guardian ${reporter} reported equivocation evidence (${e.what}, height ${e.height}, ` +
        `round ${e.round}) against honest guardian ${e.sender}`,
    );
  }

  // ---------------------------------------------------------------- the rules

  private checkSlot(g: number, env: Envelope, bytes: Uint8Array): void {
    const b = env.body;
    let slot: string;
    let what: string;
    switch (b.type) {
      case MessageType.Proposal:
        slot = `${g}/p/${b.proposal.height}/${b.proposal.round}`;
        what = `proposals for height ${b.proposal.height} round ${b.proposal.round}`;
        break;
      case MessageType.Prevote:
      case MessageType.Precommit:
        slot = `${g}/${b.type}/${b.vote.height}/${b.vote.round}`;
        what = `${TYPE_NAME[b.type]} for height ${b.vote.height} round ${b.vote.round}`;
        break;
      case MessageType.Bundle:
        slot = `${g}/b/${b.bundle.seq}`;
        what = `bundles with sequence number ${b.bundle.seq}`;
        break;
      case MessageType.SessionSig:
        slot = `${g}/s/${b.sessionSig.session}`;
        what = `session hashes for session ${b.sessionSig.session}`;
        break;
      default:
        return; // status, decisions and signed sessions carry no slot of their own
    }
    this.stats.framesChecked++;
    const first = this.slots.get(slot);
    if (first === undefined) {
      this.slots.set(slot, bytes);
      this.stats.slots++;
      return;
    }
    if (first === bytes || bytesEqual(first, bytes) || this.doubleSigners.has(g)) return;
    this.doubleSigners.add(g);
    this.ctx.violation(`honest guardian ${g} signed two different ${what}`);
  }

  private checkPrecommit(g: number, height: number, round: number, idHex: string): void {
    if (idHex === NIL_HEX) return;
    this.stats.precommitsJustified++;
    if (this.polCount(height, round, idHex) < this.ctx.threshold) {
      this.reportLock(
        g,
        `honest guardian ${g} precommitted block ${idHex.slice(0, 12)} at height ${height} round ${round} ` +
          `without q = ${this.ctx.threshold} prevotes for it in that round`,
      );
    }
    const lock = this.locks[g];
    if (lock === undefined || lock.height !== height || round >= lock.round) {
      this.locks[g] = { height, round, idHex };
    }
  }

  private checkPrevote(g: number, height: number, round: number, idHex: string): void {
    const lock = this.locks[g];
    if (idHex === NIL_HEX || lock === undefined || lock.height !== height) return;
    if (round <= lock.round || lock.idHex === idHex) return;
    this.stats.lockedPrevotesChecked++;
    const proposals = this.proposals.get(`${height}/${round}`) ?? [];
    const justified = proposals.some(
      (p) =>
        p.idHex === idHex &&
        p.validRound >= lock.round &&
        p.validRound < round &&
        this.polCount(height, p.validRound, idHex) >= this.ctx.threshold,
    );
    if (!justified) {
      this.reportLock(
        g,
        `honest guardian ${g}, locked on block ${lock.idHex.slice(0, 12)} since round ${lock.round} of ` +
          `height ${height}, prevoted block ${idHex.slice(0, 12)} in round ${round} with no proof of lock ` +
          `for it from a round in ${lock.round}..${round - 1}`,
      );
    }
  }

  private reportLock(g: number, what: string): void {
    if (this.lockReported.has(g)) return;
    this.lockReported.add(g);
    this.ctx.violation(what);
  }

  // ---------------------------------------------------------------- what was seen

  private record(env: Envelope): void {
    const b = env.body;
    if (b.type === MessageType.Prevote) {
      const key = `${b.vote.height}/${b.vote.round}/${toHex(b.vote.blockId)}`;
      let voters = this.prevotes.get(key);
      if (voters === undefined) {
        voters = new Map();
        this.prevotes.set(key, voters);
      }
      // A frame with a broken signature must not hide the sender's valid one that comes later.
      const known = voters.get(env.sender);
      if (known === undefined || !this.isValid(known)) voters.set(env.sender, { env });
    } else if (b.type === MessageType.Proposal) {
      if (env.sender !== (b.proposal.height + b.proposal.round) % this.n) return;
      const key = `${b.proposal.height}/${b.proposal.round}`;
      const idHex = toHex(blockId(b.proposal.block, this.ctx.hash));
      let list = this.proposals.get(key);
      if (list === undefined) {
        list = [];
        this.proposals.set(key, list);
      }
      if (!list.some((p) => p.idHex === idHex && p.validRound === b.proposal.validRound)) {
        list.push({ idHex, validRound: b.proposal.validRound });
      }
    }
  }

  /** Distinct guardians with a validly signed prevote for this block in this round. */
  private polCount(height: number, round: number, idHex: string): number {
    const voters = this.prevotes.get(`${height}/${round}/${idHex}`);
    if (voters === undefined) return 0;
    let count = 0;
    for (const v of voters.values()) if (this.isValid(v)) count++;
    return count;
  }

  private isValid(v: { env: Envelope; valid?: boolean }): boolean {
    v.valid ??= this.ctx.verifier.verify(
      this.ctx.config.publicKeys[v.env.sender]!,
      messageDigest(this.ctx.config.federationId, v.env.signedPart, this.ctx.hash),
      v.env.signature,
    );
    return v.valid;
  }
}
