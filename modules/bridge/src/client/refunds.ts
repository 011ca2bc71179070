// The return of an expired, unsubmitted mint as e-cash. A mint output of this wallet names one of its
// refund keys (config.ts refundSeed; the output's 0x02 form). If nobody submits the mint before its
// deadline, t guardians see its deposit id unused at their confirmation depth past the deadline and
// decide it returnable (GET mints/:txid/:index, `expiry`); then one federation transaction spends the
// module's input `0x02 | txid | output index`, signed by the refund key, into fresh notes worth the
// whole amount (the mint half's issueLocked). Crash-safe like a redeemed burn: the refund's log entry
// and the mint record's refund txid are written with the pending transaction; the mint half settles
// it and the entry ends in its acceptance (or rejection) write. A mint this wallet has no record of
// (restored from the recovery phrase on another device) is first looked for by its refund keys
// (recover.ts).
import { sleep } from "@conclave/core-client";
import type { DbOp, OperationRecord } from "@conclave/core-client";
import { fromHex } from "@conclave/core-common";
import type { PendingOp, ReissueResult } from "@conclave/module-mint/client";
import { MintSignatureSchema } from "../api.js";
import { encodeRefundInput } from "../common.js";
import { REFUND_WAIT_MS_DEFAULT, bridgeError, mintPath, refundSeed } from "./config.js";
import { agreedExpiry } from "./mints.js";
import { BridgeMintFinder } from "./recover.js";

export interface RefundOptions {
  /** How long to wait for t guardians to decide the mint returned (default 10 min). */
  readonly waitMs?: number;
  readonly pollMs?: number;
}

export interface RefundProgress {
  readonly stage: "waiting" | "returnable" | "refunded";
  readonly message: string;
  readonly txid: string;
}

export interface RefundResult {
  readonly operationId: string;
  /** The mint (federation txid and output index) that was returned. */
  readonly txid: string;
  readonly output: number;
  /** The federation transaction that spent it into notes, what it brought and the notes' fee. */
  readonly refundTxid: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly notesIssued: number;
}

export class BridgeRefunds extends BridgeMintFinder {
  static attached(op: PendingOp): { txid: string } | undefined {
    const a = op["bridgeRefund"];
    if (a === null || typeof a !== "object" || !("txid" in a) || typeof a.txid !== "string") return undefined;
    return { txid: a.txid };
  }

