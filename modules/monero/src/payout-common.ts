// Payouts of the Monero module: wire formats and outcome schema (browser-safe: no node: imports).
//
// Transaction output (a payout: the federation pays `amount` to a Monero address):
//   0x02 Payout | fee u64 | addressLength u8 | address (ASCII)    amount: the output's amount
//   `fee` is what the client pays for the payout's share of the Monero fee: at least the required
//   fee at the agreed rate when the output is processed (payoutFee), at most FEE_OVERPAY_FACTOR_MAX
//   times it. The client reads the required fee from GET payouts/terms (PayoutTermsSchema, api.ts).
//   (0x01, the first format, had no fee: the configured reserve was charged. It is refused now.)
//
// Consensus items of the signing rounds (see payouts.ts for the state machine):
//   0x04 Chunk  | batch u64 | attempt u32 | slot u8 | total u16 | index u16 | digest (32) | data
//                 slot 0xff: this guardian's export_multisig_info; slot s < t: the transaction set
//                 after s + 1 signatures (slot 0: the creator's). A blob is the concatenation of its
//                 `total` chunks, whose SHA-256 is `digest`.
//   0x05 Txid   | batch u64 | attempt u32 | txid (32)      submit_multisig of the final set gave it
//   0x06 Fault  | batch u64 | attempt u32 | slot u8        slot s < t: my check refused the set of
//                 slot s (proposed by the next signer); slot t: my node refused the final set
//   0x07 Seen   | batch u64 | attempt u32 | txHeight u64 | parts u8 | txKey (32 × parts)
//                 the batch's txid is `confirmations` deep on my node, in block txHeight; its tx key
//                 (the submitter's wallet stores it: measured, see docs/monero.md)
//   0x09 Gone   | batch u64 | attempt u32
//                 the batch's agreed transaction (submitted or confirmed) is in neither my node's
//                 chain nor its pool, and can never be mined: an input of it is no output any more
//                 (not "spent by another transaction": that may be another completion of the
//                 same set, which paid the batch), for payoutConfirmations of my
//                 node's blocks in a row (t equal ones re-open the batch: docs/monero.md "Payouts a
//                 deep reorg took away")
import { CodecError, Reader, Writer } from "@conclave/core-common";
import { hex32, txKeyHex } from "@conclave/monero/json"; // not the index: it holds Node-only files, and this is in the browser wallet
import { z } from "zod";
import { TX_KEY_PARTS_MAX } from "./common.js";
import type { MoneroConfig } from "./common.js";

export const OUTPUT_PAYOUT = 0x02;
/** The retired payout output without a fee (refused with a message that names the new format). */
export const OUTPUT_PAYOUT_V1 = 0x01;
export const ITEM_CHUNK = 0x04;
export const ITEM_TXID = 0x05;
export const ITEM_FAULT = 0x06;
export const ITEM_SEEN = 0x07;
export const ITEM_GONE = 0x09;
/** The byte after a Gone item's attempt that makes it a vote on the attempt's bound. */
const GONE_SCOPE_BOUND = 1;

/** The export slot of a Chunk item; slots 0..t-1 are the transaction set after 1..t signatures. */
export const SLOT_EXPORT = 0xff;
/**
 * Bytes of blob data in one Chunk item. The core decodes a module item's payload up to txBytesMax
 * (48 KiB, core-common transaction.ts; the engine's itemBytesMax is 56 KiB): 40 KiB leaves room for
 * the 50-byte header and any tightening of that limit (a 48 KiB chunk was dropped as malformed). Measured on regtest: an export is
 * 706 bytes (1412 hex characters) and a 3-output transaction set 5 KB; both grow with the wallet's
 * outputs and the transaction's inputs.
 */
export const CHUNK_BYTES_MAX = 40 * 1024;
/** Chunks per blob (3.75 MiB): a larger export or transaction set is refused. */
export const CHUNKS_PER_BLOB_MAX = 96;
export const DIGEST_BYTES = 32;
/** Standard and subaddress addresses are 95 characters; integrated 106. */
export const PAYOUT_ADDRESS_CHARS_MAX = 106;

/**
 * A payout is refused (fee_too_high) when its fee is more than this many times the required fee: the
 * surplus would be the federation's, so a client bug (a fee in XMR read as piconero...) would cost
 * its user dearly. A client that quoted just before a fall of the rate stays well inside it.
 */
export const FEE_OVERPAY_FACTOR_MAX = 10n;

