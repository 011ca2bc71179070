// The mint client half's results (re-exported by @conclave/wallet-standard's types.ts).

/** One denomination's notes in the wallet. */
export interface DenominationHolding {
  readonly denominationLog2: number;
  /** 2^denominationLog2, decimal string. */
  readonly amount: string;
  readonly count: number;
}

/** What `spend` gives: a string another user passes to `reissue`. */
export interface SpendResult {
  readonly id: string;
  readonly amount: bigint;
  readonly notes: string;
}

export interface ReissueResult {
  /** The (last) transaction; "" when there was nothing to do (split or combine already satisfied). */
  readonly txid: string;
  /** Every transaction, in order, when the operation took more than one (notesPerTxMax). */
  readonly txids?: readonly string[];
  /** Value received into fresh notes (inputs minus fees). */
  readonly amount: bigint;
  readonly fee: bigint;
  readonly notesIssued: number;
}

/** Offline validation of a note string: federation, encoding and the federation's signatures. */
export interface ValidateResult {
  readonly federationId: string;
  readonly amount: bigint;
  readonly notes: readonly {
    readonly denominationLog2: number;
    readonly nonce: string;
    readonly valid: boolean;
  }[];
  /** Present only when asked to check online: t guardians' answer per note. */
  readonly spent?: readonly boolean[];
}

export interface BackupResult {
  readonly version: number;
  readonly notes: number;
  readonly bytes: number;
  /** Guardians that stored it (at least t, or the call throws). */
  readonly storedBy: readonly number[];
}

export interface RestoreResult {
  /** Unspent notes recovered, and their value. */
  readonly notes: number;
  readonly amount: bigint;
  /** Of them, from the encrypted backup / found by re-deriving nonces past it. */
  readonly fromBackup: number;
  readonly fromScan: number;
  /** Notes in the backup that the guardians report spent (dropped). */
  readonly spentDropped: number;
  readonly backupVersion?: number;
  readonly elapsedMs: number;
  /**
   * Where the time went: joining (config, keys), downloading and opening the backup, asking which
   * backed-up notes are spent, scanning past the backup (with its spent check; it runs at the same
   * time as the backup's spent check), writing the database.
   */
  readonly phasesMs?: {
    readonly join: number;
    readonly backup: number;
    readonly spent: number;
    readonly scan: number;
    readonly write: number;
  };
}
