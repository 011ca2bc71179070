// A guardian's consensus runtime: the replica driven by the real clock, TLS links and LMDB.
// Everything nondeterministic lives here, so the engine stays a pure state machine.
import { performance } from "node:perf_hooks";
import { fromHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { federationId } from "@conclave/core-common";
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from "./consensus/config.js";
import type { ConsensusConfig, ConsensusLimits } from "./consensus/config.js";
import { Replica } from "./consensus/replica.js";
import type { ReplicaHooks } from "./consensus/replica.js";
import type { Commit } from "./consensus/types.js";
import { NodeSigner, NodeVerifier, sha256 } from "./node-crypto.js";
import { PeerLinks } from "./p2p/index.js";
import { LmdbConsensusStore } from "./storage/lmdb-consensus-store.js";
import type { StoreDurability } from "./storage/lmdb-consensus-store.js";

export type LogFn = (event: string, fields: Record<string, unknown>) => void;

export interface ConsensusNodeOptions {
  readonly federation: FederationConfig;
  readonly secretSeed: Uint8Array;
  readonly dataDir: string;
  readonly hooks?: ReplicaHooks;
  readonly limits?: Partial<ConsensusLimits>;
  readonly log?: LogFn;
  readonly durability?: StoreDurability;
}

export function consensusConfigOf(
  federation: FederationConfig,
  limits: Partial<ConsensusLimits> = {},
): ConsensusConfig {
  return {
    federationId: federationId(federation, sha256),
    publicKeys: federation.guardians.map((g) => fromHex(g.publicKey)),
    heightsPerSession: federation.consensus.heightsPerSession,
    timeouts: { ...DEFAULT_TIMEOUTS, ...definedOnly(federation.consensus.timeouts ?? {}) },
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

function definedOnly<T extends object>(o: T): { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]-?: Exclude<T[K], undefined>;
  };
}

export class ConsensusNode {
  readonly config: ConsensusConfig;
  readonly self: number;
  readonly links: PeerLinks;
  readonly store: LmdbConsensusStore;
  private replica: Replica | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private stopped = false;
  private readonly epoch = Date.now() - performance.now();
  private readonly log: LogFn;
  private readonly commitListeners: ((commit: Commit) => void)[] = [];

  constructor(private readonly options: ConsensusNodeOptions) {
    this.config = consensusConfigOf(options.federation, options.limits);
    const signer = new NodeSigner(options.secretSeed);
    const self = this.config.publicKeys.findIndex((k) =>
      Buffer.from(k).equals(Buffer.from(signer.publicKey)),
    );
    if (self < 0) throw new Error("this guardian's secret key matches no guardian in the federation config");
    this.self = self;
    this.log = options.log ?? (() => {});
    this.store = new LmdbConsensusStore(
      options.dataDir,
      self,
      this.config.heightsPerSession,
      options.durability ?? "fsync",
    );
    this.links = new PeerLinks({
      selfIndex: self,
      secretSeed: options.secretSeed,
      federationId: this.config.federationId,
      peers: options.federation.guardians.map((g, index) => ({
        index,
        publicKey: fromHex(g.publicKey),
        host: g.p2p.host,
        port: g.p2p.port,
      })),
      frameBytesMax: this.config.limits.messageBytesMax,
      log: this.log,
    });
  }

  /** Milliseconds on a monotonic clock (wall-clock based origin, so logs line up across guardians). */
  now(): number {
    return this.epoch + performance.now();
  }

  async start(): Promise<void> {
    const signer = new NodeSigner(this.options.secretSeed);
    this.replica = new Replica(
      this.config,
      { signer, verifier: new NodeVerifier(), hash: sha256 },
      this.self,
      this.store,
      {
        send: (to, bytes) => void this.links.send(to, bytes),
        broadcast: (bytes) => this.links.broadcast(bytes),
      },
      {
        ...this.options.hooks,
        onCommit: (commit) => {
          this.options.hooks?.onCommit?.(commit);
          for (const l of this.commitListeners) l(commit);
        },
      },
      this.now(),
    );
    this.links.onFrame((peer, frame) => {
      if (this.stopped || !this.replica) return;
      this.replica.deliver(peer, frame, this.now());
      this.scheduleFlush();
    });
    await this.links.start();
    const status = this.replica.engine.status;
    this.log("consensus.started", { self: this.self, height: status.height, round: status.round });
    this.onTimer();
  }

  onCommit(listener: (commit: Commit) => void): void {
    this.commitListeners.push(listener);
  }

  submit(items: readonly Uint8Array[]): number {
    if (!this.replica || this.stopped) return 0;
    const taken = this.replica.engine.submit(items, this.now());
    this.scheduleFlush();
    return taken;
  }

  get engineStatus(): Replica["engine"]["status"] | undefined {
    return this.replica?.engine.status;
  }

  /** Per peer, the messages and bytes its engine holds for heights above ours (metrics). */
  futureBuffered(): { peer: number; messages: number; bytes: number }[] {
    const engine = this.replica?.engine;
    if (!engine) return [];
    const out: { peer: number; messages: number; bytes: number }[] = [];
    for (let peer = 0; peer < this.config.publicKeys.length; peer++) {
      if (peer !== this.self) out.push({ peer, ...engine.futureBuffered(peer) });
    }
    return out;
  }

  get counters(): Record<string, number> {
    return { ...(this.replica?.engine.counters ?? {}), ...(this.replica?.counters ?? {}) };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushNow();
    });
  }

  private flushNow(): void {
    if (this.stopped || !this.replica) return;
    this.replica.flush();
    this.armTimer();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.stopped || !this.replica) return;
    this.replica.engine.tick(this.now());
    this.flushNow();
  }

  private armTimer(): void {
    if (!this.replica) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(1, Math.min(1000, this.replica.engine.nextDeadline() - this.now()));
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.links.close();
    await this.store.close();
  }
}
