// The contract between the federation core and a module's server half (Fedimint's
// ServerModule, in TypeScript). A module gets a database transaction scoped to its own key space
// and never a clock, a socket or a random source: everything it decides must be a function of
// the ordered consensus history, so that every honest guardian decides the same.
import type { z } from "zod";
import type { TxInput, TxOutput } from "@conclave/core-common";
import type { ReadTx, WriteTx } from "../db/kv.js";
import type { Unseal } from "./unseal.js";

/** Why a module refused an input or output: a stable code and a message the user can act on. */
export interface ModuleError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type ModuleResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ModuleError };

export const ok = <T>(value: T): ModuleResult<T> => ({ ok: true, value });
export const fail = <T = never>(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): ModuleResult<T> => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});

export interface InputMeta {
  /** Value the input brings, in the base unit (must equal the input's declared amount). */
  readonly amount: bigint;
  readonly fee: bigint;
  /** Ed25519 keys that must sign the transaction id for this input to be spent. */
  readonly signers: readonly Uint8Array[];
}

export interface OutputMeta {
  readonly amount: bigint;
  readonly fee: bigint;
}

export interface OutPoint {
  readonly txid: Uint8Array;
  readonly index: number;
}

export interface Audit {
  readonly assets: bigint;
  readonly liabilities: bigint;
}

/** A condition a module reports in the guardian's status: a stable code and what it means. */
export interface ModuleAlert {
  readonly code: string;
  readonly message: string;
}

interface ModuleApiEndpointBase {
  /** Path below /v1/modules/<module name>/, with `:name` for each path parameter. */
  readonly path: string;
  readonly summary: string;
  /**
   * One string schema per `:name` in `path`, no more, no fewer (the API server refuses to start
   * otherwise), with the constraints `handle` checks. Published in /openapi.json.
   */
  readonly params?: z.ZodObject<Record<string, z.ZodType>>;
  /** What `handle` returns (the 200 answer's JSON), published in /openapi.json. */
  readonly response: z.ZodType;
  /**
   * Validates its own params and body (the core passes untrusted JSON; `body` is the schema to
   * validate it with) and returns JSON or throws a ConclaveError. `client` is the caller's rate-limit
   * key (its IP address, an IPv6 /64; absent outside HTTP), for a module's own per-client bounds.
   */
  handle(request: { params: Record<string, string>; body: unknown; db: ReadTx; client?: string }): unknown;
}

/**
 * An HTTP endpoint of a module, under /v1/modules/<module name>/. It declares its schemas (zod) so
 * that /openapi.json documents it like a core route: path parameters, request body, answer.
 */
export type ModuleApiEndpoint =
  | (ModuleApiEndpointBase & { readonly method: "GET" })
  | (ModuleApiEndpointBase & {
      readonly method: "POST";
      /** The JSON body's schema (the one `handle` validates with). */
      readonly body: z.ZodType;
    });

/** What the guardian gives a module that works in the background (e.g. watching a chain). */
export interface ModuleContext {
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  /** Asks the guardian to collect consensusProposal() now rather than at its next poll. */
  readonly wake: () => void;
  /** This guardian's index in the federation. */
  readonly self: number;
  /**
   * Opens a message a client sealed to this guardian for this module instance and `purpose`
   * (core-common seal.ts); throws SealError (misdirected_sealed names the right guardian; unsealable).
   * The guardian's secret never reaches the module. Absent where no guardian runs the module (tests).
   */
  readonly unseal?: Unseal;
  /** The federation id (what a module binds into ids it signs, e.g. the bridge's deposit ids). */
  readonly federationId?: Uint8Array;
  /**
   * Stops this guardian as a failed audit does (GUARDIAN HALTED), for a module whose own check of an
   * external system finds the books broken (the bridge: more wXMR on chain than ever signed).
   */
  readonly halt?: (reason: string) => void;
  /**
   * A directory of this module instance's own (DATA/db/modules/<instanceId>), for what a module keeps
   * outside consensus at this guardian only (the relay's mailbox and recovery store). Never the
   * consensus database: what is written here is not ordered, replicated or audited. Absent in tests
   * that run no guardian.
   */
  readonly dataDir?: string;
  /**
   * Watches a state this guardian knows (a transaction's status and outcomes: kind "tx"; others from
   * the module that offers the kind, e.g. monero's "monero-tx"), for the relay's watch and push.
   * Throws NotFoundError for a kind nobody offers, InvalidRequestError for a key the source refuses.
   */
  readonly watch?: WatchFn;
  /**
   * This module's view of the consensus state as last committed (read-only), for a module that serves
   * watches of its agreed state (the bridge's mints and burns) outside a request.
   */
  readonly readState?: () => ReadTx;
}

