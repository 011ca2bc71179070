// The Monero custody module's wire formats, limits and pure rules (browser-safe: no node: imports).
//
// Consensus items (each guardian proposes its own; every byte is bounds-checked on decoding):
//   0x01 Height  | height u64                                  this guardian's monerod block count
//   0x08 Claim   | txid (32) | claimKey (32) | count u8 | (D (32) | c (32) | s (32)) × count
//                                                              a payment proof (OutProofV2, one part per
//                                                              tx key part) whose message names claimKey
//                                                              (claimProofMessage); 0x02, the claim that
//                                                              carried the tx key itself, is retired
//   0x03 Attest  | txid (32) | round u32 | 0x00 | amount u64 | txHeight u64      the deposit is real
//                | txid (32) | round u32 | reason u8 (≥ 1)                        it is not
//   0x10 AddressRequest | claimKey (32) | signature (64)   bind the next subaddress to claimKey
//                                                              (signed by it: subaddressRequestMessage)
//   0x11 SubaddressSeen | txid (32) | index u32 | amount u64 | txHeight u64
//                                                              my wallet received `amount` at subaddress
//                                                              (0, index) in block txHeight, deep enough
//   0x12 FeeRate | perByte u64                                this guardian's monerod's get_fee_estimate
//                                                              (piconero per byte), proposed when it moves
//                                                              by > 10%; the agreed rate: agreedFeeRate
//   0x13 Reserves | balance u64 | unlocked u64 | walletHeight u64
//                                                              what this guardian's share of the multisig
//                                                              wallet holds (outputs in blocks, unspent;
//                                                              unlocked ≤ balance) after scanning
//                                                              walletHeight blocks; the agreed figure:
//                                                              agreedReserves (docs/monero.md, Reserves)
// Transaction inputs:
//   0x01 Deposit | txid (32)                                   spend a credited, confirmed deposit
//   0x02 SubaddressDeposit | txid (32) | index u32             the same for a subaddress deposit
// Transaction output and the payout signing items: payout-common.ts.
//
// Heights are monerod's block counts (get_info / get_height "height" = top block height + 1); a
// transaction's height (txHeight) is the height of the block that holds it. Confirmations at block
// count H: H − txHeight (the tx in the top block has 1, as wallets show it). A deposit is confirmed
// when agreedHeight − txHeight >= confirmations, i.e. topHeight >= txHeight + confirmations − 1.
import { ed25519 } from "@noble/curves/ed25519.js";
import { CodecError, Reader, Writer, toHex, faultTolerance, quorumThreshold } from "@conclave/core-common";
import {
  TX_PROOF_PART_BYTES,
  isCanonicalScalar,
  isWellFormedOutProof,
  makeOutProof,
  standardAddressViewKey,
} from "@conclave/monero/tx-proof";
import { z } from "zod";

export const MONERO_KIND = "monero";

export const ITEM_HEIGHT = 0x01;
/** A claim by payment proof (0x02 carried the tx key in clear and is refused as unknown). */
export const ITEM_CLAIM = 0x08;
export const ITEM_ATTEST = 0x03;
export const INPUT_DEPOSIT = 0x01;
export const ITEM_ADDRESS_REQUEST = 0x10;
export const ITEM_SUBADDRESS_SEEN = 0x11;
export const ITEM_FEE_RATE = 0x12;
export const ITEM_RESERVES = 0x13;
export const INPUT_SUBADDRESS_DEPOSIT = 0x02;
export const SIGNATURE_BYTES = 64;
/** Subaddress minor indexes (account 0) are 1..SUBADDRESS_INDEX_MAX; 0 is the primary address. */
export const SUBADDRESS_INDEX_MAX = 0xffff_fffe;

export const TXID_BYTES = 32;
export const CLAIM_KEY_BYTES = 32;
/**
 * A tx key is one 32-byte secret, followed by one more per output when the sender paid a subaddress
 * ("additional tx keys"): get_tx_key returns them concatenated. 16 outputs is Monero's maximum.
 */
export const TX_KEY_PARTS_MAX = 17;
/** Heights above this are refused as malformed (monerod's chain is far below; it keeps u64 math safe). */
export const HEIGHT_MAX = 2 ** 48;
/**
 * Fee rates (piconero per byte) above this are refused as malformed: 0.01 XMR per byte, about 10^5
 * times mainnet's (~2·10^4) and 10^4 times regtest's (1.2·10^6, docs/monero.md). Keeps rate × bytes exact.
 */
