// GET lookup/… of the bridge module (the routes and their bounds; lookup-api.ts has the schemas,
// lookup-index.ts the indexes). Every request reads a bounded number of keys: one page
// (LOOKUP_PAGE_MAX views, none signed: a signature costs an ECDSA signing, GET mints/:txid/:index
// gives it for one mint) after skipping at most the bound of its key (a transaction's outputs or
// burns, an address's ADDRESS_BURNS_MAX burns or MINTS_PER_ADDRESS_MAX mints). Malformed ids are
// refused (400) with the form they must have. No answer holds a Monero address or a claim key.
import { InvalidRequestError, NotFoundError, fromHex, toHex } from "@conclave/core-common";
import type { ModuleApiEndpoint, ReadTx } from "@conclave/core-server";
import { getAddress, hexToBytes } from "viem";
import type { z } from "zod";
import type { BurnKey, MintKey } from "./common.js";
import type { BurnView, MintSignatureView } from "./api.js";
import {
  AddressViewSchema,
  DepositLookupViewSchema,
  LOOKUP_PAGE_MAX,
  LookupAddressParamsSchema,
  LookupBurnsParamsSchema,
  LookupDepositParamsSchema,
  LookupTxParamsSchema,
  TxBurnsViewSchema,
  TxMintsViewSchema,
} from "./lookup-api.js";
import type {
  AddressBurn,
  AddressMint,
  AddressView,
  DepositLookupView,
  TxBurnsView,
  TxMintsView,
} from "./lookup-api.js";
import { burnLogsOf, burnsByAddress, depositRef, mintOutputsOf } from "./lookup-index.js";
import type { MintLogIndex } from "./lookup-index.js";

/** Keys one burns-of-a-transaction look-up reads at most (accepted burns and votes). */
export const TX_BURN_KEYS_MAX = 4_096;

/** What the look-ups need of the module. */
export interface LookupHost {
  mintView(db: ReadTx, key: MintKey, sign: boolean): MintSignatureView | undefined;
  burnView(db: ReadTx, key: BurnKey, sign: boolean): BurnView;
  /** This guardian's index of mint logs (made by start(); none without an EVM node). */
  mintLogs(): MintLogIndex | undefined;
}

const u32Cursor = (n: number): string => n.toString(16).padStart(8, "0");
const parseU32Cursor = (cursor: string | undefined, what: string): number => {
  if (cursor === undefined) return -1;
  if (!/^[0-9a-f]{8}$/.test(cursor))
    throw new InvalidRequestError(`a ${what} cursor is 8 hex digits (a page's next)`);
  return parseInt(cursor, 16);
};

function parsed<T>(schema: z.ZodType<T>, params: unknown, message: string): T {
  const p = schema.safeParse(params);
  if (!p.success) throw new InvalidRequestError(`${message}: ${p.error.issues[0]?.message ?? "malformed"}`);
  return p.data;
}

const TX_MESSAGE = "a federation transaction is named by its id, 64 lowercase hex characters";
const BURNS_MESSAGE = "an EVM transaction is named by its hash, 0x and 64 hex digits";
const ADDRESS_MESSAGE = "an EVM address is 0x and 40 hex digits";

