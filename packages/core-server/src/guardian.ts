// A guardian: consensus, the federation's modules and its database, behind the API backend seam.
// Ordered items are processed inside the same LMDB transaction that records the decided block, so a
// guardian killed at any instant restarts with consensus and module state agreeing.
import { join } from "node:path";
import {
  InvalidRequestError,
  NotFoundError,
  TransactionRejectedError,
  UnavailableError,
} from "@conclave/core-common";
import { decodeTransaction, encodeConsensusItem, fromHex, toHex, transactionId } from "@conclave/core-common";
import type { BackupRecord, BackupStored, FederationConfig, Transaction } from "@conclave/core-common";
import type {
  AuditView,
  GuardianBackend,
  GuardianStatusView,
  SessionView,
  TxStatusView,
} from "./api/backend.js";
import { ConsensusNode } from "./consensus-node.js";
import type { LogFn } from "./consensus-node.js";
import { blockBundles } from "./consensus/block-content.js";
import { NodeVerifier, sha256 } from "./node-crypto.js";
import { FederationProcessor, auditView, outputOutcomes } from "./federation/processor.js";
import type { ModuleContext, ServerModule, WatchHandle, WatchState } from "./federation/module.js";
import { sealOpener } from "./federation/unseal.js";
import type { TxStatus } from "./federation/processor.js";
import type { StoreDurability } from "./storage/lmdb-consensus-store.js";
import { BackupStore, backupStorePath } from "./storage/backup-store.js";
import type { BackupStoreLimits } from "./storage/backup-store.js";

export const VERSION = "0.1.0";

/**
 * Builds a module instance from its federation-config entry, this guardian's secret shares of the
 * module's threshold keys (from the key ceremony; empty for modules that need none) and this
 * guardian's own settings for it (e.g. the address of its own chain node; never shared).
 */
export type ModuleFactory = (
  instanceId: number,
  config: Record<string, unknown>,
  shares: readonly bigint[],
  local: Readonly<Record<string, unknown>>,
) => ServerModule;

export interface GuardianOptions {
  readonly federation: FederationConfig;
  readonly secretSeed: Uint8Array;
  readonly dataDir: string;
  readonly moduleFactories: Readonly<Record<string, ModuleFactory>>;
  /** Per module instance id, this guardian's secret key shares (hex), from its secret file. */
  readonly moduleShares?: Readonly<Record<string, readonly string[]>>;
  /** Per module instance id, this guardian's own settings for the module (guardian.local.json). */
  readonly moduleLocal?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly durability?: StoreDurability;
  /** Client backups: kept in their own LMDB environment (DATA_DIR/client-backups). */
  readonly backupLimits?: BackupStoreLimits;
  readonly log?: LogFn;
  /**
   * How often module consensus proposals are polled (besides right after each commit and when a
   * module wakes the guardian).
   */
  readonly moduleProposalMs?: number;
  readonly onShutdownRequested?: () => void;
}

/** A Prometheus histogram of milliseconds, exposed in seconds. */
class LatencyHistogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bucketsMs: readonly number[]) {
    this.counts = bucketsMs.map(() => 0);
  }

  observe(ms: number): void {
    this.sum += ms;
    this.count++;
    this.bucketsMs.forEach((b, i) => {
      if (ms <= b) this.counts[i]!++;
    });
  }

  exposition(name: string, help: string): string[] {
    return [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} histogram`,
      ...this.bucketsMs.map((b, i) => `${name}_bucket{le="${b / 1000}"} ${this.counts[i]}`),
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum / 1000}`,
      `${name}_count ${this.count}`,
    ];
  }
}

export class ModuleConfigError extends Error {
  override readonly name = "ModuleConfigError";
}

/** Build the module instances a federation config names; test-only kinds only in dev federations. */
export function instantiateModules(
  federation: FederationConfig,
  factories: Readonly<Record<string, ModuleFactory>>,
  moduleShares: Readonly<Record<string, readonly string[]>> = {},
  moduleLocal: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): ServerModule[] {
  return federation.modules.map((m) => {
    const factory = factories[m.kind];
    if (!factory)
      throw new ModuleConfigError(
        `module kind "${m.kind}" is not known to this guardian (version ${VERSION})`,
      );
    const shares = (moduleShares[String(m.instanceId)] ?? []).map((h) => BigInt(`0x${h}`));
    const instance = factory(m.instanceId, m.config, shares, moduleLocal[String(m.instanceId)] ?? {});
    if (instance.testOnly && federation.environment !== "dev") {
      throw new ModuleConfigError(
        `module "${m.kind}" is test-only and refused in a ${federation.environment} federation`,
      );
    }
    return instance;
  });
}

