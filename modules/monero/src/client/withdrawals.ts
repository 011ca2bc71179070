// The Monero half's withdrawals: notes in (through the mint half), change notes and a payout output
// out, in one transaction; then the payout watched until t guardians agree it is confirmed, its
// Monero txid and tx key kept in the withdrawal's record.
import { json, parseJson, put, scanPrefix, sleep } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { NoQuorumError } from "@conclave/core-client";
import { ConclaveError, TransactionRejectedError } from "@conclave/core-common";
import type { ReissueResult } from "@conclave/module-mint/client";
import { PayoutTermsSchema } from "../api.js";
import type { PayoutTerms } from "../api.js";
import { encodePayoutOutput } from "../payout-common.js";
import { PayoutStatusSchema } from "../payout-status.js";
import type { PayoutStatus } from "../payout-status.js";
import {
  MoneroPart,
  PAYOUT_TERMS_PATH,
  WITHDRAW_WAIT_MS_DEFAULT,
  errorText,
  moneroError,
  payoutPath,
  progressReporter,
  sameTerms,
  withdrawProgressOf,
  withdrawalInfoOf,
  withdrawalRecordOf,
} from "./config.js";
import { P_WITHDRAWAL } from "./store.js";
import type { WithdrawalRecord } from "./store.js";
import type { WithdrawOptions, WithdrawResult, WithdrawalInfo } from "./types.js";

