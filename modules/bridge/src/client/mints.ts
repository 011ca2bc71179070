// wXMR mints from e-cash: one federation transaction spends notes into change notes and an output
// "wXMR to <EVM address>" (through the mint half's payLocked); once t guardians accepted it, each
// guardian's EIP-712 signature is collected and checked (part.ts collectCall), and the ready call is
// returned or sent from the user's EVM key (evm.ts). Crash-safe: the operation's log entry and the
// mint's record are written with the pending transaction; resume settles the transaction (the mint
// half) and collects the signatures (resumeMint). The EVM key is never written down: a mint whose
// sending was cut short is sent again with `submitMint`.
import { del, groupAnswers, sameJson, sleep } from "@conclave/core-client";
import type { DbOp, GuardianAnswer, OperationRecord } from "@conclave/core-client";
import type { PendingOp } from "@conclave/module-mint/client";
import { ChainViewSchema, MintSignatureSchema } from "../api.js";
import type { BurnPayoutView, ChainView, MintExpiryView, MintSignatureView } from "../api.js";
import { encodeMintOutput } from "../common.js";
import { outputDepositId } from "../eip712-mint.js";
import { fromHex } from "@conclave/core-common";
import {
  CHAIN_PATH,
  SIGNATURES_WAIT_MS_DEFAULT,
  bridgeError,
  callFromJson,
  callToJson,
  errorText,
  mintPath,
  reissueOf,
  reissuedText,
} from "./config.js";
import type { EvmSender, MintCall, MintRecord, ReissueInfo } from "./config.js";
import { checkChainId, mintOnChain, publicClientOf, sendMintChecked } from "./evm.js";
import type { EvmRpc, MintSubmission } from "./evm.js";
import { BridgePart, parseEvmAddress } from "./part.js";

type Hex = `0x${string}`;

export interface BridgeMintOptions {
  /** Send the mint from this EVM key and node (it pays the gas); without it, the call is returned. */
  readonly submit?: EvmSender;
  /** How long to ask for t good signatures after acceptance (default 30 s). */
  readonly signaturesWaitMs?: number;
}

export interface BridgeMintProgress {
  /** deposit: a Monero deposit being credited (txid: the Monero txid); then the federation transaction's. */
  readonly stage: "deposit" | "accepted" | "signed" | "submitted";
  readonly message: string;
  readonly txid: string;
}

export interface BridgeMintResult {
  readonly operationId: string;
  /** The federation transaction (notes or a Monero deposit in, wXMR mint output out) and the output's index. */
  readonly txid: string;
  readonly output: number;
  /** The mint's fee in notes (the mint half's fee per spent note). */
  readonly fee: bigint;
  /**
   * What the refundable (0x02) mint output paid the federation on top of the amount (the federation
   * config's `refundableMintFeePiconero`; threat-model 12w). The notes spent cover amount + fee +
   * this; a return after the deadline gives back the amount, not this.
   */
  readonly federationFee: bigint;
  readonly call: MintCall;
  /** With `submit`: the EVM transaction and what the contract did. */
  readonly submission?: MintSubmission;
}

export class BridgeMints extends BridgePart {
  /** The mint attached to a pending transaction of the mint half, if any. */
  static attached(op: PendingOp): { output: number } | undefined {
    const a = op["bridgeMint"];
    if (a === null || typeof a !== "object" || !("output" in a) || typeof a.output !== "number")
      return undefined;
    return { output: a.output };
  }

