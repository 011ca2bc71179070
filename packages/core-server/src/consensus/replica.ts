// A replica: the pure engine wired to a store and a network. The same class runs inside the
// simulator (memory store, simulated network and clock) and inside the guardian daemon (LMDB,
// TLS links, the real clock). It is the only place where the engine's outputs touch I/O, and it
// enforces the write-ahead rule: state is persisted before any message that depends on it leaves.
import { ConsensusEngine } from "./engine.js";
import type { EngineCrypto } from "./engine.js";
import type { ConsensusConfig, ConsensusLimits } from "./config.js";
import { MessageType, encodeEnvelope } from "./messages.js";
import type { ConsensusStore } from "./store.js";
import type { CatchUpRequest, Commit, Evidence, SessionRecord } from "./types.js";

export interface ReplicaNetwork {
  send(to: number, bytes: Uint8Array): void;
  broadcast(bytes: Uint8Array): void;
}

export interface ReplicaHooks {
  onCommit?(commit: Commit): void;
  onEvidence?(evidence: Evidence): void;
  onSessionSigned?(record: SessionRecord): void;
  onBundled?(seq: number, items: readonly Uint8Array[]): void;
}

/**
 * Signed catch-up messages by what they carry ("s<session>", "d<height>"), least recently used
 * first, within a byte budget. A decided block and a signed session never change once stored, and
 * signing is deterministic, so a cached envelope is exactly what signing again would produce.
 * `null` remembers a session too large for one message (it travels as decisions).
 */
class CatchUpCache {
  private readonly entries = new Map<string, Uint8Array | null>();
  private bytes = 0;

  constructor(private readonly bytesMax: number) {}

  /** What the cache holds, in its own cost measure (at most bytesMax). */
  get size(): number {
    return this.bytes;
  }

  get(key: string): Uint8Array | null | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  set(key: string, value: Uint8Array | null): void {
    const cost = CatchUpCache.cost(value);
    if (cost > this.bytesMax) return;
    this.entries.set(key, value);
    this.bytes += cost;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.bytesMax) break;
      this.entries.delete(k);
      this.bytes -= CatchUpCache.cost(v);
    }
  }

  /** Bytes plus a fixed charge per entry, so that many small entries are bounded too. */
  private static cost(value: Uint8Array | null): number {
    return (value?.length ?? 0) + 64;
  }
}

/**
 * Per peer, the catch-up bytes it may still be sent: a token bucket refilled at
 * catchUpBytesPerSecondPerPeerMax on the engine's clock, holding at most bytesPerCatchUpMax.
 * Keyed by guardian index, so it holds at most n entries.
 */
class CatchUpAllowance {
  private readonly byPeer = new Map<number, { bytes: number; at: number }>();

  constructor(private readonly limits: ConsensusLimits) {}

  /** Bytes the peer may be sent at `now`; at most zero means none until the bucket refills. */
  available(peer: number, now: number): number {
    const e = this.byPeer.get(peer);
    if (!e) return this.limits.bytesPerCatchUpMax;
    const refill = (Math.max(0, now - e.at) * this.limits.catchUpBytesPerSecondPerPeerMax) / 1000;
    return Math.min(this.limits.bytesPerCatchUpMax, e.bytes + refill);
  }

  spend(peer: number, now: number, available: number, spent: number): void {
    this.byPeer.set(peer, { bytes: available - spent, at: now });
  }
}

/** What one catch-up reply has used of its budget (ConsensusLimits: *PerCatchUpMax). */
class ReplyBudget {
  sessions = 0;
  decisions = 0;
  bytes = 0;
  private messages = 0;

  constructor(private readonly bytesMax: number) {}

  /** The first message always fits (it is at most messageBytesMax), so catch-up never stalls. */
  fits(bytes: number): boolean {
    return this.messages === 0 || this.bytes + bytes <= this.bytesMax;
  }

