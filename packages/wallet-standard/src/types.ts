// The wallet's public interface: what the CLI, the web page and other wallet developers program
// against. Browser-safe (no node: imports); the Node entry (`@conclave/wallet/node`) only adds an
// embedded database and the native crypto backends.
//
// Amounts are bigint base units (piconero for a Monero federation). Every operation that moves
// notes is crash-safe: it is written to the client database before anything is sent, and
// `resume()` (also run by `open`) finishes or retries whatever a crash interrupted. Nothing a
// guardian answers is trusted alone: shares are verified against the guardian's public key share,
// states need t guardians agreeing.

import type { LocatedWallets } from "@conclave/wallet";
import type { BridgeCommandApi } from "@conclave/module-bridge/client";
import type { DummyCommandApi } from "@conclave/module-dummy/client";
import type { MintCommandApi } from "@conclave/module-mint/client";
import type { MoneroCommandApi } from "@conclave/module-monero/client";
import type {
  FederationRequest,
  FederationWaitProgress,
  FederationWaitResult,
  RecoveredSecret,
  RecoveryRestoreResult,
  RecoveryStoreResult,
  RelayCommandApi,
} from "@conclave/module-relay/client";
import type { DenominationHolding, RestoreResult } from "@conclave/module-mint/client";
import type { RelayResult, WithdrawalInfo } from "@conclave/module-monero/client";
import type { WatchCommandApi } from "@conclave/module-relay/client";

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
export type {
  CollectResult,
  ContactCardResult,
  ContactView,
  FederationRequest,
  FederationWaitProgress,
  FederationWaitResult,
  Holder,
  InboxProgress,
  ReadResult,
  RecoveredSecret,
  RecoveryRestoreResult,
  RecoveryStoreResult,
  RecoverySetupResult,
  SendResult,
  SocialProgress,
} from "@conclave/module-relay/client";
export type {
  BridgeConfigView,
  BridgeMintOptions,
  DepositMintOptions,
  DepositSource,
  SealedDepositMint,
  BridgeMintProgress,
  BridgeMintResult,
  BridgeStatus,
  BurnDestination,
  BurnOptions,
  BurnProgress,
  BurnCall,
  BurnResult,
  Eip1193Requester,
  EvmRpc,
  EvmSender,
  MintCall,
  MintStatus,
  BurnStatus,
  MintSubmission,
  RefundOptions,
  RefundProgress,
  RefundResult,
  FindMintsOptions,
  FindMintsResult,
  FoundMint,
} from "@conclave/module-bridge/client";

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

/**
 * The wallet operations (one joined federation per wallet database): the wallet's own (info, resume,
 * close) and those of the standard client halves, as each half declares them for its commands (the
 * facade passes each call on to its half).
 */
export interface WalletApi
  extends
    DummyCommandApi,
    MintCommandApi,
    MoneroCommandApi,
    BridgeCommandApi,
    RelayCommandApi,
    WatchCommandApi {
  info(): Promise<WalletInfo>;
  /** Stores the wallet's state (counters, operation log, pending work, contacts) encrypted at every guardian. */
  storeState(): Promise<RecoveryStoreResult>;
  /** Merges the newest stored state into the wallet (counters only go up; nothing is overwritten). */
  restoreState(): Promise<RecoveryRestoreResult>;
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

/**
 * How the Node entry opens wallets (one directory = one embedded database = one wallet): join,
 * open and restore by location (@conclave/wallet's LocatedWallets), and a relay that needs none.
 */
export interface NodeWalletEntry extends LocatedWallets<WalletApi, RestoreResult> {
  /** Posts a sealed claim to the guardian API at `url` (no wallet needed: what a relay runs). */
  relaySealed(url: string, sealed: string): Promise<RelayResult>;
  /**
   * Social recovery on a new device (no wallet): combines the shard texts, fetches their set's record
   * from the guardians of `invite` and opens the recovery phrase it holds (then restore from it).
   */
  recoverSecret(invite: string, shards: readonly string[]): Promise<RecoveredSecret & { mnemonic: string }>;
  /**
   * A new device asks every guardian of `invite` for its piece of the federation's shard of the set
   * that `shard` (any shard of it) names, sealed to a fresh temporary key: keep the result secret
   * until the shard is collected (it holds that key). Each guardian releases after the owner's delay
   * unless the owner cancels.
   */
  requestFederationShard(invite: string, shard: string): Promise<FederationRequest>;
  /**
   * Collects the federation's shard: with `wait`, waits out the delays (progress: pieces out, when the
   * t-th is due); without, answers after one round (the shard, or when it is due). Refuses with
   * `request_cancelled` once the owner's cancels leave fewer than t guardians to release.
   */
  waitFederationShard(
    invite: string,
    request: FederationRequest,
    options: { wait: boolean; onProgress?: (p: FederationWaitProgress) => void },
  ): Promise<FederationWaitResult>;
}