  async mint(
    recipientText: string,
    amount: bigint,
    options: BridgeMintOptions,
    progress: (p: BridgeMintProgress) => void,
  ): Promise<BridgeMintResult> {
    // Everything a user can get wrong is refused here, before a note is spent.
    const recipient = await this.openMint(recipientText, options.submit, amount);
    const federationFee = this.config.refundableMintFeePiconero;
    // The 0x02 form: if nobody submits the mint before its deadline, the guardians return its value
    // to this key as e-cash (`bridge-refund`).
    const refundIndex = await this.reserveRefundIndex();
    const refundKey = this.refundKey(refundIndex);
    let output = -1;
    const paid = await this.ctx.run(() =>
      this.mintHalf().payLocked("bridge-mint", {
        // The federation's fee for the refundable output is paid by the notes, on top of the amount.
        needed: amount + federationFee,
        extra: [{ module: this.instanceId, amount, payload: encodeMintOutput(recipient, refundKey) }],
        insufficient: (balance, fee) =>
          bridgeError(
            "insufficient_funds",
            `the wallet holds ${balance}; minting ${amount} wXMR needs ${amount}, plus ${federationFee} paid to the federation for the refundable mint, plus the mint's fee of ${fee} per note spent`,
            {
              balance: balance.toString(),
              amount: amount.toString(),
              federationFee: federationFee.toString(),
            },
          ),
        tooMuchChange: (changeNotes, outputsMax) =>
          bridgeError(
            "invalid_amount",
            `minting ${amount} leaves change of ${changeNotes} notes, more than one transaction issues (${outputsMax}): combine first`,
          ),
        attach: (changeNotes) => {
          output = changeNotes;
          return { bridgeMint: { output } };
        },
        writes: (op) => {
          const started = this.ctx.operations.startOp(this.instanceId, "bridge", "mint", {
            txid: op.txid,
            output,
            recipient,
            amount: amount.toString(),
          });
          return [
            started.op,
            this.putMint({
              operationId: started.record.id,
              txid: op.txid,
              output,
              recipient,
              amount: amount.toString(),
              createdAtMs: op.createdAtMs,
              refundIndex,
            }),
          ];
        },
      }),
    );
    return this.finishMint(paid.txid, options, progress, { fee: paid.fee, federationFee });
  }

  /**
   * The smallest amount of a mint output this wallet makes: the refundable (0x02) form's minimum,
   * or the plain minimum if the federation set that higher. The output pays the federation
   * `refundableMintFeePiconero` on top (threat-model 12w).
   */
  protected refundableMinimum(): bigint {
    const { mintMinPiconero, refundableMintMinPiconero } = this.config;
    return refundableMintMinPiconero > mintMinPiconero ? refundableMintMinPiconero : mintMinPiconero;
  }

  /**
   * The checks every mint opens with (from notes or from a Monero deposit), before anything is spent
   * or claimed: the recipient parsed (not zero, not the contract), the amount when it is known (the
   * refundable minimum, the mint half's amount rules), the EVM key and node if the mint is to be
   * sent, and an EVM time agreed by t guardians (the output would be refused without one).
   */
  protected async openMint(
    recipientText: string,
    submit: EvmSender | undefined,
    amount?: bigint,
  ): Promise<Hex> {
    const recipient = parseEvmAddress(recipientText, this.config.contract);
    if (amount !== undefined) {
      const minimum = this.refundableMinimum();
      const federationFee = this.config.refundableMintFeePiconero;
      if (typeof amount !== "bigint" || amount < minimum)
        throw bridgeError(
          "invalid_amount",
          `a wXMR mint is at least ${minimum} piconero (and pays the federation ${federationFee} piconero), not ${String(amount)}; nothing was spent`,
          { minimum: minimum.toString(), federationFee: federationFee.toString() },
        );
      this.mintHalf().checkAmount(amount);
    }
    await this.checkSender(submit);
    await this.checkEvmTime();
    return recipient;
  }

  /** An accepted mint of this wallet: its signatures collected and, with `submit`, sent. */
  protected async finishMint(
    txid: string,
    options: BridgeMintOptions,
    progress: (p: BridgeMintProgress) => void,
    fees: { readonly fee: bigint; readonly federationFee: bigint },
  ): Promise<BridgeMintResult> {
    progress({
      stage: "accepted",
      message: `transaction ${txid} accepted by the federation (fees: ${fees.fee} for the notes spent, ${fees.federationFee} to the federation for the refundable mint)`,
      txid,
    });
    const call = await this.sign(txid, options.signaturesWaitMs);
    progress({
      stage: "signed",
      message: `${call.signatures.length} guardian signatures collected${call.badGuardians.length > 0 ? ` (skipped guardians ${call.badGuardians.join(", ")})` : ""}${reissuedText(call) ? `; ${reissuedText(call)}` : ""}`,
      txid,
    });
    const record = await this.mintRecord(txid);
    const base = {
      operationId: record?.operationId ?? "",
      txid,
      output: record?.output ?? 0,
      ...fees,
      call,
    };
    if (!options.submit) return base;
    const submission = await this.submit(txid, options.submit);
    progress({ stage: "submitted", message: `mint sent: ${submission.txHash}`, txid });
    return { ...base, submission };
  }

