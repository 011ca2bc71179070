// The Monero module's HTTP API, under /v1/modules/monero/ on every guardian: request and answer
// schemas shared by the server half and the wallet (browser-safe: zod only).
//
//   POST claims          ClaimRequest  -> ClaimAnswer
//        A payment proof (txid + OutProofV2 made from the tx key for the claim key's message) and the
//        Ed25519 key that may spend the deposit; the tx key itself is never sent. The guardian checks
//        the form and proposes it; the first claim consensus orders binds the key.
//        The client posts it to every guardian (one honest guardian is enough to get it ordered).
//   POST sealed-claims   SealedClaimRequest -> ClaimAnswer
//        The same claim sealed to this guardian (HPKE to its identity key), e.g. relayed by mail or
//        I2P: the guardian opens it (only if it is the target) and treats it exactly as POST claims.
//   GET  height                        -> HeightView      consensus state: t guardians agree
//   GET  deposits/:txid                -> DepositView     consensus state: t guardians agree
//   GET  payouts/terms                 -> PayoutTerms     consensus state: t guardians agree
//   GET  reserves                      -> ReservesView    this guardian's wallet and the agreed figure
//   GET  payouts/:txid/:index          -> PayoutStatus    consensus state (payout-status.ts)
// Each endpoint declares these schemas (server.ts), and /openapi.json publishes them.
import { txKeyHex } from "@conclave/monero/json"; // not the index: it holds Node-only files, and this is in the browser wallet
import { z } from "zod";

