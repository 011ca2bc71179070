// What the Monero half's files share: the half's context (MoneroPart: database, core, keys, the
// mint half it pays and issues through), its errors, paths, defaults and progress helpers.
import type { ClientContext, ClientDb, ClientModuleInit } from "@conclave/core-client";
import { NoQuorumError, clientErrors } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { formatXmr, fromHex } from "@conclave/core-common";
import type { FederationConfig, Signer } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";
import type { MintClient } from "@conclave/module-mint/client";
import { TxKeyHexSchema } from "../api.js";
import { isCanonicalTxKey } from "../common.js";
import { claimSeed } from "./keys.js";
import type { DepositView, PayoutTerms } from "../api.js";
import type { PayoutStatus } from "../payout-status.js";
import type { ClaimRecord, PayoutAttachment, WithdrawalRecord } from "./store.js";
import type { DepositProgress, DepositProof, WithdrawProgress, WithdrawalInfo } from "./types.js";
import type { z } from "zod";

export const CLAIMS_PATH = "/v1/modules/monero/claims";
export const depositPath = (txid: string) => `/v1/modules/monero/deposits/${txid}`;
export const SUBADDRESSES_PATH = "/v1/modules/monero/subaddresses";
export const subaddressPath = (claimKey: string) => `${SUBADDRESSES_PATH}/${claimKey}`;
export const subaddressSeenPath = (claimKey: string) => `${SUBADDRESSES_PATH}/${claimKey}/seen`;
export const payoutPath = (txid: string, index: number) => `/v1/modules/monero/payouts/${txid}/${index}`;
/** How long a deposit claim waits for the federation by default (confirmations take 20 min on mainnet). */
export const DEPOSIT_WAIT_MS_DEFAULT = 6 * 60 * 60 * 1000;
/** Confirmed withdrawals listed by info() (all are kept: `withdrawals()` lists them all). */
/** How long `withdraw` waits for the payout to be confirmed unless told otherwise. */
export const WITHDRAW_WAIT_MS_DEFAULT = 6 * 60 * 60 * 1000;
/** A claim not ordered yet (or released by another claim's rejection) is posted again this often. */
export const CLAIM_REPOST_MS = 15_000;

export const PAYOUT_TERMS_PATH = "/v1/modules/monero/payouts/terms";
/** Confirmed withdrawals listed by info() (all are kept: `withdrawals()` lists them all). */
export const INFO_CONFIRMED_WITHDRAWALS_MAX = 10;

export const sumBig = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/** Two payout quotes agree when they charge the same (the agreed height and reports may move meanwhile). */
export const sameTerms = (a: PayoutTerms, b: PayoutTerms): boolean =>
  a.minimum === b.minimum && a.fee === b.fee && a.feeRate === b.feeRate;

/** The Monero half's refusals, with their statuses. */
export const moneroError = clientErrors({
  no_monero_module: 400,
  unknown_address: 404,
  invalid_deposit_proof: 400,
  deposit_claimed: 409,
  deposit_rejected: 422,
  deposit_timeout: 504,
  claim_not_taken: 503,
  unknown_guardian: 400,
  unknown_claim: 404,
  invalid_address: 400,
  fee_rate_unknown: 503,
  withdraw_timeout: 504,
  wrong_federation: 400,
  invalid_amount: 400,
  insufficient_funds: 400,
});

/** The cryptography the Monero half needs (the wallet's WalletCrypto is one). */
export interface MoneroCrypto {
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Signer(seed: Uint8Array, publicKey?: Uint8Array): Signer;
  readonly random: Rng;
}

/** The half's context, shared by its parts (claims, subaddresses, withdrawals). */
export abstract class MoneroPart {
  protected readonly db: ClientDb;
  protected readonly ctx: ClientContext;
  readonly instanceId: number;
  protected readonly federation: FederationConfig;
  protected readonly federationId: string;
  protected readonly federationIdBytes: Uint8Array;
  /** The federation's Monero address (what claims prove payments to, and subaddresses are of). */
  protected readonly address: string | undefined;
  private readonly root: Uint8Array;

  constructor(
    init: ClientModuleInit,
    protected readonly crypto: MoneroCrypto,
  ) {
    this.db = init.db;
    this.ctx = init.context;
    this.instanceId = init.instanceId;
    this.federation = init.federation;
    this.federationId = init.federationId;
    this.federationIdBytes = fromHex(init.federationId);
    const address = init.config["address"];
    this.address = typeof address === "string" ? address : undefined;
    this.root = init.secret;
  }

  /** The mint half, through which deposits become notes and notes pay withdrawals. */
  protected mint(): MintClient {
    const mint = this.ctx.module<MintClient>("mint");
    if (!mint) throw new Error("the Monero half needs the mint half (the federation runs no mint)");
    return mint;
  }

  protected claimSeed(index: number): Uint8Array {
    return claimSeed(this.root, index);
  }

  /** A value t guardians agree on at `path`, or undefined while they do not (one is a block behind). */
  protected async agreed<T>(
    client: FederationClient,
    path: string,
    schema: z.ZodType<T>,
  ): Promise<T | undefined> {
    try {
      return (await client.queryConsensus(path, schema)).value;
    } catch (e) {
      if (e instanceof NoQuorumError) return undefined;
      throw e;
    }
  }

  /** The notes a deposit of `amount` becomes in one transaction (the rest is dust). */
  protected depositNotes(amount: bigint): { notes: number[]; dust: bigint } {
    const mint = this.mint();
    const { notes, dust } = mint.decompose(amount);
    if (notes.length === 0 || notes.length > mint.outputsMax())
      throw moneroError(
        "invalid_amount",
        notes.length === 0
          ? `the deposit of ${amount} is below the smallest note`
          : `the deposit of ${amount} needs ${notes.length} notes, more than one transaction may issue (${mint.outputsMax()})`,
        { amount: amount.toString() },
      );
    return { notes, dust };
  }
}

