// Proof of reserves, as far as one guardian can see: its own share of the multisig wallet's balance
// (confirmed, unlocked and locked) against what the federation owes on this module.
//
// What is owed (from the consensus state alone, the same at every guardian):
//   e-cash backing  Σ deposits spent into the federation − Σ (payout + fee reserve) accepted
//                   (the module's audit assets: what backs the notes the mint issued for them)
//   credited        Σ deposits credited to a claim key and not yet spent into e-cash (the depositor
//                   may spend them at any time)
// The wallet must hold at least their sum. It holds more while a deposit is unclaimed or not yet
// confirmed, while a payout is accepted but not yet submitted, and by whatever part of the fee
// reserves the Monero fee did not use. It can never legitimately hold less.
//
// The wallet's view can be behind. A deposit is credited only once `confirmations` deep at the
// agreed height, so a wallet that has scanned agreedHeight − confirmations + 1 blocks holds every
// credited deposit; a wallet below that is "stale", not "short" (a wallet a block or two behind the
// agreed height, as wallets often are between refreshes, is not stale). A multisig wallet also cannot tell
// by itself that its outputs were spent (their key images need the other guardians' partial key
// images); every guardian submits each payout's final set, which marks the inputs spent in its own
// wallet, and wallet-rpc says `multisig_import_needed` when it knows its view is incomplete: that
// is reported with the figures. A shortfall is logged once when it appears and once when it clears.
//
// This is one guardian's view. Each guardian also proposes its reads to consensus (the Reserves
// item, `reportable`), and the federation acts on the figure agreed from all of them
// (reserves-agreement.ts): payouts and deposit spends pause while it is below what is owed.
import { PollLoop } from "@conclave/core-server";
import { WalletRpc } from "@conclave/monero";

/** The wallet's figures at one moment. */
export interface WalletReserves {
  /** get_balance "balance": every unspent output, locked or not, incoming change included. */
  readonly balance: bigint;
  readonly unlocked: bigint;
  /** The wallet's block count (how far it has scanned). */
  readonly height: number;
  /** The wallet knows some of its outputs' key images are missing (its balance may be too high). */
  readonly importNeeded: boolean;
  /** Transactions this wallet submitted that are not mined yet (their change is not counted yet). */
  readonly pendingOutgoing: number;
}

/** Where the figures come from: this guardian's own wallet-rpc. */
export interface ReservesSource {
  read(): Promise<WalletReserves>;
}

export class RpcReservesSource implements ReservesSource {
  private readonly wallet: WalletRpc;

  constructor(walletRpcUrl: string) {
    this.wallet = new WalletRpc({ url: walletRpcUrl, timeoutMs: 30_000 });
  }

  /**
   * The outputs the wallet holds (incoming_transfers "available": received in a block, not spent),
   * not get_balance: get_balance adds the change of the wallet's own unmined transactions, and a
   * guardian whose submit_multisig came after the transaction was mined keeps that change as
   * "pending" while it also holds the mined change output (seen here: a balance of exactly twice the
   * change). While a transaction of its own is unmined, its inputs are gone and its change not yet
   * in: pendingOutgoing says so and nothing is judged.
   */
  async read(): Promise<WalletReserves> {
    await this.wallet.refresh();
    const outputs = await this.wallet.incomingTransfers({ transferType: "available" });
    // Only the pending ones are looked up (not the whole outgoing history, which grows with every payout).
    let pendingOutgoing = 0;
    for (const t of (await this.wallet.getTransfers({ pending: true })).pending) {
      const mined = (await this.wallet.getTransferByTxid(t.txid)).some((e) => e.type === "out");
      if (!mined) pendingOutgoing++;
    }
    const b = await this.wallet.getBalance();
    const height = await this.wallet.getHeight();
    let balance = 0n;
    let unlocked = 0n;
    for (const o of outputs) {
      balance += o.amount;
      if (o.unlocked) unlocked += o.amount;
    }
    return { balance, unlocked, height, importNeeded: b.multisigImportNeeded, pendingOutgoing };
  }
}

/** What the federation owes on this module (consensus state only). */
export interface Owed {
  readonly ecashBacking: bigint;
  readonly credited: bigint;
  readonly agreedHeight: number;
  /** The wallet must have scanned this many blocks to hold every credited deposit. */
  readonly walletHeightMin: number;
}

export type ReservesState = "ok" | "short" | "stale" | "unknown";

export interface ReservesReport {
  readonly state: ReservesState;
  /** Why the state is what it is, in words for an operator. */
  readonly detail: string;
  readonly required: bigint;
  readonly owed: Owed;
  readonly wallet?: WalletReserves & { readonly locked: bigint; readonly checkedAtMs: number };
  /** balance − required (negative when short). */
  readonly surplus?: bigint;
}