export const FEE_PER_BYTE_MAX = 10_000_000_000;

/** Why a guardian says a claimed deposit is not one (final facts about the transaction, not transient). */
export const INVALID_REASONS = {
  /** The proof is good but the federation's address received nothing (paid to another address). */
  nothing_received: 1,
  /** Received less than the federation's minimum deposit. */
  below_minimum: 2,
  /**
   * check_tx_proof says the proof is not good for this txid, the federation's address and this claim
   * key's message: a wrong tx key, or a proof copied from another claim (front-running).
   */
  bad_proof: 3,
  /**
   * The transaction spends the federation's own outputs (a payout: its change, or a payment to one of
   * its own addresses): the federation sent it, so nothing in it is money received (invariant 7).
   */
  own_transaction: 4,
} as const;
export type InvalidReason = keyof typeof INVALID_REASONS;
const REASON_BY_CODE = new Map<number, InvalidReason>(
  Object.entries(INVALID_REASONS).map(([k, v]) => [v, k as InvalidReason]),
);

export type Verdict =
  | { readonly valid: true; readonly amount: bigint; readonly txHeight: number }
  | { readonly valid: false; readonly reason: InvalidReason };

export type MoneroItem =
  | { readonly kind: "height"; readonly height: number }
  | {
      readonly kind: "claim";
      readonly txid: Uint8Array;
      readonly claimKey: Uint8Array;
      /** OutProofV2 parts, D | c | s (96 bytes) each: see claimProof. */
      readonly proof: Uint8Array;
    }
  | { readonly kind: "attest"; readonly txid: Uint8Array; readonly round: number; readonly verdict: Verdict }
  | { readonly kind: "address_request"; readonly claimKey: Uint8Array; readonly signature: Uint8Array }
  | {
      readonly kind: "subaddress_seen";
      readonly txid: Uint8Array;
      readonly index: number;
      readonly amount: bigint;
      readonly txHeight: number;
    }
  | { readonly kind: "fee_rate"; readonly perByte: number }
  | {
      readonly kind: "reserves";
      /** Every unspent output in a block, locked or not (piconero). */
      readonly balance: bigint;
      readonly unlocked: bigint;
      /** The wallet's block count when it was read (how far it had scanned). */
      readonly walletHeight: number;
    };

export function encodeMoneroItem(item: MoneroItem): Uint8Array {
  const w = new Writer();
  switch (item.kind) {
    case "height":
      return w.u8(ITEM_HEIGHT).u64(item.height).finish();
    case "claim": {
      const parts = item.proof.length / TX_PROOF_PART_BYTES;
      if (!Number.isInteger(parts) || parts < 1 || parts > TX_KEY_PARTS_MAX)
        throw new CodecError("a claim proof is 1 to 17 parts of 96 bytes");
      w.u8(ITEM_CLAIM).fixed(item.txid, TXID_BYTES).fixed(item.claimKey, CLAIM_KEY_BYTES).u8(parts);
      return w.fixed(item.proof, item.proof.length).finish();
    }
    case "attest": {
      w.u8(ITEM_ATTEST).fixed(item.txid, TXID_BYTES).u32(item.round);
      if (item.verdict.valid) return w.u8(0).u64big(item.verdict.amount).u64(item.verdict.txHeight).finish();
      return w.u8(INVALID_REASONS[item.verdict.reason]).finish();
    }
    case "address_request":
      return w
        .u8(ITEM_ADDRESS_REQUEST)
        .fixed(item.claimKey, CLAIM_KEY_BYTES)
        .fixed(item.signature, SIGNATURE_BYTES)
        .finish();
    case "subaddress_seen":
      return w
        .u8(ITEM_SUBADDRESS_SEEN)
        .fixed(item.txid, TXID_BYTES)
        .u32(item.index)
        .u64big(item.amount)
        .u64(item.txHeight)
        .finish();
    case "fee_rate":
      return w.u8(ITEM_FEE_RATE).u64(item.perByte).finish();
    case "reserves":
      return w.u8(ITEM_RESERVES).u64big(item.balance).u64big(item.unlocked).u64(item.walletHeight).finish();
  }
}