export const hexBytes = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes as lowercase hex`);

const amount = z.string().regex(/^\d{1,20}$/, "an amount in piconero, as a decimal string");

// ---- path parameters (documentation: the server half checks them the same way) -------------------

export const MoneroTxidParamsSchema = z.object({
  txid: hexBytes(32).describe("The Monero transaction id."),
});

export const PayoutParamsSchema = z.object({
  txid: hexBytes(32).describe("The federation transaction id whose output is the payout."),
  index: z
    .string()
    .regex(/^[0-9]{1,10}$/, "an output index from 0 to 65535, or 0xffff0000 | module for a requested payout")
    .describe(
      "The payout's output index in that transaction (0 to 65535); for a payout another module asked for (a bridge burn's, a 0x03 mint's refund), 0xffff0000 | that module's instance id, with `txid` its ref (requestOutPoint).",
    ),
});

export const ClaimKeyParamsSchema = z.object({
  claimKey: hexBytes(32).describe("The claim key (Ed25519 public key)."),
});

/** get_tx_key's answer: one 32-byte key, or several (additional keys for subaddress outputs). */
export const TxKeyHexSchema = txKeyHex;

/** A claim's payment proof: per tx key part, D | c | s (96 bytes, 192 hex characters); common.ts claimProof. */
export const ClaimProofHexSchema = z
  .string()
  .regex(
    /^([0-9a-f]{192}){1,17}$/,
    "a claim proof: 192 lowercase hex characters per tx key part (1 to 17), as the wallet's claimProof makes it",
  );

export const ClaimRequestSchema = z.strictObject({
  txid: hexBytes(32),
  /** The Ed25519 public key that must sign the transaction spending the deposit. */
  claimKey: hexBytes(32),
  /** OutProofV2 of txid to the federation's address for claimProofMessage(claimKey). */
  proof: ClaimProofHexSchema,
});
export type ClaimRequest = z.infer<typeof ClaimRequestSchema>;

/** HPKE's purpose label for a sealed claim (core-common seal.ts binds it, with the guardian, into info). */
export const SEALED_CLAIM_PURPOSE = "monero/claim";
/**
 * Longest sealed claim text: the largest claim (1698 bytes, 17 proof parts) sealed is 2390 characters;
 * the rest is room for the line breaks a relay (mail) inserts.
 */
export const SEALED_CLAIM_CHARS_MAX = 3072;

/**
 * A claim sealed to one guardian (`csealed1…`, the wallet's sealClaim): the plaintext is the Claim
 * item (txid, claim key, proof) in its consensus form. Any relay may post it; only its guardian opens it.
 */
export const SealedClaimRequestSchema = z.strictObject({
  sealed: z
    .string()
    .min(1)
    .max(SEALED_CLAIM_CHARS_MAX, `a sealed claim is at most ${SEALED_CLAIM_CHARS_MAX} characters`),
});
export type SealedClaimRequest = z.infer<typeof SealedClaimRequestSchema>;

export const ClaimAnswerSchema = z.strictObject({
  txid: hexBytes(32),
  /**
   * queued: this guardian will propose the claim; already: consensus already bound this claim key to
   * this txid (the claim was taken earlier, by this or another guardian).
   */
  state: z.enum(["queued", "already"]),
});
export type ClaimAnswer = z.infer<typeof ClaimAnswerSchema>;

export const HeightViewSchema = z.strictObject({
  /** The agreed chain height (monerod's block count) that confirmations are counted at. */
  agreedHeight: z.number().int().min(0),
  /** Each guardian's latest reported height (null: none yet), by guardian index. */
  reported: z.array(z.number().int().min(0).nullable()),
  confirmations: z.number().int().min(1),
});
export type HeightView = z.infer<typeof HeightViewSchema>;

/**
 * What a payout costs now (a quote from the consensus state, so t guardians give the same one): the
 * fee a payout output must carry is at least `fee` when the transaction is ordered. `fee` is absent
 * while no fee rate is agreed (payouts are refused then: fee_rate_unknown).
 */
export const PayoutTermsSchema = z.strictObject({
  /** Smallest payout amount. */
  minimum: amount,
  /** The fee a payout output must carry now: max(feeMin, ⌈feeRate × feeBytes⌉). */
  fee: amount.optional(),
  /** A payout whose fee is above this is refused (fee_too_high). */
  feeMax: amount.optional(),
  /** The agreed fee rate, piconero per byte (0: none yet). */
  feeRate: z.number().int().min(0),
  /** Bytes of Monero transaction charged per payout, and the floor (federation config). */
  feeBytes: z.number().int().min(1),
  feeMin: amount,
  /** Each guardian's latest reported fee rate (null: none yet), by guardian index. */
  reportedFeeRates: z.array(z.number().int().min(0).nullable()),
  /** The agreed height the quote was read at. */
  agreedHeight: z.number().int().min(0),
});
export type PayoutTerms = z.infer<typeof PayoutTermsSchema>;

export const DEPOSIT_STATES = ["unclaimed", "open", "credited", "spent", "rejected", "expired"] as const;
export type DepositState = (typeof DEPOSIT_STATES)[number];

export const AttestationViewSchema = z.strictObject({
  guardian: z.number().int().min(0),
  /** "valid", or why not: nothing_received, below_minimum, bad_proof, own_transaction. */
  verdict: z.string(),
  amount: amount.optional(),
  txHeight: z.number().int().min(0).optional(),
});
export type AttestationView = z.infer<typeof AttestationViewSchema>;

export const RefusedClaimViewSchema = z.strictObject({
  claimKey: hexBytes(32),
  /** The guardian that proposed it. */
  guardian: z.number().int().min(0),
  reason: z.string(),
});
export type RefusedClaimView = z.infer<typeof RefusedClaimViewSchema>;

export const DepositViewSchema = z.strictObject({
  txid: hexBytes(32),
  state: z.enum(DEPOSIT_STATES),
  /** Claims of this txid so far (a rejected or expired claim releases it for a new one). */
  round: z.number().int().min(0),
  claimKey: hexBytes(32).optional(),
  /** The guardian that proposed the binding claim. */
  claimedBy: z.number().int().min(0).optional(),
  claimedAtHeight: z.number().int().min(0).optional(),
  /** An open claim expires at this agreed height. */
  expiresAtHeight: z.number().int().min(0).optional(),
  attestations: z.array(AttestationViewSchema),
  /** Guardians whose matching verdicts are needed (t). */
  attestationsRequired: z.number().int().min(1),
  /** Credited or spent: the amount t guardians attested, and the block that holds the transaction. */
  amount: amount.optional(),
  txHeight: z.number().int().min(0).optional(),
  agreedHeight: z.number().int().min(0),
  /** At the agreed height (0 until credited). */
  confirmations: z.number().int().min(0),
  confirmationsRequired: z.number().int().min(1),
  /** A transaction may spend the deposit now (credited, confirmed at the agreed height, unspent). */
  spendable: z.boolean(),
  spent: z.boolean(),
  /**
   * Spent: the federation transaction that spent it (its id, 64 hex), which anyone holding the Monero
   * txid may look up (e-cash notes are blind; a wXMR mint output's recipient and amount are shown to
   * the holder of its transaction id). Absent for deposits spent before guardians kept it.
   */
  spentIn: hexBytes(32).optional(),
  /** Rejected or expired: why. */
  closedReason: z.string().optional(),
  /** Claims of this txid with another key (or the same key with another proof) that consensus refused. */
  refusedClaims: z.array(RefusedClaimViewSchema),
  /** Refused claims beyond the ones listed (only the first few are kept). */
  refusedClaimsNotListed: z.number().int().min(0),
});
export type DepositView = z.infer<typeof DepositViewSchema>;

/** GET reserves: this guardian's multisig wallet balance against what is owed (reserves.ts). */
export const ReservesViewSchema = z.strictObject({
  state: z.enum(["ok", "short", "stale", "unknown"]),
  detail: z.string(),
  /** ecashBacking + credited, piconero. */
  required: amount,
  /** Σ deposits spent into e-cash − Σ (payout + fee reserve). */
  ecashBacking: z.string().regex(/^-?\d{1,20}$/),
  /** Σ deposits credited to claim keys, not yet spent. */
  credited: amount,
  agreedHeight: z.number().int().min(0),
  /**
   * Payouts accepted and not confirmed yet (queued, signing, submitted: Monero withdrawals and wXMR
   * burns handed to a payout): no longer in `ecashBacking`, still in the wallet until their
   * transaction leaves it. `amount` is Σ (amount + fee) of the oldest `summed` of the `count`
   * (a request reads a bounded number of records; summed < count only for a queue that long).
   */
  pendingPayouts: z.strictObject({
    count: z.number().int().min(0),
    amount,
    summed: z.number().int().min(0),
  }),
  /**
   * The fee fund (consensus state, the same at every guardian; docs/monero.md "Fee top-up"): Σ fees
   * charged to payouts, Σ Monero fees charged for confirmed batches (the most each transaction can
   * have paid), `available` = their difference (never negative), and `topUpMax`, the most a batch's
   * fee may exceed its payouts' fees (one payout's fee at the agreed rate). A batch whose transaction
   * costs more than its payouts' fees + min(topUpMax, what the fund holds) waits.
   */
  feeFund: z
    .strictObject({
      charged: z.string().regex(/^\d{1,40}$/),
      paid: z.string().regex(/^\d{1,40}$/),
      available: z.string().regex(/^\d{1,40}$/),
      topUpMax: amount,
    })
    .optional(),
  wallet: z
    .strictObject({
      balance: amount,
      unlocked: amount,
      locked: amount,
      height: z.number().int().min(0),
      multisigImportNeeded: z.boolean(),
      checkedAt: z.string(),
    })
    .optional(),
  /** balance − required; negative when short. */
  surplus: z
    .string()
    .regex(/^-?\d{1,20}$/)
    .optional(),
  /**
   * The reserves agreed in consensus (the same at every guardian): each guardian's latest wallet
   * report, the figure f liars cannot move, and the state the module acts on (short: payouts and
   * deposit spends are refused with reserves_short). docs/monero.md, "Reserves agreed in consensus".
   */
  agreed: z.strictObject({
    state: z.enum(["ok", "short", "unknown"]),
    detail: z.string(),
    required: amount,
    /** The agreed balance (locked included), absent while fewer than 2f + 1 reports are fresh. */
    balance: amount.optional(),
    unlocked: amount.optional(),
    /** agreed balance − required; negative when short. */
    surplus: z
      .string()
      .regex(/^-?\d{1,20}$/)
      .optional(),
    freshReports: z.number().int().min(0),
    freshReportsMin: z.number().int().min(1),
    /** Per guardian (index order): its latest report, or null for none. */
    reports: z.array(
      z
        .strictObject({
          balance: amount,
          unlocked: amount,
          locked: amount,
          walletHeight: z.number().int().min(0),
          /** Whether it counts now (its wallet scanned the newest credited deposit and it is recent). */
          fresh: z.boolean(),
        })
        .nullable(),
    ),
  }),
});
export type ReservesView = z.infer<typeof ReservesViewSchema>;

// ---- subaddress deposits ------------------------------------------------------------------------
//   POST subaddresses               SubaddressRequest -> SubaddressAnswer
//        A claim key asks for its deposit subaddress (signed by it). The guardian proposes the
//        request; consensus assigns the next index; every guardian's wallet derives the same address.
//   GET  subaddresses/:claimKey     -> SubaddressView   consensus state (+ the address this guardian's
//        wallet derives): t guardians agree
//   GET  subaddresses/:claimKey/seen -> SubaddressSeenView  this guardian's own wallet (pool and
//        shallow transfers: progress only, never a reason to credit)
//   GET  subaddress-deposits/:txid  -> SubaddressTxView  a Monero txid's subaddress deposits for anyone
//        holding the txid (the status page's look-up): consensus states (t guardians agree) and this
//        guardian's own wallet's sighting; never the subaddress, its index, the claim key or the amount

export const SubaddressRequestSchema = z.strictObject({
  claimKey: hexBytes(32),
  /** Ed25519 signature by claimKey over subaddressRequestMessage(federation address, claimKey). */
  signature: hexBytes(64),
});
export type SubaddressRequest = z.infer<typeof SubaddressRequestSchema>;

export const SubaddressAnswerSchema = z.strictObject({
  claimKey: hexBytes(32),
  /** queued: this guardian will propose the request; assigned: consensus bound an index to the key. */
  state: z.enum(["queued", "assigned"]),
  index: z.number().int().min(1).optional(),
  /** The subaddress, once this guardian's wallet has derived it. */
  address: z.string().optional(),
});
export type SubaddressAnswer = z.infer<typeof SubaddressAnswerSchema>;

export const SubaddressDepositViewSchema = z.strictObject({
  txid: hexBytes(32),
  /** pending: fewer than t guardians attested it so far; credited: t did; spent: turned into e-cash. */
  state: z.enum(["pending", "credited", "spent"]),
  /** Pending: attestations so far. */
  attestations: z.number().int().min(0),
  amount: amount.optional(),
  txHeight: z.number().int().min(0).optional(),
  /** At the agreed height (0 until credited). */
  confirmations: z.number().int().min(0),
  spendable: z.boolean(),
});
export type SubaddressDepositView = z.infer<typeof SubaddressDepositViewSchema>;

export const SubaddressViewSchema = z.strictObject({
  claimKey: hexBytes(32),
  state: z.enum(["unassigned", "assigned"]),
  /** The minor index in account 0 of the federation's wallet. */
  index: z.number().int().min(1).optional(),
  /** The subaddress, once this guardian's wallet has derived it (t guardians must agree on it). */
  address: z.string().optional(),
  agreedHeight: z.number().int().min(0),
  attestationsRequired: z.number().int().min(1),
  confirmationsRequired: z.number().int().min(1),
  /** Deposits not yet spent first, at most 64; the rest are counted. */
  deposits: z.array(SubaddressDepositViewSchema),
  depositsNotListed: z.number().int().min(0),
});
export type SubaddressView = z.infer<typeof SubaddressViewSchema>;

export const SubaddressTxViewSchema = z.strictObject({
  txid: hexBytes(32),
  agreedHeight: z.number().int().min(0),
  attestationsRequired: z.number().int().min(1),
  confirmationsRequired: z.number().int().min(1),
  /** One per subaddress output of the transaction the federation knows of, in a fixed order (at most 16). */
  deposits: z.array(
    z.strictObject({
      /** pending: fewer than t guardians attested it so far; credited: t did; spent: turned into e-cash or wXMR. */
      state: z.enum(["pending", "credited", "spent"]),
      /** Pending: attestations so far. */
      attestations: z.number().int().min(0),
      /** Credited or spent: the block that holds the transaction. */
      txHeight: z.number().int().min(0).optional(),
      /** At the agreed height (0 until credited). */
      confirmations: z.number().int().min(0),
      spendable: z.boolean(),
      /** Spent: the federation transaction that spent it (absent for deposits spent before it was kept). */
      spentIn: hexBytes(32).optional(),
    }),
  ),
  /** More outputs than listed (never, for a valid Monero transaction). */
  more: z.boolean(),
  /**
   * This guardian's own wallet (progress only, not consensus): the transaction pays one of the
   * federation's subaddresses, in the pool (no txHeight) or `confirmations` deep on its node.
   */
  seen: z
    .strictObject({
      txHeight: z.number().int().min(0).optional(),
      confirmations: z.number().int().min(0),
    })
    .optional(),
});
export type SubaddressTxView = z.infer<typeof SubaddressTxViewSchema>;

export const SubaddressSeenViewSchema = z.strictObject({
  claimKey: hexBytes(32),
  /** This guardian's node height (block count), when known. */
  nodeHeight: z.number().int().min(0).optional(),
  seen: z.array(
    z.strictObject({
      txid: hexBytes(32),
      amount,
      /** Absent while in the pool. */
      txHeight: z.number().int().min(0).optional(),
      /** On this guardian's node (0 in the pool). */
      confirmations: z.number().int().min(0),
    }),
  ),
});
export type SubaddressSeenView = z.infer<typeof SubaddressSeenViewSchema>;
