// Reserves agreed in consensus: every guardian reports what its share of the multisig wallet holds
// (the Reserves item), and the federation compares a figure f liars cannot move with what it owes.
// While the agreed figure is below what is owed the module refuses new payouts and deposit spends
// (`reserves_short`) until it recovers (docs/monero.md, "Reserves agreed in consensus").
//
// Deterministic: a function of the consensus state alone (reports, agreed height, the credited
// mark, what is owed), so every honest guardian refuses the same transactions.
//
// Which reports count ("fresh", common.ts reservesFresh): the wallet scanned the block of the newest
// credited deposit (so a report read before a deposit arrived cannot make the federation look short
// once the deposit is credited), and it is at most RESERVES_REPORT_BLOCKS (20) agreed blocks old, or
// `confirmations` if larger (a guardian that stopped reporting drops out). With fewer than 2f + 1 fresh reports there is no figure: "unknown",
// nothing is paused (a federation that cannot agree on its wallet does not stop on a guess).
//
// What honest reports legitimately differ by: refresh lag (a block or two: the wallet of one guardian
// may not have the newest deposit or change yet, the order statistic takes care of it), and own
// transactions in flight (an honest guardian does not report while a transaction it submitted is
// unmined: its inputs are gone and its change not in yet; reserves.ts pendingOutgoing). A payout
// accepted but not submitted is already out of what is owed while the wallet still holds it: that
// is surplus, never a false shortfall. A multisig wallet that has not imported the others' partial
// key images since its newest outputs arrived may still count outputs a transaction it did not
// submit has spent (it reports too much): the order statistic needs f + 1 honest guardians at or
// above the figure, so one such wallet cannot hide a shortfall the others see.
import { fail } from "@conclave/core-server";
import type { ModuleResult } from "@conclave/core-server";
import { agreedReserves, faultTolerance, reservesFresh, reservesReportBlocks } from "./common.js";
import type { MoneroConfig } from "./common.js";
import type { MoneroState, ReservesReportRecord } from "./state.js";
import type { WalletReserves } from "./reserves.js";

export type AgreedReservesState = "ok" | "short" | "unknown";

export interface AgreedReserves {
  readonly state: AgreedReservesState;
  readonly detail: string;
  /** What is owed: e-cash backing + credited deposits (piconero). */
  readonly required: bigint;
  /** The agreed balance (confirmed, locked included), when 2f + 1 fresh reports exist. */
  readonly agreed?: bigint;
  /** The agreed unlocked part (the same rule over the reports' unlocked figures). */
  readonly agreedUnlocked?: bigint;
  /** Each guardian's latest report (undefined: none) and whether it counts now. */
  readonly reports: readonly ((ReservesReportRecord & { readonly fresh: boolean }) | undefined)[];
  readonly freshReports: number;
  /** Fresh reports needed for a figure: 2f + 1. */
  readonly freshReportsMin: number;
}

/** The agreed figure and its comparison with `required` (consensus state only). */
export function agreeReserves(state: MoneroState, config: MoneroConfig, required: bigint): AgreedReserves {
  const n = config.guardians;
  const agreedHeight = state.agreedHeight();
  const mark = state.creditedTxHeightMax();
  const reports = state
    .reportedReservesAll(n)
    .map((r) =>
      r
        ? { ...r, fresh: reservesFresh(r.walletHeight, agreedHeight, config.confirmations, mark) }
        : undefined,
    );
  const freshOnly = (pick: (r: ReservesReportRecord) => bigint) =>
    reports.map((r) => (r?.fresh ? pick(r) : undefined));
  const agreed = agreedReserves(
    freshOnly((r) => r.balance),
    n,
  );
  const agreedUnlocked = agreedReserves(
    freshOnly((r) => r.unlocked),
    n,
  );
  const freshReports = reports.filter((r) => r?.fresh).length;
  const freshReportsMin = 2 * faultTolerance(n) + 1;
  const base = { required, reports, freshReports, freshReportsMin };
  if (agreed === undefined || agreedUnlocked === undefined)
    return {
      ...base,
      state: "unknown",
      detail:
        `${freshReports} of the ${freshReportsMin} fresh wallet reports needed (a report counts once its wallet ` +
        `scanned block ${mark} and at least ${Math.max(0, agreedHeight - reservesReportBlocks(config.confirmations) + 1)} blocks): nothing is paused`,
    };
  if (agreed < required)
    return {
      ...base,
      state: "short",
      agreed,
      agreedUnlocked,
      detail: `the guardians agree the multisig wallet holds ${agreed} piconero, ${required - agreed} less than the ${required} owed: payouts and deposit spends are paused`,
    };
  return {
    ...base,
    state: "ok",
    agreed,
    agreedUnlocked,
    detail: "the guardians agree the multisig wallet holds at least what is owed",
  };
}

/** The refusal while short: a stable code, and what is owed against what the guardians agree is there. */
export function reservesShort<T>(a: AgreedReserves, what: string): ModuleResult<T> {
  return fail(
    "reserves_short",
    `${what} refused: the guardians agree the federation's wallet holds ${a.agreed ?? "?"} piconero, less than the ${a.required} it owes; this resumes by itself once the reserves are back`,
    { required: a.required.toString(), agreed: (a.agreed ?? 0n).toString() },
  );
}

/**
 * Whether a guardian proposes a new report, given its last ordered one and its wallet now (a read
 * with no own transaction pending): at first; when the balance or the unlocked part changed; and as
 * its wallet scans on, before the last report goes stale (every half of reservesReportBlocks, and at
 * once when the last one no longer counts). Never with a lower wallet height (consensus refuses it).
 */
export function reservesReportDue(
  last: ReservesReportRecord | undefined,
  wallet: WalletReserves,
  lastFresh: boolean,
  confirmations: number,
): boolean {
  const refreshBlocks = Math.ceil(reservesReportBlocks(confirmations) / 2);
  if (!last) return true;
  if (wallet.height < last.walletHeight) return false;
  if (wallet.balance !== last.balance || wallet.unlocked !== last.unlocked) return true;
  if (wallet.height === last.walletHeight) return false;
  return !lastFresh || wallet.height >= last.walletHeight + refreshBlocks;
}
