// The monero-tx watch (the relay's watch and push, core-server WatchSource): a Monero transaction's
// depth on THIS guardian's own monerod, by txid alone: no view key, no wallet. Each guardian answers
// from its own node (no consensus): a client that wants more than one node's word watches at several.
//   state  { txid, state: "unknown" | "pool" | "block", confirmations, blockHeight? }
// confirmations is monerod's block count minus the block's height (1 in the newest block, never less
// in a block), 0 in the pool or unknown, and stops at MONERO_TX_CONFIRMATIONS_TOLD_MAX so that a deep transaction's state
// stops changing. The watched txids are read every pollMs while any is watched: one get_height and
// get_transactions calls of at most 100 txids each (TxDepthSource). Distinct txids per guardian are
// bounded (MONERO_TX_WATCH_KEYS_MAX).
import { InvalidRequestError, NotFoundError } from "@conclave/core-common";
import { KeyedWatches } from "@conclave/core-server";
import type { WatchFn, WatchSource, WatchState } from "@conclave/core-server";
import type { ChainSource, TxLocation } from "./watcher.js";

export const MONERO_TX_KIND = "monero-tx";
/** Distinct txids one guardian watches at once (each read from its monerod every poll). */
export const MONERO_TX_WATCH_KEYS_MAX = 1000;
/** Confirmations told at most: past this a transaction's state no longer changes. */
export const MONERO_TX_CONFIRMATIONS_TOLD_MAX = 60;

/** What the watch reads from the guardian's monerod. */
export interface TxDepthSource {
  height(): Promise<number>;
  /** Where each txid is (absent or found: false: unknown to the node). */
  transactions(
    txids: readonly string[],
  ): Promise<ReadonlyMap<string, { readonly found: false } | TxLocation>>;
}

/** A TxDepthSource over a ChainSource: its batch call if it has one, else one call per txid. */
export function depthSource(
  chain: ChainSource & Partial<Pick<TxDepthSource, "transactions">>,
): TxDepthSource {
  return {
    height: () => chain.height(),
    transactions: chain.transactions
      ? (txids) => chain.transactions!(txids)
      : async (txids) =>
          new Map(await Promise.all(txids.map(async (t) => [t, await chain.transaction(t)] as const))),
  };
}

export function txDepthState(
  txid: string,
  height: number,
  at: { readonly found: false } | TxLocation | undefined,
): WatchState {
  if (!at?.found) return { txid, state: "unknown", confirmations: 0 };
  if (at.inPool) return { txid, state: "pool", confirmations: 0 };
  return {
    txid,
    state: "block",
    blockHeight: at.blockHeight,
    // In a block is at least 1 confirmation, whatever a node behind its own answer says of its height.
    confirmations: Math.min(Math.max(height - at.blockHeight, 1), MONERO_TX_CONFIRMATIONS_TOLD_MAX),
  };
}

export class MoneroTxWatches implements WatchSource {
  readonly watchKinds = [MONERO_TX_KIND] as const;
  private readonly watches: KeyedWatches;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: TxDepthSource | undefined,
    private readonly pollMs: number,
    log?: (event: string, fields: Record<string, unknown>) => void,
  ) {
    this.watches = new KeyedWatches({
      read: async (keys) => {
        const s = this.source!;
        // Transactions first, then the height: a block mined between the two calls then only adds
        // a confirmation. Read the other way round, a transaction found in a block the height did
        // not count yet was told in a block with 0 confirmations (CI failure of 91fe165).
        const found = new Map<string, { readonly found: false } | TxLocation>();
        for (let i = 0; i < keys.length; i += 100)
          for (const [k, v] of await s.transactions(keys.slice(i, i + 100))) found.set(k, v);
        const height = await s.height();
        return new Map(keys.map((k) => [k, txDepthState(k, height, found.get(k))] as const));
      },
      keysMax: MONERO_TX_WATCH_KEYS_MAX,
      what: "Monero transactions",
      ...(log ? { log } : {}),
    });
  }

  readonly watch: WatchFn = (kind, key, listener) => {
    if (kind !== MONERO_TX_KIND)
      throw new NotFoundError(`the monero module offers no watch of kind "${kind}"`);
    if (!/^[0-9a-f]{64}$/.test(key))
      throw new InvalidRequestError("a monero-tx watch's key is a Monero txid: 64 lowercase hex digits");
    if (!this.source)
      throw new NotFoundError(
        "this guardian has no monerod of its own (no daemonUrl): watch at another guardian",
      );
    return this.watches.watch(key, listener);
  };

  get size(): number {
    return this.watches.size;
  }

  /** Re-reads every watched txid now (the poll does it every pollMs). Never rejects. */
  refresh(): Promise<void> {
    return this.watches.refresh();
  }

  /** Polls every pollMs while anything is watched. */
  start(): void {
    if (this.timer || !this.source) return;
    this.timer = setInterval(() => {
      if (this.watches.size > 0) void this.watches.refresh();
    }, this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
