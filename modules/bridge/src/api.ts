// The bridge's HTTP API, under /v1/modules/bridge/ on every guardian (zod schemas: /openapi.json).
//
//   GET mints/:txid/:index          an accepted mint output: the EIP-712 Mint and THIS guardian's
//                                   signature of it (a client collects t, checks each signer against
//                                   the set, sorts by signer and calls the contract's mint)
//   GET burns/:txHash/:logIndex     a burn's votes and, once t guardians voted it equally, what it
//                                   became (never its destination: a Monero address is its owner's)
//                                   and, for a refundable (0x02) output, whether it was returned
//   GET chain                       each guardian's scanned EVM block and the agreed one
//   GET supply                      what the bridge owes (its totals) beside the wXMR supply THIS
//                                   guardian's node reads at its depth block (the status page's
//                                   proof of reserves compares it across guardians)
//   GET refunds/:refundKey[/page/:page]  the refundable (0x02) mint outputs that name this refund
//                                   key, 256 a page in acceptance order (a wallet restored from its
//                                   recovery phrase finds its own mints)
import { hex32, txKeyHex } from "@conclave/monero/json"; // not the index: it holds Node-only files, and this is in the browser wallet
import { z } from "zod";

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `0x and ${bytes * 2} hex digits`);
const decimal = z.string().regex(/^\d{1,78}$/, "a decimal integer");

export const MintParamsSchema = z.strictObject({
  txid: z.string().regex(/^[0-9a-f]{64}$/, "a federation transaction id: 64 lowercase hex characters"),
  index: z.string().regex(/^\d{1,5}$/, "an output index"),
});

export const BurnParamsSchema = z.strictObject({
  txHash: hex(32),
  logIndex: z.string().regex(/^\d{1,10}$/, "a log index"),
});

export const RefundKeyParamsSchema = z.strictObject({
  refundKey: z.string().regex(/^[0-9a-f]{64}$/, "a refund key: 64 lowercase hex characters"),
});

export const RefundKeyPageParamsSchema = z.strictObject({
  refundKey: RefundKeyParamsSchema.shape.refundKey,
  page: z.string().regex(/^\d{1,5}$/, "a page number"),
});

/** Entries in one page of a refund key's mints (threat model 12zf). */
export const REFUND_KEY_PAGE_ENTRIES = 256;
/**
 * Pages one refund key has at most: REFUND_KEY_PAGES_MAX × REFUND_KEY_PAGE_ENTRIES (16,384) mints
 * name one key, and a further output naming it is refused (`refund_key_full`). A wallet names each
 * key in one mint; the rest are someone else's outputs naming a public key (docs/bridge.md).
 */
export const REFUND_KEY_PAGES_MAX = 64;

/**
 * One page of the refundable mint outputs naming a refund key, in the order the federation accepted
 * them (entries page × 256 to page × 256 + 255). A full page never changes; the search walks pages
 * until one is not full.
 */
export const RefundKeyMintsSchema = z.strictObject({
  refundKey: z.string().regex(/^[0-9a-f]{64}$/),
  page: z.number().int().min(0),
  mints: z
    .array(
      z.strictObject({
        txid: z.string().regex(/^[0-9a-f]{64}$/),
        index: z.number().int(),
        /** The mint's EVM recipient and amount (piconero), as the accepted output named them. */
        recipient: hex(20),
        amount: decimal,
      }),
    )
    .max(REFUND_KEY_PAGE_ENTRIES),
});
export type RefundKeyMintsView = z.infer<typeof RefundKeyMintsSchema>;

/**
 * A refundable (0x02) mint's return: `open` until its deadline is below the agreed EVM time, then
 * `due` while the guardians vote (each reads depositStatus at its depth block past the deadline;
 * a mint queued above the cap is voted only once it can no longer be cancelled),
 * then what t equal votes decided: `returnable` (input 0x02 signed by the refund key is worth the
 * amount), `refunded` (that input was spent), `paid_out` (a 0x03 output's value handed to the monero
 * module's payouts, to the refund address it named) or `minted` (minted on chain, or queued past the
 * time a cancel is possible).
 */
export const MintExpirySchema = z.strictObject({
  state: z.enum(["open", "due", "returnable", "refunded", "minted", "paid_out"]),
  refundKey: hex(32),
  /** A 0x03 output: returned, it is paid back in Monero to the refund address it named (never shown). */
  refundInMonero: z.literal(true).optional(),
  /** `paid_out`: the Monero payout of the returned mint (amount + fee = the mint), and how far it got. */
  get payout() {
    return BurnPayoutSchema.optional();
  },
  votesUnused: z.number().int(),
  votesUsed: z.number().int(),
  votesRequired: z.number().int(),
});
export type MintExpiryView = z.infer<typeof MintExpirySchema>;

