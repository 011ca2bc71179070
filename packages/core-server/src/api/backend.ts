// What the guardian's HTTP/WebSocket API needs from the guardian. The API layer validates and
// bounds every request and maps errors to HTTP; the backend does the work. Keeping this seam
// narrow lets the API be tested on its own and keeps HTTP concerns out of the core.
import type { BackupRecord, BackupStored } from "@conclave/core-common";
import type { ReadTx } from "../db/kv.js";
import type { ModuleApiEndpoint, ModuleSocketHandler } from "../federation/module.js";

export type TxStatusView =
  | { readonly txid: string; readonly state: "proposed" }
  | {
      readonly txid: string;
      readonly state: "accepted";
      readonly height: number;
      readonly fee: string;
      /** One entry per output: the module's outcome (JSON), or null while it has none yet. */
      readonly outcomes: readonly unknown[];
    }
  | {
      readonly txid: string;
      readonly state: "rejected";
      readonly height: number;
      readonly error: {
        readonly code: string;
        readonly message: string;
        readonly details?: Record<string, unknown>;
      };
    };

export interface GuardianStatusView {
  readonly guardian: number;
  readonly name: string;
  readonly height: number;
  readonly round: number;
  readonly sessionsSigned: number;
  readonly peersConnected: number;
  readonly peersTotal: number;
  readonly mempoolItems: number;
  /** Set when the guardian stopped processing (audit failure): the reason, loudly. */
  readonly halted: string | null;
  readonly version: string;
  /** What the modules report now (ServerModule.alerts), e.g. the monero module's reserves_short pause. */
  readonly alerts: readonly {
    readonly module: string;
    readonly instanceId: number;
    readonly code: string;
    readonly message: string;
  }[];
}

/**
 * What the public sees of a signed session: its header (the ids of its blocks and the hash over
 * them) and the guardians' signatures, enough to check that t guardians signed it. Never the blocks:
 * they carry every transaction and consensus item (payout addresses, tx keys, multisig exports,
 * transaction sets); guardians catch up on them over their authenticated links (replica.ts).
 */
export interface SessionView {
  readonly session: number;
  readonly sessionHash: string;
  readonly blockIds: readonly string[];
  readonly signatures: readonly { readonly signer: number; readonly signature: string }[];
}

export interface AuditView {
  readonly modules: readonly {
    readonly instanceId: number;
    readonly kind: string;
    readonly assets: string;
    readonly liabilities: string;
  }[];
  readonly assets: string;
  readonly liabilities: string;
}

export interface GuardianBackend {
  /** The public federation config (JSON) and its id (hex), as clients join with. */
  federation(): { readonly federationId: string; readonly config: unknown };
  status(): GuardianStatusView;
  /**
   * Check a transaction (canonical bytes) against the current state and propose it to consensus.
   * Throws a ConclaveError (InvalidRequestError for undecodable bytes, TransactionRejectedError with
   * the module's code when the check fails, UnavailableError when halted or the queue is full).
   * Idempotent: resubmitting a known transaction returns its current status.
   */
  submitTransaction(tx: Uint8Array): TxStatusView;
  transactionStatus(txid: string): TxStatusView | undefined;
  /** Resolves with the status once it is final (accepted / rejected), or at the timeout with the current one. */
  waitTransaction(txid: string, timeoutMs: number, signal?: AbortSignal): Promise<TxStatusView | undefined>;
  /** Called on every status change of this transaction; returns the unsubscribe function. */
  subscribeTransaction(txid: string, listener: (status: TxStatusView) => void): () => void;
  sessionCount(): number;
  session(index: number): SessionView | undefined;
  audit(): AuditView;
  /** Prometheus text exposition format. */
  metrics(): string;
  modules(): readonly {
    readonly name: string;
    readonly instanceId: number;
    readonly endpoints: readonly ModuleApiEndpoint[];
    readonly db: () => ReadTx;
    /** The module's WebSocket endpoint (/v1/modules/<name>/ws), if it has one. */
    readonly socket?: ModuleSocketHandler;
  }[];
  /**
   * Stores a client's encrypted backup (outside consensus) once its owner's signature verifies and
   * its version is newer than the stored one (StaleBackupError, 409, otherwise). `client` is the
   * uploader's rate-limit key (IPv4 address or IPv6 /64): new keys are admitted per client network.
   */
  storeBackup(record: BackupRecord, client: string): Promise<BackupStored>;
  backup(id: string): BackupRecord | undefined;
  /** Graceful shutdown of the whole guardian (admin). */
  shutdown(): Promise<void>;
}