/** A proof's txid and tx key in canonical form, or invalid_deposit_proof saying what is wrong. */
export function checkDepositProof(proof: DepositProof): { readonly txid: string; readonly txKey: string } {
  const txid = proof.txid.trim().toLowerCase();
  const txKey = proof.txKey.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(txid))
    throw moneroError("invalid_deposit_proof", "a Monero txid is 64 hex characters", {
      txid: proof.txid.slice(0, 100),
    });
  if (!TxKeyHexSchema.safeParse(txKey).success || !isCanonicalTxKey(fromHex(txKey)))
    throw moneroError(
      "invalid_deposit_proof",
      "a tx key is 64 hex characters (several joined when the payment went to subaddresses); " +
        "get it from the sending wallet (get_tx_key, or `get_tx_key <txid>` in monero-wallet-cli)",
    );
  return { txid, txKey };
}

/** Uniform in [0, n) from secure random bytes (n <= 64 guardians: the modulo bias is below 2^-26). */
export function randomIndex(random: (bytes: number) => Uint8Array, n: number): number {
  const b = random(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function rejectionText(reason: string | undefined): string {
  switch (reason) {
    case "nothing_received":
      return "the transaction pays nothing to the federation's address with this tx key (a wrong tx key, or a payment to another address)";
    case "below_minimum":
      return "the deposit is below the federation's minimum";
    case "bad_proof":
      return "the payment proof does not hold for this transaction, the federation's address and this claim key (a wrong tx key, or a proof copied from someone else's claim)";
    case "own_transaction":
      return "the federation sent this transaction itself (a payout): its change, or a payment to one of its own addresses, is not a deposit";
    default:
      return reason ?? "refused";
  }
}

/** The progress a deposit view means, in words. */
export function progressOf(view: DepositView, claim: ClaimRecord, t: number): DepositProgress {
  const base = { txid: claim.txid };
  switch (view.state) {
    case "unclaimed":
      return { ...base, stage: "waiting", message: "waiting for the claim to be ordered" };
    case "open":
      return {
        ...base,
        stage: "verifying",
        message: `verifying: ${view.attestations.length} of ${t} guardians checked it against their nodes`,
        attestations: view.attestations.length,
        attestationsRequired: view.attestationsRequired,
      };
    default:
      return {
        ...base,
        stage: "confirming",
        message: `confirmations ${view.confirmations}/${view.confirmationsRequired}`,
        confirmations: view.confirmations,
        confirmationsRequired: view.confirmationsRequired,
        ...(view.amount === undefined ? {} : { amount: BigInt(view.amount) }),
      };
  }
}

/** An amount in progress messages: "1.5 XMR" (piconero as a decimal string or a bigint). */
export function xmrText(piconero: bigint | string | undefined): string {
  if (piconero === undefined) return "?";
  try {
    return formatXmr(BigInt(piconero)); // "1.5 XMR": core-common's formatXmr names the unit
  } catch {
    return `${String(piconero)} piconero`;
  }
}

export function withdrawalRecordOf(txid: string, payout: PayoutAttachment, atMs: number): WithdrawalRecord {
  return {
    txid,
    output: payout.output,
    address: payout.address,
    amount: payout.amount,
    state: "submitting",
    createdAtMs: atMs,
    updatedAtMs: atMs,
  };
}

export function withdrawalInfoOf(w: WithdrawalRecord): WithdrawalInfo {
  return {
    txid: w.txid,
    address: w.address,
    amount: BigInt(w.amount),
    state: w.state,
    ...(w.moneroTxid ? { moneroTxid: w.moneroTxid } : {}),
    ...(w.txKey ? { txKey: w.txKey } : {}),
    createdAtMs: w.createdAtMs,
    updatedAtMs: w.updatedAtMs,
  };
}

export function withdrawProgressOf(txid: string, outcome: PayoutStatus): WithdrawProgress {
  const base = {
    txid,
    stage: outcome.state,
    ...(outcome.moneroTxid ? { moneroTxid: outcome.moneroTxid } : {}),
  };
  switch (outcome.state) {
    case "queued":
      return { ...base, message: "queued for the next Monero transaction" };
    case "signing":
      return {
        ...base,
        message: `the guardians' wallets are signing` + (outcome.round ? ` (${outcome.round})` : ""),
      };
    case "submitted":
      return {
        ...base,
        message:
          `submitted as Monero transaction ${outcome.moneroTxid ?? "?"}` +
          (outcome.confirmations !== undefined ? `, ${outcome.confirmations} confirmations` : ""),
        ...(outcome.confirmations !== undefined ? { confirmations: outcome.confirmations } : {}),
      };
    case "confirmed":
      return {
        ...base,
        message: `confirmed in Monero transaction ${outcome.moneroTxid ?? "?"}`,
        ...(outcome.confirmations !== undefined ? { confirmations: outcome.confirmations } : {}),
      };
  }
}

/** Calls `onProgress` only when what it would say changes (deposit and withdrawal progress alike). */
export function progressReporter<P extends { readonly stage: string; readonly message: string }>(
  onProgress: ((p: P) => void) | undefined,
): (p: P) => void {
  let last = "";
  return (p) => {
    const key = `${p.stage}|${p.message}`;
    if (key === last) return;
    last = key;
    onProgress?.(p);
  };
}