  /** A malformed EVM key, or a node of another chain, is refused before anything is spent. */
  private async checkSender(submit: EvmSender | undefined): Promise<void> {
    if (!submit) return;
    if (!/^0x[0-9a-fA-F]{64}$/.test(submit.privateKey))
      throw bridgeError("invalid_evm_key", "an EVM private key is 0x and 64 hex digits; nothing was spent");
    await checkChainId(
      publicClientOf(this.config.chainId, submit.rpcUrl),
      this.config.chainId,
      submit.rpcUrl,
    );
  }

  /** Refuses before anything is spent while the guardians have no agreed EVM time (the output would be refused). */
  private async checkEvmTime(): Promise<void> {
    const client = await this.ctx.client();
    // Only "is there an agreed time, for this contract" must be the same at t guardians: the scanned
    // reports in the view move with every EVM block, and guardians a block apart would disagree.
    const known = (v: ChainView) => `${v.chainId}/${v.contract.toLowerCase()}/${v.agreedTimestamp !== "0"}`;
    let chain: ChainView | undefined;
    for (let tries = 0; !chain && tries < 5; tries++) {
      chain = await this.agreed(client, CHAIN_PATH, ChainViewSchema, (a, b) => known(a) === known(b));
      if (!chain) await sleep(300);
    }
    if (
      chain &&
      (chain.chainId !== this.config.chainId ||
        chain.contract.toLowerCase() !== this.config.contract.toLowerCase())
    )
      throw bridgeError(
        "wrong_chain",
        `t guardians report contract ${chain.contract} on chain ${chain.chainId}, the federation config ${this.config.contract} on ${this.config.chainId}`,
      );
    if (!chain || chain.agreedTimestamp === "0")
      throw bridgeError(
        "evm_time_unknown",
        "the guardians have not agreed on the EVM chain's time yet (their nodes report it as blocks come); retry shortly; nothing was spent",
      );
  }

  /** Collects and checks the signatures of an accepted mint, keeps the call and ends its log entry. */
  async sign(txid: string, waitMs?: number): Promise<MintCall> {
    const record = await this.mintRecord(txid);
    if (!record) throw bridgeError("unknown_mint", `this wallet made no wXMR mint in transaction ${txid}`);
    const stored = record.call ? callFromJson(record.call) : undefined;
    // A refundable (0x02) mint is never re-issued: its collected call stands. One without refund key
    // (made before the 0x02 form) is re-issued once it expires unminted: the attempt t guardians sign
    // now replaces the kept one, whose signatures can then never mint (Expired).
    if (stored && record.refundIndex !== undefined) return stored;
    const fresh = await this.collectCall(
      txid,
      record.output,
      record.recipient,
      BigInt(record.amount),
      waitMs,
    );
    if (stored && (stored.attempt ?? 0) >= (fresh.attempt ?? 0)) return stored;
    const call = fresh;
    await this.ctx.run(async () => {
      const current = await this.mintRecord(txid);
      if (!current) return;
      const kept = current.call ? callFromJson(current.call) : undefined;
      if (kept && (kept.attempt ?? 0) >= (call.attempt ?? 0)) return;
      const entry = await this.ctx.operations.get(current.operationId);
      // An EVM transaction sent with an earlier attempt's call is that attempt's, not this one's.
      const { evmTx: _earlier, ...rest } = current;
      await this.db.write([
        this.putMint({ ...(kept ? rest : current), call: callToJson(call) }),
        ...(entry && entry.state === "pending"
          ? [
              this.ctx.operations.finishOp(entry, {
                txid,
                output: current.output,
                depositId: call.depositId,
                deadline: call.deadline.toString(),
                ...(call.attempt ? { attempt: call.attempt } : {}),
                signers: [...call.signers],
                badGuardians: [...call.badGuardians],
              }),
            ]
          : []),
      ]);
    });
    return call;
  }

