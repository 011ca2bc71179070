// What the Monero half keeps in the client database (schema 1 of the single-class wallet, unchanged
// so that existing wallets open; the half is `compat: "wallet-v1"`, its keys have no prefix):
//
//   claim-counter             {"next":J}                       next unused deposit claim index
//   claim/<monero txid>       ClaimRecord (JSON)               a deposit claim not yet turned into notes
//   subaddr/<claim key hex>   SubaddressRecord (JSON)          a deposit subaddress and its claim index
//   withdrawal/<txid>         WithdrawalRecord (JSON)          a withdrawal, kept after it is confirmed
//
// The mint's pending transaction of a deposit carries the ClaimRecord (`claim`) or the subaddress
// deposit (`subaddressDeposit`, with its log entry's `operationId`); that of a withdrawal, its payout
// (`payout`).

/** The module name of the Monero half's operation log entries ("claim", "subaddress-deposit"). */
export const MONERO_KIND = "monero";

export const K_CLAIM_COUNTER = "claim-counter";
export const P_CLAIM = "claim/";
export const P_SUBADDR = "subaddr/";
export const P_WITHDRAWAL = "withdrawal/";

/** A Monero deposit being claimed: written before the claim is sent, so a crash resumes with the same key. */
export interface ClaimRecord {
  /** The Monero transaction id (hex). */
  readonly txid: string;
  readonly txKey: string;
  /** The claim key's index (keys.ts claimSeed). */
  readonly index: number;
  readonly createdAtMs: number;
  /** Sealed to this guardian (sealClaim): a relay delivers it; the wallet never posts it in clear. */
  readonly sealedTo?: number;
  /**
   * Its entry in the operation log (`oplog/<id>`, module monero, kind "claim"): written with the
   * claim, ended done when its notes are issued, failed when it is dropped. Claims written before the
   * log have none until `resume()` backfills it.
   */
  readonly operationId?: string;
  /** Spent into this output of another half instead of notes (a wXMR mint: the bridge half's). */
  readonly into?: DepositInto;
}

/**
 * Where a claimed deposit goes instead of notes: one output of another module worth the deposit
 * less the fee that output pays the federation (`fee`; the deposit input charges none), chosen by
 * another half.
 */
export type DepositInto = {
  /** The module instance of the output. */
  readonly module: number;
  /** The output's payload (hex). */
  readonly payload: string;
  /**
   * A deposit below this (piconero, decimal; the output's minimum plus `fee`) becomes notes
   * instead: the output would be refused.
   */
  readonly amountMin: string;
  /**
   * What the output pays the federation (piconero, decimal), taken from the deposit: the output is
   * worth deposit − fee (a wXMR refundable mint's `refundableMintFeePiconero`, threat-model 12w).
   * Absent in claims written before it: 0.
   */
  readonly fee?: string;
  /** Fields the other half reads in the pending transaction when it settles (its onAccepted). */
  readonly attach: { readonly [field: string]: string | number | null };
};

/** A deposit subaddress: written (claim index) before it is requested, kept for later payments. */
export interface SubaddressRecord {
  /** The claim key (hex), keys.ts claimSeed(index). */
  readonly claimKey: string;
  readonly index: number;
  readonly createdAtMs: number;
  /** Once t guardians agreed on it. */
  readonly address?: string;
  readonly subaddressIndex?: number;
}

/** A withdrawal as the wallet last saw it (the tx key once confirmed: the user's proof of payment). */
export interface WithdrawalRecord {
  /** The federation transaction (notes in, change notes and the payout out). */
  readonly txid: string;
  /** The payout's output index in it. */
  readonly output: number;
  readonly address: string;
  /** Piconero paid to the address, decimal. */
  readonly amount: string;
  /** "submitting" until the federation accepted the transaction, then the payout's own state. */
  readonly state: "submitting" | "queued" | "signing" | "submitted" | "confirmed";
  readonly moneroTxid?: string;
  readonly txKey?: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** The payout a withdrawal's pending transaction carries. */
export interface PayoutAttachment {
  readonly output: number;
  readonly address: string;
  readonly amount: string;
}
