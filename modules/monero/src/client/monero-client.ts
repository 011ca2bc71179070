// The Monero module's client half: deposit claims (in clear or sealed to one guardian), deposit
// subaddresses and withdrawals. Value moves through the mint half's interface (issueLocked for a
// deposit, payLocked for a withdrawal); what a refused transaction undoes on this side (a claim
// back in its table, a withdrawal's record dropped) the mint hands back through onRejected.
import type { ClientModule, ClientModuleFactory, ClientModuleInit, DbOp } from "@conclave/core-client";
import { del, json, put } from "@conclave/core-client";
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
  DepositProof,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  RelayResult,
  SealClaimRequest,
  SealClaimResult,
  WithdrawOptions,
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

  claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    return this.claims.claimDeposit(proof, options);
  }

  sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    return this.claims.sealClaim(request);
  }

  waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    return this.claims.waitDeposit(txid, options);
  }

  relaySealed(sealed: string): Promise<RelayResult> {
    return this.claims.relaySealed(sealed);
  }

  depositAddress(options: DepositAddressOptions = {}): Promise<DepositAddressResult> {
    return this.subaddresses.depositAddress(options);
  }

  receiveDeposits(address: string, options: ReceiveDepositsOptions = {}): Promise<ReceiveDepositsResult> {
    return this.subaddresses.receiveDeposits(address, options);
  }

  withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    return this.payouts.withdraw(address, amount, options);
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