/** Throws CodecError for anything that is not exactly one well-formed item. */
export function decodeMoneroItem(bytes: Uint8Array): MoneroItem {
  const r = new Reader(bytes);
  const tag = r.u8();
  let item: MoneroItem;
  if (tag === ITEM_HEIGHT) {
    const height = r.u64();
    if (height > HEIGHT_MAX) throw new CodecError(`height ${height} is above ${HEIGHT_MAX}`);
    item = { kind: "height", height };
  } else if (tag === ITEM_CLAIM) {
    const txid = r.fixed(TXID_BYTES);
    const claimKey = r.fixed(CLAIM_KEY_BYTES);
    const parts = r.u8();
    if (parts < 1 || parts > TX_KEY_PARTS_MAX)
      throw new CodecError(`a claim proof has 1 to 17 parts, not ${parts}`);
    item = { kind: "claim", txid, claimKey, proof: r.fixed(parts * TX_PROOF_PART_BYTES) };
  } else if (tag === ITEM_ATTEST) {
    const txid = r.fixed(TXID_BYTES);
    const round = r.u32();
    const code = r.u8();
    let verdict: Verdict;
    if (code === 0) {
      const amount = r.u64big();
      const txHeight = r.u64();
      if (amount === 0n) throw new CodecError("a valid deposit has a positive amount");
      if (txHeight > HEIGHT_MAX) throw new CodecError(`tx height ${txHeight} is above ${HEIGHT_MAX}`);
      verdict = { valid: true, amount, txHeight };
    } else {
      const reason = REASON_BY_CODE.get(code);
      if (!reason) throw new CodecError(`unknown invalid-deposit reason ${code}`);
      verdict = { valid: false, reason };
    }
    item = { kind: "attest", txid, round, verdict };
  } else if (tag === ITEM_ADDRESS_REQUEST) {
    item = {
      kind: "address_request",
      claimKey: r.fixed(CLAIM_KEY_BYTES),
      signature: r.fixed(SIGNATURE_BYTES),
    };
  } else if (tag === ITEM_SUBADDRESS_SEEN) {
    const txid = r.fixed(TXID_BYTES);
    const index = r.u32();
    const amount = r.u64big();
    const txHeight = r.u64();
    if (index < 1 || index > SUBADDRESS_INDEX_MAX)
      throw new CodecError(`subaddress index ${index} is not 1..${SUBADDRESS_INDEX_MAX}`);
    if (amount === 0n) throw new CodecError("a subaddress deposit has a positive amount");
    if (txHeight > HEIGHT_MAX) throw new CodecError(`tx height ${txHeight} is above ${HEIGHT_MAX}`);
    item = { kind: "subaddress_seen", txid, index, amount, txHeight };
  } else if (tag === ITEM_FEE_RATE) {
    const perByte = r.u64();
    if (perByte < 1 || perByte > FEE_PER_BYTE_MAX)
      throw new CodecError(`a fee rate is 1 to ${FEE_PER_BYTE_MAX} piconero per byte, not ${perByte}`);
    item = { kind: "fee_rate", perByte };
  } else if (tag === ITEM_RESERVES) {
    const balance = r.u64big();
    const unlocked = r.u64big();
    const walletHeight = r.u64();
    if (unlocked > balance) throw new CodecError(`unlocked ${unlocked} is above the balance ${balance}`);
    if (walletHeight > HEIGHT_MAX)
      throw new CodecError(`wallet height ${walletHeight} is above ${HEIGHT_MAX}`);
    item = { kind: "reserves", balance, unlocked, walletHeight };
  } else throw new CodecError(`unknown monero item kind ${tag}`);
  r.end();
  return item;
}

export function encodeDepositInput(txid: Uint8Array): Uint8Array {
  return new Writer().u8(INPUT_DEPOSIT).fixed(txid, TXID_BYTES).finish();
}

export function decodeDepositInput(bytes: Uint8Array): { readonly txid: Uint8Array } {
  const r = new Reader(bytes);
  const tag = r.u8();
  if (tag !== INPUT_DEPOSIT) throw new CodecError(`unknown monero input kind ${tag}`);
  const txid = r.fixed(TXID_BYTES);
  r.end();
  return { txid };
}

