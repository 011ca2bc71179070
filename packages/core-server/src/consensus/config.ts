// Consensus parameters and limits. Every quantity a peer can drive has a limit here, named with
// its unit last (TIGER_STYLE), so a reader can audit the worst case a Byzantine guardian can cause.

export interface ConsensusLimits {
  /** Largest frame accepted from a peer; anything larger is dropped before decoding. */
  readonly messageBytesMax: number;
  /** Largest single consensus item (a transaction, a vote of a module...). */
  readonly itemBytesMax: number;
  /** Items one guardian may put in one bundle. */
  readonly itemsPerBundleMax: number;
  /** Encoded size of one bundle, items included. */
  readonly bundleBytesMax: number;
  /** Own bundles signed and broadcast but not yet committed. */
  readonly bundlesInFlightMax: number;
  /** Bundles buffered per origin ahead of its last committed one. */
  readonly bundlesPendingPerOriginMax: number;
  /** Bundles of one origin a block may carry; with bundleBytesMax this bounds a block. */
  readonly bundlesPerOriginPerBlockMax: number;
  /** Own items waiting for a bundle; beyond this, submit refuses (back-pressure). */
  readonly itemsQueuedMax: number;
  /** Messages buffered per peer for heights above ours. */
  readonly futureMessagesPerPeerMax: number;
  /**
   * Bytes buffered per peer for heights above ours. At least one proposal of the largest valid
   * block must fit (validateConsensusConfig checks it), so an honest proposer one height ahead of
   * us is always heard; a Byzantine one gets no more memory than this out of us.
   */
  readonly futureBytesPerPeerMax: number;
  /** How many heights above ours we buffer at all. */
  readonly futureHeightsMax: number;
  /** Rounds above ours for which votes are stored; higher rounds only count for round skipping. */
  readonly roundsAheadMax: number;
  /** Decisions sent to a lagging peer per catch-up reply. */
  readonly decisionsPerCatchUpMax: number;
  /** Signed sessions sent to a lagging peer per catch-up reply. */
  readonly sessionsPerCatchUpMax: number;
  /**
   * Bytes of one catch-up reply. Checked before each message is read from the store; the first
   * message of a reply is always sent (it is at most messageBytesMax), so catch-up never stalls.
   */
  readonly bytesPerCatchUpMax: number;
  /**
   * Catch-up bytes sent to one peer per second, over many replies (a token bucket holding at most
   * bytesPerCatchUpMax): what a peer that keeps claiming to be behind can cost in bandwidth, and in
   * signing when it asks for history not in the cache. A reply goes only while the peer's bucket is
   * not empty; it may overdraw it by its first message, which later replies then wait for.
   */
  readonly catchUpBytesPerSecondPerPeerMax: number;
  /**
   * Signed catch-up messages (decisions, signed sessions) kept ready to send, so that a peer asking
   * again and again for the same history costs no store reads, encoding or signing.
   */
  readonly catchUpCacheBytesMax: number;
  /** Signature verifications remembered (by digest) to skip re-verifying relayed bundles. */
  readonly verifiedCacheEntriesMax: number;
}

export interface ConsensusTimeouts {
  readonly proposeMs: number;
  readonly prevoteMs: number;
  readonly precommitMs: number;
  /** Added per round: partial synchrony needs timeouts that eventually exceed the delay bound. */
  readonly roundIncrementMs: number;
  /** How often a guardian stuck on one height resends its own messages (lossy links). */
  readonly rebroadcastMs: number;
  /** How often a guardian tells its peers its height (heartbeat and catch-up trigger). */
  readonly statusMs: number;
  /** Minimum interval between two catch-up replies to the same peer. */
  readonly catchUpMs: number;
}

export interface ConsensusConfig {
  /** 32 bytes; every signature is bound to it so messages cannot be replayed across federations. */
  readonly federationId: Uint8Array;
  /** Ed25519 public keys of the guardians; a guardian's index is its position here. */
  readonly publicKeys: readonly Uint8Array[];
  /** Heights grouped into one signed session. */
  readonly heightsPerSession: number;
  readonly timeouts: ConsensusTimeouts;
  readonly limits: ConsensusLimits;
  /**
   * Deliberate bugs, for proving that the simulator's checkers catch real violations. Only the
   * test harness sets it (testing/sim, engine tests); the daemon builds its config field by field
   * (consensusConfigOf) and never copies it, so no guardian config file can reach it.
   */
  readonly faultInjection?: FaultInjection;
}

