// The Monero client half's options, progress and results (re-exported by @conclave/wallet-standard's types.ts).
import type { ReissueResult } from "@conclave/module-mint/client";

/** A withdrawal as the wallet last saw it; `withdrawals({ refresh: true })` asks the guardians again. */
export interface WithdrawalInfo {
  /** The federation transaction that spent the notes into the payout. */
  readonly txid: string;
  readonly address: string;
  readonly amount: bigint;
  /** submitting: the federation has not accepted the transaction yet (`resume()` resubmits it). */
  readonly state: "submitting" | "queued" | "signing" | "submitted" | "confirmed";
  readonly moneroTxid?: string;
  /** Once confirmed: `check_tx_key(moneroTxid, txKey, address)` proves the payment. */
  readonly txKey?: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** A proof of payment to the federation's Monero address: what the sender's wallet shows. */
export interface DepositProof {
  /** The Monero transaction id (64 hex characters). */
  readonly txid: string;
  /** Its tx key (`get_tx_key` / the wallet's "tx key"): 64 hex characters, or several such keys joined. */
  readonly txKey: string;
}

/** A deposit claim to seal to one guardian instead of posting it in clear (sealClaim). */
export interface SealClaimRequest extends DepositProof {
  /** The guardian (index) to seal it to; default: one picked at random. */
  readonly guardian?: number;
}

/** A claim sealed to one guardian: hand `sealed` to any relay (`conclave relay`), then waitDeposit. */
export interface SealClaimResult {
  readonly txid: string;
  readonly guardian: number;
  readonly guardianName: string;
  /** `csealed1…`: only that guardian can open it. */
  readonly sealed: string;
}

/** What a guardian answered to a relayed sealed claim. */
export interface RelayResult {
  readonly txid: string;
  readonly guardian: number;
  /** queued: the guardian will propose it; already: consensus already bound this claim. */
  readonly state: "queued" | "already";
}

/** Where a deposit claim stands, as t guardians agree (reported when it changes). */
export interface DepositProgress {
  readonly txid: string;
  /**
   * claimed: guardians took the claim; waiting: the claim is not ordered yet, or another claim of
   * this txid is open; verifying: guardians check it against their own nodes (attestations);
   * confirming: credited, waiting for confirmations at the agreed height; issuing: notes are being
   * issued; done.
   */
  readonly stage: "claimed" | "waiting" | "verifying" | "confirming" | "issuing" | "done";
  readonly message: string;
  readonly attestations?: number;
  readonly attestationsRequired?: number;
  readonly confirmations?: number;
  readonly confirmationsRequired?: number;
  readonly amount?: bigint;
}

export interface ClaimDepositOptions {
  readonly onProgress?: (progress: DepositProgress) => void;
  /** Between two looks at the guardians' state (default 1 s). */
  readonly pollMs?: number;
  /** Give up waiting after this long (default 6 h); the claim stays pending and a new call continues it. */
  readonly timeoutMs?: number;
}

/** A deposit turned into notes. */
export interface ClaimDepositResult extends ReissueResult {
  /** The Monero transaction that paid the federation. */
  readonly depositTxid: string;
  /** Notes could not carry the part of the deposit below the smallest note (kept by the federation). */
  readonly dust: bigint;
  /**
   * Spent into another half's output (the claim's `into`) instead of notes: that output's amount
   * (the deposit less `fee`) and what it paid the federation.
   */
  readonly into?: { readonly amount: bigint; readonly fee: bigint };
}

/** Where a withdrawal's Monero payout stands, as t guardians agree (reported when it changes). */
export interface WithdrawProgress {
  /** The federation transaction that spent the notes into the payout. */
  readonly txid: string;
  /**
   * queued: waiting for its batch; signing: the guardians' wallets sign the Monero transaction in
   * turn; submitted: on its way into a block (moneroTxid known); confirmed: deep enough (tx key known).
   */
  readonly stage: "queued" | "signing" | "submitted" | "confirmed";
  readonly message: string;
  readonly moneroTxid?: string;
  readonly confirmations?: number;
}

export interface WithdrawOptions {
  readonly onProgress?: (progress: WithdrawProgress) => void;
  /** Between two looks at the guardians' state (default 1 s). */
  readonly pollMs?: number;
  /**
   * Give up waiting after this long (default 6 h). The notes are spent by then: the payout goes on
   * at the federation, and GET /v1/modules/monero/payouts/:txid/:index shows it.
   */
  readonly timeoutMs?: number;
}

/** A confirmed withdrawal: `check_tx_key(moneroTxid, txKey, address)` proves the payment. */
export interface WithdrawResult {
  /** The federation transaction (notes in, change notes and the payout out). */
  readonly txid: string;
  readonly moneroTxid: string;
  /**
   * Absent only when the transaction that paid was broadcast by a guardian outside the protocol (a
   * Byzantine last signer's kept completion of the same set): no honest guardian's wallet stored
   * its key. The payment itself is on chain (`moneroTxid`); docs/monero.md, "Exactly once".
   */
  readonly txKey?: string;
  /** Paid to the address. */
  readonly amount: bigint;
  /** Charged on top: the mint's fee per spent note and the payout's Monero fee (`moneroFee`). */
  readonly fee: bigint;
  /** The payout's Monero fee: the federation's quote (GET payouts/terms) at the agreed fee rate. */
  readonly moneroFee: bigint;
  /** The agreed fee rate the quote used, piconero per byte (from the guardians' own monerods). */
  readonly feeRate: number;
}

export interface DepositAddressOptions {
  /** Between two looks at the guardians' state (default 500 ms). */
  readonly pollMs?: number;
  /** Give up waiting for t guardians to agree on the address after this long (default 2 min). */
  readonly timeoutMs?: number;
}

export interface DepositAddressResult {
  /** The subaddress to pay (account 0 of the federation's multisig wallet). */
  readonly address: string;
  /** Its minor index in the federation's wallet. */
  readonly index: number;
  /** The claim key bound to it (hex): only this wallet can spend what it receives. */
  readonly claimKey: string;
}

/** Where payments to a deposit subaddress stand (reported when it changes). */
export interface SubaddressDepositProgress {
  /**
   * waiting: nothing paid yet; seen: in the pool of a guardian's node; confirming: k of K confirmations
   * (a guardian's node, then the agreed height); verifying: n of t guardians attested it; credited;
   * issuing: notes are being issued; done.
   */
  readonly stage: "waiting" | "seen" | "confirming" | "verifying" | "credited" | "issuing" | "done";
  readonly message: string;
  readonly txid?: string;
  readonly amount?: bigint;
  readonly confirmations?: number;
  readonly confirmationsRequired?: number;
  readonly attestations?: number;
  readonly attestationsRequired?: number;
}

export interface ReceiveDepositsOptions {
  readonly onProgress?: (progress: SubaddressDepositProgress) => void;
  /** Between two looks at the guardians' state (default 1 s). */
  readonly pollMs?: number;
  /** Give up waiting after this long (default 6 h); what arrives later is issued by a new call or resume(). */
  readonly timeoutMs?: number;
}

export interface ReceiveDepositsResult {
  readonly address: string;
  /** Each payment turned into notes by this call. */
  readonly deposits: readonly { readonly txid: string; readonly amount: bigint; readonly dust: bigint }[];
  /** Σ notes issued. */
  readonly amount: bigint;
}
