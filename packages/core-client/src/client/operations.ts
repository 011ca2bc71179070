// The operation log and the event stream of one operation.
//
// Every operation a client half starts is written down under `oplog/<id>` before anything is sent:
// its module (instance and kind), its kind, its state (pending, done, failed), what the half needs
// to run it again (`meta`), and once it ends its result or error. The log is listable, and the core
// hands each pending entry back to its half's `resumeOperation` when the client opens again.
//
// An operation's events (progress, done, failed) go to one OperationStream: listeners, an async
// iterator, and `result`, a promise of the done value. The CLI renders it; a web page can too.
import { ConclaveError } from "@conclave/core-common";
import type { ClientDb, DbOp } from "./db.js";
import { put, scanPrefix } from "./db.js";
import { json, parseJson } from "./json.js";

export const P_OPLOG = "oplog/";

export type OperationState = "pending" | "done" | "failed";

/** JSON a half stores with its operation: what it needs to run it again after a crash. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

export interface OperationRecord {
  /** Chronological: the start time (hex, 12 digits), then a half's id or random hex. */
  readonly id: string;
  readonly instanceId: number;
  /** The module kind of the half that runs it ("mint", "monero", ...). */
  readonly module: string;
  /** The half's own name of the operation ("withdraw", "faucet", ...). */
  readonly kind: string;
  readonly state: OperationState;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly meta: JsonValue;
  readonly result?: JsonValue;
  readonly error?: { readonly code: string; readonly message: string };
}

/** The log, under the client's database (each call is one atomic write). */
export class OperationLog {
  constructor(
    private readonly db: ClientDb,
    private readonly now: () => number,
    private readonly random: (bytes: number) => Uint8Array,
  ) {}

  /** The write that starts an operation, for a half to put into its own atomic write. */
  startOp(
    instanceId: number,
    module: string,
    kind: string,
    meta: JsonValue,
  ): { record: OperationRecord; op: DbOp } {
    const at = this.now();
    const suffix = [...this.random(8)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const record: OperationRecord = {
      id: `${at.toString(16).padStart(12, "0")}-${suffix}`,
      instanceId,
      module,
      kind,
      state: "pending",
      createdAtMs: at,
      updatedAtMs: at,
      meta,
    };
    return { record, op: put(P_OPLOG + record.id, json(record)) };
  }

  async start(instanceId: number, module: string, kind: string, meta: JsonValue): Promise<OperationRecord> {
    const { record, op } = this.startOp(instanceId, module, kind, meta);
    await this.db.write([op]);
    return record;
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const raw = await this.db.get(P_OPLOG + id);
    return raw ? parseJson<OperationRecord>(raw) : undefined;
  }

  /** Oldest first; optionally only one state or one module instance. */
  async list(filter: { state?: OperationState; instanceId?: number } = {}): Promise<OperationRecord[]> {
    return (await scanPrefix(this.db, P_OPLOG))
      .map(([, v]) => parseJson<OperationRecord>(v))
      .filter((r) => filter.state === undefined || r.state === filter.state)
      .filter((r) => filter.instanceId === undefined || r.instanceId === filter.instanceId);
  }

  /** The write that updates a pending operation's meta (a step it reached). */
  updateOp(record: OperationRecord, meta: JsonValue): { record: OperationRecord; op: DbOp } {
    const next: OperationRecord = { ...record, meta, updatedAtMs: this.now() };
    return { record: next, op: put(P_OPLOG + record.id, json(next)) };
  }

  finishOp(record: OperationRecord, result: JsonValue): DbOp {
    const next: OperationRecord = { ...record, state: "done", result, updatedAtMs: this.now() };
    return put(P_OPLOG + record.id, json(next));
  }

  failOp(record: OperationRecord, error: unknown): DbOp {
    const e =
      error instanceof ConclaveError
        ? { code: error.code, message: error.message }
        : { code: "error", message: error instanceof Error ? error.message : String(error) };
    const next: OperationRecord = { ...record, state: "failed", error: e, updatedAtMs: this.now() };
    return put(P_OPLOG + record.id, json(next));
  }

  async finish(record: OperationRecord, result: JsonValue): Promise<void> {
    await this.db.write([this.finishOp(record, result)]);
  }

  async fail(record: OperationRecord, error: unknown): Promise<void> {
    await this.db.write([this.failOp(record, error)]);
  }
}

export type OperationEvent<P, R> =
  | { readonly type: "progress"; readonly progress: P }
  | { readonly type: "done"; readonly result: R }
  | { readonly type: "failed"; readonly error: unknown };

/**
 * The events of one operation, in order: any number of progress events, then one done or failed.
 * A listener added late still gets the end; the iterator yields every event from its creation on.
 */
export class OperationStream<P, R> implements AsyncIterable<OperationEvent<P, R>> {
  private readonly listeners = new Set<(e: OperationEvent<P, R>) => void>();
  private end: OperationEvent<P, R> | undefined;
  /** Resolves with the done value, rejects with the failure. */
  readonly result: Promise<R>;
  private settle!: { resolve: (r: R) => void; reject: (e: unknown) => void };

  constructor() {
    this.result = new Promise<R>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A stream whose caller only listens must not turn its failure into an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** Calls `listener` for every event from now on (and at once with the end, if it came). */
  subscribe(listener: (e: OperationEvent<P, R>) => void): () => void {
    if (this.end) {
      listener(this.end);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  progress(progress: P): void {
    this.emit({ type: "progress", progress });
  }

  done(result: R): R {
    this.emit({ type: "done", result });
    this.settle.resolve(result);
    return result;
  }

  failed(error: unknown): never {
    this.emit({ type: "failed", error });
    this.settle.reject(error);
    throw error;
  }

  /** Runs `f`, ending the stream with its result or its error. */
  async run(f: () => Promise<R>): Promise<R> {
    try {
      return this.done(await f());
    } catch (e) {
      return this.failed(e);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<OperationEvent<P, R>> {
    const queue: OperationEvent<P, R>[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    this.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    return {
      next: async (): Promise<IteratorResult<OperationEvent<P, R>>> => {
        while (queue.length === 0) {
          if (finished) return { done: true, value: undefined };
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
        const e = queue.shift()!;
        if (e.type !== "progress") finished = true;
        return { done: false, value: e };
      },
    };
  }

  private emit(e: OperationEvent<P, R>): void {
    if (this.end) return;
    if (e.type !== "progress") this.end = e;
    for (const l of [...this.listeners]) l(e);
    if (e.type !== "progress") this.listeners.clear();
  }
}

/**
 * Starts an operation as a stream: `f` gets the stream's `progress` and runs from the next
 * microtask on (so whoever holds the stream subscribes before the first event), and its result or
 * error ends the stream (`done` or `failed`; the failure reaches `result` and the listeners, never
 * an unhandled rejection).
 */
export function startOperation<P, R>(f: (progress: (p: P) => void) => Promise<R>): OperationStream<P, R> {
  const stream = new OperationStream<P, R>();
  queueMicrotask(() => {
    stream.run(() => f((p) => stream.progress(p))).catch(() => undefined);
  });
  return stream;
}

/** An operation's result, its progress events handed to `onProgress` (the callback form of a stream). */
export function progressOf<P, R>(stream: OperationStream<P, R>, onProgress?: (p: P) => void): Promise<R> {
  if (onProgress) stream.subscribe((e) => (e.type === "progress" ? onProgress(e.progress) : undefined));
  return stream.result;
}
