// What a client may watch of the bridge (the relay's watch and push, core-server WatchSource): the
// agreed state of this guardian's consensus database, re-read after every committed block.
//   wxmr-mint  TXID:OUTPUT          a wXMR mint output (its federation txid and output index): the
//                                   GET mints/:txid/:index view with `state` (unknown, signed, or its
//                                   return: open, due, returnable, refunded, minted)
//   wxmr-burn  0xTXHASH:LOGINDEX    a burn: the GET burns/:txHash/:logIndex view (unknown, voting,
//                                   accepted with its settlement and payout progress)
// A key names a thing that may not exist yet (a mint accepted later, a burn not yet voted): the
// watch is taken, its state is `unknown`, and the first change is told. Distinct keys per guardian
// are bounded (WXMR_WATCH_KEYS_MAX); a malformed key is refused with the form it must have.
import { InvalidRequestError, NotFoundError, fromHex } from "@conclave/core-common";
import { KeyedWatches } from "@conclave/core-server";
import type { ReadTx, WatchFn, WatchSource, WatchState } from "@conclave/core-server";
import type { BurnKey, MintKey } from "./common.js";
import type { BurnView, MintSignatureView } from "./api.js";

export const WXMR_MINT_KIND = "wxmr-mint";
export const WXMR_BURN_KIND = "wxmr-burn";
/** Distinct mints and burns (each) one guardian watches at once: one state read each per block. */
export const WXMR_WATCH_KEYS_MAX = 4096;

const MINT_KEY = /^([0-9a-f]{64}):(\d{1,5})$/;
const BURN_KEY = /^0x([0-9a-fA-F]{64}):(\d{1,10})$/;

export function parseMintWatchKey(key: string): MintKey {
  const m = MINT_KEY.exec(key);
  if (!m)
    throw new InvalidRequestError(
      "a wxmr-mint watch's key is TXID:OUTPUT (the federation transaction id, 64 lowercase hex, and the output index)",
    );
  return { txid: fromHex(m[1]!), index: Number(m[2]) };
}

export function parseBurnWatchKey(key: string): BurnKey {
  const m = BURN_KEY.exec(key);
  if (!m || Number(m[2]) > 0xffff_ffff)
    throw new InvalidRequestError(
      "a wxmr-burn watch's key is 0xTXHASH:LOGINDEX (the EVM transaction hash and the Burned log's index)",
    );
  return { txHash: fromHex(m[1]!.toLowerCase()), logIndex: Number(m[2]) };
}

/** What the module gives the watches: its views, over a state read. */
export interface BridgeViews {
  mint(db: ReadTx, key: MintKey): MintSignatureView | undefined;
  burn(db: ReadTx, key: BurnKey): BurnView;
}

function mintState(view: MintSignatureView | undefined): WatchState {
  if (!view) return { state: "unknown" };
  return { state: view.expiry?.state ?? "signed", ...view };
}

export class BridgeWatches implements WatchSource {
  readonly watchKinds = [WXMR_MINT_KIND, WXMR_BURN_KIND] as const;
  private readState: (() => ReadTx) | undefined;
  private readonly mints: KeyedWatches;
  private readonly burns: KeyedWatches;

  constructor(
    private readonly views: BridgeViews,
    log?: (event: string, fields: Record<string, unknown>) => void,
  ) {
    const reader =
      <K>(parse: (key: string) => K, view: (db: ReadTx, k: K) => WatchState) =>
      (keys: readonly string[]) => {
        const db = this.db();
        return Promise.resolve(new Map(keys.map((k) => [k, view(db, parse(k))] as const)));
      };
    this.mints = new KeyedWatches({
      read: reader(parseMintWatchKey, (db, k) => mintState(this.views.mint(db, k))),
      keysMax: WXMR_WATCH_KEYS_MAX,
      what: "wXMR mints",
      ...(log ? { log } : {}),
    });
    this.burns = new KeyedWatches({
      read: reader(parseBurnWatchKey, (db, k) => ({ ...this.views.burn(db, k) })),
      keysMax: WXMR_WATCH_KEYS_MAX,
      what: "wXMR burns",
      ...(log ? { log } : {}),
    });
  }

  /** The module's started: its state reader (ModuleContext.readState). */
  start(readState: () => ReadTx): void {
    this.readState = readState;
  }

  private db(): ReadTx {
    if (!this.readState)
      throw new NotFoundError("this guardian's bridge module serves no watches (not started)");
    return this.readState();
  }

  readonly watch: WatchFn = (kind, key, listener) => {
    if (kind === WXMR_MINT_KIND) {
      parseMintWatchKey(key);
      this.db();
      return this.mints.watch(key, listener);
    }
    if (kind === WXMR_BURN_KIND) {
      parseBurnWatchKey(key);
      this.db();
      return this.burns.watch(key, listener);
    }
    throw new NotFoundError(`the bridge module offers no watch of kind "${kind}"`);
  };

  /** After a committed block: tells the watchers of every mint and burn whose view changed. */
  refresh(): Promise<void> {
    return Promise.all([this.mints.refresh(), this.burns.refresh()]).then(() => undefined);
  }

  get size(): number {
    return this.mints.size + this.burns.size;
  }
}
