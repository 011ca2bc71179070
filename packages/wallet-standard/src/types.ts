// The wallet's public interface: what the CLI, the web page and other wallet developers program
// against. Browser-safe (no node: imports); the Node entry (`@conclave/wallet/node`) only adds an
// embedded database and the native crypto backends.
//
// Amounts are bigint base units (piconero for a Monero federation). Every operation that moves
// notes is crash-safe: it is written to the client database before anything is sent, and
// `resume()` (also run by `open`) finishes or retries whatever a crash interrupted. Nothing a
// guardian answers is trusted alone: shares are verified against the guardian's public key share,
// states need t guardians agreeing.

import type {
  DenominationHolding,
  ReissueResult,
  SpendResult,
  ValidateResult,
  BackupResult,
  RestoreResult,
} from "@conclave/module-mint/client";
import type {
  ClaimDepositOptions,
  ClaimDepositResult,
  DepositAddressOptions,
  DepositAddressResult,
  DepositProof,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  RelayResult,
  SealClaimRequest,
  SealClaimResult,
  WithdrawalInfo,
  WithdrawOptions,
  WithdrawResult,
} from "@conclave/module-monero/client";

export type {
  DenominationHolding,
  ReissueResult,
  SpendResult,
  ValidateResult,
  BackupResult,
  RestoreResult,
} from "@conclave/module-mint/client";
export type {
  ClaimDepositOptions,
  ClaimDepositResult,
  DepositAddressOptions,
  DepositAddressResult,
  DepositProgress,
  DepositProof,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  RelayResult,
  SealClaimRequest,
  SealClaimResult,
  SubaddressDepositProgress,
  WithdrawalInfo,
  WithdrawOptions,
  WithdrawProgress,
  WithdrawResult,
} from "@conclave/module-monero/client";

export interface WalletInfo {
  readonly federationId: string;
  readonly federationName: string;
  readonly guardians: readonly { readonly index: number; readonly name: string; readonly url: string }[];
  /** Guardians that must agree (n - f). */
  readonly threshold: number;
  /** Spendable notes, total in base units. */
  readonly balance: bigint;
  readonly notes: readonly DenominationHolding[];
  /** Notes handed out by `spend` and not yet known to be redeemed or cancelled. */
  readonly outgoing: readonly {
    readonly id: string;
    readonly amount: bigint;
    readonly createdAtMs: number;
  }[];
  /** Operations written but not finished (a crash, or guardians unreachable): `resume()` retries them. */
  readonly pendingOperations: number;
  /** The fee the mint charges per spent note. */
  readonly feePerNote: bigint;
  readonly denominationsLog2: readonly number[];
  readonly lastBackup?: { readonly version: number; readonly notes: number; readonly atMs: number };
  /** Monero deposits being claimed (claimDeposit or resume() finishes them). */
  readonly pendingDeposits?: readonly { readonly txid: string; readonly createdAtMs: number }[];
  /** Withdrawals, newest first: every one not yet confirmed and the latest confirmed ones. */
  readonly withdrawals?: readonly WithdrawalInfo[];
}