  /**
   * Waits until t guardians decide this wallet's mint `txid` returned (expired and unminted at their
   * depth), then spends it into notes with its refund key.
   */
  async refund(
    txidText: string,
    options: RefundOptions,
    progress: (p: RefundProgress) => void,
  ): Promise<RefundResult> {
    const txid = txidText.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(txid))
      throw bridgeError(
        "unknown_mint",
        `a mint is named by its federation txid (64 hex), not "${txidText.slice(0, 80)}"`,
      );
    // A wallet restored from its recovery phrase has no record yet: its refund keys find it.
    let record = await this.mintRecord(txid);
    if (!record) {
      await this.findMints();
      record = await this.mintRecord(txid);
    }
    if (!record)
      throw bridgeError(
        "unknown_mint",
        `this wallet made no wXMR mint in transaction ${txid} (none of its refund keys names one there)`,
      );
    if (record.refundIndex === undefined)
      throw bridgeError(
        "not_returnable",
        `the mint of ${txid} was made without a refund key (the 0x01 form): it is never returned`,
      );
    if (record.refundTxid && (await this.mintHalf().isPending(record.refundTxid)))
      throw bridgeError(
        "not_returnable",
        `the mint of ${txid} is being refunded in ${record.refundTxid}: \`resume\` finishes it`,
      );
    const client = await this.ctx.client();
    const deadline = this.ctx.now() + (options.waitMs ?? REFUND_WAIT_MS_DEFAULT);
    let last = "";
    for (;;) {
      const answers = await client.getEach(mintPath(txid, record.output), MintSignatureSchema);
      const state = agreedExpiry(answers, this.config.threshold);
      const said = state ?? "no t guardians agree yet";
      if (said !== last) {
        progress({
          stage: state === "returnable" ? "returnable" : "waiting",
          message: `the guardians: ${said}`,
          txid,
        });
        last = said;
      }
      if (state === "returnable") break;
      if (state === "paid_out")
        throw bridgeError(
          "not_returnable",
          `the mint of ${txid} is paid back in Monero to the refund address given with its deposit, not as e-cash: \`bridge-status ${txid}\` shows the payout`,
        );
      if (state === "refunded") {
        const entry = record.refundOperationId
          ? await this.ctx.operations.get(record.refundOperationId)
          : undefined;
        if (entry?.state === "done") return resultOf(entry, txid, record.output);
        throw bridgeError("not_returnable", `the mint of ${txid} was already refunded`);
      }
      if (state === "minted")
        throw bridgeError(
          "not_returnable",
          `the mint of ${txid} was minted on chain: there is nothing to return`,
        );
      if (this.ctx.now() >= deadline)
        throw bridgeError(
          "refund_timeout",
          `the mint of ${txid} is not returned yet (${said}): the guardians return it once its deadline is past at their confirmation depth; \`bridge-refund ${txid}\` again later`,
          { txid },
        );
      await sleep(options.pollMs ?? 500);
    }
    const amount = BigInt(record.amount);
    const seed = refundSeed(this.secret, record.refundIndex);
    let operationId = "";
    const r: ReissueResult = await this.ctx.run(async () => {
      const mint = this.mintHalf();
      const { notes } = mint.decompose(amount);
      return mint.issueLocked("bridge-refund", {
        inputs: [
          {
            module: this.instanceId,
            amount,
            payload: encodeRefundInput({ txid: fromHex(txid), index: record.output }),
          },
        ],
        signers: [this.crypto.ed25519Signer(seed, this.refundKey(record.refundIndex!))],
        outputs: notes,
        attach: { bridgeRefund: { txid } },
        writes: (op) => {
          const started = this.ctx.operations.startOp(this.instanceId, "bridge", "refund", {
            txid,
            output: record.output,
            refundTxid: op.txid,
            amount: record.amount,
          });
          operationId = started.record.id;
          return [
            started.op,
            this.putMint({ ...record, refundTxid: op.txid, refundOperationId: operationId }),
          ];
        },
      });
    });
    progress({
      stage: "refunded",
      message: `returned into ${r.notesIssued} notes (transaction ${r.txid})`,
      txid,
    });
    return {
      operationId,
      txid,
      output: record.output,
      refundTxid: r.txid,
      amount: r.amount,
      fee: r.fee,
      notesIssued: r.notesIssued,
    };
  }

  /** A refunding transaction accepted: the refund's entry ends done in the settling write. */
  async endAccepted(op: PendingOp, result: ReissueResult): Promise<DbOp[]> {
    const a = BridgeRefunds.attached(op);
    const record = a && (await this.mintRecord(a.txid));
    const entry = record?.refundOperationId && (await this.ctx.operations.get(record.refundOperationId));
    if (!record || !entry || entry.state !== "pending") return [];
    return [
      this.ctx.operations.finishOp(entry, {
        txid: a.txid,
        output: record.output,
        refundTxid: result.txid,
        amount: result.amount.toString(),
        fee: result.fee.toString(),
        notesIssued: result.notesIssued,
      }),
    ];
  }

  /** A refunding transaction refused: its entry fails and the mint can be refunded again (unless spent). */
  async undoRejected(op: PendingOp, error: Error): Promise<DbOp[]> {
    const a = BridgeRefunds.attached(op);
    const record = a && (await this.mintRecord(a.txid));
    if (!record) return [];
    const { refundTxid: _dropped, refundOperationId, ...rest } = record;
    const entry = refundOperationId ? await this.ctx.operations.get(refundOperationId) : undefined;
    return [
      this.putMint(rest),
      ...(entry?.state === "pending" ? [this.ctx.operations.failOp(entry, error)] : []),
    ];
  }

  /** A pending refund entry after a crash: its transaction is the mint half's to settle; nothing else is left. */
  async resumeRefund(entry: OperationRecord): Promise<void> {
    const meta = entry.meta;
    const refundTxid =
      typeof meta === "object" &&
      meta !== null &&
      "refundTxid" in meta &&
      typeof meta["refundTxid"] === "string"
        ? meta["refundTxid"]
        : undefined;
    if (refundTxid !== undefined && (await this.mintHalf().isPending(refundTxid))) return;
    const latest = await this.ctx.operations.get(entry.id);
    if (latest?.state === "pending")
      await this.ctx.operations.fail(
        latest,
        new Error("its refund transaction was not settled; `bridge-refund` again"),
      );
  }
}

function resultOf(entry: OperationRecord, txid: string, output: number): RefundResult {
  const r = entry.result as
    { refundTxid?: string; amount?: string; fee?: string; notesIssued?: number } | undefined;
  return {
    operationId: entry.id,
    txid,
    output,
    refundTxid: r?.refundTxid ?? "",
    amount: BigInt(r?.amount ?? "0"),
    fee: BigInt(r?.fee ?? "0"),
    notesIssued: r?.notesIssued ?? 0,
  };
}