/** Spends credited subaddress deposit (txid, index): one transaction may pay several subaddresses. */
export function encodeSubaddressDepositInput(txid: Uint8Array, index: number): Uint8Array {
  return new Writer().u8(INPUT_SUBADDRESS_DEPOSIT).fixed(txid, TXID_BYTES).u32(index).finish();
}

export type MoneroInput =
  | { readonly kind: "deposit"; readonly txid: Uint8Array }
  | { readonly kind: "subaddress_deposit"; readonly txid: Uint8Array; readonly index: number };

/** Either input kind; throws CodecError for anything else. */
export function decodeMoneroInput(bytes: Uint8Array): MoneroInput {
  if (bytes[0] !== INPUT_SUBADDRESS_DEPOSIT) return { kind: "deposit", ...decodeDepositInput(bytes) };
  const r = new Reader(bytes);
  r.u8();
  const txid = r.fixed(TXID_BYTES);
  const index = r.u32();
  r.end();
  if (index < 1 || index > SUBADDRESS_INDEX_MAX)
    throw new CodecError(`subaddress index ${index} is not 1..${SUBADDRESS_INDEX_MAX}`);
  return { kind: "subaddress_deposit", txid, index };
}

const REQUEST_DOMAIN = new TextEncoder().encode("conclave/monero/v1/subaddress-request\0");

/**
 * What a claim key signs to ask for its deposit subaddress: a domain, the federation's address (a
 * signature for one federation is worth nothing at another) and the key itself.
 */
export function subaddressRequestMessage(federationAddress: string, claimKey: Uint8Array): Uint8Array {
  const address = new TextEncoder().encode(federationAddress);
  const out = new Uint8Array(REQUEST_DOMAIN.length + address.length + 1 + CLAIM_KEY_BYTES);
  out.set(REQUEST_DOMAIN, 0);
  out.set(address, REQUEST_DOMAIN.length);
  out[REQUEST_DOMAIN.length + address.length] = 0;
  out.set(claimKey, REQUEST_DOMAIN.length + address.length + 1);
  return out;
}

/**
 * True when every 32-byte part of `txKey` is a canonical, non-zero scalar (little-endian, below the
 * group order), as Monero's own secret keys are: the wallet checks the user's tx key with it before
 * making a claim proof (a typo is caught there; the key itself is never sent anywhere).
 */
export function isCanonicalTxKey(txKey: Uint8Array): boolean {
  if (txKey.length === 0 || txKey.length % 32 !== 0 || txKey.length > 32 * TX_KEY_PARTS_MAX) return false;
  for (let at = 0; at < txKey.length; at += 32) {
    const part = txKey.subarray(at, at + 32);
    if (!isCanonicalScalar(part) || part.every((b) => b === 0)) return false;
  }
  return true;
}

/**
 * The message a claim's payment proof signs: it names the claim key, so the proof is worth nothing
 * for any other key. Plain ASCII, so that a user can check a claim with any Monero wallet's
 * `check_tx_proof <txid> <federation address> <proof text> conclave-claim-v1:<claim key hex>`.
 */
export function claimProofMessage(claimKey: Uint8Array): string {
  return `conclave-claim-v1:${toHex(claimKey)}`;
}

/**
 * The claim's payment proof, made where the tx key is (the user's wallet): Monero's OutProofV2 (as
 * the sender's `get_tx_proof` makes it) of txid to the federation's (standard) address, for the
 * claim key's message. The tx key never leaves: a guardian learns only this proof, which it cannot
 * turn into one for its own key (docs/monero.md, "Claims bound to the claim key").
 */
export function claimProof(args: {
  /** The federation's address (the module config's `address`, a standard address). */
  readonly federationAddress: string;
  readonly txid: Uint8Array;
  readonly txKey: Uint8Array;
  readonly claimKey: Uint8Array;
}): Uint8Array {
  return makeOutProof({
    txid: args.txid,
    txKey: args.txKey,
    viewKey: standardAddressViewKey(args.federationAddress),
    message: claimProofMessage(args.claimKey),
  });
}

/**
 * What a proof must be where it enters (the API) and again before any wallet-rpc sees it (the
 * watcher): every part's D a prime-order point, c and s canonical scalars (about 1.6 ms per part).
 */
