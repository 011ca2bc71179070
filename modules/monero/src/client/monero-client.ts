// The Monero module's client half: deposit claims (in clear or sealed to one guardian), deposit
// subaddresses and withdrawals. Value moves through the mint half's interface (issueLocked for a
// deposit, payLocked for a withdrawal); what a refused transaction undoes on this side (a claim
// back in its table, a withdrawal's record dropped) the mint hands back through onRejected.
import type {
  ClientContext,
  ClientModule,
  ClientModuleFactory,
  ClientModuleInit,
  DbOp,
  OperationRecord,
} from "@conclave/core-client";
import { del, json, progressOf, put, startOperation } from "@conclave/core-client";
import type { OperationStream } from "@conclave/core-client";
import type { MintClient, PendingOp, ReissueResult } from "@conclave/module-mint/client";
import { MoneroClaims } from "./claims.js";
import { INFO_CONFIRMED_WITHDRAWALS_MAX, withdrawalInfoOf } from "./config.js";
import type { MoneroCrypto } from "./config.js";
import { P_CLAIM, P_WITHDRAWAL } from "./store.js";
import type { ClaimRecord, DepositInto } from "./store.js";
import { MoneroSubaddresses, subaddressDepositOf } from "./subaddresses.js";
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
  private readonly ctx: ClientContext;
  /**
   * The Monero network of the federation's config (t guardians served it at join; regtest states
   * "mainnet"), or undefined when the config names none: what a withdrawal address must be of.
   */
  readonly network: "mainnet" | "stagenet" | "testnet" | undefined;

  constructor(init: ClientModuleInit, crypto: MoneroCrypto) {
    this.instanceId = init.instanceId;
    const network = init.config["network"];
    this.network =
      network === "mainnet" || network === "stagenet" || network === "testnet" ? network : undefined;
    this.claims = new MoneroClaims(init, crypto);
    this.subaddresses = new MoneroSubaddresses(init, crypto);
    this.payouts = new MoneroWithdrawals(init, crypto);
    this.ctx = init.context;
    const mint = init.context.module<MintClient>("mint");
    mint?.onRejected((op, spentInput, error) => this.undoRejected(op, spentInput, error));
    mint?.onAccepted((op, result) => this.endAccepted(op, result));
  }

  /**
   * A pending log entry of a claim or a subaddress deposit: `resume()` already ran the work this
   * round (the claim in `claim/`, the deposit's transaction through the mint), so an entry whose
   * claim or transaction is still there stays pending; one whose work is gone is closed failed.
   */
  async resumeOperation(entry: OperationRecord): Promise<void> {
    const pending = await this.ctx.module<MintClient>("mint")?.pendingLocked();
    const carried = (pending ?? []).some(
      (op) => claimOf(op)?.operationId === entry.id || subaddressDepositOf(op)?.operationId === entry.id,
    );
    if (carried) return;
    if (entry.kind === "claim" && (await this.claims.records()).some((c) => c.operationId === entry.id))
      return;
    await this.ctx.operations.fail(entry, new Error(`its ${entry.kind} is gone from this wallet`));
  }

  /** Claims a deposit by proof of payment: its progress, then the notes (or the failure). */
  claimDepositOperation(
    proof: DepositProof,
    options: Omit<ClaimDepositOptions, "onProgress"> = {},
  ): OperationStream<DepositProgress, ClaimDepositResult> {
    return startOperation((onProgress) => this.claims.claimDeposit(proof, { ...options, onProgress }));
  }

  /**
   * Claims a Monero deposit to the federation's address by proof of payment and turns it into notes:
   * posts the claim (bound to a claim key derived from the mnemonic) to every guardian, waits until t
   * guardians agree it is verified and confirmed, then spends it into fresh notes. Crash-safe: the
   * claim is written down first; calling again (or resume()) continues with the same key.
   */
  claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.claimDepositOperation(proof, rest), onProgress);
  }

  /**
   * The same claim sealed to one guardian (HPKE to its identity key) instead of posted: returns the
   * `csealed1…` text for a relay and records the claim (its claim key derived and stored first), which
   * the wallet never sends in clear. waitDeposit (or resume()) turns the deposit into notes once the
   * sealed claim has reached its guardian and the deposit is confirmed.
   */
  sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    return this.claims.sealClaim(request);
  }

  /**
   * Claims a deposit (with its tx key, or this wallet's pending claim of `txid`, sealed or not) to be
   * spent, once t guardians agree it is credited and confirmed, into another half's output worth the
   * deposit less `into.fee` (what that output pays the federation) instead of notes (`into`: a wXMR
   * mint). A deposit below `into.amountMin` becomes notes. Crash-safe as claimDeposit: resume()
   * continues it, into the same output.
   */
  claimDepositInto(
    deposit: { readonly txid: string; readonly txKey?: string },
    into: DepositInto,
    options: ClaimDepositOptions = {},
  ): Promise<ClaimDepositResult> {
    return this.claims.claimDepositInto(deposit, into, options);
  }

  /** sealClaim for a deposit to be spent into another half's output (claimDepositInto's `into`). */
  sealClaimInto(request: SealClaimRequest, into: DepositInto): Promise<SealClaimResult> {
    return this.claims.sealClaim(request, into);
  }

  /** Waits for a pending claim of `txid` and turns it into notes: progress, then the result. */
  waitDepositOperation(
    txid: string,
    options: Omit<ClaimDepositOptions, "onProgress"> = {},
  ): OperationStream<DepositProgress, ClaimDepositResult> {
    return startOperation((onProgress) => this.claims.waitDeposit(txid, { ...options, onProgress }));
  }

  /** Waits for a pending claim of `txid` (sealed or not) and turns the deposit into notes. */
  waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.waitDepositOperation(txid, rest), onProgress);
  }

  /** Posts a sealed claim (`csealed1…`, of this wallet's federation) to the guardian it is sealed to. */
  relaySealed(sealed: string): Promise<RelayResult> {
    return this.claims.relaySealed(sealed);
  }

  /**
   * A deposit subaddress of the federation's Monero wallet for a fresh claim key (derived from the
   * mnemonic, written down before it is used): pay it from any wallet, no tx key needed. The address
   * is the one t guardians agree on. Pass it to receiveDeposits to wait and turn payments into notes.
   */
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

  /**
   * Waits for payments to a subaddress from depositAddress (progress: seen in the pool, confirmations,
   * credited, issued) and turns each credited one into notes; returns once at least one payment was
   * issued and none is left spendable. Crash-safe: resume() issues what became spendable meanwhile.
   */
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

  /**
   * Pays `amount` to a Monero address from the wallet's notes: one transaction spends notes worth
   * the amount plus the federation's Monero fee reserve plus the mint's fees, issuing the change as
   * fresh notes, with the payout as its last output; then waits (outside the wallet's lock) until t
   * guardians agree the payout is confirmed. An address the guardians refuse is a
   * TransactionRejectedError and the notes stay in the wallet.
   */
  withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.withdrawOperation(address, amount, rest), onProgress);
  }

  /**
   * The wallet's withdrawals, newest first; with `refresh`, each one not yet confirmed is first
   * looked up at the guardians (t must agree), so a withdrawal whose wait was cut short (a crash, a
   * timeout, Ctrl-C) still ends with its Monero txid and tx key.
   */
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

  /**
   * A refused withdrawal paid nothing: its record goes; a refused deposit's claim comes back (its log
   * entry stays pending), unless the deposit was spent already (then its entry fails, as does a
   * refused subaddress deposit's: a new look at the subaddress issues it under a new entry).
   */
  private async undoRejected(op: PendingOp, spentInput: boolean, error: Error): Promise<DbOp[]> {
    const ops: DbOp[] = [];
    if (op["payout"] !== undefined) ops.push(del(P_WITHDRAWAL + op.txid));
    const claim = claimOf(op);
    if (claim && !spentInput) ops.push(put(P_CLAIM + claim.txid, json(claim)));
    const ended = claim && !spentInput ? undefined : await this.loggedEntry(op);
    if (ended) ops.push(this.ctx.operations.failOp(ended, error));
    return ops;
  }

  /** A deposit's notes are issued: its claim's or subaddress payment's entry ends done, in that write. */
  private async endAccepted(op: PendingOp, result: ReissueResult): Promise<DbOp[]> {
    const entry = await this.loggedEntry(op);
    if (!entry) return [];
    const deposit = claimOf(op)?.txid ?? subaddressDepositOf(op)?.txid;
    return [
      this.ctx.operations.finishOp(entry, {
        depositTxid: deposit ?? null,
        transaction: op.txid,
        amount: result.amount.toString(),
        fee: result.fee.toString(),
        notesIssued: result.notesIssued,
        state: "credited",
      }),
    ];
  }

  /** The pending log entry of the claim or subaddress deposit `op` carries, if any. */
  private async loggedEntry(op: PendingOp): Promise<OperationRecord | undefined> {
    const id = claimOf(op)?.operationId ?? subaddressDepositOf(op)?.operationId;
    const entry = id === undefined ? undefined : await this.ctx.operations.get(id);
    return entry?.state === "pending" ? entry : undefined;
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
