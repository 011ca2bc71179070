// Refundable mints found again without the wallet's own records. Every mint output of a wallet names
// one of its refund keys, refundSeed(secret, j) for j = 0, 1, 2, … (config.ts), and the secret comes
// from the recovery phrase: a wallet restored on a new device derives the same keys. It asks the
// guardians which refundable mints name each key (GET refunds/:refundKey, t equal answers), key by
// key until `gap` keys in a row name none, and writes a mint record for each one it did not know
// (recipient and amount as t guardians state them), so that `bridge-refund TXID` and `bridge-status`
// work as on the device that made them. The refund-key counter moves past the keys found, so that
// new mints never reuse a key.
import { NoQuorumError, json, parseJson, put, sleep } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { toHex } from "@conclave/core-common";
import { getAddress } from "viem";
import { MintSignatureSchema, RefundKeyMintsSchema } from "../api.js";
import type { RefundKeyMintsView } from "../api.js";
import { bridgeError, mintPath } from "./config.js";
import type { MintRecord } from "./config.js";
import { BridgePart } from "./part.js";

/** Refund keys in a row that name no mint before the search stops, unless told otherwise. */
export const REFUND_KEYS_GAP_DEFAULT = 20;
/** The search never goes past this refund-key index (a bound on the requests one search makes). */
export const REFUND_KEY_INDEX_MAX = 100_000;

export const refundKeyPath = (refundKeyHex: string) => `/v1/modules/bridge/refunds/${refundKeyHex}`;

export interface FindMintsOptions {
  /** Stop after this many refund keys in a row that name no mint (default 20). */
  readonly gap?: number;
}

export interface FoundMint {
  readonly txid: string;
  readonly output: number;
  readonly recipient: `0x${string}`;
  readonly amount: bigint;
  readonly refundIndex: number;
  /** The wallet had its record already (made here, or found before). */
  readonly known: boolean;
}

export interface FindMintsResult {
  readonly mints: readonly FoundMint[];
  /** Refund keys asked about (indices 0 to keysScanned − 1). */
  readonly keysScanned: number;
}

export abstract class BridgeMintFinder extends BridgePart {
  /** See the file comment. Throws `guardians_disagree` when no t guardians answer a key alike. */
  async findMints(options: FindMintsOptions = {}): Promise<FindMintsResult> {
    const gap = options.gap ?? REFUND_KEYS_GAP_DEFAULT;
    if (!Number.isSafeInteger(gap) || gap < 1 || gap > 1_000)
      throw bridgeError("invalid_amount", `the gap is a number of refund keys from 1 to 1000, not ${gap}`);
    const client = await this.ctx.client();
    const found: FoundMint[] = [];
    let empty = 0;
    let j = 0;
    for (; empty < gap && j <= REFUND_KEY_INDEX_MAX; j++) {
      const key = this.refundKey(j);
      const view = await this.agreedMints(client, toHex(key));
      if (view.mints.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      for (const m of view.mints) found.push(await this.recordFound(client, m.txid, m.index, j, toHex(key)));
    }
    if (found.length > 0) {
      const next = Math.max(...found.map((m) => m.refundIndex)) + 1;
      await this.ctx.run(async () => {
        const raw = await this.db.get(this.key("refund-counter"));
        const current = raw ? parseJson<{ next: number }>(raw).next : 0;
        if (current < next) await this.db.write([put(this.key("refund-counter"), json({ next }))]);
      });
    }
    return { mints: found, keysScanned: j };
  }

  /** What t guardians answer for one refund key (asked again a few times while they differ by a block). */
  private async agreedMints(client: FederationClient, refundKeyHex: string): Promise<RefundKeyMintsView> {
    let lastError = "";
    for (let tries = 0; tries < 5; tries++) {
      try {
        return (await client.queryConsensus(refundKeyPath(refundKeyHex), RefundKeyMintsSchema)).value;
      } catch (e) {
        if (!(e instanceof NoQuorumError)) throw e;
        lastError = e.message;
      }
      await sleep(300);
    }
    throw bridgeError(
      "guardians_disagree",
      `no ${this.config.threshold} guardians gave the same list of mints for refund key ${refundKeyHex}: ${lastError}`,
      { refundKey: refundKeyHex },
    );
  }

  /**
   * One mint found by its refund key: the wallet's record if it has one, else a new record with the
   * recipient and amount t guardians state for that output (each answer naming this refund key).
   */
  private async recordFound(
    client: FederationClient,
    txid: string,
    output: number,
    refundIndex: number,
    refundKeyHex: string,
  ): Promise<FoundMint> {
    const known = await this.mintRecord(txid);
    if (known && known.output === output)
      return {
        txid,
        output,
        recipient: known.recipient,
        amount: BigInt(known.amount),
        refundIndex,
        known: true,
      };
    const answers = await client.getEach(mintPath(txid, output), MintSignatureSchema);
    const counts = new Map<string, number>();
    for (const a of answers) {
      if (!a.ok || a.value.expiry?.refundKey.toLowerCase() !== `0x${refundKeyHex}`) continue;
      const k = `${getAddress(a.value.recipient)}/${a.value.amount}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const agreed = [...counts].find(([, c]) => c >= this.config.threshold)?.[0];
    if (!agreed)
      throw bridgeError(
        "guardians_disagree",
        `no ${this.config.threshold} guardians state the same recipient and amount for the mint ${txid}:${output}`,
        { txid, output },
      );
    const [recipient, amount] = agreed.split("/") as [`0x${string}`, string];
    const record: MintRecord = {
      operationId: "",
      txid,
      output,
      recipient,
      amount,
      createdAtMs: this.ctx.now(),
      refundIndex,
    };
    await this.ctx.run(async () => {
      if (!(await this.mintRecord(txid))) await this.db.write([this.putMint(record)]);
    });
    return { txid, output, recipient, amount: BigInt(amount), refundIndex, known: false };
  }
}