  /** Sends a signed mint of this wallet from `sender` (again, after a crash or a refusal). */
  async submit(txid: string, sender: EvmSender): Promise<MintSubmission> {
    const call = await this.sign(txid);
    return sendMintChecked(call, sender, (submission) =>
      this.ctx.run(async () => {
        const current = await this.mintRecord(txid);
        if (current) await this.db.write([this.putMint({ ...current, evmTx: submission.txHash })]);
      }),
    );
  }

  /**
   * A pending mint entry after a crash: while the mint half still holds its transaction (its own
   * resume ran first this round and could not settle it) it stays pending; once accepted, the
   * signatures are collected and the entry ends; a transaction gone without a record is closed.
   */
  async resumeMint(entry: OperationRecord): Promise<void> {
    const meta = entry.meta;
    const txid =
      typeof meta === "object" && meta !== null && "txid" in meta && typeof meta["txid"] === "string"
        ? meta["txid"]
        : undefined;
    if (txid === undefined)
      return this.ctx.operations.fail(entry, new Error("its entry names no transaction"));
    if (await this.mintHalf().isPending(txid)) return;
    if (!(await this.mintRecord(txid)))
      return this.ctx.operations.fail(entry, new Error("its federation transaction was refused"));
    await this.sign(txid);
  }

  /** A refused mint transaction spent nothing: its record goes and its entry fails, in that write. */
  async undoRejected(op: PendingOp, error: Error): Promise<DbOp[]> {
    if (!BridgeMints.attached(op)) return [];
    const record = await this.mintRecord(op.txid);
    if (!record) return [];
    const entry = await this.ctx.operations.get(record.operationId);
    return [
      del(this.key("mint", op.txid)),
      ...(entry && entry.state === "pending" ? [this.ctx.operations.failOp(entry, error)] : []),
    ];
  }

  /** The life cycle of a mint: the wallet's record, the guardians' answers (t agreeing) and the chain. */
  async status(txid: string, output: number | undefined, rpcUrl: EvmRpc | undefined): Promise<MintStatus> {
    const record = await this.mintRecord(txid);
    const index = output ?? record?.output ?? 0;
    const base = {
      kind: "mint" as const,
      txid,
      output: index,
      depositId: outputDepositId(this.federationIdBytes, fromHex(txid), index),
      ...(record
        ? { operationId: record.operationId, recipient: record.recipient, amount: record.amount }
        : {}),
    };
    if (record && (await this.mintHalf().isPending(txid)))
      return { ...base, state: "pending", message: "the federation has not decided the transaction yet" };
    const client = await this.ctx.client();
    const answers = await client.getEach(mintPath(txid, index), MintSignatureSchema);
    const found = answers.filter((a) => a.ok).length;
    const returned = agreedExpiry(answers, this.config.threshold);
    if (returned === "paid_out") {
      // The payout's progress as t guardians tell it (they may be a block apart: the most common).
      const progress = agreedPayout(answers, this.config.threshold);
      return {
        ...base,
        state: "paid_out",
        message:
          "expired unminted: the federation pays it back in Monero to the refund address given with the deposit" +
          (progress
            ? ` (${progress.amount} piconero after the Monero fee ${progress.fee}; payout ${progress.state}${progress.moneroTxid ? `, Monero tx ${progress.moneroTxid}` : ""})`
            : ""),
        ...(progress ? { refundPayout: progress } : {}),
      };
    }
    if (returned === "returnable" || returned === "refunded") {
      const mine = record?.refundTxid !== undefined && !(await this.mintHalf().isPending(record.refundTxid));
      return {
        ...base,
        state: returned === "refunded" ? "refunded" : "returnable",
        message:
          returned === "refunded"
            ? `expired unminted and returned as e-cash${mine ? ` to this wallet (transaction ${record.refundTxid})` : ""}`
            : `expired unminted: t guardians saw at depth past the deadline that it never mints (unsubmitted, or cancelled while queued); \`bridge-refund ${txid}\` takes it back as e-cash`,
        ...(record?.refundTxid ? { refundTxid: record.refundTxid } : {}),
      };
    }
    if (found < this.config.threshold && !record?.call)
      return {
        ...base,
        state: record ? "pending" : "unknown",
        message: `${found} of the ${this.config.threshold} guardians needed know this mint`,
      };
    let call: MintCall;
    try {
      // A refundable (0x02) mint of this wallet keeps its collected call; any other is asked of the
      // guardians each time: one without refund key may have been re-issued since (a new attempt,
      // deadline and deposit id), and an earlier attempt's call is never shown as the one to send.
      call =
        record?.call && record.refundIndex !== undefined
          ? callFromJson(record.call)
          : await this.currentCall(txid, index, answers, record);
    } catch (e) {
      return { ...base, state: "accepted", message: errorText(e) };
    }
    // The wallet's EVM transaction, if it sent this very attempt.
    const evmTx =
      record?.evmTx && record.call && (record.call.attempt ?? 0) === (call.attempt ?? 0)
        ? record.evmTx
        : undefined;
    const reissue = reissueOf(call);
    const signed = {
      ...base,
      depositId: call.depositId,
      recipient: call.recipient,
      amount: call.amount.toString(),
      deadline: call.deadline.toString(),
      signers: [...call.signers],
      ...reissue,
      ...(evmTx ? { evmTx } : {}),
    };
    const said = (message: string) => (reissue.reissue ? `${reissue.reissue.text}; ${message}` : message);
    if (!rpcUrl)
      return {
        ...signed,
        state: evmTx ? "submitted" : "signed",
        message: said("accepted and signed by t guardians (give an EVM node to see the chain)"),
      };
    const status = await this.chainStatus(call, rpcUrl, evmTx, record, txid);
    return { ...signed, state: status.state, message: said(status.message), ...status.extra };
  }