/**
 * The fee one payout must pay at agreed rate `perByte` (piconero per byte):
 * max(payoutFeeMinPiconero, ⌈perByte × payoutFeeBytes⌉); undefined while no rate is agreed (0), when
 * payouts are refused (fee_rate_unknown) rather than charged a guess.
 */
export function payoutFee(
  config: Pick<MoneroConfig, "payoutFeeBytes" | "payoutFeeMinPiconero">,
  perByte: number,
): bigint | undefined {
  if (perByte <= 0) return undefined;
  const atRate = BigInt(perByte) * BigInt(config.payoutFeeBytes); // integers: already the ceiling
  return atRate > config.payoutFeeMinPiconero ? atRate : config.payoutFeeMinPiconero;
}

export function encodePayoutOutput(address: string, fee: bigint): Uint8Array {
  if (
    address.length === 0 ||
    address.length > PAYOUT_ADDRESS_CHARS_MAX ||
    !/^[1-9A-HJ-NP-Za-km-z]+$/.test(address)
  )
    throw new CodecError("a payout address is 1 to 106 base58 characters");
  if (fee < 1n || fee >= 2n ** 64n) throw new CodecError("a payout fee is 1 to 2^64 − 1 piconero");
  const bytes = new TextEncoder().encode(address);
  return new Writer().u8(OUTPUT_PAYOUT).u64big(fee).u8(bytes.length).fixed(bytes, bytes.length).finish();
}

/**
 * Throws CodecError unless `bytes` is exactly one payout output payload (the address is not yet
 * checked, nor the fee against the agreed rate).
 */
export function decodePayoutOutput(bytes: Uint8Array): { readonly address: string; readonly fee: bigint } {
  const r = new Reader(bytes);
  const tag = r.u8();
  if (tag === OUTPUT_PAYOUT_V1)
    throw new CodecError(
      "payout outputs 0x01 (without a fee) are retired: 0x02 | fee u64 | length | address",
    );
  if (tag !== OUTPUT_PAYOUT) throw new CodecError(`unknown monero output kind ${tag}`);
  const fee = r.u64big();
  if (fee === 0n) throw new CodecError("a payout pays a positive fee");
  const length = r.u8();
  if (length === 0 || length > PAYOUT_ADDRESS_CHARS_MAX)
    throw new CodecError(`a payout address has 1 to ${PAYOUT_ADDRESS_CHARS_MAX} characters, not ${length}`);
  const raw = r.fixed(length);
  r.end();
  if (raw.some((b) => b < 0x21 || b > 0x7e)) throw new CodecError("a payout address is ASCII");
  return { address: new TextDecoder().decode(raw), fee };
}

/**
 * The creator's blob (slot 0) of a batch started by this version: the key images of the inputs its
 * `transfer` spent (wallet-rpc's spent_key_images), then the transaction set:
 *   "conclave-inputs1" (16 bytes) | count u16 | key image (32) × count | txset
 *   "conclave-inputs2" (16 bytes) | count u16 | key image (32) × count | fee u64 | txset
 * Consensus keeps them so that every later attempt of the batch spends only from them (every two
 * attempts then share an input: at most one is ever mined; docs/monero.md "Conflicting attempts").
 * The second form also declares the transaction's Monero fee: consensus refuses it above what the
 * batch may pay (its payouts' fees + the top-up from the fee fund, payouts.ts `feeAllowed`), every
 * signer refuses a set whose fee is above it, and the fund is charged it when the batch is
 * confirmed (docs/monero.md "Fee top-up"). The first form is held to the batch's payouts' fees.
 * A blob without either prefix is a set from before (a batch in flight at the upgrade: old rules).
 */
const CREATOR_SET_MAGIC = new TextEncoder().encode("conclave-inputs1");
const CREATOR_SET_FEE_MAGIC = new TextEncoder().encode("conclave-inputs2");
export const KEY_IMAGE_BYTES = 32;

export function encodeCreatorSet(
  keyImages: readonly Uint8Array[],
  txset: Uint8Array,
  fee?: bigint,
): Uint8Array {
  if (keyImages.length === 0 || keyImages.length > 0xffff)
    throw new CodecError(`a transaction spends 1 to 65535 inputs, not ${keyImages.length}`);
  if (fee !== undefined && (fee < 0n || fee >= 2n ** 64n))
    throw new CodecError("a transaction's fee is 0 to 2^64 − 1 piconero");
  const w = new Writer()
    .raw(fee === undefined ? CREATOR_SET_MAGIC : CREATOR_SET_FEE_MAGIC)
    .u16(keyImages.length);
  for (const k of keyImages) w.fixed(k, KEY_IMAGE_BYTES);
  if (fee !== undefined) w.u64big(fee);
  return w.raw(txset).finish();
}