export function isWellFormedClaimProof(proof: Uint8Array): boolean {
  return isWellFormedOutProof(proof);
}

/**
 * The cheap part of that check, which consensus applies to every ordered claim: 1 to 17 parts whose
 * c and s are canonical scalars (microseconds). The point checks stay out of consensus, so that a
 * Byzantine guardian's claims cannot cost every guardian 26 ms each (17 parts); a proof that passes
 * here and fails there is attested bad_proof by the honest guardians (the watcher never sends it).
 */
export function isClaimProofShape(proof: Uint8Array): boolean {
  const parts = proof.length / TX_PROOF_PART_BYTES;
  if (!Number.isInteger(parts) || parts < 1 || parts > TX_KEY_PARTS_MAX) return false;
  for (let at = 0; at < proof.length; at += TX_PROOF_PART_BYTES)
    if (
      !isCanonicalScalar(proof.subarray(at + 32, at + 64)) ||
      !isCanonicalScalar(proof.subarray(at + 64, at + TX_PROOF_PART_BYTES))
    )
      return false;
  return true;
}

/** True when `key` decodes to an Ed25519 point (a key that can ever sign): checked before it binds a deposit. */
export function isEd25519PublicKey(key: Uint8Array): boolean {
  if (key.length !== CLAIM_KEY_BYTES) return false;
  try {
    ed25519.Point.fromBytes(key);
    return true;
  } catch {
    return false;
  }
}

export { faultTolerance, quorumThreshold };

/**
 * The value the federation agrees on from one report per guardian: sort every guardian's latest
 * report (0 for none) descending and take position 2f. At least 2f + 1 reports are at or above it
 * (so at least f + 1 honest ones) and at least n − 2f ≥ f + 1 at or below it (at least one honest
 * one): f liars can move it neither above the highest honest report nor below the lowest. With
 * fewer than 2f + 1 reports it is 0 (none).
 */
export function agreedReport(reported: readonly number[], n: number): number {
  const sorted = Array.from({ length: n }, (_, i) => reported[i] ?? 0).sort((a, b) => b - a);
  return sorted[2 * faultTolerance(n)] ?? 0;
}

/**
 * The chain height the federation agrees on (agreedReport): at least f + 1 honest guardians' nodes
 * reached it; f liars cannot raise it (their huge reports sit above position 2f) nor hold it down
 * (their tiny ones sit below it while 2f + 1 honest ones move).
 */
export function agreedHeight(reported: readonly number[], n: number): number {
  return agreedReport(reported, n);
}

/**
 * The fee rate (piconero per byte) the federation agrees on (agreedReport of every guardian's latest
 * get_fee_estimate; 0 until 2f + 1 guardians reported one). Unlike heights, reports may fall.
 */
export function agreedFeeRate(reported: readonly number[], n: number): number {
  return agreedReport(reported, n);
}

/**
 * The reserves figure the federation agrees on, from the reports that count now ("fresh": see
 * reservesFresh; undefined for the others). The agreedReport rule generalised to fewer than n
 * reports: with m ≥ 2f + 1 of them, sorted descending, position p = min(2f, m − f − 1). At least
 * p + 1 ≥ f + 1 reports are at or above it (at least one honest one) and at least m − p ≥ f + 1 at or
 * below it (at least one honest one): f liars can push it neither above the highest honest report
 * nor below the lowest. With all n reports (n ≥ 3f + 1) it is agreedReport's position 2f. With fewer
 * than 2f + 1 fresh reports there is no figure (undefined: "unknown", nothing is paused).
 */
export function agreedReserves(reported: readonly (bigint | undefined)[], n: number): bigint | undefined {
  const f = faultTolerance(n);
  const fresh = reported.slice(0, n).filter((r): r is bigint => r !== undefined);
  if (fresh.length < 2 * f + 1) return undefined;
  fresh.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  return fresh[Math.min(2 * f, fresh.length - f - 1)];
}

/**
 * A reserves report counts for this many agreed blocks after the block count its wallet had scanned
 * (or `confirmations`, if larger): long enough for a guardian reading its wallet every few seconds
 * to stay counted between reads, short enough that a guardian that stopped reporting (a crashed one,
 * whose last report may predate a theft) drops out. 20 blocks: 40 minutes on mainnet, 20 s on a
 * regtest mining a block a second.
 */
