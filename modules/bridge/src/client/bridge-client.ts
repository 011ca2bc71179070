// The bridge module's client half: wXMR mints funded by e-cash notes (mints.ts), burns from the
// user's EVM key and burns to a claim key redeemed into e-cash (burns.ts), and one status call for
// either. Value moves through the mint half's interface (payLocked for a mint's notes, issueLocked
// for a redeemed burn); what a refused transaction undoes here comes back through onRejected.
import { progressOf, startOperation } from "@conclave/core-client";
import type {
  ClientModule,
  ClientModuleFactory,
  ClientModuleInit,
  DbOp,
  OperationRecord,
  OperationStream,
} from "@conclave/core-client";
import type { MintClient, PendingOp, ReissueResult } from "@conclave/module-mint/client";
import { BridgeBurns } from "./burns.js";
import type { BurnDestination, BurnOptions, BurnProgress, BurnResult, BurnStatus } from "./burns.js";
import { BRIDGE_CLIENT_KIND, bridgeError } from "./config.js";
import type { BridgeCrypto, BridgeHooks, EvmSender, MintCall } from "./config.js";
import type { EvmRpc, MintSubmission } from "./evm.js";
import { BridgeDepositMints } from "./deposit-mints.js";
import type { DepositMintOptions, DepositSource, SealedDepositMint } from "./deposit-mints.js";
import type { BridgeMintOptions, BridgeMintProgress, BridgeMintResult, MintStatus } from "./mints.js";
import { BridgeRefunds } from "./refunds.js";
import type { RefundOptions, RefundProgress, RefundResult } from "./refunds.js";
import type { FindMintsOptions, FindMintsResult } from "./recover.js";

export type BridgeStatus = MintStatus | BurnStatus;

/** What a wallet's user interface needs of the bridge config: chain, contract, signer set, minimum. */
export interface BridgeConfigView {
  readonly chainId: number;
  readonly contract: `0x${string}`;
  /** The guardians' EVM addresses, by guardian index. */
  readonly guardians: readonly `0x${string}`[];
  readonly threshold: number;
  readonly mintMinPiconero: bigint;
}

export class BridgeClient implements ClientModule {
  readonly kind = BRIDGE_CLIENT_KIND;
  readonly instanceId: number;
  private readonly mints: BridgeDepositMints;
  private readonly burns: BridgeBurns;
  private readonly refunds: BridgeRefunds;

  constructor(init: ClientModuleInit, crypto: BridgeCrypto, hooks: BridgeHooks = {}) {
    this.instanceId = init.instanceId;
    this.mints = new BridgeDepositMints(init, crypto);
    this.burns = new BridgeBurns(init, crypto, hooks);
    this.refunds = new BridgeRefunds(init, crypto);
    const mint = init.context.module<MintClient>("mint");
    mint?.onRejected((op, spentInput, error) => this.undoRejected(op, spentInput, error));
    mint?.onAccepted((op, result) => this.endAccepted(op, result));
  }

  /** The chain and contract of the federation's wXMR. */
  get contract(): { readonly chainId: number; readonly contract: `0x${string}` } {
    return { chainId: this.mints.config.chainId, contract: this.mints.config.contract };
  }

  /** The Monero network a burn's Monero address must be of (the bridge config's). */
  get moneroNetwork(): "mainnet" | "testnet" | "stagenet" | "regtest" {
    return this.mints.config.moneroNetwork;
  }

  /** The bridge config of the wallet's federation config (t guardians served it at join). */
  get bridgeConfig(): BridgeConfigView {
    const c = this.mints.config;
    return {
      chainId: c.chainId,
      contract: c.contract,
      guardians: [...c.guardians],
      threshold: c.threshold,
      mintMinPiconero: c.mintMinPiconero,
    };
  }

  /** `bridgeMint` as its operation's stream: accepted, signed, submitted, then the result. */
  bridgeMintOperation(
    recipient: string,
    amount: bigint,
    options: BridgeMintOptions = {},
  ): OperationStream<BridgeMintProgress, BridgeMintResult> {
    return startOperation((progress) => this.mints.mint(recipient, amount, options, progress));
  }