/**
 * The creator's key images, its declared fee (the second form only) and set, or undefined for a
 * blob without them (or a malformed one).
 */
export function decodeCreatorSet(
  blob: Uint8Array,
): { readonly keyImages: Uint8Array[]; readonly txset: Uint8Array; readonly fee?: bigint } | undefined {
  const withFee = CREATOR_SET_FEE_MAGIC.every((b, i) => blob[i] === b);
  const m = withFee ? CREATOR_SET_FEE_MAGIC : CREATOR_SET_MAGIC;
  if (blob.length < m.length + 2 || m.some((b, i) => blob[i] !== b)) return undefined;
  const r = new Reader(blob.subarray(m.length));
  try {
    const count = r.u16();
    const keyImages = Array.from({ length: count }, () => r.fixed(KEY_IMAGE_BYTES));
    const fee = withFee ? r.u64big() : undefined;
    const txset = blob.slice(m.length + 2 + count * KEY_IMAGE_BYTES + (withFee ? 8 : 0));
    return count > 0 && txset.length > 0
      ? { keyImages, txset, ...(fee === undefined ? {} : { fee }) }
      : undefined;
  } catch (e) {
    if (e instanceof CodecError) return undefined;
    throw e;
  }
}

/** The transaction set inside a slot's blob (slot 0 may carry the creator's key images first). */
export function txsetOfBlob(slot: number, blob: Uint8Array): Uint8Array {
  return slot === 0 ? (decodeCreatorSet(blob)?.txset ?? blob) : blob;
}

export type PayoutItem =
  | {
      readonly kind: "chunk";
      readonly batch: number;
      readonly attempt: number;
      readonly slot: number;
      readonly total: number;
      readonly index: number;
      readonly digest: Uint8Array;
      readonly data: Uint8Array;
    }
  | { readonly kind: "txid"; readonly batch: number; readonly attempt: number; readonly txid: Uint8Array }
  | { readonly kind: "fault"; readonly batch: number; readonly attempt: number; readonly slot: number }
  | {
      readonly kind: "seen";
      readonly batch: number;
      readonly attempt: number;
      readonly txHeight: number;
      readonly txKey: Uint8Array;
    }
  | {
      readonly kind: "gone";
      readonly batch: number;
      readonly attempt: number;
      /**
       * What is gone (payouts.ts `onGone`): absent, the attempt's transaction (its agreed txid, or,
       * before one is agreed, every completion of its creator's named inputs); "bound", an input of
       * the attempt's bound (the inputs every earlier attempt that could still be finished spends),
       * voted while the attempt has no creator's set. Encoded as one more byte (1), so that a vote
       * on one can never be counted as a vote on the other.
       */
      readonly scope?: "bound";
    };

export const PAYOUT_ITEM_TAGS: ReadonlySet<number> = new Set([
  ITEM_CHUNK,
  ITEM_TXID,
  ITEM_FAULT,
  ITEM_SEEN,
  ITEM_GONE,
]);

export function encodePayoutItem(item: PayoutItem): Uint8Array {
  const w = new Writer();
  switch (item.kind) {
    case "chunk":
      w.u8(ITEM_CHUNK).u64(item.batch).u32(item.attempt).u8(item.slot).u16(item.total).u16(item.index);
      return w.fixed(item.digest, DIGEST_BYTES).raw(item.data).finish();
    case "txid":
      return w.u8(ITEM_TXID).u64(item.batch).u32(item.attempt).fixed(item.txid, 32).finish();
    case "fault":
      return w.u8(ITEM_FAULT).u64(item.batch).u32(item.attempt).u8(item.slot).finish();
    case "seen": {
      const parts = item.txKey.length / 32;
      if (!Number.isInteger(parts) || parts < 0 || parts > TX_KEY_PARTS_MAX)
        throw new CodecError("a tx key is 0 to 17 parts of 32 bytes");
      w.u8(ITEM_SEEN).u64(item.batch).u32(item.attempt).u64(item.txHeight).u8(parts);
      return w.fixed(item.txKey, item.txKey.length).finish();
    }
    case "gone":
      w.u8(ITEM_GONE).u64(item.batch).u32(item.attempt);
      return (item.scope === "bound" ? w.u8(GONE_SCOPE_BOUND) : w).finish();
  }
}

