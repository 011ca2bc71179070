// The key images a Monero transaction spends, read from its serialized prefix (monerod's
// get_transactions `as_hex`): what tells a transaction the federation's wallet sent from one paying
// it (invariant 7: a transaction is the federation's own iff it spends the federation's outputs).
//
// Prefix (cryptonote_basic.h, transaction_prefix): version varint | unlock_time varint |
// vin count varint | per input: tag u8, then for txin_to_key (0x02) amount varint | key_offsets
// count varint | offsets varint… | k_image (32); a coinbase input (txin_gen, 0xff) is height varint.
// Outputs and the rest follow; only the inputs are read. Written by hand: no maintained JS library
// parses Monero transactions, and this is the one part needed.

/** Inputs per transaction read at most (monerod's own limit is far lower in practice). */
export const TX_INPUTS_MAX = 4096;
/** Ring members per input read at most (16 in 0.18; the bound keeps a hostile hex cheap). */
export const RING_MEMBERS_MAX = 1024;

const TXIN_GEN = 0xff;
const TXIN_TO_KEY = 0x02;

export class TxParseError extends Error {
  override readonly name = "TxParseError";
}

/** The key images (hex) of the inputs of the transaction `hex`; a coinbase has none. */
export function txKeyImages(hex: string): string[] {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) throw new TxParseError("a transaction is hex bytes");
  const bytes = Buffer.from(hex, "hex");
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = bytes[at++];
      if (b === undefined) throw new TxParseError("the transaction ends inside a varint");
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
    throw new TxParseError("a varint longer than 10 bytes");
  };
  varint(); // version
  varint(); // unlock_time
  const inputs = varint();
  if (inputs > BigInt(TX_INPUTS_MAX)) throw new TxParseError(`${inputs} inputs`);
  const images: string[] = [];
  for (let i = 0n; i < inputs; i++) {
    const tag = bytes[at++];
    if (tag === TXIN_GEN) {
      varint();
      continue;
    }
    if (tag !== TXIN_TO_KEY) throw new TxParseError(`input kind ${String(tag)} is not one Monero uses`);
    varint(); // amount (0 for RingCT)
    const members = varint();
    if (members > BigInt(RING_MEMBERS_MAX)) throw new TxParseError(`${members} ring members`);
    for (let m = 0n; m < members; m++) varint();
    if (at + 32 > bytes.length) throw new TxParseError("the transaction ends inside a key image");
    images.push(bytes.subarray(at, at + 32).toString("hex"));
    at += 32;
  }
  return images;
}