  /** Where a signed call stands on chain (the status of its attempt's deposit id). */
  private async chainStatus(
    call: MintCall,
    rpcUrl: EvmRpc,
    evmTx: Hex | undefined,
    record: MintRecord | undefined,
    txid: string,
  ): Promise<{ state: MintStatus["state"]; message: string; extra?: { refundable: boolean } }> {
    const chain = await mintOnChain(this.config.chainId, this.config.contract, rpcUrl, call.depositId, evmTx);
    const refundable = record?.refundIndex !== undefined;
    const noRefundKey =
      "made without a refund key, it is re-issued once t guardians see it unminted past its deadline at their confirmation depth (a new attempt: `bridge-status` shows it)";
    if (chain.deposit === "minted") return { state: "minted", message: "the contract minted it" };
    if (chain.deposit === "queued")
      return {
        state: "submitted",
        message: `queued above the contract's single-mint cap: anyone may call executeDelayed from ${chain.executeAfter} (unix seconds); until then any one guardian may cancel it`,
      };
    if (chain.deposit === "cancelled")
      return {
        state: "failed",
        message: `a guardian cancelled it while it was queued above the single-mint cap: it never mints; ${
          refundable
            ? `the guardians return it once its deadline ${call.deadline} is past at their confirmation depth, then \`bridge-refund ${txid}\` takes it back as e-cash`
            : noRefundKey
        }`,
      };
    if (chain.tx === "reverted")
      return { state: "failed", message: `the mint transaction ${evmTx} reverted; it can be sent again` };
    if (chain.chainTime > call.deadline)
      return {
        state: "expired",
        extra: { refundable },
        message: `not minted and past its deadline ${call.deadline}; ${
          refundable
            ? `the guardians return it once the deadline is past at their confirmation depth, then \`bridge-refund ${txid}\` takes it back as e-cash`
            : noRefundKey
        }`,
      };
    return chain.tx === "unknown"
      ? { state: "submitted", message: "sent, not mined yet" }
      : { state: "signed", message: "signed, not submitted" };
  }

  /**
   * The call t guardians sign now for output `index` of `txid` (collectSignedCall: the attempt they
   * agree on, its deposit id computed here): recipient and amount those of this wallet's record, or
   * for a mint of another wallet those t guardians state.
   */
  private async currentCall(
    txid: string,
    index: number,
    answers: readonly GuardianAnswer<MintSignatureView>[],
    record: MintRecord | undefined,
  ): Promise<MintCall> {
    if (record) return this.collectCall(txid, index, record.recipient, BigInt(record.amount), 0);
    return this.collectCallAnyRecipient(txid, index, answers);
  }

  /**
   * Sends the mint of any output `index` of `txid` from `sender`, this wallet's or not (a 0x01 mint
   * made by another tool): the call t guardians sign now, so a re-issued mint is sent under its
   * current attempt, never an expired one. This wallet's own mints go through `submit`.
   */
  async submitOutput(txid: string, index: number, sender: EvmSender): Promise<MintSubmission> {
    const record = await this.mintRecord(txid);
    if (record && record.output === index) return this.submit(txid, sender);
    const client = await this.ctx.client();
    const answers = await client.getEach(mintPath(txid, index), MintSignatureSchema);
    const call = await this.collectCallAnyRecipient(txid, index, answers, SIGNATURES_WAIT_MS_DEFAULT);
    return sendMintChecked(call, sender);
  }

  /** A mint of another wallet (no record): recipient and amount as t guardians state them. */
  private async collectCallAnyRecipient(
    txid: string,
    index: number,
    answers: readonly GuardianAnswer<MintSignatureView>[],
    waitMs = 0,
  ): Promise<MintCall> {
    const views = answers.flatMap((a) => (a.ok ? [a.value] : []));
    const counts = new Map<string, number>();
    for (const v of views)
      counts.set(`${v.recipient}/${v.amount}`, (counts.get(`${v.recipient}/${v.amount}`) ?? 0) + 1);
    const top = [...counts].find(([, c]) => c >= this.config.threshold);
    // (A Byzantine guardian's other recipient or amount is outvoted here; its other attempt or
    // deposit id in collectSignedCall.)
    if (!top) throw new Error("the guardians disagree on the mint's recipient or amount");
    const [recipient, amount] = top[0].split("/");
    return this.collectCall(txid, index, recipient as `0x${string}`, BigInt(amount!), waitMs);
  }
}

/** The expiry state at least t guardians' answers carry, if any. */
export function agreedExpiry(
  answers: readonly GuardianAnswer<MintSignatureView>[],
  t: number,
): MintExpiryView["state"] | undefined {
  const counts = new Map<MintExpiryView["state"], number>();
  for (const a of answers)
    if (a.ok && a.value.expiry) counts.set(a.value.expiry.state, (counts.get(a.value.expiry.state) ?? 0) + 1);
  return [...counts].find(([, c]) => c >= t)?.[0];
}

/** The payout of a `paid_out` mint that t guardians tell alike, if any. */
function agreedPayout(
  answers: readonly GuardianAnswer<MintSignatureView>[],
  t: number,
): BurnPayoutView | undefined {
  const payouts = answers.flatMap((a) =>
    a.ok && a.value.expiry?.payout
      ? [{ guardian: a.guardian, ok: true as const, value: a.value.expiry.payout }]
      : [],
  );
  const top = groupAnswers(payouts, sameJson)[0];
  return top && top.guardians.length >= t ? top.value : undefined;
}

export interface MintStatus {
  readonly kind: "mint";
  readonly state:
    | "unknown"
    | "pending"
    | "accepted"
    | "signed"
    | "submitted"
    | "minted"
    | "failed"
    | "expired"
    | "returnable"
    | "refunded"
    | "paid_out";
  readonly message: string;
  readonly txid: string;
  readonly output: number;
  readonly depositId: string;
  readonly operationId?: string;
  readonly recipient?: string;
  readonly amount?: string;
  readonly deadline?: string;
  readonly signers?: readonly string[];
  readonly evmTx?: string;
  /** Expired: true when this wallet holds the mint's refund key (the guardians return it, `bridgeRefund` takes it). */
  readonly refundable?: boolean;
  /** The federation transaction that took a returned mint back as e-cash (this wallet's). */
  readonly refundTxid?: string;
  /**
   * `paid_out`: the Monero payout to the refund address (0x03 output), as t guardians tell it; with
   * the refund address, check_tx_key(moneroTxid, txKey, address) proves it.
   */
  readonly refundPayout?: BurnPayoutView;
  /** Re-issued (an expired mint without refund key signed again): the attempt t guardians sign now. */
  readonly reissue?: ReissueInfo;
}