/** The deliberate bugs of `ConsensusConfig.faultInjection` (docs/simulator.md lists what catches each). */
export interface FaultInjection {
  /** Quorum of t + quorumDelta instead of t. */
  readonly quorumDelta?: number;
  /** Prevote for any valid proposal, whatever block this guardian is locked on ([L22], [L28] without the lock). */
  readonly ignoreLock?: boolean;
  /** Votes and proposals do not ask for a synchronous write before they are sent (no fsync). */
  readonly skipVoteSync?: boolean;
  /** A restarted engine ignores its persisted round state (round, step, lock, sent messages). */
  readonly forgetRoundOnRestart?: boolean;
}

export const DEFAULT_LIMITS: ConsensusLimits = {
  messageBytesMax: 16 * 1024 * 1024,
  // Blocks stay at most n * 2 * 64 KiB (2 MiB at N = 16), so that a block is hashed, verified and
  // persisted well within a round's timeouts even on small machines.
  itemBytesMax: 56 * 1024,
  itemsPerBundleMax: 1024,
  bundleBytesMax: 64 * 1024,
  bundlesInFlightMax: 2,
  bundlesPendingPerOriginMax: 8,
  bundlesPerOriginPerBlockMax: 2,
  itemsQueuedMax: 100_000,
  futureMessagesPerPeerMax: 512,
  // Above blockBytesMax at N = 64 (8.4 MB), so one largest honest proposal always fits.
  futureBytesPerPeerMax: 16 * 1024 * 1024,
  futureHeightsMax: 4,
  roundsAheadMax: 16,
  decisionsPerCatchUpMax: 64,
  sessionsPerCatchUpMax: 4,
  bytesPerCatchUpMax: 8 * 1024 * 1024,
  catchUpBytesPerSecondPerPeerMax: 16 * 1024 * 1024,
  catchUpCacheBytesMax: 32 * 1024 * 1024,
  verifiedCacheEntriesMax: 8192,
};

export const DEFAULT_TIMEOUTS: ConsensusTimeouts = {
  proposeMs: 300,
  prevoteMs: 150,
  precommitMs: 150,
  roundIncrementMs: 100,
  rebroadcastMs: 500,
  statusMs: 250,
  catchUpMs: 50,
};

export { faultTolerance, quorumThreshold } from "@conclave/core-common";

/**
 * The largest block decodeBlock accepts: n * bundlesPerOriginPerBlockMax bundle envelopes of at most
 * bundleBytesMax, each with a u32 length, after height u64 | prevBlockId | count u32. A proposal
 * carrying a larger block can never be valid, whoever signed it.
 */
export function blockBytesMax(n: number, limits: ConsensusLimits): number {
  return 8 + 32 + 4 + n * limits.bundlesPerOriginPerBlockMax * (4 + limits.bundleBytesMax);
}

/** Envelope bytes around a proposal's block: header, height, rounds, length prefix, signature. */
export const PROPOSAL_OVERHEAD_BYTES = 4 + 8 + 4 + 4 + 4 + 64;

export function validateConsensusConfig(config: ConsensusConfig): void {
  const n = config.publicKeys.length;
  if (n < 1 || n > 64) throw new RangeError(`a federation has 1..64 guardians, not ${n}`);
  if (config.federationId.length !== 32) throw new RangeError("federationId must be 32 bytes");
  for (const k of config.publicKeys) {
    if (k.length !== 32) throw new RangeError("every guardian public key must be 32 bytes");
  }
  if (!Number.isInteger(config.heightsPerSession) || config.heightsPerSession < 1) {
    throw new RangeError("heightsPerSession must be a positive integer");
  }
  const l = config.limits;
  const blockBytesWorst = n * l.bundlesPerOriginPerBlockMax * (l.bundleBytesMax + 128) + 1024;
  if (blockBytesWorst > l.messageBytesMax) {
    throw new RangeError(
      `limits allow blocks of ${blockBytesWorst} bytes, above messageBytesMax ${l.messageBytesMax}`,
    );
  }
  if (l.itemBytesMax + 16 > l.bundleBytesMax) throw new RangeError("bundleBytesMax must hold one item");
  const proposalBytesWorst = blockBytesMax(n, l) + PROPOSAL_OVERHEAD_BYTES;
  if (l.futureBytesPerPeerMax < proposalBytesWorst) {
    throw new RangeError(
      `futureBytesPerPeerMax ${l.futureBytesPerPeerMax} cannot hold a proposal of ${proposalBytesWorst} bytes`,
    );
  }
}