  spend(bytes: number): void {
    this.messages++;
    this.bytes += bytes;
  }
}

type Served = "sent" | "tooLarge" | "unavailable" | "overBudget";

export class Replica {
  readonly engine: ConsensusEngine;
  readonly counters = {
    catchUpDecisionsSent: 0,
    catchUpSessionsSent: 0,
    /** Catch-up messages read from the store, encoded and signed (the rest came from the cache). */
    catchUpMessagesSigned: 0,
    /** Catch-up replies not sent because the peer's byte allowance was used up. */
    catchUpRepliesDeferred: 0,
    persistBatches: 0,
  };
  private readonly catchUpCache: CatchUpCache;
  private readonly catchUpAllowance: CatchUpAllowance;

  constructor(
    private readonly config: ConsensusConfig,
    private readonly crypto: EngineCrypto,
    readonly self: number,
    private readonly store: ConsensusStore,
    private readonly net: ReplicaNetwork,
    private readonly hooks: ReplicaHooks,
    now: number,
  ) {
    this.catchUpCache = new CatchUpCache(config.limits.catchUpCacheBytesMax);
    this.catchUpAllowance = new CatchUpAllowance(config.limits);
    const restored = store.load(config.publicKeys.length, self, config.heightsPerSession);
    this.engine = new ConsensusEngine(config, crypto, self, restored, now);
    this.flush();
  }

  /** Bytes held by the catch-up cache (at most limits.catchUpCacheBytesMax), for the memory checker. */
  get catchUpCacheBytes(): number {
    return this.catchUpCache.size;
  }

  receive(from: number, bytes: Uint8Array, now: number): void {
    this.engine.receive(from, bytes, now);
    this.flush();
  }

  tick(now: number): void {
    this.engine.tick(now);
    this.flush();
  }

  submit(items: readonly Uint8Array[], now: number): number {
    const taken = this.engine.submit(items, now);
    this.flush();
    return taken;
  }

  /**
   * Hand a frame to the engine without flushing: a driver that has several frames at once
   * delivers them all and flushes once, so one disk write covers many messages (group commit).
   */
  deliver(from: number, bytes: Uint8Array, now: number): void {
    this.engine.receive(from, bytes, now);
  }

  /** Persist, then send, then report: the write-ahead order every driver must keep. */
  flush(): void {
    const out = this.engine.drainOutput();
    if (out.persist.length > 0) {
      this.store.apply(out.persist, out.syncRequired);
      this.counters.persistBatches++;
    }
    for (const m of out.send) {
      if (m.to === "all") this.net.broadcast(m.bytes);
      else this.net.send(m.to, m.bytes);
    }
    for (const r of out.catchUp) this.serveCatchUp(r);
    for (const c of out.commits) this.hooks.onCommit?.(c);
    for (const e of out.evidence) this.hooks.onEvidence?.(e);
    for (const s of out.sessionsSigned) this.hooks.onSessionSigned?.(s);
    for (const b of out.bundled) this.hooks.onBundled?.(b.seq, b.items);
  }

  /**
   * Answer a lagging peer from our store: signed sessions where we have them, else decisions. The
   * engine asks at most once per peer per catchUpMs, whatever the peer claims; each reply stays
   * within sessionsPerCatchUpMax, decisionsPerCatchUpMax, bytesPerCatchUpMax and the peer's byte
   * allowance (catchUpBytesPerSecondPerPeerMax), checked before a message is signed; and a message
   * signed once is served from the cache afterwards, so a peer repeating the same claim costs
   * neither store reads nor signatures.
   */
  private serveCatchUp(req: CatchUpRequest): void {
    const available = this.catchUpAllowance.available(req.peer, req.at);
    if (available <= 0) {
      this.counters.catchUpRepliesDeferred++;
      return;
    }
    const budget = new ReplyBudget(available);
    this.serveWithin(req, budget);
    this.catchUpAllowance.spend(req.peer, req.at, available, budget.bytes);
  }