function statusView(txid: string, s: TxStatus, outcomes: unknown[]): TxStatusView {
  if (s.state === "accepted")
    return { txid, state: "accepted", height: s.height, fee: s.fee.toString(), outcomes };
  return { txid, state: "rejected", height: s.height, error: s.error };
}

export class Guardian implements GuardianBackend {
  readonly node: ConsensusNode;
  readonly processor: FederationProcessor;
  /** Transactions this guardian proposed, with when they were submitted (ms, for the latency metric). */
  private readonly mempool = new Map<string, { tx: Transaction; submittedAt: number }>();
  private readonly acceptLatency = new LatencyHistogram([
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
  ]);
  private readonly listeners = new Map<string, Set<(s: TxStatusView) => void>>();
  private readonly pendingEvents: { txid: string }[] = [];
  private halted: string | null = null;
  private moduleTimer: NodeJS.Timeout | undefined;
  /** A proposal collection is queued (setImmediate): wakes and commits coalesce into one. */
  private moduleWakeQueued = false;
  private readonly lastModuleProposal = new Map<number, string>();
  private readonly log: LogFn;
  private readonly backups: BackupStore;
  readonly counters = { txAccepted: 0, txRejected: 0, malformedItems: 0, moduleItemErrors: 0 };

  constructor(private readonly options: GuardianOptions) {
    this.log = options.log ?? (() => {});
    const modules = instantiateModules(
      options.federation,
      options.moduleFactories,
      options.moduleShares,
      options.moduleLocal,
    );
    this.processor = new FederationProcessor(modules, { verifier: new NodeVerifier(), hash: sha256 });
    this.node = new ConsensusNode({
      federation: options.federation,
      secretSeed: options.secretSeed,
      dataDir: options.dataDir,
      log: this.log,
      ...(options.durability ? { durability: options.durability } : {}),
      hooks: {
        onCommit: () => {
          this.deliverEvents();
          // A commit can give a module something to propose (a payout signer's turn, a claim to
          // check, a vote that depended on the state): collected now, not at the next timer tick.
          // One collection per commit at most (coalesced with wakes); blocks are consensus-bound.
          this.wakeModules();
        },
        onEvidence: (e) =>
          this.log("consensus.evidence", {
            sender: e.sender,
            what: e.what,
            height: e.height,
            round: e.round,
          }),
      },
    });
    // Their own environment, not the consensus one: a flood of backups cannot fill or slow it.
    this.backups = BackupStore.open(
      backupStorePath(options.dataDir),
      this.node.config.federationId,
      new NodeVerifier(),
      options.backupLimits,
    );
    const n = this.node.config.publicKeys.length;
    this.node.store.onDecided = (decided, db) => {
      if (this.halted) throw new Error(`guardian halted: ${this.halted}`);
      const bundles = blockBundles(decided.block, this.node.config.limits, n);
      const outcome = this.processor.processBlock(db, decided.height, bundles);
      this.counters.malformedItems += outcome.malformedItems;
      this.counters.moduleItemErrors += outcome.moduleItemErrors;
      for (const e of outcome.events) {
        if (!e.final) {
          // Not recorded: the txid stays open for the correctly signed copy. An honest guardian
          // checks signatures before it proposes, so the proposer of this copy is faulty.
          this.log("consensus.bad_signature_copy", {
            origin: e.origin,
            txid: e.txid,
            height: decided.height,
          });
          continue;
        }
        if (e.status.state === "accepted") this.counters.txAccepted++;
        else this.counters.txRejected++;
        this.pendingEvents.push({ txid: e.txid });
      }
      if (outcome.auditFailure) this.halt(outcome.auditFailure);
    };
  }