export const RESERVES_REPORT_BLOCKS = 20;

/** The agreed blocks a reserves report counts for (RESERVES_REPORT_BLOCKS, or confirmations if larger). */
export function reservesReportBlocks(confirmations: number): number {
  return Math.max(RESERVES_REPORT_BLOCKS, confirmations);
}

/**
 * Whether a reserves report made after scanning `walletHeight` blocks counts at agreed height
 * `agreedHeight`: the wallet must hold every credited deposit (it scanned the block of the newest
 * one, `creditedTxHeightMax`: a wallet that has not cannot hold it, and would make the federation
 * look short), and the report must be recent (it scanned at least agreedHeight −
 * reservesReportBlocks(confirmations) + 1 blocks).
 */
export function reservesFresh(
  walletHeight: number,
  agreedHeight: number,
  confirmations: number,
  creditedTxHeightMax: number,
): boolean {
  return (
    walletHeight >= agreedHeight - reservesReportBlocks(confirmations) + 1 &&
    walletHeight > creditedTxHeightMax
  );
}

/** A guardian proposes a new fee rate when its node's differs from its last ordered one by more than this. */
export const FEE_RATE_CHANGE_PERCENT = 10;

/** True when `perByte` should replace `reported` (none yet, or a change above FEE_RATE_CHANGE_PERCENT). */
export function feeRateChanged(reported: number | undefined, perByte: number): boolean {
  if (reported === undefined) return true;
  return Math.abs(perByte - reported) * 100 > reported * FEE_RATE_CHANGE_PERCENT;
}

/** Confirmations of a transaction in block `txHeight` when the chain has `height` blocks. */
export function confirmationsAt(height: number, txHeight: number): number {
  return Math.max(0, height - txHeight);
}

const decimal = z.string().regex(/^\d{1,20}$/, "an amount in piconero, as a decimal string");

/** The module's federation config (the same at every guardian; hashed into the federation id). */
export const moneroConfigSchema = z.strictObject({
  /** Regtest uses mainnet addresses: "mainnet". */
  network: z.enum(["mainnet", "stagenet", "testnet"]),
  /** The federation's deposit address (its multisig wallet's primary address). */
  address: z.string().min(1).max(106),
  /**
   * Number of guardians (the federation config's count; the module needs it to know f). The
   * multisig ceremony step will write it with the address, so that both always come from one place.
   */
  guardians: z.number().int().min(1).max(64),
  /** Blocks deep (the tx's own block counts as one) before a deposit may be spent into e-cash. */
  confirmations: z.number().int().min(1).max(10_000).default(10),
  /** Smaller deposits are refused (below_minimum). */
  depositMinPiconero: decimal.default("1"),
  /** An open claim that t guardians have not settled by this many agreed blocks expires (and is released). */
  claimExpiryBlocks: z.number().int().min(1).max(1_000_000).default(720),
  /** Claims proposed by one guardian that may be open at once (spam bound; see docs/monero.md). */
  openClaimsPerGuardianMax: z.number().int().min(1).max(100_000).default(256),
  /** Smaller payouts are refused (payout_too_small). Default 0.001 XMR. */
  payoutMinPiconero: decimal.default("1000000000"),
  /**
   * Bytes of Monero transaction charged per payout at the agreed fee rate: each payout output pays
   * max(payoutFeeMinPiconero, ⌈agreed rate × payoutFeeBytes⌉), and the federation pays the batch's
   * Monero fee out of those fees (the signers refuse a transaction whose fee exceeds their sum).
   * Default 3000: a 1-payout multisig transaction (2 outputs with the change) measured 1507 bytes on
   * regtest and a CLSAG input is about 0.7 KB more, so 3000 covers a payout alone in a batch whose
   * transaction needs one or two more inputs; in a batch of 8 each payout's share measured 824
   * bytes (docs/monero.md, Payouts, fees).
   */
  payoutFeeBytes: z.number().int().min(100).max(100_000).default(3000),
  /**
   * The least fee a payout pays, whatever the agreed rate (a floor against a rate that t guardians'
   * nodes report absurdly low). Default 0.00006 XMR: 3000 bytes at mainnet's low-priority rate of
   * about 2·10^4 piconero per byte. Until a rate is agreed, payouts are refused (fee_rate_unknown).
   */
  payoutFeeMinPiconero: decimal.default("60000000"),
  /** Payouts in one Monero transaction (Monero allows 16 outputs, one is the change). */
  payoutBatchMax: z.number().int().min(1).max(15).default(8),
  /**
   * A signing turn that does not progress within this many agreed blocks passes to another
   * participant (or, at the creator's turn and in export, to a fresh attempt).
   */
  payoutRoundBlocks: z.number().int().min(1).max(10_000).default(20),
  /**
   * Signing starts when every guardian outside the excluded set exported, or when t did and this
   * many agreed blocks passed: every exporter can then stand in for a signer that fails.
   */
  payoutExportWaitBlocks: z.number().int().min(0).max(10_000).default(2),
  /** Blocks deep (its own block counts) before a payout's transaction is attested as confirmed. */
  payoutConfirmations: z.number().int().min(1).max(10_000).default(10),
  /**
   * Deposit subaddresses the federation hands out in all (each guardian's wallet holds that many
   * subaddresses: its size and scan table grow with it). See docs/monero.md, Subaddress deposits.
   */
  subaddressesMax: z.number().int().min(0).max(10_000_000).default(1_000_000),
  /** Subaddresses one guardian may have assigned per window (spam bound; a new window refills it). */
  subaddressesPerGuardianPerWindowMax: z.number().int().min(1).max(100_000).default(256),
  /** The window of that bound, in agreed blocks. */
  subaddressWindowBlocks: z.number().int().min(1).max(1_000_000).default(30),
});
export type MoneroConfigJson = z.input<typeof moneroConfigSchema>;