/** The comparison, a pure function of the two sides. */
export function compareReserves(
  owed: Owed,
  wallet: (WalletReserves & { readonly checkedAtMs: number }) | undefined,
  lastError?: string,
): ReservesReport {
  const required = owed.ecashBacking + owed.credited;
  if (!wallet)
    return {
      state: "unknown",
      detail: lastError
        ? `this guardian's wallet could not be read: ${lastError}`
        : "this guardian's wallet has not been read yet",
      required,
      owed,
    };
  const view = { ...wallet, locked: wallet.balance - wallet.unlocked };
  const surplus = wallet.balance - required;
  if (wallet.pendingOutgoing > 0)
    return {
      state: "stale",
      detail: `${wallet.pendingOutgoing} transaction(s) this wallet submitted are not mined yet: their change counts once they are`,
      required,
      owed,
      wallet: view,
      surplus,
    };
  if (wallet.height < owed.walletHeightMin)
    return {
      state: "stale",
      detail:
        `the wallet has scanned ${wallet.height} blocks; every credited deposit is in the first ` +
        `${owed.walletHeightMin} (agreed height ${owed.agreedHeight})`,
      required,
      owed,
      wallet: view,
      surplus,
    };
  if (surplus < 0n)
    return {
      state: "short",
      detail: `the multisig wallet holds ${wallet.balance} piconero, ${-surplus} less than the ${required} owed`,
      required,
      owed,
      wallet: view,
      surplus,
    };
  return {
    state: "ok",
    detail: wallet.importNeeded
      ? "the wallet holds at least what is owed (it lacks the other guardians' partial key images of its newest outputs, as a multisig wallet does until the next payout round: spends it did not submit itself would not show yet)"
      : "the wallet holds at least what is owed",
    required,
    owed,
    wallet: view,
    surplus,
  };
}

export interface ReservesMonitorOptions {
  readonly source: ReservesSource;
  readonly pollMs: number;
  /** The latest owed figures (the module caches them from its audit after every block). */
  readonly owed: () => Owed | undefined;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  readonly now?: () => number;
  /** Called after every successful read (the module asks for its proposal: a report may be due). */
  readonly onRead?: () => void;
}

/** Reads the wallet every pollMs and logs when the comparison turns short, and when it recovers. */
export class ReservesMonitor {
  private snapshot: (WalletReserves & { readonly checkedAtMs: number }) | undefined;
  private lastError: string | undefined;
  private lastJudged: "ok" | "short" | undefined;
  private readonly now: () => number;
  /** poll() never throws, so the loop never backs off. */
  private readonly loop: PollLoop;

  constructor(private readonly options: ReservesMonitorOptions) {
    this.now = options.now ?? Date.now;
    this.loop = new PollLoop(() => this.poll(), {
      pollMs: options.pollMs,
      backoffExponentMax: 0,
      backoffMaxMs: options.pollMs,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One read and comparison (tests call it directly). Never throws. */
  async poll(): Promise<void> {
    try {
      const r = await this.options.source.read();
      this.snapshot = { ...r, checkedAtMs: this.now() };
      this.lastError = undefined;
      this.options.onRead?.();
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
    }
    this.note();
  }

  /**
   * The latest read this guardian may report to consensus (the Reserves item): none while the last
   * read failed or while a transaction this wallet submitted is unmined (its inputs are gone, its
   * change is not in yet: an honest guardian does not report a figure it knows is incomplete).
   */
  reportable(): WalletReserves | undefined {
    if (this.lastError !== undefined || !this.snapshot || this.snapshot.pendingOutgoing > 0) return undefined;
    return this.snapshot;
  }

  /** The comparison against the given owed figures (the API passes the current state's). */
  report(owed: Owed): ReservesReport {
    return compareReserves(owed, this.snapshot, this.lastError);
  }

  /** Logs only judgements (ok, short) that differ from the last one: stale and unknown views judge nothing. */
  private note(): void {
    const owed = this.options.owed();
    if (!owed) return;
    const r = this.report(owed);
    if ((r.state !== "ok" && r.state !== "short") || r.state === this.lastJudged) return;
    const fields = {
      detail: r.detail,
      required: r.required.toString(),
      balance: r.wallet?.balance.toString(),
      surplus: r.surplus?.toString(),
    };
    if (r.state === "short") this.options.log("reserves_short", fields);
    else this.options.log(this.lastJudged === "short" ? "reserves_recovered" : "reserves_ok", fields);
    this.lastJudged = r.state;
  }
}
