// Keeps the wallet's recovery record fresh without being asked (docs/relay.md "Recovery store"):
//
// - after a database write that changes what the record holds (RelayClient.recoveryCovers), one
//   refresh `debounceMs` later: a burst of operations inside that time makes one write;
// - never two attempts closer than `minIntervalMs` (each write costs every guardian up to 64 KiB of
//   its 4 MiB per network per hour; 5 minutes bounds one wallet to 12 writes, 768 KiB, an hour);
// - on open and on resume, a refresh that also stores a record `maxAgeMs` old or more (well inside
//   the guardians' 180-day eviction horizon), or one whose state changed while the wallet was closed;
// - a refresh with nothing changed writes nothing (the wallet keeps the stored record's digest);
// - a failed write is tried again after `retryMs`, doubling to `retryMaxMs`; the state stays in the
//   database and the digest stays the old one, so a crash or a close loses nothing: the next open's
//   refresh stores it.
//
// The clock and the timers are injected (tests run them by hand). Browser-safe.
import type { RecoveryStoreResult } from "./recovery.js";

export const RECOVERY_DEBOUNCE_MS = 30_000;
export const RECOVERY_MIN_INTERVAL_MS = 5 * 60_000;
export const RECOVERY_MAX_AGE_MS = 30 * 24 * 3_600_000;
export const RECOVERY_RETRY_MS = 60_000;
export const RECOVERY_RETRY_MAX_MS = 3_600_000;

export interface RecoveryTimers {
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** setTimeout, unref'd in Node (a pending refresh does not keep a CLI process alive). */
export const realTimers: RecoveryTimers = {
  set(f, ms) {
    const h: unknown = setTimeout(f, ms);
    // A Node Timeout has unref; a browser's timer id is a number.
    if (typeof h === "object" && h !== null && "unref" in h) (h as { unref(): void }).unref();
    return h;
  },
  clear(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export interface RecoveryKeeperOptions {
  readonly debounceMs?: number;
  readonly minIntervalMs?: number;
  readonly maxAgeMs?: number;
  readonly retryMs?: number;
  readonly retryMaxMs?: number;
  readonly now?: () => number;
  readonly timers?: RecoveryTimers;
  /** Each refresh's outcome: the stored record, undefined (nothing to store), or the error. */
  readonly onRefresh?: (outcome: { stored?: RecoveryStoreResult; error?: unknown }) => void;
}

/** What the keeper refreshes: RelayClient.refreshRecovery. */
export type RecoveryRefresh = (maxAgeMs: number) => Promise<RecoveryStoreResult | undefined>;

export class RecoveryKeeper {
  private readonly debounceMs: number;
  private readonly minIntervalMs: number;
  readonly maxAgeMs: number;
  private readonly retryMs: number;
  private readonly retryMaxMs: number;
  private readonly now: () => number;
  private readonly timers: RecoveryTimers;
  private timer: unknown = undefined;
  private timerAt = 0;
  private running: Promise<void> | undefined;
  /** A change arrived while a refresh ran: schedule another after it. */
  private dirty = false;
  private lastAttemptAt = -Infinity;
  private failures = 0;
  private stopped = false;
  private readonly stops: (() => void)[] = [];
  /** Writes (stored records) and failed attempts so far. */
  stored = 0;
  failed = 0;
  lastError: unknown = undefined;

  constructor(
    private readonly refresh: RecoveryRefresh,
    private readonly options: RecoveryKeeperOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? RECOVERY_DEBOUNCE_MS;
    this.minIntervalMs = options.minIntervalMs ?? RECOVERY_MIN_INTERVAL_MS;
    this.maxAgeMs = options.maxAgeMs ?? RECOVERY_MAX_AGE_MS;
    this.retryMs = options.retryMs ?? RECOVERY_RETRY_MS;
    this.retryMaxMs = options.retryMaxMs ?? RECOVERY_RETRY_MAX_MS;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? realTimers;
  }

  /** The record's state changed: one refresh after the debounce (coalescing what comes meanwhile). */
  changed(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.schedule(Math.max(this.debounceMs, this.lastAttemptAt + this.minIntervalMs - this.now()));
  }

  /** The wallet opened or resumed: refresh now (stores if changed or old), within the bound. */
  opened(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.schedule(Math.max(0, this.lastAttemptAt + this.minIntervalMs - this.now()), true);
  }

  /** Whether a refresh is scheduled or running. */
  get pending(): boolean {
    return this.timer !== undefined || this.running !== undefined;
  }

  /** Waits for the refresh that is running, if any (and for the ones it schedules right away). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more refreshes; resolves once the one running (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    for (const f of this.stops.splice(0)) f();
    await this.idle();
  }

  /** Calls `f` at `stop()` (a listener to remove). */
  onStop(f: () => void): void {
    this.stops.push(f);
  }

  /** Schedules at `delayMs` from now, or keeps an earlier scheduled refresh (coalescing). */
  private schedule(delayMs: number, earlier = false): void {
    const at = this.now() + delayMs;
    if (this.timer !== undefined) {
      if (!earlier || this.timerAt <= at) return;
      this.clearTimer();
    }
    this.timerAt = at;
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.dirty = false;
    this.lastAttemptAt = this.now();
    this.running = this.refresh(this.maxAgeMs).then(
      (stored) => {
        this.failures = 0;
        this.lastError = undefined;
        if (stored) this.stored++;
        this.options.onRefresh?.(stored ? { stored } : {});
        this.running = undefined;
        if (this.dirty) this.changed();
      },
      (error: unknown) => {
        this.failures++;
        this.failed++;
        this.lastError = error;
        this.options.onRefresh?.({ error });
        this.running = undefined;
        if (this.stopped) return;
        const backoff = Math.min(this.retryMaxMs, this.retryMs * 2 ** (this.failures - 1));
        this.schedule(Math.max(backoff, this.minIntervalMs));
      },
    );
  }
}

export interface AutoRecoveryOptions extends RecoveryKeeperOptions {
  /**
   * Also store a first record for a wallet that has none (default false: the keeper keeps fresh the
   * record of a wallet that stored or restored one, `storeRecovery`, and writes none on its own).
   */
  readonly first?: boolean;
}

/** What keepRecoveryFresh needs of the relay half (RelayClient). */
export interface RecoveryOwner {
  refreshRecovery(maxAgeMs: number): Promise<RecoveryStoreResult | undefined>;
  hasRecoveryRecord(): Promise<boolean>;
  recoveryCovers(keys: readonly string[]): boolean;
}

/**
 * A keeper of `relay`'s recovery record, told of every write to `db` that changes what the record
 * holds. Call `opened()` when the wallet opens or resumes and `stop()` before it closes.
 */
export function keepRecoveryFresh(
  db: { onWrite(listener: (keys: readonly string[]) => void): () => void },
  relay: RecoveryOwner,
  options: AutoRecoveryOptions = {},
): RecoveryKeeper {
  const keeper = new RecoveryKeeper(async (maxAgeMs) => {
    if (!options.first && !(await relay.hasRecoveryRecord())) return undefined;
    return relay.refreshRecovery(maxAgeMs);
  }, options);
  const off = db.onWrite((keys) => {
    if (relay.recoveryCovers(keys)) keeper.changed();
  });
  keeper.onStop(off);
  return keeper;
}