/**
 * A mint without refund key (a 0x01 output, or the re-mint of a burn): expired unminted, it is
 * re-issued. `attempt` is the issue signed now (0: the first; n: the n-th re-issue, with its own
 * deadline and deposit id; earlier ones can never mint); `state` `open` until its deadline is below
 * the agreed EVM time, `due` while the guardians vote on it, `minted` once t saw it minted.
 * `firstDepositId`: attempt 0's deposit id, from which each attempt's is derived.
 */
export const MintReissueSchema = z.strictObject({
  attempt: z.number().int(),
  state: z.enum(["open", "due", "minted"]),
  firstDepositId: hex(32),
  votesUnused: z.number().int(),
  votesUsed: z.number().int(),
  votesRequired: z.number().int(),
});
export type MintReissueView = z.infer<typeof MintReissueSchema>;

export const MintSignatureSchema = z.strictObject({
  chainId: z.number().int(),
  contract: hex(20),
  recipient: hex(20),
  amount: decimal,
  depositId: hex(32),
  deadline: decimal,
  setIndex: z.number().int(),
  /** This guardian's index and EVM address, and its signature (absent where it holds no key). */
  guardian: z.number().int(),
  signer: hex(20).optional(),
  /** Absent also once the mint is returned (it can never be minted: the contract refuses it, Expired). */
  signature: hex(65).optional(),
  /** Only for a 0x02 output (with a refund key): its return, as this guardian's state shows it. */
  expiry: MintExpirySchema.optional(),
  /** Only for a mint without refund key: which issue this is (the message above is that issue's). */
  reissue: MintReissueSchema.optional(),
});
export type MintSignatureView = z.infer<typeof MintSignatureSchema>;

/** A burn's Monero payout (never its address): amount paid, fee deducted, and the payout's progress. */
export const BurnPayoutSchema = z.strictObject({
  amount: decimal,
  fee: decimal,
  state: z.enum(["queued", "signing", "submitted", "confirmed"]),
  moneroTxid: hex32.optional(),
  /** With the burn's Monero address: check_tx_key(moneroTxid, txKey, address) proves the payment. */
  txKey: txKeyHex.optional(),
  confirmations: z.number().int().optional(),
});
export type BurnPayoutView = z.infer<typeof BurnPayoutSchema>;

export const BurnViewSchema = z.strictObject({
  txHash: hex(32),
  logIndex: z.number().int(),
  state: z.enum(["unknown", "voting", "accepted"]),
  votes: z.number().int(),
  votesRequired: z.number().int(),
  burnId: decimal.optional(),
  from: hex(20).optional(),
  amount: decimal.optional(),
  kind: z.number().int().optional(),
  settlement: z.enum(["payout_pending", "claimable", "claimed", "reminted", "payout"]).optional(),
  reason: z.string().optional(),
  remint: MintSignatureSchema.optional(),
  payout: BurnPayoutSchema.optional(),
});
export type BurnView = z.infer<typeof BurnViewSchema>;

export const ChainViewSchema = z.strictObject({
  chainId: z.number().int(),
  contract: hex(20),
  confirmations: z.number().int(),
  agreedBlock: decimal,
  agreedTimestamp: decimal,
  scanned: z.array(z.strictObject({ block: decimal, timestamp: decimal }).nullable()),
});
export type ChainView = z.infer<typeof ChainViewSchema>;

/**
 * GET supply: the bridge's totals in the consensus state (the same at every guardian at the same
 * height) and this guardian's own reading of the chain. `outstanding` = signed − burned is wXMR on
 * chain or signed and not (yet) minted; `unsubmitted` = outstanding − totalSupply is the part not on
 * chain (signed and not submitted, or expired unminted and not yet voted returnable). Burns in blocks
 * past the agreed one that the totals do not count yet make it larger for a while; a negative figure
 * would be wXMR the federation never signed (the accountant halts on it).
 */
export const SupplyViewSchema = z.strictObject({
  guardian: z.number().int(),
  chainId: z.number().int(),
  contract: hex(20),
  signed: decimal,
  burned: decimal,
  /** Accepted burns still owed here (claimable), and returned mints not refunded yet. */
  unsettled: decimal,
  returnable: decimal,
  outstanding: z.string().regex(/^-?\d{1,78}$/),
  agreedBlock: decimal,
  /** This guardian's node: totalSupply() after its depth block; absent without a node or before its first poll. */
  chain: z.strictObject({ block: decimal, totalSupply: decimal }).optional(),
  unsubmitted: z
    .string()
    .regex(/^-?\d{1,78}$/)
    .optional(),
});
export type SupplyView = z.infer<typeof SupplyViewSchema>;
