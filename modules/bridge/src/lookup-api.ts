// The bridge's look-up by any id (issue 14's look-up box, issue 13's "queryable by deposit id, EVM
// address or burn tx hash"), under /v1/modules/bridge/lookup/ on every guardian (lookup.ts):
//
//   GET lookup/tx/:txid[/after/:cursor]          every wXMR mint output of one federation transaction
//   GET lookup/deposit/:depositId                the mint (an output, or a burn's re-mint) with that id
//   GET lookup/burns/:txHash[/after/:cursor]     every burn (Burned log) of one EVM transaction
//   GET lookup/address/:address[/after/:cursor]  what the chain shows for one EVM address: its mints
//                                                on chain (Minted / MintDelayed logs) and its burns,
//                                                each with the federation's state of it
//
// A page holds at most LOOKUP_PAGE_MAX entries; `next` is the cursor of the next page (absent on the
// last). Nothing here is a Monero address or a claim key: a burn's destination is its owner's.
// Browser-safe (zod only): the wallet and the status page check answers with these schemas.
import { z } from "zod";
import { BurnViewSchema, MintSignatureSchema } from "./api.js";

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `0x and ${bytes * 2} hex digits`);
const decimal = z.string().regex(/^\d{1,78}$/, "a decimal integer");
const cursor = z.string().regex(/^[0-9a-f]{1,80}$/, "a cursor from the previous page's `next`");

/** Entries in one page of any look-up. */
export const LOOKUP_PAGE_MAX = 32;
/** Burns one EVM address keeps in the index (its first ones; `indexFull` says more were not indexed). */
export const ADDRESS_BURNS_MAX = 1_000;

export const LookupTxParamsSchema = z.strictObject({
  txid: z.string().regex(/^[0-9a-f]{64}$/, "a federation transaction id: 64 lowercase hex characters"),
  cursor: cursor.optional(),
});
export const LookupDepositParamsSchema = z.strictObject({ depositId: hex(32) });
export const LookupBurnsParamsSchema = z.strictObject({ txHash: hex(32), cursor: cursor.optional() });
export const LookupAddressParamsSchema = z.strictObject({ address: hex(20), cursor: cursor.optional() });

/** One mint output of a federation transaction: the GET mints/:txid/:index view with its index. */
export const TxMintSchema = z.strictObject({ index: z.number().int(), mint: MintSignatureSchema });

export const TxMintsViewSchema = z.strictObject({
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  mints: z.array(TxMintSchema),
  next: cursor.optional(),
});
export type TxMintsView = z.infer<typeof TxMintsViewSchema>;

/** A deposit id names a mint output (txid, index) or the re-mint of a burn (tx hash, log index). */
export const DepositRefSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("output"),
    txid: z.string().regex(/^[0-9a-f]{64}$/),
    index: z.number().int(),
  }),
  z.strictObject({ kind: z.literal("remint"), txHash: hex(32), logIndex: z.number().int() }),
]);
export type DepositRef = z.infer<typeof DepositRefSchema>;

export const DepositLookupViewSchema = z.strictObject({
  depositId: hex(32),
  ref: DepositRefSchema,
  /** The mint: for an output, its GET mints view; for a re-mint, the burn's GET burns view. */
  mint: MintSignatureSchema.optional(),
  burn: BurnViewSchema.optional(),
});
export type DepositLookupView = z.infer<typeof DepositLookupViewSchema>;

export const TxBurnsViewSchema = z.strictObject({
  txHash: hex(32),
  burns: z.array(BurnViewSchema),
  next: cursor.optional(),
});
export type TxBurnsView = z.infer<typeof TxBurnsViewSchema>;

/**
 * A mint of an EVM address as the chain shows it (a Minted or MintDelayed log this guardian's node
 * returned at its depth; MintCancelled marks a delayed one cancelled), and what the federation knows
 * of its deposit id (`ref` absent: no mint the federation signed has that id).
 */
export const AddressMintSchema = z.strictObject({
  depositId: hex(32),
  amount: decimal,
  chain: z.enum(["minted", "delayed", "cancelled"]),
  block: decimal,
  txHash: hex(32),
  ref: DepositRefSchema.optional(),
});
export type AddressMint = z.infer<typeof AddressMintSchema>;

/** An accepted burn from an EVM address (from the agreed state) with its settlement. */
export const AddressBurnSchema = z.strictObject({
  txHash: hex(32),
  logIndex: z.number().int(),
  burnId: decimal,
  amount: decimal,
  settlement: BurnViewSchema.shape.settlement.unwrap(),
});
export type AddressBurn = z.infer<typeof AddressBurnSchema>;

/**
 * What the chain shows for an EVM address. Mints come from THIS guardian's node (so guardians at
 * another depth block may differ by a block, as their `chainBlock` says); burns from the agreed
 * state (the same at every guardian at the same height). Signed mints not on chain are not listed:
 * their amount tied to this address is not public until someone submits them.
 * `mintsComplete` false: this guardian's index has not read the chain up to its depth yet, or it is
 * full (its bounds, lookup.ts); `indexFull`: this address has more burns than the index keeps.
 */
export const AddressViewSchema = z.strictObject({
  address: hex(20),
  mints: z.array(AddressMintSchema),
  burns: z.array(AddressBurnSchema),
  chainBlock: decimal.optional(),
  mintsComplete: z.boolean(),
  indexFull: z.boolean(),
  next: cursor.optional(),
});
export type AddressView = z.infer<typeof AddressViewSchema>;