/** The wallet operations (one joined federation per wallet database). */
export interface WalletApi {
  info(): Promise<WalletInfo>;
  /** Dev federations only (the test-only faucet module): issue `amount` in fresh notes. */
  devFaucet(amount: bigint): Promise<ReissueResult>;
  /** Hands out notes worth exactly `amount` (reissuing for change first if needed). */
  spend(amount: bigint): Promise<SpendResult>;
  /** Takes back notes handed out by `spend` (reissues them to oneself) if nobody redeemed them yet. */
  cancel(spendId: string): Promise<ReissueResult>;
  /** Receives a note string: redeems its notes into fresh ones of this wallet. */
  reissue(notes: string): Promise<ReissueResult>;
  /** Reissues own notes so that at least `count` notes of 2^denominationLog2 exist (change kept). */
  split(denominationLog2: number, count: number): Promise<ReissueResult>;
  /** Reissues own notes into as few notes as possible. */
  combine(): Promise<ReissueResult>;
  validate(notes: string, options?: { online?: boolean }): Promise<ValidateResult>;
  backup(): Promise<BackupResult>;
  /**
   * Claims a Monero deposit to the federation's address by proof of payment and turns it into notes:
   * posts the claim (bound to a claim key derived from the mnemonic) to every guardian, waits until t
   * guardians agree it is verified and confirmed, then spends it into fresh notes. Crash-safe: the
   * claim is written down first; calling again (or resume()) continues with the same key.
   */
  claimDeposit(proof: DepositProof, options?: ClaimDepositOptions): Promise<ClaimDepositResult>;
  /**
   * A deposit subaddress of the federation's Monero wallet for a fresh claim key (derived from the
   * mnemonic, written down before it is used): pay it from any wallet, no tx key needed. The address
   * is the one t guardians agree on. Pass it to receiveDeposits to wait and turn payments into notes.
   */
  depositAddress(options?: DepositAddressOptions): Promise<DepositAddressResult>;
  /**
   * Waits for payments to a subaddress from depositAddress (progress: seen in the pool, confirmations,
   * credited, issued) and turns each credited one into notes; returns once at least one payment was
   * issued and none is left spendable. Crash-safe: resume() issues what became spendable meanwhile.
   */
  receiveDeposits(address: string, options?: ReceiveDepositsOptions): Promise<ReceiveDepositsResult>;
  /**
   * The same claim sealed to one guardian (HPKE to its identity key) instead of posted: returns the
   * `csealed1…` text for a relay and records the claim (its claim key derived and stored first), which
   * the wallet never sends in clear. waitDeposit (or resume()) turns the deposit into notes once the
   * sealed claim has reached its guardian and the deposit is confirmed.
   */
  sealClaim(request: SealClaimRequest): Promise<SealClaimResult>;
  /** Waits for a pending claim of `txid` (sealed or not) and turns the deposit into notes. */
  waitDeposit(txid: string, options?: ClaimDepositOptions): Promise<ClaimDepositResult>;
  /** Posts a sealed claim (`csealed1…`, of this wallet's federation) to the guardian it is sealed to. */
  relaySealed(sealed: string): Promise<RelayResult>;
  /**
   * Pays `amount` to a Monero address from the wallet's notes: one transaction spends notes worth
   * the amount plus the federation's Monero fee reserve plus the mint's fees, issuing the change as
   * fresh notes, with the payout as its last output; then waits (outside the wallet's lock) until t
   * guardians agree the payout is confirmed. An address the guardians refuse is a
   * TransactionRejectedError and the notes stay in the wallet.
   */
  withdraw(address: string, amount: bigint, options?: WithdrawOptions): Promise<WithdrawResult>;
  /**
   * The wallet's withdrawals, newest first; with `refresh`, each one not yet confirmed is first
   * looked up at the guardians (t must agree), so a withdrawal whose wait was cut short (a crash, a
   * timeout, Ctrl-C) still ends with its Monero txid and tx key.
   */
  withdrawals(options?: { readonly refresh?: boolean }): Promise<WithdrawalInfo[]>;
  /** Finishes or retries operations a crash interrupted. Returns how many it finished. */
  resume(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Stable codes of the WalletError the wallet throws (a ConclaveError subclass, so `code` and a
 * message a user can act on). Guardian refusals keep the core's own errors (TransactionRejectedError
 * with e.g. `spent_input`; NoQuorumError when too few guardians answer).
 */
export type WalletErrorCode =
  | "malformed_notes" // a note string that does not decode (bad prefix, checksum, length)
  | "wrong_federation" // notes or a backup of another federation than this wallet's
  | "invalid_note" // a note whose signature does not verify under the federation's key
  | "insufficient_funds"
  | "invalid_amount" // zero, negative, or not representable in the mint's denominations
  | "invalid_mnemonic"
  | "already_joined" // the database already holds a wallet
  | "not_joined"
  | "unknown_spend" // cancel of an id this wallet did not hand out
  | "not_dev_federation" // devFaucet on a federation without the test-only module
  | "backup_unavailable" // no guardian holds a backup this mnemonic can read (restore still scans)
  | "unknown_address" // receiveDeposits with an address that is not this wallet's deposit subaddress
  | "no_monero_module" // claimDeposit on a federation without the Monero module
  | "invalid_deposit_proof" // a txid or tx key that is not hex of the right length
  | "deposit_claimed" // the deposit is bound to another claim key (someone else claimed it first)
  | "deposit_rejected" // t guardians found the proof invalid, or the claim expired
  | "deposit_timeout" // still not spendable when the wait ended (the claim stays pending)
  | "claim_not_taken" // no guardian took the claim (unreachable, busy): it stays pending
  | "unknown_guardian" // sealClaim to a guardian index the federation does not have
  | "unknown_claim" // waitDeposit of a txid this wallet has no pending claim of
  | "invalid_address" // a withdrawal address that is not 1 to 106 base58 characters
  | "fee_rate_unknown" // withdraw before the guardians agreed on a Monero fee rate (nothing was spent)
  | "withdraw_timeout"; // the payout was not confirmed when the wait ended (it goes on at the federation)

/** How the Node entry opens wallets (one directory = one embedded database = one wallet). */
export interface NodeWalletEntry {
  /** Joins the federation of `invite` with a fresh mnemonic (returned) or the given one. */
  joinWallet(
    dir: string,
    invite: string,
    options?: { mnemonic?: string },
  ): Promise<{ wallet: WalletApi; mnemonic: string }>;
  openWallet(dir: string): Promise<WalletApi>;
  /** Posts a sealed claim to the guardian API at `url` (no wallet needed: what a relay runs). */
  relaySealed(url: string, sealed: string): Promise<RelayResult>;
  /** A new wallet from the mnemonic alone: downloads the backup and scans for notes past it. */
  restoreWallet(
    dir: string,
    invite: string,
    mnemonic: string,
  ): Promise<{ wallet: WalletApi; result: RestoreResult }>;
}