export interface MoneroConfig {
  readonly network: "mainnet" | "stagenet" | "testnet";
  readonly address: string;
  readonly guardians: number;
  readonly confirmations: number;
  readonly depositMinPiconero: bigint;
  readonly claimExpiryBlocks: number;
  readonly openClaimsPerGuardianMax: number;
  readonly payoutMinPiconero: bigint;
  readonly payoutFeeBytes: number;
  readonly payoutFeeMinPiconero: bigint;
  readonly payoutBatchMax: number;
  readonly payoutRoundBlocks: number;
  readonly payoutExportWaitBlocks: number;
  readonly payoutConfirmations: number;
  readonly subaddressesMax: number;
  readonly subaddressesPerGuardianPerWindowMax: number;
  readonly subaddressWindowBlocks: number;
}

/** This guardian's own settings (guardian.local.json), never shared with the others. */
export const moneroLocalSchema = z.strictObject({
  /** This guardian's own monerod (http://host:port). */
  daemonUrl: z.url({ protocol: /^https?$/ }),
  /** This guardian's own monero-wallet-rpc, with its wallet open (any wallet can run check_tx_key). */
  walletRpcUrl: z.url({ protocol: /^https?$/ }),
  /** How often the chain is polled. */
  pollMs: z.number().int().min(50).max(600_000).default(2_000),
  /**
   * How often the node's block count alone is read between polls (get_height): a new block starts
   * a poll at once, so a deposit at its depth waits about this long for this guardian's check, not
   * pollMs.
   */
  tipPollMs: z.number().int().min(20).max(600_000).default(250),
  /** How often this guardian reads its multisig wallet's balance for the reserves check. */
  reservesPollMs: z.number().int().min(100).max(3_600_000).default(30_000),
  /**
   * TEST ONLY: this guardian misbehaves as a payout's last signer (payout-byzantine.ts). A module
   * with it is test-only: a production federation refuses to start it.
   */
  testByzantinePayout: z.enum(["silent", "accuse", "garbage"]).optional(),
  /**
   * TEST ONLY: the wallet open in walletRpcUrl is not this guardian's share of the federation's
   * wallet (a test whose deposit address is another, plain wallet's: it checks claims only), so its
   * balance is not the federation's: the guardian reads and reports no reserves. A module with it
   * is test-only: a production federation refuses to start it.
   */
  testWalletNotFederation: z.literal(true).optional(),
});
export type MoneroLocal = z.output<typeof moneroLocalSchema>;
