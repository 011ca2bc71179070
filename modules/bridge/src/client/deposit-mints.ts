// wXMR straight from a Monero deposit (the Secret Monero Bridge flow): the deposit's claim (with its
// tx key, or a claim sealed to one guardian) is written down in the Monero half with an `into`: once
// t guardians agree the deposit is credited and confirmed, the Monero half spends it in one
// federation transaction into the output "wXMR to <EVM address>" worth the deposit less the fee a
// refundable (0x02) output pays the federation (`refundableMintFeePiconero`, threat-model 12w; the
// deposit input charges none), never into notes. The user never holds e-cash.
// When that transaction is accepted, this half writes the mint's record and log entry in the mint
// half's settling write (endAcceptedDeposit), so a crash after it is resumed like any mint (the
// signatures collected, `bridge-submit` sends it). A deposit below the refundable mint's minimum plus
// that fee becomes notes.
import { decodeTransaction, fromHex, toHex } from "@conclave/core-common";
import type { ClientModule, DbOp } from "@conclave/core-client";
import type { PendingOp } from "@conclave/module-mint/client";
import { parseAddress } from "@conclave/monero/address";
import { decodeMintOutput, encodeMintOutput } from "../common.js";
import { bridgeError } from "./config.js";
import { BridgeMints } from "./mints.js";
import type { BridgeMintOptions, BridgeMintProgress, BridgeMintResult } from "./mints.js";
import { parseEvmAddress } from "./part.js";

type Hex = `0x${string}`;

/** A Monero deposit to mint from: a txid and its tx key (a new claim), or this wallet's pending claim. */
export interface DepositSource {
  readonly txid: string;
  readonly txKey?: string;
}

/**
 * What this half needs of the Monero half (`@conclave/module-monero/client` MoneroClient, reached
 * through the client core by kind, so the bridge does not depend on that package): its claim of a
 * deposit spent into another half's output.
 */
interface DepositInto {
  readonly module: number;
  readonly payload: string;
  readonly amountMin: string;
  readonly fee: string;
  readonly attach: { readonly [field: string]: string | number | null };
}
interface MoneroDeposits extends ClientModule {
  claimDepositInto(
    deposit: DepositSource,
    into: DepositInto,
    options: {
      readonly onProgress?: (p: { readonly txid: string; readonly message: string }) => void;
      readonly timeoutMs?: number;
      readonly pollMs?: number;
    },
  ): Promise<{
    readonly txid: string;
    readonly depositTxid: string;
    readonly into?: { readonly amount: bigint; readonly fee: bigint };
  }>;
  sealClaimInto(
    request: { readonly txid: string; readonly txKey: string; readonly guardian?: number },
    into: DepositInto,
  ): Promise<SealedDepositMint>;
}

/** A deposit's claim sealed to one guardian for a wXMR mint: `sealed` goes to a relay. */
export interface SealedDepositMint {
  readonly txid: string;
  readonly guardian: number;
  readonly guardianName: string;
  readonly sealed: string;
}

export interface DepositMintOptions extends BridgeMintOptions {
  /**
   * A Monero address (standard or subaddress of the federation's network) to pay the mint back to,
   * by the federation with no client involved, if it is never minted (not submitted by its deadline,
   * the contract paused, a mint above the cap cancelled): the 0x03 output form. Without it, the value
   * comes back as e-cash to this wallet's refund key (`bridge-refund`). Taken when the claim is
   * written (a pending claim keeps the output it was written with).
   */
  readonly refundTo?: string;
  /** How long to wait for the deposit to be credited and confirmed (the Monero half's default: 6 h). */
  readonly depositTimeoutMs?: number;
  readonly pollMs?: number;
}

/** The attachments a deposit's pending transaction carries for this half: recipient, refund index. */
const ATTACH = "bridgeDepositMint";
const ATTACH_REFUND = "bridgeDepositMintRefund";

export class BridgeDepositMints extends BridgeMints {
  private moneroHalf(): MoneroDeposits {
    const monero = this.ctx.module<MoneroDeposits>("monero");
    if (!monero)
      throw bridgeError(
        "no_monero_module",
        "this federation runs no Monero module: there is no Monero deposit to mint from",
      );
    return monero;
  }

  /**
   * The mint output a deposit is spent into: the refundable 0x02 form, as mints from notes, so that
   * a mint nobody submits before its deadline comes back as e-cash to this wallet's refund key
   * `refundIndex` (reserved before the key is used anywhere). The output pays the federation its
   * fee out of the deposit (there are no notes to pay it from): it is worth deposit − fee, and a
   * deposit below the refundable minimum + fee becomes notes.
   */
  private async into(recipient: Hex, refundTo?: string): Promise<DepositInto> {
    const refundAddress = refundTo === undefined ? undefined : this.refundAddress(refundTo);
    const refundIndex = await this.reserveRefundIndex();
    return {
      module: this.instanceId,
      payload: toHex(encodeMintOutput(recipient, this.refundKey(refundIndex), refundAddress)),
      amountMin: this.depositMinimum().toString(),
      fee: this.config.refundableMintFeePiconero.toString(),
      attach: { [ATTACH]: recipient, [ATTACH_REFUND]: refundIndex },
    };
  }