  private serveWithin(req: CatchUpRequest, budget: ReplyBudget): void {
    const k = this.config.heightsPerSession;
    const limits = this.config.limits;
    const status = this.engine.status;
    // Signatures for sessions whose blocks the peer already has. Every session looked at counts,
    // sent or not, so a claim that reaches far back is not a loop over all our history.
    for (let s = req.sessionsSigned; s < status.sessionsSigned && (s + 1) * k <= req.height; s++) {
      if (budget.sessions >= limits.sessionsPerCatchUpMax) return;
      budget.sessions++;
      if (this.serveSession(req.peer, s, budget) === "overBudget") return;
    }
    // Blocks the peer lacks.
    let height = req.height;
    while (height < status.height && budget.sessions < limits.sessionsPerCatchUpMax) {
      const s = Math.floor(height / k);
      budget.sessions++;
      const served = this.serveSession(req.peer, s, budget);
      if (served === "overBudget") return;
      if (served !== "sent") break;
      height = (s + 1) * k;
    }
    for (; height < status.height && budget.decisions < limits.decisionsPerCatchUpMax; height++) {
      budget.decisions++;
      if (this.serveDecision(req.peer, height, budget) !== "sent") return;
    }
  }

  private serveSession(peer: number, session: number, budget: ReplyBudget): Served {
    const key = `s${session}`;
    let bytes = this.catchUpCache.get(key);
    if (bytes === null) return "tooLarge";
    if (bytes === undefined) {
      const record = this.store.session(session);
      if (!record) return "unavailable";
      const k = this.config.heightsPerSession;
      const blocks: Uint8Array[] = [];
      let size = 1024 + record.signatures.length * 66;
      for (let h = session * k; h < (session + 1) * k; h++) {
        const d = this.store.decided(h);
        if (!d) return "unavailable";
        size += d.block.length + 4;
        blocks.push(d.block);
      }
      // A session too large for one message travels as decisions (which then have certificates).
      if (size > this.config.limits.messageBytesMax) {
        this.catchUpCache.set(key, null);
        return "tooLarge";
      }
      if (!budget.fits(size)) return "overBudget";
      bytes = this.sign({
        type: MessageType.SignedSession,
        signedSession: { session, blocks, signatures: record.signatures },
      });
      this.counters.catchUpMessagesSigned++;
      this.catchUpCache.set(key, bytes);
    } else if (!budget.fits(bytes.length)) {
      return "overBudget";
    }
    budget.spend(bytes.length);
    this.net.send(peer, bytes);
    this.counters.catchUpSessionsSent++;
    return "sent";
  }

  private serveDecision(peer: number, height: number, budget: ReplyBudget): Served {
    const key = `d${height}`;
    let bytes = this.catchUpCache.get(key);
    if (bytes === null) return "unavailable";
    if (bytes === undefined) {
      const d = this.store.decided(height);
      // A block learned inside a signed session has no certificate of its own to send.
      if (!d || d.certificate.length === 0) return "unavailable";
      let size = 1024 + d.block.length;
      for (const p of d.certificate) size += p.length + 4;
      if (!budget.fits(size)) return "overBudget";
      bytes = this.sign({
        type: MessageType.Decision,
        decision: { height, round: d.round, block: d.block, precommits: d.certificate },
      });
      this.counters.catchUpMessagesSigned++;
      this.catchUpCache.set(key, bytes);
    } else if (!budget.fits(bytes.length)) {
      return "overBudget";
    }
    budget.spend(bytes.length);
    this.net.send(peer, bytes);
    this.counters.catchUpDecisionsSent++;
    return "sent";
  }

  private sign(body: Parameters<ConsensusEngine["envelope"]>[0]): Uint8Array {
    return encodeEnvelope(this.self, body, this.crypto.signer, this.config.federationId, this.crypto.hash);
  }
}