  async start(): Promise<void> {
    // A module that finds its external systems unlike the config refuses the guardian's start.
    for (const m of this.processor.modules) await m.preflight?.(this.moduleContext(m, () => {}));
    await this.node.start();
    this.moduleTimer = setInterval(() => this.proposeModuleItems(), this.options.moduleProposalMs ?? 1000);
    for (const m of this.processor.modules) m.start?.(this.moduleContext(m, () => this.wakeModules()));
  }

  /** Collects the modules' proposals on the next turn of the event loop (once however often asked). */
  private wakeModules(): void {
    if (this.moduleWakeQueued || this.moduleTimer === undefined) return;
    this.moduleWakeQueued = true;
    setImmediate(() => {
      this.moduleWakeQueued = false;
      if (this.moduleTimer !== undefined) this.proposeModuleItems();
    });
  }

  private moduleContext(m: ServerModule, wake: () => void): ModuleContext {
    return {
      log: (event, fields) => this.log(`module.${m.kind}.${event}`, { instanceId: m.instanceId, ...fields }),
      wake,
      self: this.node.self,
      federationId: this.node.config.federationId,
      halt: (reason) => this.halt(`module ${m.kind}#${m.instanceId}: ${reason}`),
      dataDir: join(this.options.dataDir, "modules", String(m.instanceId)),
      watch: (kind, key, listener) => this.watch(kind, key, listener),
      readState: () => this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId),
      unseal: sealOpener({
        federation: this.options.federation,
        federationId: this.node.config.federationId,
        self: this.node.self,
        secretSeed: this.options.secretSeed,
        instanceId: m.instanceId,
      }),
    };
  }

  /**
   * A watch for the relay: "tx" is a transaction's status with its outcomes (this guardian's view, as
   * GET /v1/transactions/:txid answers); any other kind goes to the module that offers it.
   */
  private watch(kind: string, key: string, listener: (state: WatchState) => void): WatchHandle {
    if (kind === "tx") {
      if (!/^[0-9a-f]{64}$/.test(key))
        throw new InvalidRequestError("a tx watch's key is a transaction id: 64 lowercase hex digits");
      const unsubscribe = this.subscribeTransaction(key, (s) => listener({ ...s }));
      return {
        current: () => {
          const s = this.transactionStatus(key);
          return Promise.resolve(s === undefined ? undefined : { ...s });
        },
        unsubscribe,
      };
    }
    const source = this.processor.modules.find((m) => m.watchable?.watchKinds.includes(kind))?.watchable;
    if (!source) {
      const kinds = ["tx", ...this.processor.modules.flatMap((m) => m.watchable?.watchKinds ?? [])];
      throw new NotFoundError(
        `nothing to watch of kind "${kind}" at this guardian (kinds: ${kinds.join(", ")})`,
      );
    }
    return source.watch(kind, key, listener);
  }

  async stop(): Promise<void> {
    if (this.moduleTimer) clearInterval(this.moduleTimer);
    this.moduleTimer = undefined;
    await Promise.all(this.processor.modules.map((m) => m.stop?.() ?? Promise.resolve()));
    await this.node.stop();
    await this.backups.close();
  }

  /** Fedimint's rule: a guardian whose audit fails stops taking part, loudly, rather than go on. */
  private halt(reason: string): void {
    if (this.halted) return;
    this.halted = reason;
    this.log("guardian.halted", { reason });
    process.stderr.write(`GUARDIAN HALTED: ${reason}\n`);
    setImmediate(() => void this.node.stop());
  }

  private deliverEvents(): void {
    const events = this.pendingEvents.splice(0);
    for (const e of events) {
      const proposed = this.mempool.get(e.txid);
      if (proposed) this.acceptLatency.observe(performance.now() - proposed.submittedAt);
      this.mempool.delete(e.txid);
      const view = this.transactionStatus(e.txid);
      if (!view) continue;
      for (const l of this.listeners.get(e.txid) ?? []) l(view);
    }
    for (const m of this.processor.modules) {
      if (!m.committed) continue;
      try {
        m.committed(this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId));
      } catch (e) {
        // Outside consensus: a watcher's failure is logged, never the guardian's.
        this.log(`module.${m.kind}.committed-failed`, { instanceId: m.instanceId, error: String(e) });
      }
    }
  }

  private proposeModuleItems(): void {
    if (this.halted) return;
    for (const m of this.processor.modules) {
      const items = m.consensusProposal(
        this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId),
      );
      const key = items.map(toHex).join(",");
      if (items.length === 0 || this.lastModuleProposal.get(m.instanceId) === key) continue;
      this.lastModuleProposal.set(m.instanceId, key);
      this.node.submit(
        items.map((payload) => encodeConsensusItem({ kind: "module", module: m.instanceId, payload })),
      );
    }
  }

  // ------------------------------------------------------------------ GuardianBackend

  federation(): { federationId: string; config: unknown } {
    return { federationId: toHex(this.node.config.federationId), config: this.options.federation };
  }

  status(): GuardianStatusView {
    const s = this.node.engineStatus;
    const n = this.node.config.publicKeys.length;
    let connected = 0;
    for (let i = 0; i < n; i++) if (i !== this.node.self && this.node.links.isConnected(i)) connected++;
    return {
      guardian: this.node.self,
      name: this.options.federation.guardians[this.node.self]!.name,
      height: s?.height ?? 0,
      round: s?.round ?? 0,
      sessionsSigned: s?.sessionsSigned ?? 0,
      peersConnected: connected,
      peersTotal: n - 1,
      mempoolItems: this.mempool.size,
      halted: this.halted,
      version: VERSION,
      alerts: this.processor.modules.flatMap((m) =>
        (m.alerts?.(this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId)) ?? []).map(
          (a) => ({
            module: m.kind,
            instanceId: m.instanceId,
            code: a.code,
            message: a.message,
          }),
        ),
      ),
    };
  }

  submitTransaction(bytes: Uint8Array): TxStatusView {
    if (this.halted)
      throw new UnavailableError(`this guardian halted (${this.halted}); use another guardian`);
    let tx: Transaction;
    try {
      tx = decodeTransaction(bytes, this.processor.limits);
    } catch (e) {
      throw new InvalidRequestError(`not a valid transaction encoding: ${(e as Error).message}`);
    }
    const txid = toHex(transactionId(tx, sha256));
    const known = this.transactionStatus(txid);
    if (known) return known;
    const check = this.processor.check(this.node.store.stateReader, tx);
    if (!check.ok)
      throw new TransactionRejectedError(check.error.code, check.error.message, check.error.details ?? {});
    const taken = this.node.submit([encodeConsensusItem({ kind: "transaction", tx })]);
    if (taken !== 1) throw new UnavailableError("this guardian's proposal queue is full; retry shortly");
    this.mempool.set(txid, { tx, submittedAt: performance.now() });
    return { txid, state: "proposed" };
  }

  transactionStatus(txid: string): TxStatusView | undefined {
    if (!/^[0-9a-f]{64}$/.test(txid)) return undefined;
    const id = fromHex(txid);
    const db = this.node.store.stateReader;
    const s = this.processor.txStatus(db, id);
    if (s) return statusView(txid, s, outputOutcomes(this.processor, db, id, s));
    return this.mempool.has(txid) ? { txid, state: "proposed" } : undefined;
  }

  waitTransaction(txid: string, timeoutMs: number, signal?: AbortSignal): Promise<TxStatusView | undefined> {
    const now = this.transactionStatus(txid);
    if (now && now.state !== "proposed") return Promise.resolve(now);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", finish);
        resolve(this.transactionStatus(txid));
      };
      const timer = setTimeout(finish, timeoutMs);
      const unsubscribe = this.subscribeTransaction(txid, (s) => {
        if (s.state !== "proposed") finish();
      });
      signal?.addEventListener("abort", finish);
    });
  }

  subscribeTransaction(txid: string, listener: (status: TxStatusView) => void): () => void {
    let set = this.listeners.get(txid);
    if (!set) {
      set = new Set();
      this.listeners.set(txid, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(txid);
      s?.delete(listener);
      if (s && s.size === 0) this.listeners.delete(txid);
    };
  }

  sessionCount(): number {
    return this.node.engineStatus?.sessionsSigned ?? 0;
  }

  session(index: number): SessionView | undefined {
    const record = this.node.store.session(index);
    if (!record) return undefined;
    // The header and signatures only (invariant 9): the blocks stay between the guardians.
    return {
      session: record.session,
      sessionHash: toHex(record.sessionHash),
      blockIds: record.blockIds.map(toHex),
      signatures: record.signatures.map((s) => ({ signer: s.signer, signature: toHex(s.signature) })),
    };
  }

  audit(): AuditView {
    return auditView(this.processor.audit(this.node.store.stateReader));
  }

  /** A hash of the whole federation state, to compare guardians (tests, operators). */
  stateHash(): string {
    const h = new Uint8Array(32);
    const db = this.node.store.stateReader;
    let acc = sha256(new Uint8Array());
    for (const [k, v] of db.scan(new Uint8Array())) {
      const buf = new Uint8Array(acc.length + k.length + v.length + 8);
      buf.set(acc);
      new DataView(buf.buffer).setUint32(32, k.length);
      buf.set(k, 36);
      new DataView(buf.buffer).setUint32(36 + k.length, v.length);
      buf.set(v, 40 + k.length);
      acc = sha256(buf);
    }
    h.set(acc);
    return toHex(h);
  }

  metrics(): string {
    const s = this.status();
    const c = this.node.counters;
    const lines: string[] = [
      "# TYPE conclave_height gauge",
      `conclave_height ${s.height}`,
      "# TYPE conclave_sessions_signed gauge",
      `conclave_sessions_signed ${s.sessionsSigned}`,
      "# TYPE conclave_peers_connected gauge",
      `conclave_peers_connected ${s.peersConnected}`,
      "# TYPE conclave_mempool_items gauge",
      `conclave_mempool_items ${s.mempoolItems}`,
      "# TYPE conclave_halted gauge",
      `conclave_halted ${s.halted ? 1 : 0}`,
      "# TYPE conclave_backups_records gauge",
      `conclave_backups_records ${this.backups.usage.records}`,
      "# TYPE conclave_backups_bytes gauge",
      `conclave_backups_bytes ${this.backups.usage.bytes}`,
      ...this.acceptLatency.exposition(
        "conclave_transaction_final_seconds",
        "from submission at this guardian to accepted or rejected",
      ),
      "# TYPE conclave_transactions_total counter",
      `conclave_transactions_total{result="accepted"} ${this.counters.txAccepted}`,
      `conclave_transactions_total{result="rejected"} ${this.counters.txRejected}`,
      "# TYPE conclave_consensus_messages_total counter",
    ];
    for (const [k, v] of Object.entries(c)) lines.push(`conclave_consensus_messages_total{kind="${k}"} ${v}`);
    const future = this.node.futureBuffered();
    lines.push("# TYPE conclave_consensus_future_buffered_bytes gauge");
    for (const b of future) {
      lines.push(`conclave_consensus_future_buffered_bytes{peer="${b.peer}"} ${b.bytes}`);
    }
    lines.push("# TYPE conclave_consensus_future_buffered_messages gauge");
    for (const b of future) {
      lines.push(`conclave_consensus_future_buffered_messages{peer="${b.peer}"} ${b.messages}`);
    }
    const audit = this.audit();
    lines.push("# TYPE conclave_module_assets gauge", "# TYPE conclave_module_liabilities gauge");
    for (const m of audit.modules) {
      lines.push(`conclave_module_assets{module="${m.kind}",instance="${m.instanceId}"} ${m.assets}`);
      lines.push(
        `conclave_module_liabilities{module="${m.kind}",instance="${m.instanceId}"} ${m.liabilities}`,
      );
    }
    for (const m of this.processor.modules) {
      const own = m.metrics?.(this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId));
      if (own) lines.push(own.trimEnd());
    }
    return lines.join("\n") + "\n";
  }

  modules(): ReturnType<GuardianBackend["modules"]> {
    return this.processor.modules.map((m) => ({
      name: m.kind,
      instanceId: m.instanceId,
      endpoints: m.api,
      ...(m.socket ? { socket: m.socket } : {}),
      db: () => this.processor.moduleReadDb(this.node.store.stateReader, m.instanceId),
    }));
  }

  storeBackup(record: BackupRecord, client: string): Promise<BackupStored> {
    return this.backups.put(record, client);
  }

  backup(id: string): BackupRecord | undefined {
    return this.backups.get(id);
  }

  async shutdown(): Promise<void> {
    this.options.onShutdownRequested?.();
    await this.stop();
  }
}