  /**
   * A refund address checked as the guardians check it (checksum, network, standard or subaddress),
   * before anything is written: refused here, not by t guardians after the deposit is claimed.
   */
  private refundAddress(text: string): string {
    const address = text.trim();
    try {
      parseAddress(address, this.config.moneroNetwork, ["standard", "subaddress"]);
    } catch (e) {
      throw bridgeError(
        "invalid_monero_address",
        `the refund address is not a standard address or subaddress of this federation's Monero network (${this.config.moneroNetwork}): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return address;
  }

  /** The smallest deposit that is minted rather than turned into notes: the minimum output + fee. */
  private depositMinimum(): bigint {
    return this.refundableMinimum() + this.config.refundableMintFeePiconero;
  }

  /**
   * Mints the whole of a Monero deposit as wXMR to `recipientText`: the claim is written down (or
   * this wallet's pending claim of the txid is taken), the deposit awaited, spent into the mint
   * output, the signatures collected and, with `submit`, the mint sent.
   */
  async mintFromDeposit(
    recipientText: string,
    deposit: DepositSource,
    options: DepositMintOptions,
    progress: (p: BridgeMintProgress) => void,
  ): Promise<BridgeMintResult> {
    // The amount is the deposit's, known once t guardians credit it: the Monero half compares it.
    const recipient = await this.openMint(recipientText, options.submit);
    const monero = this.moneroHalf();
    const claimed = await monero.claimDepositInto(deposit, await this.into(recipient, options.refundTo), {
      onProgress: (p) => progress({ stage: "deposit", message: p.message, txid: p.txid }),
      ...(options.depositTimeoutMs === undefined ? {} : { timeoutMs: options.depositTimeoutMs }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    });
    if (!claimed.into)
      throw bridgeError(
        "invalid_amount",
        `deposit ${claimed.depositTxid} is below the wXMR minimum from a deposit, ${this.depositMinimum()} piconero ` +
          `(a refundable mint of at least ${this.refundableMinimum()} plus ${this.config.refundableMintFeePiconero} ` +
          `paid to the federation): it became notes instead (transaction ${claimed.txid}; see the balance)`,
        {
          depositTxid: claimed.depositTxid,
          txid: claimed.txid,
          minimum: this.depositMinimum().toString(),
        },
      );
    // The deposit input pays no fee and no notes are spent: the only fee is the output's.
    return this.finishMint(claimed.txid, options, progress, { fee: 0n, federationFee: claimed.into.fee });
  }

  /**
   * The deposit's claim sealed to one guardian (for a relay) and marked to be minted as wXMR to
   * `recipientText`: `mintFromDeposit` with the txid alone then waits for it and mints.
   */
  async sealDepositMint(
    recipientText: string,
    request: {
      readonly txid: string;
      readonly txKey: string;
      readonly guardian?: number;
      readonly refundTo?: string;
    },
  ): Promise<SealedDepositMint> {
    const recipient = parseEvmAddress(recipientText, this.config.contract);
    const monero = this.moneroHalf();
    const { refundTo, ...claim } = request;
    return monero.sealClaimInto(claim, await this.into(recipient, refundTo));
  }

  /**
   * A deposit's transaction into a mint output was accepted: its record and a log entry (ended by
   * `sign` once the signatures are in hand), in the mint half's settling write. The output is found
   * in the signed transaction itself.
   */
  async endAcceptedDeposit(op: PendingOp): Promise<DbOp[]> {
    const recipient = op[ATTACH];
    if (typeof recipient !== "string" || (await this.mintRecord(op.txid))) return [];
    const tx = decodeTransaction(fromHex(op.tx));
    const output = tx.outputs.findIndex((o) => {
      if (o.module !== this.instanceId) return false;
      try {
        return decodeMintOutput(o.payload).recipient.toLowerCase() === recipient.toLowerCase();
      } catch {
        return false;
      }
    });
    const out = tx.outputs[output];
    if (!out) return [];
    const refund = op[ATTACH_REFUND];
    const refundIndex = typeof refund === "number" && Number.isSafeInteger(refund) ? refund : undefined;
    const claim = op["claim"];
    const depositTxid =
      claim !== null && typeof claim === "object" && "txid" in claim && typeof claim.txid === "string"
        ? claim.txid
        : undefined;
    const started = this.ctx.operations.startOp(this.instanceId, "bridge", "mint", {
      txid: op.txid,
      output,
      recipient,
      amount: out.amount.toString(),
      ...(depositTxid === undefined ? {} : { depositTxid }),
    });
    return [
      started.op,
      this.putMint({
        operationId: started.record.id,
        txid: op.txid,
        output,
        recipient: recipient as Hex,
        amount: out.amount.toString(),
        createdAtMs: op.createdAtMs,
        ...(refundIndex === undefined ? {} : { refundIndex }),
        ...(depositTxid === undefined ? {} : { depositTxid }),
      }),
    ];
  }
}