/** What a watched thing is now (JSON); sources report the whole state at every change. */
export type WatchState = Readonly<Record<string, unknown>>;

/** A watch on one (kind, key): its state now (read after subscribing: no change falls in between). */
export interface WatchHandle {
  current(): Promise<WatchState | undefined>;
  unsubscribe(): void;
}

export type WatchFn = (kind: string, key: string, listener: (state: WatchState) => void) => WatchHandle;

/**
 * States a module knows outside consensus or from it, that a client may wait for (the relay's watch
 * and push): one module per kind. Cheap to subscribe to; the module bounds what one watch costs it.
 */
export interface WatchSource {
  readonly watchKinds: readonly string[];
  watch: WatchFn;
}

/** A WebSocket connection to a module (/v1/modules/<name>/ws), as the API hands it to the module. */
export interface ModuleSocketPeer {
  /** The client's rate-limit key (IPv4 address, IPv6 /64). */
  readonly client: string;
  /** Sends one JSON text frame (dropped once the connection is closed). */
  send(message: Readonly<Record<string, unknown>>): void;
}

/** One open connection's handler; `message` gets each parsed JSON text frame. */
export interface ModuleSocketSession {
  /** Throws (or rejects with) a ConclaveError to answer an error frame; the connection stays open. */
  message(value: unknown): void | Promise<void>;
  close(): void;
}

/**
 * A module's WebSocket endpoint. The API keeps the connection (upgrade, per-client and total
 * connection limits, message size, rate limit, ping/pong keep-alive, slow-reader cut-off) and hands the
 * module only parsed messages.
 */
export interface ModuleSocketHandler {
  open(peer: ModuleSocketPeer): ModuleSocketSession;
}

/**
 * A payout of the federation's Monero asked for by another module's state transition (the bridge:
 * an accepted burn to a Monero address). `ref` is the asking module's own 32-byte name for it,
 * never reused; `value` is what leaves the asker's liabilities: the paying module deducts the
 * payout's fee from it and pays the rest, so nothing is owed twice or lost across the hand-over.
 */
export interface PayoutRequest {
  readonly ref: Uint8Array;
  readonly address: string;
  readonly value: bigint;
}

/** A queued payout: `amount` to the address, `fee` (its share of the Monero fee); amount + fee = value. */
export interface PayoutQueued {
  readonly amount: bigint;
  readonly fee: bigint;
}

/** How far a requested payout got (never its address or amount). */
export interface PayoutProgress {
  readonly state: "queued" | "signing" | "submitted" | "confirmed";
  readonly moneroTxid?: string;
  readonly txKey?: string;
  readonly confirmations?: number;
}

/**
 * Offered by the one module that pays out the federation's reserve (monero). The core calls it on
 * behalf of module `from` with the payer's own key space in the caller's database transaction.
 * A refusal is a value (the asker decides what to do instead: the bridge re-mints the burn).
 */
export interface PayoutService {
  requestPayout(db: WriteTx, from: number, request: PayoutRequest): ModuleResult<PayoutQueued>;
  payoutProgress(db: ReadTx, from: number, ref: Uint8Array): PayoutProgress | undefined;
}

/**
 * What the core gives a module to act on another module within one state transition, the only way
 * modules reach each other. `db` is the caller's own view, as the core handed it (a consensus item's,
 * a transaction's, or the API's); the core maps it onto the other module's key space in the same
 * database transaction, so an item or transaction that is refused undoes both modules' writes, and
 * every guardian applies it at the same point of the ordered history.
 */