  /**
   * Mints `amount` wXMR to an EVM address from the wallet's notes: one federation transaction spends
   * notes into change notes and the output "wXMR to <recipient>"; once t guardians accepted it, their
   * EIP-712 signatures are collected, each checked against its guardian's config address (bad ones
   * skipped and named), and t of them sorted by signer. Returns the ready call (anyone may send it);
   * with `submit`, sends it from that EVM key (gas: the estimate + 50 %) and waits for the receipt.
   * A bad address, amount or EVM key is refused before a note is spent.
   */
  bridgeMint(
    recipient: string,
    amount: bigint,
    options: BridgeMintOptions & { readonly onProgress?: (p: BridgeMintProgress) => void } = {},
  ): Promise<BridgeMintResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.bridgeMintOperation(recipient, amount, rest), onProgress);
  }

  /** `bridgeMintFromDeposit` as its operation's stream: deposit, accepted, signed, submitted, then the result. */
  bridgeMintFromDepositOperation(
    recipient: string,
    deposit: DepositSource,
    options: DepositMintOptions = {},
  ): OperationStream<BridgeMintProgress, BridgeMintResult> {
    return startOperation((progress) => this.mints.mintFromDeposit(recipient, deposit, options, progress));
  }

  /**
   * Mints a whole Monero deposit as wXMR to an EVM address, without e-cash in between (the Secret
   * Monero Bridge flow): `deposit` is a txid and its tx key (claimed here, bound to a claim key from
   * the mnemonic), or the txid alone of this wallet's pending claim (one sealed to a guardian with
   * `bridgeSealDepositMint` and relayed). Once t guardians agree the deposit is credited and
   * confirmed, one federation transaction spends it into "wXMR to <recipient>" worth all of it (no
   * fee on either side); then as bridgeMint: signatures, and with `submit` the mint on chain.
   * Crash-safe: resume() continues the claim into the same output and collects the signatures. A
   * deposit below the wXMR minimum becomes notes (refused here with `invalid_amount`).
   */
  bridgeMintFromDeposit(
    recipient: string,
    deposit: DepositSource,
    options: DepositMintOptions & { readonly onProgress?: (p: BridgeMintProgress) => void } = {},
  ): Promise<BridgeMintResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.bridgeMintFromDepositOperation(recipient, deposit, rest), onProgress);
  }

  /**
   * Seals the claim of a Monero deposit to one guardian (for a relay: `conclave relay`) and marks it
   * to be minted as wXMR to `recipient`; `bridgeMintFromDeposit(recipient, {txid})` then waits for it.
   */
  bridgeSealDepositMint(
    recipient: string,
    request: {
      readonly txid: string;
      readonly txKey: string;
      readonly guardian?: number;
      readonly refundTo?: string;
    },
  ): Promise<SealedDepositMint> {
    return this.mints.sealDepositMint(recipient, request);
  }

  /**
   * Sends a signed mint from an EVM key (it pays the gas; the wXMR goes to the mint's recipient).
   * `id`: a federation txid (a mint of this wallet: after a crash or a cut-short run), `TXID:OUTPUT`
   * (any mint output, this wallet's or not), or an EVM burn tx hash (`HASH:LOG` for one of several
   * burns) whose burn the federation re-minted to its burner. Always the call t guardians sign now:
   * an expired mint without refund key is sent under its current re-issue (`reissue` in the
   * result), never under an earlier attempt's signatures.
   */
  bridgeSubmit(id: string, sender: EvmSender): Promise<MintSubmission> {
    const text = id.trim();
    const mint = /^([0-9a-fA-F]{64})(?::(\d{1,5}))?$/.exec(text);
    if (mint)
      return mint[2] === undefined
        ? this.mints.submit(mint[1]!.toLowerCase(), sender)
        : this.mints.submitOutput(mint[1]!.toLowerCase(), Number(mint[2]), sender);
    const burn = /^(0x[0-9a-fA-F]{64})(?::(\d{1,10}))?$/.exec(text);
    if (burn)
      return this.burns.submitRemint(
        burn[1]!.toLowerCase(),
        burn[2] === undefined ? undefined : Number(burn[2]),
        sender,
      );
    throw bridgeError(
      "unknown_mint",
      `a mint to send is a federation txid (64 hex; TXID:OUTPUT) or a re-minted burn's EVM tx hash (0x and 64 hex; HASH:LOG), not "${text.slice(0, 80)}"`,
    );
  }

  /**
   * The signed call of a mint of this wallet (by its federation txid), for any EVM wallet to send:
   * kept since its signatures were collected, else collected now (each checked against its
   * guardian's config address).
   */
  bridgeMintCall(txid: string): Promise<MintCall> {
    return this.mints.sign(txid.trim().toLowerCase());
  }

  /** `bridgeBurn` as its operation's stream. */
  bridgeBurnOperation(
    amount: bigint,
    to: BurnDestination,
    options: BurnOptions = {},
  ): OperationStream<BurnProgress, BurnResult> {
    return startOperation((progress) => this.burns.burn(amount, to, options, progress));
  }

  /**
   * Burns `amount` wXMR from an EVM key: to a Monero address (the federation pays it out), or to a
   * claim key of this wallet (derived from its recovery phrase), which it then redeems into e-cash
   * notes once t guardians accepted the burn at their depth. Without `sender`, returns the call for
   * any EVM wallet (the claim key's index is kept: `bridgeRedeem` finds it from the burn).
   */
  bridgeBurn(
    amount: bigint,
    to: BurnDestination,
    options: BurnOptions & { readonly onProgress?: (p: BurnProgress) => void } = {},
  ): Promise<BurnResult> {
    const { onProgress, ...rest } = options;
    return progressOf(this.bridgeBurnOperation(amount, to, rest), onProgress);
  }

  /**
   * Redeems a burn to one of this wallet's claim keys (by its EVM tx hash) into notes; a burn the
   * wallet has no record of is read from the EVM node at `rpcUrl`.
   */
  bridgeRedeem(
    txHash: string,
    options: Omit<BurnOptions, "sender"> & {
      readonly rpcUrl?: EvmRpc;
      readonly onProgress?: (p: BurnProgress) => void;
    } = {},
  ): Promise<BurnResult> {
    const { onProgress, ...rest } = options;
    return progressOf(
      startOperation<BurnProgress, BurnResult>((progress) => this.burns.redeem(txHash, rest, progress)),
      onProgress,
    );
  }

  /**
   * Takes back, as e-cash notes worth the whole amount, a wXMR mint of this wallet (by its federation
   * txid) that nobody submitted before its deadline: waits until t guardians saw it unminted at their
   * confirmation depth past the deadline (`bridgeStatus` says `returnable`), then spends it with the
   * output's refund key. Refused for a mint that was minted, already refunded, or made without a
   * refund key.
   */
  bridgeRefund(
    txid: string,
    options: RefundOptions & { readonly onProgress?: (p: RefundProgress) => void } = {},
  ): Promise<RefundResult> {
    const { onProgress, ...rest } = options;
    return progressOf(
      startOperation<RefundProgress, RefundResult>((progress) => this.refunds.refund(txid, rest, progress)),
      onProgress,
    );
  }

  /**
   * The refundable mints of this wallet found at the guardians by its refund keys (derived from the
   * recovery phrase, index by index until `gap` in a row name none; t equal answers each): a
   * wallet restored on a new device gets a record of each, so that `bridgeRefund` and
   * `bridgeStatus` work on them. `bridgeRefund` of a txid the wallet does not know does this first.
   */
  bridgeFindMints(options: FindMintsOptions = {}): Promise<FindMintsResult> {
    return this.refunds.findMints(options);
  }

  /**
   * Where a mint or a burn is. `id`: a federation txid (64 hex; `TXID:OUTPUT` for another output)
   * for a mint, an EVM tx hash (0x and 64 hex; `HASH:LOG` for another log) for a burn. From the
   * wallet's records, the guardians (t agreeing; each mint signature checked) and, with `rpcUrl`,
   * the chain: a mint is pending, accepted, signed, submitted, minted, failed, expired, returnable
   * (expired and returned by t guardians: `bridgeRefund`) or refunded; a burn
   * sent, mined, voting, then payout_pending, claimable, redeemed/claimed or reminted.
   */
  async bridgeStatus(id: string, options: { readonly rpcUrl?: EvmRpc } = {}): Promise<BridgeStatus> {
    const text = id.trim();
    const mint = /^([0-9a-fA-F]{64})(?::(\d{1,5}))?$/.exec(text);
    if (mint)
      return this.mints.status(
        mint[1]!.toLowerCase(),
        mint[2] === undefined ? undefined : Number(mint[2]),
        options.rpcUrl,
      );
    const burn = /^(0x[0-9a-fA-F]{64})(?::(\d{1,10}))?$/.exec(text);
    if (burn)
      return this.burns.status(
        burn[1]!.toLowerCase(),
        burn[2] === undefined ? undefined : Number(burn[2]),
        options.rpcUrl,
      );
    throw bridgeError(
      "unknown_mint",
      `a bridge id is a federation txid (64 hex, a mint) or an EVM tx hash (0x and 64 hex, a burn), not "${text.slice(0, 80)}"`,
    );
  }

  async resumeOperation(entry: OperationRecord): Promise<void> {
    if (entry.kind === "mint") return this.mints.resumeMint(entry);
    if (entry.kind === "refund") return this.refunds.resumeRefund(entry);
    return this.burns.resumeBurn(entry);
  }

  private async undoRejected(op: PendingOp, spentInput: boolean, error: Error): Promise<DbOp[]> {
    return [
      ...(await this.mints.undoRejected(op, error)),
      ...(await this.burns.undoRejected(op, spentInput, error)),
      ...(await this.refunds.undoRejected(op, error)),
    ];
  }

  private async endAccepted(op: PendingOp, result: ReissueResult): Promise<DbOp[]> {
    return [
      ...(await this.mints.endAcceptedDeposit(op)),
      ...(await this.burns.endAccepted(op, result)),
      ...(await this.refunds.endAccepted(op, result)),
    ];
  }
}

/** The bridge's client half for a client core (its own secret: core-client secrets.ts). */
export function bridgeClientFactory(options: {
  readonly crypto: BridgeCrypto;
  readonly hooks?: BridgeHooks;
}): ClientModuleFactory<BridgeClient> {
  return {
    kind: BRIDGE_CLIENT_KIND,
    init: (init) => new BridgeClient(init, options.crypto, options.hooks),
  };
}
