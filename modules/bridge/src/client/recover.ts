// Refundable mints found again without the wallet's own records. Every mint output of a wallet names
// one of its refund keys, refundSeed(secret, j) for j = 0, 1, 2, … (config.ts), and the secret comes
// from the recovery phrase: a wallet restored on a new device derives the same keys. It asks the
// guardians which refundable mints name each key (GET refunds/:refundKey/page/:page, 256 a page in
// the order the federation accepted them, t equal answers a page), page by page until one is not
// full, key by key until `gap` keys in a row name none, and writes a mint record for each one it did
// not know (recipient and amount as t guardians state them in the page), so that `bridge-refund TXID`
// and `bridge-status` work as on the device that made them. Anyone can name a key once it is public
// (threat model 12zf): its own mint, accepted before, is on page 0, whatever came after; a key with
// more than one mint is reported as `flooded`. The refund-key counter moves past the keys found, so
// that new mints never reuse a key.
import { NoQuorumError, json, parseJson, put, sleep } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { toHex } from "@conclave/core-common";
import { getAddress } from "viem";
import { REFUND_KEY_PAGES_MAX, REFUND_KEY_PAGE_ENTRIES, RefundKeyMintsSchema } from "../api.js";
import type { RefundKeyMintsView } from "../api.js";
import { bridgeError } from "./config.js";
import type { MintRecord } from "./config.js";
import { BridgePart } from "./part.js";

/** Refund keys in a row that name no mint before the search stops, unless told otherwise. */
export const REFUND_KEYS_GAP_DEFAULT = 20;
/** The search never goes past this refund-key index (a bound on the requests one search makes). */
export const REFUND_KEY_INDEX_MAX = 100_000;

export const refundKeyPath = (refundKeyHex: string, page = 0) =>
  `/v1/modules/bridge/refunds/${refundKeyHex}/page/${page}`;

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

/**
 * A refund key that more than one mint names: the wallet made one, the others were made by someone
 * who read the key off it (threat model 12zf; each one left unminted past its deadline is returned
 * to this key). `full`: it has the most one key lists, and further outputs naming it are refused.
 */
export interface FloodedKey {
  readonly refundIndex: number;
  readonly entries: number;
  readonly full: boolean;
}

export interface FindMintsResult {
  readonly mints: readonly FoundMint[];
  /** The keys more than one mint names. */
  readonly flooded: readonly FloodedKey[];
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
    const flooded: FloodedKey[] = [];
    let empty = 0;
    let j = 0;
    for (; empty < gap && j <= REFUND_KEY_INDEX_MAX; j++) {
      const key = this.refundKey(j);
      const entries = await this.agreedEntries(client, toHex(key));
      if (entries.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      if (entries.length > 1)
        flooded.push({
          refundIndex: j,
          entries: entries.length,
          full: entries.length >= REFUND_KEY_PAGES_MAX * REFUND_KEY_PAGE_ENTRIES,
        });
      for (const m of entries) found.push(await this.recordFound(m, j));
    }
    if (found.length > 0) {
      const next = Math.max(...found.map((m) => m.refundIndex)) + 1;
      await this.ctx.run(async () => {
        const raw = await this.db.get(this.key("refund-counter"));
        const current = raw ? parseJson<{ next: number }>(raw).next : 0;
        if (current < next) await this.db.write([put(this.key("refund-counter"), json({ next }))]);
      });
    }
    return { mints: found, flooded, keysScanned: j };
  }

  /** Every mint naming one refund key: its pages, each as t guardians answer it, until one is not full. */
  private async agreedEntries(client: FederationClient, refundKeyHex: string): Promise<RefundKeyMint[]> {
    const out: RefundKeyMint[] = [];
    for (let page = 0; page < REFUND_KEY_PAGES_MAX; page++) {
      const view = await this.agreedPage(client, refundKeyHex, page);
      out.push(...view.mints);
      if (view.mints.length < REFUND_KEY_PAGE_ENTRIES) break;
    }
    return out;
  }

  /** What t guardians answer for one page (asked again a few times while they differ by a block). */
  private async agreedPage(
    client: FederationClient,
    refundKeyHex: string,
    page: number,
  ): Promise<RefundKeyMintsView> {
    let lastError = "";
    for (let tries = 0; tries < 5; tries++) {
      try {
        const view = (await client.queryConsensus(refundKeyPath(refundKeyHex, page), RefundKeyMintsSchema))
          .value;
        if (view.refundKey !== refundKeyHex || view.page !== page)
          throw bridgeError(
            "guardians_disagree",
            `t guardians answered for refund key ${view.refundKey} page ${view.page}, not ${refundKeyHex} page ${page}`,
          );
        return view;
      } catch (e) {
        if (!(e instanceof NoQuorumError)) throw e;
        lastError = e.message;
      }
      await sleep(300);
    }
    throw bridgeError(
      "guardians_disagree",
      `no ${this.config.threshold} guardians gave the same page ${page} of mints for refund key ${refundKeyHex}: ${lastError}`,
      { refundKey: refundKeyHex, page },
    );
  }

  /**
   * One mint found by its refund key: the wallet's record if it has one, else a new record with the
   * recipient and amount t guardians stated for it in the page.
   */
  private async recordFound(m: RefundKeyMint, refundIndex: number): Promise<FoundMint> {
    const { txid, index: output } = m;
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
    const recipient = getAddress(m.recipient);
    const record: MintRecord = {
      operationId: "",
      txid,
      output,
      recipient,
      amount: m.amount,
      createdAtMs: this.ctx.now(),
      refundIndex,
    };
    await this.ctx.run(async () => {
      if (!(await this.mintRecord(txid))) await this.db.write([this.putMint(record)]);
    });
    return { txid, output, recipient, amount: BigInt(m.amount), refundIndex, known: false };
  }
}

type RefundKeyMint = RefundKeyMintsView["mints"][number];
