// Checkers of bounds: how many heights an honest guardian's item may wait once the network has
// healed (censorship), and how much an honest engine may hold (memory). Both are checked as the
// run goes; their worst figures go into the result, so a sweep shows how close runs come.
import { UNSIGNED_SESSIONS_TRACKED_MAX, faultTolerance } from "./consensus.js";
import type { Commit, ConsensusConfig, EngineMemoryUse } from "./consensus.js";
import { itemKey } from "./checkers.js";

/**
 * The censorship bound, in heights. An item is "available" once the network has healed, its
 * guardian has signed it into a bundle, and a rebroadcast interval plus the healed delay bound
 * has passed: from then on every honest guardian holds the bundle. docs/consensus.md shows that
 * such a bundle is committed within f + 1 heights whose round-0 proposers are distinct and all up
 * to date: an honest one among them builds a block with every origin's next bundles (its two
 * in-flight bundles fit: bundlesInFlightMax <= bundlesPerOriginPerBlockMax). Two allowances on top:
 * the height under way when the item became available (its proposal may predate the bundle), and
 * the f + 1 heights after the guardians that restart at the heal have caught up; a guardian
 * behind is not an up-to-date proposer, and its rounds fall to the next proposer, possibly a
 * Byzantine one. Hence 2 (f + 1) + 1 heights.
 */
export function censorshipBoundHeights(n: number): number {
  return 2 * (faultTolerance(n) + 1) + 1;
}

/** After the heal, every link delivers within this (HEALED_LINKS: 1 + 25 ms). */
const HEALED_DELAY_MS_MAX = 26;

export interface BoundStats {
  /** Items checked against the censorship bound, and the most heights one waited. */
  itemsChecked: number;
  worstWaitHeights: number;
  /** The largest figures any honest engine showed (per peer or origin where there are several). */
  memoryPeak: {
    futureMessagesPerPeer: number;
    futureBytesPerPeer: number;
    verifiedCacheEntries: number;
    sessionsTracked: number;
    pendingBundlesPerOrigin: number;
    catchUpCacheBytes: number;
  };
}

export class BoundCheckers {
  readonly stats: BoundStats = {
    itemsChecked: 0,
    worstWaitHeights: 0,
    memoryPeak: {
      futureMessagesPerPeer: 0,
      futureBytesPerPeer: 0,
      verifiedCacheEntries: 0,
      sessionsTracked: 0,
      pendingBundlesPerOrigin: 0,
      catchUpCacheBytes: 0,
    },
  };
  readonly boundHeights: number;
  private readonly n: number;
  /** When each height was first committed by an honest guardian. */
  private readonly heightAt: number[] = [];
  /** Workload item -> when an honest guardian last signed it into a bundle. */
  private readonly bundledAt = new Map<string, number>();
  private readonly committed = new Set<string>();
  private healAt: number | null = null;
  private readonly memoryReported = new Set<string>();

  constructor(
    private readonly config: ConsensusConfig,
    private readonly violation: (what: string) => void,
  ) {
    this.n = config.publicKeys.length;
    this.boundHeights = censorshipBoundHeights(this.n);
  }

  heal(now: number): void {
    this.healAt = now;
  }

  bundled(items: readonly Uint8Array[], isWorkload: (key: string) => boolean, now: number): void {
    for (const item of items) {
      const key = itemKey(item);
      if (isWorkload(key)) this.bundledAt.set(key, now);
    }
  }

  commit(commit: Commit, now: number): void {
    if (commit.height !== this.heightAt.length) return; // not the first honest commit of this height
    this.heightAt.push(now);
    for (const b of commit.bundles) {
      for (const item of b.items) {
        const key = itemKey(item);
        if (this.committed.has(key)) continue;
        this.committed.add(key);
        const wait = this.waited(key, commit.height + 1);
        if (wait !== null) this.judge(key, wait, `was committed at height ${commit.height}`);
      }
    }
  }

