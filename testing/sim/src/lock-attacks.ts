// Byzantine attacks aimed at Tendermint's locks, beside those of byzantine.ts:
// - amnesia: the guardian restarts now and then with its round state forgotten (its lock, its
//   votes, its proposals) and votes anew for slots it already voted in;
// - lock-violating votes: its engine prevotes whatever valid block is proposed, lock or not, and
//   some of its prevotes are swapped for a prevote for a block proposed in an earlier round;
// - fake validRound: some of its proposals claim a proof of lock from a round that has none, for
//   its own block or for a block another guardian proposed earlier at the height.
// Honest guardians must stay safe and live: a lock is released only by a real proof of lock (q
// prevotes, which need honest guardians), and a proposal's validRound is believed only with one.
// Drawn from a stream of its own per guardian, so the other attacks keep their random streams.
import { bytesEqual } from "@conclave/core-common";
import { MessageType, blockId, decodeEnvelope, encodeEnvelope } from "./consensus.js";
import type { Body, ConsensusConfig, EngineCrypto, FaultInjection } from "./consensus.js";
import type { Rng } from "./rng.js";

export interface LockAttackProfile {
  /** Restarts with its round state forgotten, per second of simulated time. */
  readonly amnesiaPerSec: number;
  /** Its engine ignores its own lock when it prevotes. */
  readonly ignoreLock: boolean;
  /** Per own prevote: sent instead for a block proposed in an earlier round of the height. */
  readonly lockViolationRate: number;
  /** Per own proposal in a round above 0: a validRound with no proof of lock behind it. */
  readonly fakeValidRoundRate: number;
}

export function drawLockAttackProfile(rng: Rng): LockAttackProfile {
  const some = (p: number, lo: number, hi: number): number => (rng.chance(p) ? rng.between(lo, hi) : 0);
  return {
    amnesiaPerSec: some(0.4, 0.2, 2),
    ignoreLock: rng.chance(0.5),
    lockViolationRate: some(0.5, 0.2, 1),
    fakeValidRoundRate: some(0.5, 0.3, 1),
  };
}

/** The deliberate engine bugs a Byzantine guardian with this profile runs with. */
export function byzantineFaults(
  profile: LockAttackProfile,
  base: FaultInjection | undefined,
): FaultInjection {
  return {
    ...base,
    ...(profile.ignoreLock ? { ignoreLock: true } : {}),
    ...(profile.amnesiaPerSec > 0 ? { forgetRoundOnRestart: true } : {}),
  };
}

interface SeenProposal {
  readonly round: number;
  readonly block: Uint8Array;
  readonly id: Uint8Array;
}

/** Heights of proposals kept below the highest seen (older ones cannot be re-proposed anyway). */
const HEIGHTS_KEPT = 2;

export interface LockAttackStats {
  amnesias: number;
  lockViolations: number;
  fakeValidRounds: number;
}

export class LockAttacker {
  readonly stats: LockAttackStats = { amnesias: 0, lockViolations: 0, fakeValidRounds: 0 };
  private readonly n: number;
  private readonly seen = new Map<number, SeenProposal[]>();
  private topHeight = 0;

  constructor(
    private readonly index: number,
    private readonly config: ConsensusConfig,
    private readonly crypto: EngineCrypto,
    private readonly rng: Rng,
    readonly profile: LockAttackProfile,
  ) {
    this.n = config.publicKeys.length;
  }

  /** Whether to forget its round state now, after `dtMs` of simulated time. */
  amnesiaDue(dtMs: number): boolean {
    if (!this.rng.chance((this.profile.amnesiaPerSec * dtMs) / 1000)) return false;
    this.stats.amnesias++;
    return true;
  }

  /** Every frame it receives or sends: proposals are remembered for later re-proposals and votes. */
  observe(bytes: Uint8Array): void {
    if (bytes[1] !== MessageType.Proposal) return;
    try {
      const env = decodeEnvelope(bytes, this.config.limits, this.n);
      if (env.body.type !== MessageType.Proposal) return;
      const p = env.body.proposal;
      if (env.sender !== (p.height + p.round) % this.n || p.height + HEIGHTS_KEPT < this.topHeight) return;
      if (p.height > this.topHeight) {
        this.topHeight = p.height;
        for (const h of this.seen.keys()) if (h + HEIGHTS_KEPT < this.topHeight) this.seen.delete(h);
      }
      const list = this.seen.get(p.height) ?? [];
      if (list.some((s) => s.round === p.round)) return;
      list.push({ round: p.round, block: p.block, id: blockId(p.block, this.crypto.hash) });
      this.seen.set(p.height, list);
    } catch {
      // Junk from another coalition member.
    }
  }

  /** One of its engine's frames, possibly swapped for a lock attack (the same frame when not). */
  rewrite(bytes: Uint8Array): Uint8Array {
    const type = bytes[1];
    const p = this.profile;
    if (type === MessageType.Prevote && p.lockViolationRate > 0) {
      if (!this.rng.chance(p.lockViolationRate)) return bytes;
      const env = decodeEnvelope(bytes, this.config.limits, this.n);
      if (env.body.type !== MessageType.Prevote) return bytes;
      const v = env.body.vote;
      const earlier = (this.seen.get(v.height) ?? []).filter(
        (s) => s.round < v.round && !bytesEqual(s.id, v.blockId),
      );
      if (earlier.length === 0) return bytes;
      this.stats.lockViolations++;
      const id = this.rng.pick(earlier).id;
      return this.sign({
        type: MessageType.Prevote,
        vote: { height: v.height, round: v.round, blockId: id },
      });
    }
    if (type === MessageType.Proposal && p.fakeValidRoundRate > 0) {
      if (!this.rng.chance(p.fakeValidRoundRate)) return bytes;
      const env = decodeEnvelope(bytes, this.config.limits, this.n);
      if (env.body.type !== MessageType.Proposal || env.body.proposal.round === 0) return bytes;
      const { height, round, validRound } = env.body.proposal;
      let block = env.body.proposal.block;
      let claimed = this.rng.int(round);
      const earlier = (this.seen.get(height) ?? []).filter((s) => s.round < round);
      if (earlier.length > 0 && this.rng.chance(0.5)) {
        // Another guardian's block of an earlier round, claimed locked in that round.
        const old = this.rng.pick(earlier);
        block = old.block;
        claimed = old.round;
      }
      if (claimed === validRound && block === env.body.proposal.block) return bytes;
      this.stats.fakeValidRounds++;
      return this.sign({
        type: MessageType.Proposal,
        proposal: { height, round, validRound: claimed, block },
      });
    }
    return bytes;
  }

  private sign(body: Body): Uint8Array {
    return encodeEnvelope(this.index, body, this.crypto.signer, this.config.federationId, this.crypto.hash);
  }
}