export class MoneroWithdrawals extends MoneroPart {
  /**
   * Pays `amount` to a Monero address: one transaction under the lock (notes in, change notes and
   * the payout output out), then the wait for the payout's confirmation outside it.
   */
  async withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    const to = address.trim();
    try {
      encodePayoutOutput(to, 1n); // the address's form only: the fee comes with the quote below
    } catch (e) {
      throw moneroError("invalid_address", `not a Monero address: ${errorText(e)}`, {
        address: to.slice(0, 120),
      });
    }
    // The guardians refuse it too, but only after the notes are spent into the transaction and in
    // terms of its outputs ("output 17: ..."): say it here, before anything is spent.
    if (to === this.address)
      throw moneroError(
        "invalid_address",
        "that is the federation's own deposit address: withdraw to an address of a wallet of yours " +
          "(nothing was spent)",
        { address: to.slice(0, 120) },
      );
    const client = await this.ctx.client();
    let terms = await this.payoutTerms(client);
    if (typeof amount !== "bigint" || amount < terms.minimum)
      throw moneroError(
        "invalid_amount",
        `the federation pays out at least ${terms.minimum} per withdrawal, not ${String(amount)}`,
        { amount: String(amount), minimum: terms.minimum.toString() },
      );
    // The fee is fixed when consensus orders the transaction: a rate that rose since the quote makes
    // the guardians refuse it (fee_too_low), the notes come back (settleRejected), and one retry at
    // the new quote follows. A rate that fell costs at most the difference (at most 10x is accepted).
    let sent: { result: ReissueResult; output: number } | undefined;
    for (let attempt = 0; !sent; attempt++) {
      const fee = terms.fee;
      try {
        sent = await this.ctx.run(async () => {
          const payload = encodePayoutOutput(to, fee);
          return this.payLocked(to, amount, fee, payload);
        });
      } catch (e) {
        if (attempt > 0 || !(e instanceof ConclaveError) || e.code !== "fee_too_low") throw e;
        this.ctx.warn(`the Monero fee rate rose since the quote (${errorText(e)}): quoting again`);
        terms = await this.payoutTerms(client);
      }
    }
    const { result, output } = sent;
    const report = progressReporter(options.onProgress);
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.ctx.now() + (options.timeoutMs ?? WITHDRAW_WAIT_MS_DEFAULT);
    for (;;) {
      const outcome = await this.payoutView(client, result.txid, output);
      if (outcome) {
        await this.noteWithdrawal(result.txid, outcome);
        report(withdrawProgressOf(result.txid, outcome));
        if (outcome.state === "confirmed" && outcome.moneroTxid)
          return {
            txid: result.txid,
            moneroTxid: outcome.moneroTxid,
            ...(outcome.txKey ? { txKey: outcome.txKey } : {}),
            amount,
            fee: result.fee,
            moneroFee: terms.fee,
            feeRate: terms.feeRate,
          };
      }
      if (this.ctx.now() >= deadline)
        throw moneroError(
          "withdraw_timeout",
          `the payout of transaction ${result.txid} is not confirmed yet` +
            (outcome ? ` (${outcome.state})` : "") +
            `; the notes are spent and the federation goes on with it: GET ${payoutPath(result.txid, output)} shows it`,
          { txid: result.txid, output },
        );
      await sleep(pollMs);
    }
  }

  async withdrawals(options: { readonly refresh?: boolean } = {}): Promise<WithdrawalInfo[]> {
    if (options.refresh) {
      const client = await this.ctx.client();
      for (const w of await this.withdrawalRecords()) {
        if (w.state === "confirmed") continue;
        // Not accepted yet (its operation is pending: resume() resubmits it): nothing to ask.
        if (w.state === "submitting" && (await this.mint().isPending(w.txid))) continue;
        const outcome = await this.payoutView(client, w.txid, w.output);
        if (outcome) await this.noteWithdrawal(w.txid, outcome);
      }
    }
    return (await this.withdrawalRecords()).map(withdrawalInfoOf);
  }

  async withdrawalRecords(): Promise<WithdrawalRecord[]> {
    return (await scanPrefix(this.db, P_WITHDRAWAL))
      .map(([, v]) => parseJson<WithdrawalRecord>(v))
      .sort((a, b) => b.createdAtMs - a.createdAtMs);
  }

  /** Saves what the guardians now say of a withdrawal's payout (only when it changed). */
  private async noteWithdrawal(txid: string, outcome: PayoutStatus): Promise<void> {
    await this.ctx.run(async () => {
      const raw = await this.db.get(P_WITHDRAWAL + txid);
      if (!raw) return;
      const w = parseJson<WithdrawalRecord>(raw);
      const next: WithdrawalRecord = {
        ...w,
        state: outcome.state,
        ...(outcome.moneroTxid ? { moneroTxid: outcome.moneroTxid } : {}),
        ...(outcome.txKey ? { txKey: outcome.txKey } : {}),
        updatedAtMs: this.ctx.now(),
      };
      if (next.state === w.state && next.moneroTxid === w.moneroTxid && next.txKey === w.txKey) return;
      await this.db.write([put(P_WITHDRAWAL + txid, json(next))]);
    });
  }

  /**
   * GET payouts/terms as t guardians agree: the minimum and the fee a payout pays now (consensus
   * state). Asked a few times when they disagree (one may be a block behind).
   */
  private async payoutTerms(
    client: FederationClient,
  ): Promise<{ minimum: bigint; fee: bigint; feeRate: number }> {
    let terms: PayoutTerms | undefined;
    for (let tries = 0; !terms; tries++) {
      try {
        terms = (await client.queryConsensus(PAYOUT_TERMS_PATH, PayoutTermsSchema, sameTerms)).value;
      } catch (e) {
        if (!(e instanceof NoQuorumError) || tries >= 4) throw e;
        await sleep(500);
      }
    }
    if (terms.fee === undefined)
      throw moneroError(
        "fee_rate_unknown",
        "the guardians have not agreed on a Monero fee rate yet (their nodes report it when they start): retry in a minute",
        { reportedFeeRates: terms.reportedFeeRates },
      );
    return { minimum: BigInt(terms.minimum), fee: BigInt(terms.fee), feeRate: terms.feeRate };
  }

  /** The payout's outcome as t guardians agree, or undefined while they do not (one is a block behind). */
  private payoutView(
    client: FederationClient,
    txid: string,
    output: number,
  ): Promise<PayoutStatus | undefined> {
    return this.agreed(client, payoutPath(txid, output), PayoutStatusSchema);
  }

  /**
   * One transaction through the mint half: notes covering amount + the payout's Monero fee + the
   * mint's fees; change notes first, the payout last. The withdrawal's record is written with it
   * (and deleted with it if the guardians refuse it: the half's rejection hook).
   */
  private async payLocked(
    address: string,
    amount: bigint,
    moneroFee: bigint,
    payload: Uint8Array,
  ): Promise<{ result: ReissueResult; output: number }> {
    const needed = amount + moneroFee;
    let output = -1; // the payout's index, known once the mint has planned the change
    const result = await this.mint()
      .payLocked("withdraw", {
        needed,
        extra: [{ module: this.instanceId, amount, payload }],
        insufficient: (balance, fee) =>
          moneroError(
            "insufficient_funds",
            `the wallet holds ${balance}; withdrawing ${amount} needs ${needed} (with the payout's Monero fee of ` +
              `${moneroFee} at the agreed fee rate) plus the mint's fee of ${fee} per note spent`,
            { balance: balance.toString(), amount: amount.toString(), moneroFee: moneroFee.toString() },
          ),
        tooMuchChange: (changeNotes, outputsMax) =>
          moneroError(
            "invalid_amount",
            `withdrawing ${amount} leaves change of ${changeNotes} notes, more than one transaction may issue ` +
              `(${outputsMax}): combine first`,
          ),
        attach: (changeNotes) => {
          output = changeNotes;
          return { payout: { output, address, amount: amount.toString() } };
        },
        writes: (op) => [
          put(
            P_WITHDRAWAL + op.txid,
            json(withdrawalRecordOf(op.txid, { output, address, amount: amount.toString() }, op.createdAtMs)),
          ),
        ],
      })
      .catch((e: unknown) => {
        throw payoutRefusal(e, output);
      });
    return { result, output };
  }
}

/**
 * A refusal the guardians gave for the payout output of a withdrawal's transaction, in the words of
 * someone who asked to withdraw: the federation names outputs by index ("output 2: cannot pay
 * 4Ab…: that is the federation's own deposit address ..."), which tells a user nothing. The code
 * and details stay (`details.output` included); any other error passes unchanged.
 */
export function payoutRefusal(e: unknown, output: number): unknown {
  if (!(e instanceof TransactionRejectedError) || output < 0 || e.details["output"] !== output) return e;
  const reason = e.message.startsWith(`output ${output}: `)
    ? e.message.slice(`output ${output}: `.length)
    : e.message;
  return new TransactionRejectedError(
    e.code,
    `the guardians refused the payout: ${reason}; nothing was spent, the notes are in the wallet`,
    e.details,
  );
}
