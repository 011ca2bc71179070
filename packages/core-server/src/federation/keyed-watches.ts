// Watches of states a module reads by key (the relay's watch and push, module.ts WatchSource): many
// listeners share one read per key; refresh() re-reads every watched key and tells the listeners of
// the keys whose state changed (compared as JSON). A module calls refresh when its state may have
// changed: after a commit (the bridge's agreed mints and burns) or on its own poll (a chain node).
// The number of distinct keys is bounded (keysMax): past it, a new key is refused with a clear error
// and what is watched already goes on.
import { ConclaveError } from "@conclave/core-common";
import type { WatchHandle, WatchState } from "./module.js";

export interface KeyedWatchesOptions {
  /** Reads the states of `keys` now (undefined: nothing known yet). */
  readonly read: (keys: readonly string[]) => Promise<ReadonlyMap<string, WatchState | undefined>>;
  /** Distinct keys watched at once (each costs a read per refresh). */
  readonly keysMax: number;
  /** What the error calls the watched thing, e.g. "Monero transactions". */
  readonly what: string;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Entry {
  readonly listeners: Set<(state: WatchState) => void>;
  /** The last state told (JSON), so that only changes are told. */
  last: string | undefined;
}

export class KeyedWatches {
  private readonly entries = new Map<string, Entry>();
  private refreshing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: KeyedWatchesOptions) {}

  /** Distinct keys watched now. */
  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  watch(key: string, listener: (state: WatchState) => void): WatchHandle {
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.options.keysMax)
        throw new ConclaveError(
          "too_many_watches",
          `this guardian watches at most ${this.options.keysMax} ${this.options.what} at once; watch at another guardian or later`,
          { status: 503, details: { limit: this.options.keysMax } },
        );
      entry = { listeners: new Set(), last: undefined };
      this.entries.set(key, entry);
    }
    const e = entry;
    e.listeners.add(listener);
    return {
      current: async () => {
        const state = (await this.options.read([key])).get(key);
        // What the client now has: a later refresh tells it only a change from this.
        if (state !== undefined && this.entries.get(key) === e && e.last === undefined)
          e.last = JSON.stringify(state);
        return state;
      },
      unsubscribe: () => {
        e.listeners.delete(listener);
        if (e.listeners.size === 0 && this.entries.get(key) === e) this.entries.delete(key);
      },
    };
  }

  /**
   * Re-reads every watched key and tells each key's listeners its new state if it changed. One
   * refresh at a time; a call while one runs makes one more after it. Never rejects (a failed read
   * is logged; the next refresh tries again).
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const keys = this.keys();
        if (keys.length === 0) continue;
        try {
          const states = await this.options.read(keys);
          for (const key of keys) {
            const entry = this.entries.get(key);
            const state = states.get(key);
            if (!entry || state === undefined) continue;
            const json = JSON.stringify(state);
            if (json === entry.last) continue;
            entry.last = json;
            for (const l of [...entry.listeners]) l(state);
          }
        } catch (e) {
          this.options.log?.("watch.read-failed", { what: this.options.what, error: String(e) });
        }
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }
}
