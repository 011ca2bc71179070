// TEST ONLY: a GuardianBackend built from real parts (FederationProcessor + the dummy module +
// MemoryKv) for the API's tests. Consensus is out of scope of these HTTP-layer tests: a submitted
// transaction stays proposed until the test itself "orders" it with `orderProposed()`, which runs
// processor.processBlock on it exactly as the guardian does for a decided block. Process-level tests
// with real consensus (several guardians on loopback) live with the guardian daemon.
import { z } from "zod";
import {
  InvalidRequestError,
  NotFoundError,
  TransactionRejectedError,
  UnavailableError,
  decodeTransaction,
  encodeConsensusItem,
  encodeTransaction,
  fromHex,
  toHex,
  transactionId,
} from "@conclave/core-common";
import type { BackupRecord, BackupStored, Transaction } from "@conclave/core-common";
import { DummyServerModule, buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { MemoryKv } from "../db/kv.js";
import type { ModuleApiEndpoint } from "../federation/module.js";
import { FederationProcessor, auditView } from "../federation/processor.js";
import type { BlockOutcome } from "../federation/processor.js";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import type { AuditView, GuardianBackend, GuardianStatusView, SessionView, TxStatusView } from "./backend.js";

export const DUMMY = 0;

export function txHex(tx: Transaction): string {
  return toHex(encodeTransaction(tx));
}

export function txidOf(tx: Transaction): string {
  return toHex(transactionId(tx, sha256));
}

/** A faucet transaction paying `amount` to `owner` (no signature needed). */
export function faucetTx(owner: NodeSigner, amount: bigint): Transaction {
  return buildTransaction(
    [faucetInput(DUMMY, amount)],
    [coinOutput(DUMMY, amount, owner.publicKey)],
    [],
    sha256,
  );
}

const CoinParams = z.object({
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  index: z.string().regex(/^[0-9]{1,9}$/),
});
const EchoBody = z.strictObject({ message: z.string().max(100) });
const CoinAnswer = z.object({ amount: z.string(), owner: z.string(), spent: z.boolean() });
const EchoAnswer = z.object({ echoed: z.string(), amount: z.string() });

export class TestBackend implements GuardianBackend {
  readonly db = new MemoryKv();
  readonly module = new DummyServerModule(DUMMY, { faucetAmountMax: 1_000_000n, feePerInput: 0n });
  readonly processor = new FederationProcessor([this.module], { verifier: new NodeVerifier(), hash: sha256 });
  private readonly guardianKey = new NodeSigner(new Uint8Array(32).fill(7));
  private readonly proposed = new Map<string, Transaction>();
  private readonly known = new Map<string, Transaction>();
  private readonly listeners = new Map<string, Set<(s: TxStatusView) => void>>();
  private readonly sessions: SessionView[] = [];
  private height = 0;
  halted: string | null = null;
  shutdownCalls = 0;
  waitsActive = 0;
  waitsAborted = 0;
  lastWaitTimeoutMs: number | undefined;

  federation(): { federationId: string; config: unknown } {
    return { federationId: "ab".repeat(32), config: { name: "test federation", environment: "dev" } };
  }

  status(): GuardianStatusView {
    return {
      guardian: 0,
      name: "guardian-0",
      height: this.height,
      round: 0,
      sessionsSigned: this.sessions.length,
      peersConnected: 0,
      peersTotal: 0,
      mempoolItems: this.proposed.size,
      halted: this.halted,
      version: "test",
      alerts: [],
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
    const txid = txidOf(tx);
    const known = this.transactionStatus(txid);
    if (known) return known;
    const check = this.processor.check(this.db, tx);
    if (!check.ok)
      throw new TransactionRejectedError(check.error.code, check.error.message, check.error.details ?? {});
    this.proposed.set(txid, tx);
    this.known.set(txid, tx);
    const view: TxStatusView = { txid, state: "proposed" };
    this.notify(view);
    return view;
  }

  /** Stands in for consensus: every proposed transaction, in one block, through the real processor. */
  orderProposed(): BlockOutcome {
    const items = [...this.proposed.values()].map((tx) => encodeConsensusItem({ kind: "transaction", tx }));
    this.proposed.clear();
    const outcome = this.processor.processBlock(this.db, this.height, [{ origin: 0, items }]);
    const block = Buffer.concat(items);
    const hash = sha256(block);
    this.sessions.push({
      session: this.height,
      sessionHash: toHex(hash),
      blockIds: [toHex(hash)],
      signatures: [{ signer: 0, signature: toHex(this.guardianKey.sign(hash)) }],
    });
    this.height++;
    for (const e of outcome.events) {
      const view = this.transactionStatus(e.txid);
      if (view) this.notify(view);
    }
    return outcome;
  }

  /** Submit and order at once (test setup). */
  commit(tx: Transaction): TxStatusView | undefined {
    this.submitTransaction(encodeTransaction(tx));
    this.orderProposed();
    return this.transactionStatus(txidOf(tx));
  }

  transactionStatus(txid: string): TxStatusView | undefined {
    const id = fromHex(txid);
    const s = this.processor.txStatus(this.db, id);
    if (!s) return this.proposed.has(txid) ? { txid, state: "proposed" } : undefined;
    if (s.state === "rejected") return { txid, state: "rejected", height: s.height, error: s.error };
    const tx = this.known.get(txid);
    const outcomes = (tx?.outputs ?? []).map(
      (_o, index) =>
        this.module.outputOutcome(this.processor.moduleReadDb(this.db, DUMMY), { txid: id, index }) ?? null,
    );
    return { txid, state: "accepted", height: s.height, fee: s.fee.toString(), outcomes };
  }

  /**
   * Unlike the guardian (which answers an abort with the current status), this one rejects on
   * abort: the API must cope with either.
   */
  waitTransaction(txid: string, timeoutMs: number, signal?: AbortSignal): Promise<TxStatusView | undefined> {
    this.lastWaitTimeoutMs = timeoutMs;
    const now = this.transactionStatus(txid);
    if (!now || now.state !== "proposed") return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      this.waitsActive++;
      let done = false;
      const finish = () => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        this.waitsActive--;
        return true;
      };
      const onAbort = () => {
        if (!finish()) return;
        this.waitsAborted++;
        reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      const timer = setTimeout(() => finish() && resolve(this.transactionStatus(txid)), timeoutMs);
      const unsubscribe = this.subscribeTransaction(txid, (s) => {
        if (s.state !== "proposed" && finish()) resolve(s);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  subscribeTransaction(txid: string, listener: (status: TxStatusView) => void): () => void {
    let set = this.listeners.get(txid);
    if (!set) this.listeners.set(txid, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(txid);
    };
  }

  get subscriberCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private notify(view: TxStatusView): void {
    for (const l of [...(this.listeners.get(view.txid) ?? [])]) l(view);
  }

  sessionCount(): number {
    return this.sessions.length;
  }

  session(index: number): SessionView | undefined {
    return this.sessions[index];
  }

  audit(): AuditView {
    return auditView(this.processor.audit(this.db));
  }

  metrics(): string {
    return `# TYPE conclave_height gauge\nconclave_height ${this.height}\n`;
  }

  /**
   * The dummy module has no endpoints of its own; these stand in for a module's API (a real one
   * validates its params and body the same way and throws ConclaveErrors).
   */
  modules(): ReturnType<GuardianBackend["modules"]> {
    const endpoints: ModuleApiEndpoint[] = [
      ...this.module.api,
      {
        method: "GET",
        path: "coins/:txid/:index",
        params: CoinParams,
        response: CoinAnswer,
        summary: "A coin: its amount, owner and whether it is spent",
        handle: ({ params, db }) => {
          const p = CoinParams.safeParse(params);
          if (!p.success) throw new InvalidRequestError("a coin is <64 hex txid>/<output index>");
          const coin = this.module.outputOutcome(db, {
            txid: fromHex(p.data.txid),
            index: Number(p.data.index),
          });
          if (coin === undefined) throw new NotFoundError(`no coin ${p.data.txid}:${p.data.index}`);
          return coin;
        },
      },
      {
        method: "POST",
        path: "echo",
        body: EchoBody,
        response: EchoAnswer,
        summary: "Echo a short message (tests body validation)",
        handle: ({ body }) => {
          const b = EchoBody.safeParse(body);
          if (!b.success) throw new InvalidRequestError('send {"message": "<at most 100 characters>"}');
          return { echoed: b.data.message, amount: 5n };
        },
      },
      {
        method: "GET",
        path: "broken",
        response: z.object({}),
        summary: "Always fails with a bug (tests the 500 path)",
        handle: () => {
          throw new Error("a bug in the module: secret internal detail");
        },
      },
    ];
    return [
      {
        name: "dummy",
        instanceId: DUMMY,
        endpoints,
        db: () => this.processor.moduleReadDb(this.db, DUMMY),
      },
    ];
  }

  storeBackup(_record: BackupRecord, _client: string): Promise<BackupStored> {
    return Promise.reject(
      new UnavailableError("the test backend keeps no backups (the guardian's BackupStore does)"),
    );
  }

  backup(): BackupRecord | undefined {
    return undefined;
  }

  shutdown(): Promise<void> {
    this.shutdownCalls++;
    return Promise.resolve();
  }
}
