// A replica: the pure engine wired to a store and a network. The same class runs inside the
// simulator (memory store, simulated network and clock) and inside the guardian daemon (LMDB,
// TLS links, the real clock). It is the only place where the engine's outputs touch I/O, and it
// enforces the write-ahead rule: state is persisted before any message that depends on it leaves.
import { ConsensusEngine } from "./engine.js";
import type { EngineCrypto } from "./engine.js";
import type { ConsensusConfig } from "./config.js";
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

export class Replica {
  readonly engine: ConsensusEngine;
  readonly counters = { catchUpDecisionsSent: 0, catchUpSessionsSent: 0, persistBatches: 0 };

  constructor(
    private readonly config: ConsensusConfig,
    private readonly crypto: EngineCrypto,
    readonly self: number,
    private readonly store: ConsensusStore,
    private readonly net: ReplicaNetwork,
    private readonly hooks: ReplicaHooks,
    now: number,
  ) {
    const restored = store.load(config.publicKeys.length, self, config.heightsPerSession);
    this.engine = new ConsensusEngine(config, crypto, self, restored, now);
    this.flush();
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

  /** Answer a lagging peer from our store: signed sessions where we have them, else decisions. */
  private serveCatchUp(req: CatchUpRequest): void {
    const k = this.config.heightsPerSession;
    const limits = this.config.limits;
    const status = this.engine.status;
    // Signatures for sessions whose blocks the peer already has.
    let sent = 0;
    for (let s = req.sessionsSigned; s < status.sessionsSigned && (s + 1) * k <= req.height; s++) {
      if (sent >= limits.sessionsPerCatchUpMax) return;
      if (this.sendSession(req.peer, s)) sent++;
    }
    // Blocks the peer lacks.
    let height = req.height;
    while (height < status.height && sent < limits.sessionsPerCatchUpMax) {
      const s = Math.floor(height / k);
      if (!this.store.session(s) || !this.sendSession(req.peer, s)) break;
      sent++;
      height = (s + 1) * k;
    }
    for (let i = 0; height < status.height && i < limits.decisionsPerCatchUpMax; i++, height++) {
      const d = this.store.decided(height);
      if (!d || d.certificate.length === 0) return;
      this.net.send(
        req.peer,
        this.sign({
          type: MessageType.Decision,
          decision: { height, round: d.round, block: d.block, precommits: d.certificate },
        }),
      );
      this.counters.catchUpDecisionsSent++;
    }
  }

  private sendSession(peer: number, session: number): boolean {
    const record = this.store.session(session);
    if (!record) return false;
    const k = this.config.heightsPerSession;
    const blocks: Uint8Array[] = [];
    let bytes = 0;
    for (let h = session * k; h < (session + 1) * k; h++) {
      const d = this.store.decided(h);
      if (!d) return false;
      bytes += d.block.length + 4;
      blocks.push(d.block);
    }
    // A session too large for one message travels as decisions (which then have certificates).
    if (bytes + 1024 + record.signatures.length * 66 > this.config.limits.messageBytesMax) return false;
    this.net.send(
      peer,
      this.sign({
        type: MessageType.SignedSession,
        signedSession: { session, blocks, signatures: record.signatures },
      }),
    );
    this.counters.catchUpSessionsSent++;
    return true;
  }

  private sign(body: Parameters<ConsensusEngine["envelope"]>[0]): Uint8Array {
    return encodeEnvelope(this.self, body, this.crypto.signer, this.config.federationId, this.crypto.hash);
  }
}