export interface ModuleLinks {
  /** Payouts of the federation's Monero; absent when no module offers them. */
  readonly payouts?: {
    request(db: WriteTx, request: PayoutRequest): ModuleResult<PayoutQueued>;
    progress(db: ReadTx, ref: Uint8Array): PayoutProgress | undefined;
  };
}

export interface ServerModule {
  readonly kind: string;
  readonly instanceId: number;
  /** Test-only modules are refused by any federation whose config is not marked as a dev federation. */
  readonly testOnly: boolean;

  /** Items this guardian wants ordered now (e.g. its view of a chain height). May be empty. */
  consensusProposal(db: ReadTx): Uint8Array[];
  /** An ordered item from guardian `peer`. Errors are logged and counted, never fatal. */
  processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void>;
  /** `txid`: the transaction spending the input (a module may record which transaction spent what). */
  processInput(db: WriteTx, input: TxInput, txid: Uint8Array): ModuleResult<InputMeta>;
  /**
   * Optional: this module's cheap stateless checks of its inputs of one transaction (how many,
   * whether they decode), run before any state lookup, signature or verifyInputs, so that a
   * transaction breaking a limit costs almost nothing. Same error conventions as verifyInputs.
   */
  precheckInputs?(inputs: readonly TxInput[]): ModuleResult<void>;
  /**
   * Optional: the checks of this module's inputs of one transaction that need no state, all at
   * once (the mint verifies a transaction's notes with one batched pairing check). The processor
   * calls it after processInput accepted each of them and before the transaction can be accepted,
   * so a module with verifyInputs may leave these checks out of processInput. Its result must be a
   * function of the inputs alone: the processor remembers a success per transaction id. An error's
   * `details.input` is the index among `inputs`, which the processor maps to the transaction's.
   */
  verifyInputs?(inputs: readonly TxInput[]): ModuleResult<void>;
  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta>;
  /** What the client gets for an accepted output (JSON), if anything yet. */
  outputOutcome(db: ReadTx, outPoint: OutPoint): unknown;
  audit(db: ReadTx): Audit;
  /**
   * Optional: this module's own Prometheus metrics (exposition lines, `# TYPE` included), appended to
   * the guardian's GET /metrics, e.g. the monero module's agreed reserves and whether it is paused.
   */
  metrics?(db: ReadTx): string;
  /**
   * Optional: what operators must see in the guardian's GET /v1/status now (consensus state only),
   * e.g. the monero module's payouts paused while its agreed reserves are short. Usually none.
   */
  alerts?(db: ReadTx): readonly ModuleAlert[];
  readonly api: readonly ModuleApiEndpoint[];
  /**
   * Optional background work outside consensus (watching this guardian's own chain node). What it
   * learns enters consensus only through consensusProposal, so every guardian decides the same.
   */
  start?(context: ModuleContext): void;
  /**
   * Optional: checks against this guardian's own external systems before the guardian runs (the
   * bridge: chain id, contract, guardian set on its EVM node). Throws to refuse to start.
   */
  preflight?(context: ModuleContext): Promise<void>;
  stop?(): Promise<void>;
  /** Optional: this module pays out the reserve for other modules (at most one module per federation). */
  readonly payoutService?: PayoutService;
  /** Optional: called once by the core with this module's links to the others (ModuleLinks). */
  link?(links: ModuleLinks): void;
  /** Optional: states this module lets clients watch (WatchSource), reached through ModuleContext.watch. */
  readonly watchable?: WatchSource;
  /**
   * Optional: called after each decided block is committed (outside consensus: its result is this
   * guardian's own), with this module's view of the new state; e.g. a watchable module re-reads what
   * is watched and tells the listeners of what changed.
   */
  committed?(db: ReadTx): void;
  /** Optional: a WebSocket endpoint at /v1/modules/<kind>/ws (ModuleSocketHandler). */
  readonly socket?: ModuleSocketHandler;
}