  /** At the end: items still not committed. */
  finish(): void {
    for (const key of this.bundledAt.keys()) {
      if (this.committed.has(key)) continue;
      const wait = this.waited(key, this.heightAt.length);
      if (wait !== null) this.judge(key, wait, `is still not committed at height ${this.heightAt.length}`);
    }
  }

  /** Heights decided after the item became available, up to `upTo` (exclusive); null if it never did. */
  private waited(key: string, upTo: number): number | null {
    const bundled = this.bundledAt.get(key);
    if (this.healAt === null || bundled === undefined) return null;
    const available =
      Math.max(this.healAt, bundled) + this.config.timeouts.rebroadcastMs + HEALED_DELAY_MS_MAX;
    let before = this.heightAt.length;
    while (before > 0 && this.heightAt[before - 1]! > available) before--;
    if (before >= upTo) return null; // committed before it was available: nothing to judge
    return upTo - before;
  }

  private judge(key: string, wait: number, outcome: string): void {
    this.stats.itemsChecked++;
    this.stats.worstWaitHeights = Math.max(this.stats.worstWaitHeights, wait);
    if (wait > this.boundHeights) {
      const shown = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
      this.violation(
        `censorship: item ${shown} ${outcome}, ${wait} heights after every honest guardian held its ` +
          `bundle on the healed network (bound ${this.boundHeights} = 2 (f + 1) + 1)`,
      );
    }
  }

  /** An honest engine's bounded structures against their limits (after each of its ticks). */
  memory(g: number, use: EngineMemoryUse, catchUpCacheBytes: number): void {
    const limits = this.config.limits;
    const peak = this.stats.memoryPeak;
    peak.futureMessagesPerPeer = Math.max(peak.futureMessagesPerPeer, use.futureMessagesPerPeer);
    peak.futureBytesPerPeer = Math.max(peak.futureBytesPerPeer, use.futureBytesPerPeer);
    peak.verifiedCacheEntries = Math.max(peak.verifiedCacheEntries, use.verifiedCacheEntries);
    peak.sessionsTracked = Math.max(peak.sessionsTracked, use.sessionsTracked);
    peak.pendingBundlesPerOrigin = Math.max(peak.pendingBundlesPerOrigin, use.pendingBundlesPerOrigin);
    peak.catchUpCacheBytes = Math.max(peak.catchUpCacheBytes, catchUpCacheBytes);
    const roundsHeld = use.round + limits.roundsAheadMax + 1;
    const checks: [string, number, number][] = [
      ["peers with future messages", use.futurePeers, this.n - 1],
      ["future messages of one peer", use.futureMessagesPerPeer, limits.futureMessagesPerPeerMax],
      ["future bytes of one peer", use.futureBytesPerPeer, limits.futureBytesPerPeerMax],
      ["verified-signature cache entries", use.verifiedCacheEntries, limits.verifiedCacheEntriesMax],
      ["proposals held at this height", use.proposalRounds, roundsHeld],
      ["vote rounds held at this height", use.voteRounds, roundsHeld],
      ["validity cache entries", use.validityCacheEntries, roundsHeld],
      ["pending bundles of one origin", use.pendingBundlesPerOrigin, limits.bundlesPendingPerOriginMax],
      ["sessions collecting signatures", use.sessionsTracked, UNSIGNED_SESSIONS_TRACKED_MAX + 2],
      ["own queued items", use.ownQueued, limits.itemsQueuedMax],
      ["own bundles in flight", use.ownInFlight, limits.bundlesInFlightMax],
      ["peers with rate-limit timestamps", use.peersTimed, this.n],
      ["catch-up cache bytes", catchUpCacheBytes, limits.catchUpCacheBytesMax],
    ];
    for (const [what, value, max] of checks) {
      if (value <= max || this.memoryReported.has(what)) continue;
      this.memoryReported.add(what);
      this.violation(`memory: honest guardian ${g} holds ${value} ${what}, above its bound ${max}`);
    }
  }
}