export function lookupEndpoints(host: LookupHost): ModuleApiEndpoint[] {
  const tx = (params: Record<string, string>, db: ReadTx): TxMintsView => {
    const p = parsed(LookupTxParamsSchema, params, TX_MESSAGE);
    const txid = fromHex(p.txid);
    const after = parseU32Cursor(p.cursor, "transaction");
    const indexes = mintOutputsOf(db, txid, after, LOOKUP_PAGE_MAX + 1);
    const page = indexes.slice(0, LOOKUP_PAGE_MAX);
    const mints = page.flatMap((index) => {
      const mint = host.mintView(db, { txid, index }, false);
      return mint ? [{ index, mint }] : [];
    });
    if (mints.length === 0 && after < 0)
      throw new NotFoundError(`no wXMR mint output in federation transaction ${p.txid}`);
    const next = indexes.length > LOOKUP_PAGE_MAX ? page[page.length - 1] : undefined;
    return { txid: p.txid, mints, ...(next === undefined ? {} : { next: u32Cursor(next) }) };
  };

  const burns = (params: Record<string, string>, db: ReadTx): TxBurnsView => {
    const p = parsed(LookupBurnsParamsSchema, params, BURNS_MESSAGE);
    const txHash = hexToBytes(p.txHash.toLowerCase() as `0x${string}`);
    const after = parseU32Cursor(p.cursor, "burn");
    const logs = burnLogsOf(db, txHash, after, LOOKUP_PAGE_MAX + 1, TX_BURN_KEYS_MAX);
    const page = logs.slice(0, LOOKUP_PAGE_MAX);
    if (page.length === 0 && after < 0)
      throw new NotFoundError(
        `no burn of EVM transaction ${p.txHash} is known to the guardians (voted or accepted)`,
      );
    const next = logs.length > LOOKUP_PAGE_MAX ? page[page.length - 1] : undefined;
    return {
      txHash: p.txHash.toLowerCase(),
      burns: page.map((logIndex) => host.burnView(db, { txHash, logIndex }, false)),
      ...(next === undefined ? {} : { next: u32Cursor(next) }),
    };
  };

  const address = (params: Record<string, string>, db: ReadTx): AddressView => {
    const p = parsed(LookupAddressParamsSchema, params, ADDRESS_MESSAGE);
    const who = getAddress(p.address.toLowerCase());
    // The cursor: "0" + the position in the mint list (8 hex), or "1" + the last burn's key (72 hex).
    const c = p.cursor;
    if (c !== undefined && !/^(0[0-9a-f]{8}|1[0-9a-f]{72})$/.test(c))
      throw new InvalidRequestError("an address cursor is the `next` of the page before");
    const mintFrom = c === undefined ? 0 : c[0] === "0" ? parseInt(c.slice(1), 16) : Number.POSITIVE_INFINITY;
    const burnAfter = c !== undefined && c[0] === "1" ? c.slice(1) : undefined;
    const index = host.mintLogs();
    const scanned = index?.scanned;
    const allMints = index ? index.mintsOf(who) : [];
    const mints: AddressMint[] = allMints.slice(mintFrom, mintFrom + LOOKUP_PAGE_MAX).map((m) => {
      const ref = depositRef(db, m.depositId);
      return {
        depositId: m.depositId,
        amount: m.amount.toString(),
        chain: m.chain,
        block: m.block.toString(),
        txHash: m.txHash,
        ...(ref ? { ref } : {}),
      };
    });
    const base = {
      address: who,
      mintsComplete: scanned !== undefined && scanned.atDepth && !scanned.full,
      ...(scanned?.block === undefined ? {} : { chainBlock: scanned.block.toString() }),
    };
    const { keys, total } = burnsByAddress(db, who);
    const indexFull = total > keys.length;
    if (mintFrom + LOOKUP_PAGE_MAX < allMints.length)
      return { ...base, mints, burns: [], indexFull, next: `0${u32Cursor(mintFrom + LOOKUP_PAGE_MAX)}` };
    const room = LOOKUP_PAGE_MAX - mints.length;
    const remaining = burnAfter === undefined ? keys : keys.filter((k) => burnCursor(k) > burnAfter);
    const page = remaining.slice(0, room);
    const burns: AddressBurn[] = page.flatMap((k) => {
      const v = host.burnView(db, k, false);
      if (
        v.state !== "accepted" ||
        v.burnId === undefined ||
        v.amount === undefined ||
        v.settlement === undefined
      )
        return [];
      return [
        {
          txHash: v.txHash,
          logIndex: v.logIndex,
          burnId: v.burnId,
          amount: v.amount,
          settlement: v.settlement,
        },
      ];
    });
    const last = page[page.length - 1];
    const next = remaining.length > page.length && last ? `1${burnCursor(last)}` : undefined;
    return { ...base, mints, burns, indexFull, ...(next === undefined ? {} : { next }) };
  };

  const deposit = (params: Record<string, string>, db: ReadTx): DepositLookupView => {
    const p = parsed(LookupDepositParamsSchema, params, "a deposit id is 0x and 64 hex digits");
    const depositId = p.depositId.toLowerCase() as `0x${string}`;
    const ref = depositRef(db, depositId);
    if (!ref) throw new NotFoundError(`no wXMR mint the federation signed has deposit id ${depositId}`);
    if (ref.kind === "output") {
      const mint = host.mintView(db, { txid: fromHex(ref.txid), index: ref.index }, false);
      return { depositId, ref, ...(mint ? { mint } : {}) };
    }
    const key = { txHash: fromHex(ref.txHash.slice(2)), logIndex: ref.logIndex };
    return { depositId, ref, burn: host.burnView(db, key, false) };
  };

  const page = `at most ${LOOKUP_PAGE_MAX} per page; \`next\` is the cursor of the next page`;
  return [
    {
      method: "GET",
      path: "lookup/tx/:txid",
      params: LookupTxParamsSchema.omit({ cursor: true }),
      response: TxMintsViewSchema,
      summary: `Every wXMR mint output of one federation transaction (the GET mints view without this guardian's signature), ${page}`,
      handle: ({ params, db }) => tx(params, db),
    },
    {
      method: "GET",
      path: "lookup/tx/:txid/after/:cursor",
      params: LookupTxParamsSchema.required(),
      response: TxMintsViewSchema,
      summary: "The next page of lookup/tx/:txid",
      handle: ({ params, db }) => tx(params, db),
    },
    {
      method: "GET",
      path: "lookup/deposit/:depositId",
      params: LookupDepositParamsSchema,
      response: DepositLookupViewSchema,
      summary:
        "The wXMR mint with this deposit id (the id in the EIP-712 Mint and the contract's logs): a federation output, or a burn's re-mint",
      handle: ({ params, db }) => deposit(params, db),
    },
    {
      method: "GET",
      path: "lookup/burns/:txHash",
      params: LookupBurnsParamsSchema.omit({ cursor: true }),
      response: TxBurnsViewSchema,
      summary: `Every burn of one EVM transaction the guardians voted or accepted (the GET burns view, never a destination), ${page}`,
      handle: ({ params, db }) => burns(params, db),
    },
    {
      method: "GET",
      path: "lookup/burns/:txHash/after/:cursor",
      params: LookupBurnsParamsSchema.required(),
      response: TxBurnsViewSchema,
      summary: "The next page of lookup/burns/:txHash",
      handle: ({ params, db }) => burns(params, db),
    },
    {
      method: "GET",
      path: "lookup/address/:address",
      params: LookupAddressParamsSchema.omit({ cursor: true }),
      response: AddressViewSchema,
      summary: `What the chain shows for an EVM address: its mints on chain (this guardian's node at its depth) and its accepted burns, each with the federation's state; never a signed mint not on chain; ${page}`,
      handle: ({ params, db }) => address(params, db),
    },
    {
      method: "GET",
      path: "lookup/address/:address/after/:cursor",
      params: LookupAddressParamsSchema.required(),
      response: AddressViewSchema,
      summary: "The next page of lookup/address/:address",
      handle: ({ params, db }) => address(params, db),
    },
  ];
}

const burnCursor = (k: BurnKey): string => `${toHex(k.txHash)}${u32Cursor(k.logIndex)}`;
