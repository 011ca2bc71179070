// The bridge's API routes (server.ts holds BridgeServerModule, which gives them its views): a mint
// with this guardian's signature, a burn, the refundable mints naming a refund key (paged), the
// agreed EVM chain position, the supply, and the look-ups (lookup.ts).
import { InvalidRequestError, NotFoundError, fromHex, toHex } from "@conclave/core-common";
import type { ModuleApiEndpoint, OutPoint, ReadTx } from "@conclave/core-server";
import type { BurnKey, MintKey } from "./common.js";
import {
  BurnParamsSchema,
  BurnViewSchema,
  ChainViewSchema,
  MintParamsSchema,
  MintSignatureSchema,
  SupplyViewSchema,
  REFUND_KEY_PAGES_MAX,
  REFUND_KEY_PAGE_ENTRIES,
  RefundKeyMintsSchema,
  RefundKeyPageParamsSchema,
  RefundKeyParamsSchema,
} from "./api.js";
import type { BurnView, ChainView, MintSignatureView, SupplyView, RefundKeyMintsView } from "./api.js";
import type { MintLogIndex } from "./lookup-index.js";
import { lookupEndpoints } from "./lookup.js";
import { BridgeState } from "./state.js";

/** The views the routes serve (BridgeServerModule's), read when a request comes. */
export interface BridgeRouteDeps {
  outputOutcome(db: ReadTx, outPoint: OutPoint): MintSignatureView | undefined;
  mintView(db: ReadTx, key: MintKey, sign: boolean): MintSignatureView | undefined;
  /** `sign` false leaves out this guardian's signature of a re-mint (default true). */
  burnView(db: ReadTx, key: BurnKey, sign?: boolean): BurnView;
  chainView(db: ReadTx): ChainView;
  supplyView(db: ReadTx): SupplyView;
  /** The look-up index of mint logs (none without a node for it). */
  mintLogs(): MintLogIndex | undefined;
}

export function bridgeEndpoints(deps: BridgeRouteDeps): ModuleApiEndpoint[] {
  return [
    {
      method: "GET",
      path: "mints/:txid/:index",
      params: MintParamsSchema,
      response: MintSignatureSchema,
      summary:
        "An accepted wXMR mint output: the EIP-712 Mint (recipient, amount, depositId, deadline, setIndex) and this guardian's signature; collect t, check each signer, sort by signer, call mint",
      handle: ({ params, db }): MintSignatureView => {
        const p = MintParamsSchema.safeParse(params);
        if (!p.success)
          throw new InvalidRequestError("a mint is named by a federation txid and an output index");
        const outPoint = { txid: fromHex(p.data.txid), index: Number(p.data.index) };
        const view = deps.outputOutcome(db, outPoint);
        if (!view) throw new NotFoundError(`no wXMR mint at output ${outPoint.index} of ${p.data.txid}`);
        return view;
      },
    },
    {
      method: "GET",
      path: "burns/:txHash/:logIndex",
      params: BurnParamsSchema,
      response: BurnViewSchema,
      summary:
        "A burn (EVM tx hash, log index): the guardians' votes and, once t agree, what it became (payout_pending, claimable, claimed, or reminted with this guardian's signature of the re-mint)",
      handle: ({ params, db }): BurnView => {
        const p = BurnParamsSchema.safeParse(params);
        if (!p.success)
          throw new InvalidRequestError("a burn is named by its EVM tx hash (0x, 64 hex) and log index");
        return deps.burnView(db, {
          txHash: fromHex(p.data.txHash.slice(2).toLowerCase()),
          logIndex: Number(p.data.logIndex),
        });
      },
    },
    {
      method: "GET",
      path: "refunds/:refundKey",
      params: RefundKeyParamsSchema,
      response: RefundKeyMintsSchema,
      summary: `The refundable (0x02) wXMR mint outputs naming this refund key (Ed25519, hex): page 0 of refunds/:refundKey/page/:page (${REFUND_KEY_PAGE_ENTRIES} a page, in acceptance order)`,
      handle: ({ params, db }): RefundKeyMintsView => {
        const p = RefundKeyParamsSchema.safeParse(params);
        if (!p.success) throw new InvalidRequestError("a refund key is 64 lowercase hex characters");
        return refundKeyPage(db, p.data.refundKey, 0);
      },
    },
    {
      method: "GET",
      path: "refunds/:refundKey/page/:page",
      params: RefundKeyPageParamsSchema,
      response: RefundKeyMintsSchema,
      summary: `Page N of the refundable (0x02) wXMR mint outputs naming this refund key: entries N × ${REFUND_KEY_PAGE_ENTRIES} on, in the order the federation accepted them (a full page never changes; at most ${REFUND_KEY_PAGES_MAX} pages). A wallet restored from its recovery phrase walks them with t equal answers a page`,
      handle: ({ params, db }): RefundKeyMintsView => {
        const p = RefundKeyPageParamsSchema.safeParse(params);
        if (!p.success)
          throw new InvalidRequestError("a refund key is 64 lowercase hex characters, a page a number");
        const page = Number(p.data.page);
        if (page >= REFUND_KEY_PAGES_MAX)
          throw new InvalidRequestError(
            `a refund key lists at most ${REFUND_KEY_PAGES_MAX} pages (0 to ${REFUND_KEY_PAGES_MAX - 1}): outputs past them are refused`,
          );
        return refundKeyPage(db, p.data.refundKey, page);
      },
    },
    {
      method: "GET",
      path: "chain",
      response: ChainViewSchema,
      summary: "Each guardian's scanned EVM block and timestamp, and the agreed ones",
      handle: ({ db }): ChainView => deps.chainView(db),
    },
    {
      method: "GET",
      path: "supply",
      response: SupplyViewSchema,
      summary:
        "What the bridge owes (Σ signed, burned, owed burns, returnable mints) beside the wXMR totalSupply this guardian's node reads at its depth block; unsubmitted = signed − burned − supply",
      handle: ({ db }): SupplyView => deps.supplyView(db),
    },
    ...lookupEndpoints({
      mintView: (db, key, sign) => deps.mintView(db, key, sign),
      burnView: (db, key, sign) => deps.burnView(db, key, sign),
      mintLogs: () => deps.mintLogs(),
    }),
  ];
}

/** Page `page` of the refundable mints naming `refundKeyHex`, with each one's recipient and amount. */
function refundKeyPage(db: ReadTx, refundKeyHex: string, page: number): RefundKeyMintsView {
  const state = new BridgeState(db);
  const keys = state.mintsByRefundKey(
    fromHex(refundKeyHex),
    page * REFUND_KEY_PAGE_ENTRIES,
    REFUND_KEY_PAGE_ENTRIES,
  );
  return {
    refundKey: refundKeyHex,
    page,
    mints: keys.map((k) => {
      const record = state.mint(k.txid, k.index);
      if (!record) throw new Error("bridge state: a refund-key entry without its mint record");
      return {
        txid: toHex(k.txid),
        index: k.index,
        recipient: record.recipient,
        amount: record.amount.toString(),
      };
    }),
  };
}
