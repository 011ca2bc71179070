// The Monero module's client half: deposit claims (in clear or sealed to one guardian), deposit
// subaddresses and withdrawals. Value moves through the mint half's interface (issueLocked for a
// deposit, payLocked for a withdrawal); what a refused transaction undoes on this side (a claim
// back in its table, a withdrawal's record dropped) the mint hands back through onRejected.
import type { ClientModule, ClientModuleFactory, ClientModuleInit, DbOp } from "@conclave/core-client";
import { del, json, progressOf, put, startOperation } from "@conclave/core-client";
import type { OperationStream } from "@conclave/core-client";
import type { MintClient, PendingOp } from "@conclave/module-mint/client";
import { MoneroClaims } from "./claims.js";
import { INFO_CONFIRMED_WITHDRAWALS_MAX, withdrawalInfoOf } from "./config.js";
import type { MoneroCrypto } from "./config.js";
import { P_CLAIM, P_WITHDRAWAL } from "./store.js";
import type { ClaimRecord } from "./store.js";
import { MoneroSubaddresses } from "./subaddresses.js";
import type {
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
  WithdrawOptions,
  WithdrawProgress,
  WithdrawResult,
  WithdrawalInfo,
} from "./types.js";
import { MoneroWithdrawals } from "./withdrawals.js";

export const MONERO_CLIENT_KIND = "monero";

/** What the wallet's info shows of the Monero half. */
export interface MoneroInfo {
  readonly pendingDeposits?: readonly { readonly txid: string; readonly createdAtMs: number }[];
  readonly withdrawals?: readonly WithdrawalInfo[];
}

/** A claim a pending deposit transaction carries (schema 1: the ClaimRecord as it was written). */
function claimOf(op: PendingOp): ClaimRecord | undefined {
  const c = op["claim"];
  if (c === null || typeof c !== "object" || !("txid" in c) || typeof c.txid !== "string") return undefined;
  return c as ClaimRecord;
}

export class MoneroClient implements ClientModule {
  readonly kind = MONERO_CLIENT_KIND;
  readonly instanceId: number;
  private readonly claims: MoneroClaims;
  private readonly subaddresses: MoneroSubaddresses;
  private readonly payouts: MoneroWithdrawals;

  constructor(init: ClientModuleInit, crypto: MoneroCrypto) {
    this.instanceId = init.instanceId;
    this.claims = new MoneroClaims(init, crypto);
    this.subaddresses = new MoneroSubaddresses(init, crypto);
    this.payouts = new MoneroWithdrawals(init, crypto);
    init.context
      .module<MintClient>("mint")
      ?.onRejected((op, spentInput) => this.undoRejected(op, spentInput));
  }

  /** Claims a deposit by proof of payment: its progress, then the notes (or the failure). */
  claimDepositOperation(
    proof: DepositProof,
    options: Omit<ClaimDepositOptions, "onProgress"> = {},
  ): OperationStream<DepositProgress, ClaimDepositResult> {
    return startOperation((onProgress) => this.claims.claimDeposit(proof, { ...options, onProgress }));
  }

  /** `claimDepositOperation` with its progress as a callback. */
  claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.claimDepositOperation(proof, rest), onProgress);
  }

  sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    return this.claims.sealClaim(request);
  }

  /** Waits for a pending claim of `txid` and turns it into notes: progress, then the result. */
  waitDepositOperation(
    txid: string,
    options: Omit<ClaimDepositOptions, "onProgress"> = {},
  ): OperationStream<DepositProgress, ClaimDepositResult> {
    return startOperation((onProgress) => this.claims.waitDeposit(txid, { ...options, onProgress }));
  }

  /** `waitDepositOperation` with its progress as a callback. */
  waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.waitDepositOperation(txid, rest), onProgress);
  }

  relaySealed(sealed: string): Promise<RelayResult> {
    return this.claims.relaySealed(sealed);
  }

  depositAddress(options: DepositAddressOptions = {}): Promise<DepositAddressResult> {
    return this.subaddresses.depositAddress(options);
  }

  /** Waits for payments to a deposit subaddress and issues them: progress, then the result. */
  receiveDepositsOperation(
    address: string,
    options: Omit<ReceiveDepositsOptions, "onProgress"> = {},
  ): OperationStream<SubaddressDepositProgress, ReceiveDepositsResult> {
    return startOperation((onProgress) =>
      this.subaddresses.receiveDeposits(address, { ...options, onProgress }),
    );
  }

  /** `receiveDepositsOperation` with its progress as a callback. */
  receiveDeposits(address: string, options: ReceiveDepositsOptions = {}): Promise<ReceiveDepositsResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.receiveDepositsOperation(address, rest), onProgress);
  }

  /** Pays `amount` to a Monero address: the payout's progress, then its result (or the refusal). */
  withdrawOperation(
    address: string,
    amount: bigint,
    options: Omit<WithdrawOptions, "onProgress"> = {},
  ): OperationStream<WithdrawProgress, WithdrawResult> {
    return startOperation((onProgress) => this.payouts.withdraw(address, amount, { ...options, onProgress }));
  }

  /** `withdrawOperation` with its progress as a callback. */
  withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.withdrawOperation(address, amount, rest), onProgress);
  }

  withdrawals(options: { readonly refresh?: boolean } = {}): Promise<WithdrawalInfo[]> {
    return this.payouts.withdrawals(options);
  }

  /** One look at each pending claim, then at each deposit subaddress; returns how many issued. */
  async resume(): Promise<number> {
    return (await this.claims.resume()) + (await this.subaddresses.resume());
  }

  /** The Monero half's part of the wallet's info; call under the client's lock. */
  async infoLocked(): Promise<MoneroInfo> {
    const claims = (await this.claims.records()).map((c) => ({ txid: c.txid, createdAtMs: c.createdAtMs }));
    const all = await this.payouts.withdrawalRecords();
    const withdrawals = [
      ...all.filter((w) => w.state !== "confirmed"),
      ...all.filter((w) => w.state === "confirmed").slice(0, INFO_CONFIRMED_WITHDRAWALS_MAX),
    ]
      .sort((a, b) => b.createdAtMs - a.createdAtMs)
      .map(withdrawalInfoOf);
    return {
      ...(claims.length > 0 ? { pendingDeposits: claims } : {}),
      ...(withdrawals.length > 0 ? { withdrawals } : {}),
    };
  }

  /** A refused withdrawal paid nothing: its record goes; a refused deposit's claim comes back. */
  private undoRejected(op: PendingOp, spentInput: boolean): DbOp[] {
    const ops: DbOp[] = [];
    if (op["payout"] !== undefined) ops.push(del(P_WITHDRAWAL + op.txid));
    const claim = claimOf(op);
    if (claim && !spentInput) ops.push(put(P_CLAIM + claim.txid, json(claim)));
    return ops;
  }
}

/** The Monero client half for a client core (`compat: "wallet-v1"`: the single-class wallet's keys). */
export function moneroClientFactory(options: {
  readonly crypto: MoneroCrypto;
}): ClientModuleFactory<MoneroClient> {
  return {
    kind: MONERO_CLIENT_KIND,
    compat: "wallet-v1",
    init: (init) => new MoneroClient(init, options.crypto),
  };
}