/** Throws CodecError for anything that is not exactly one well-formed payout item. */
export function decodePayoutItem(bytes: Uint8Array): PayoutItem {
  const r = new Reader(bytes);
  const tag = r.u8();
  const batch = r.u64();
  const attempt = r.u32();
  let item: PayoutItem;
  if (tag === ITEM_CHUNK) {
    const slot = r.u8();
    const total = r.u16();
    const index = r.u16();
    const digest = r.fixed(DIGEST_BYTES);
    const data = bytes.slice(1 + 8 + 4 + 1 + 2 + 2 + DIGEST_BYTES);
    if (total < 1 || total > CHUNKS_PER_BLOB_MAX || index >= total)
      throw new CodecError(`chunk ${index} of ${total} (1..${CHUNKS_PER_BLOB_MAX} chunks)`);
    if (data.length < 1 || data.length > CHUNK_BYTES_MAX)
      throw new CodecError(`a chunk carries 1 to ${CHUNK_BYTES_MAX} bytes, not ${data.length}`);
    return { kind: "chunk", batch, attempt, slot, total, index, digest, data };
  } else if (tag === ITEM_TXID) {
    item = { kind: "txid", batch, attempt, txid: r.fixed(32) };
  } else if (tag === ITEM_FAULT) {
    item = { kind: "fault", batch, attempt, slot: r.u8() };
  } else if (tag === ITEM_SEEN) {
    const txHeight = r.u64();
    const parts = r.u8();
    // 0 parts: no wallet of this guardian's submitted the transaction that paid (docs/monero.md).
    if (parts > TX_KEY_PARTS_MAX) throw new CodecError(`a tx key has 0 to 17 parts, not ${parts}`);
    item = { kind: "seen", batch, attempt, txHeight, txKey: r.fixed(parts * 32) };
  } else if (tag === ITEM_GONE) {
    if (r.remaining === 0) item = { kind: "gone", batch, attempt };
    else {
      const scope = r.u8();
      // One encoding per item: the transaction's scope has no byte.
      if (scope !== GONE_SCOPE_BOUND) throw new CodecError(`unknown gone scope ${scope}`);
      item = { kind: "gone", batch, attempt, scope: "bound" };
    }
  } else throw new CodecError(`unknown monero payout item kind ${tag}`);
  r.end();
  return item;
}

/** Splits a blob into Chunk items' data (at least one chunk; an empty blob is refused). */
export function chunksOf(blob: Uint8Array): Uint8Array[] {
  if (blob.length === 0 || blob.length > CHUNK_BYTES_MAX * CHUNKS_PER_BLOB_MAX)
    throw new CodecError(
      `a blob has 1 to ${CHUNK_BYTES_MAX * CHUNKS_PER_BLOB_MAX} bytes, not ${blob.length}`,
    );
  const out: Uint8Array[] = [];
  for (let at = 0; at < blob.length; at += CHUNK_BYTES_MAX) out.push(blob.subarray(at, at + CHUNK_BYTES_MAX));
  return out;
}

export const PAYOUT_STATES = ["queued", "signing", "submitted", "confirmed"] as const;
export type PayoutState = (typeof PAYOUT_STATES)[number];

const amount = z.string().regex(/^\d{1,20}$/, "an amount in piconero, as a decimal string");

/**
 * A payout output's outcome (the core's transaction status outcomes, and GET payouts/:txid/:index).
 * A function of the consensus state: t guardians give the same one.
 */
export const PayoutOutcomeSchema = z.strictObject({
  kind: z.literal("payout"),
  state: z.enum(PAYOUT_STATES),
  address: z.string(),
  amount,
  /**
   * The fee this output paid (the client's, at least the required fee when it was accepted): the
   * federation pays the batch's Monero fee out of its payouts' fees.
   */
  fee: amount,
  /** The batch (Monero transaction) this payout is in; 0 while queued. */
  batch: z.number().int().min(0),
  /** Signing: the attempt and how many signatures of how many are in. */
  attempt: z.number().int().min(0).optional(),
  round: z.string().optional(),
  /** Submitted and confirmed: the Monero transaction id. */
  moneroTxid: hex32.optional(),
  /** Confirmed: the tx key (check_tx_key(moneroTxid, txKey, address) proves the payment). */
  txKey: txKeyHex.optional(),
  txHeight: z.number().int().min(0).optional(),
  confirmations: z.number().int().min(0).optional(),
});
export type PayoutOutcome = z.infer<typeof PayoutOutcomeSchema>;
