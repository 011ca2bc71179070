// Monero's base58 (src/common/base58.cpp), written here because no well-kept npm library carries it:
// unlike Bitcoin's it encodes 8-byte blocks into exactly 11 characters each (a last partial block of
// k bytes into ENCODED_BLOCK_SIZES[k] characters), so an address has a fixed length and no leading-zero
// rule. Same alphabet as Bitcoin.

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const FULL_BLOCK_BYTES = 8;
const FULL_ENCODED_BLOCK_CHARS = 11;
/** Characters used to encode a block of 0..8 bytes. */
const ENCODED_BLOCK_SIZES = [0, 2, 3, 5, 6, 7, 9, 10, 11] as const;

const INDEX = new Map<string, bigint>([...ALPHABET].map((c, i) => [c, BigInt(i)]));

function encodeBlock(block: Uint8Array): string {
  let num = 0n;
  for (const b of block) num = (num << 8n) | BigInt(b);
  const size = ENCODED_BLOCK_SIZES[block.length] ?? 0;
  const chars: string[] = new Array<string>(size).fill(ALPHABET[0] ?? "1");
  for (let i = size - 1; i >= 0 && num > 0n; i--) {
    chars[i] = ALPHABET[Number(num % 58n)] ?? "";
    num /= 58n;
  }
  return chars.join("");
}

export function base58Encode(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i += FULL_BLOCK_BYTES) {
    out += encodeBlock(data.subarray(i, Math.min(i + FULL_BLOCK_BYTES, data.length)));
  }
  return out;
}

/** Decodes Monero base58; throws Error with the reason (bad character, bad length, block overflow). */
export function base58Decode(text: string): Uint8Array {
  const fullBlocks = Math.floor(text.length / FULL_ENCODED_BLOCK_CHARS);
  const lastChars = text.length % FULL_ENCODED_BLOCK_CHARS;
  const lastBytes = ENCODED_BLOCK_SIZES.indexOf(lastChars as (typeof ENCODED_BLOCK_SIZES)[number]);
  if (lastBytes < 0) throw new Error(`a base58 text of ${text.length} characters cannot be decoded`);
  const out = new Uint8Array(fullBlocks * FULL_BLOCK_BYTES + lastBytes);
  let o = 0;
  for (let i = 0; i < text.length; i += FULL_ENCODED_BLOCK_CHARS) {
    const chunk = text.slice(i, i + FULL_ENCODED_BLOCK_CHARS);
    const bytes = chunk.length === FULL_ENCODED_BLOCK_CHARS ? FULL_BLOCK_BYTES : lastBytes;
    let num = 0n;
    for (const c of chunk) {
      const v = INDEX.get(c);
      if (v === undefined) throw new Error(`invalid base58 character ${JSON.stringify(c)}`);
      num = num * 58n + v;
    }
    if (num >> BigInt(8 * bytes) !== 0n) throw new Error("base58 block overflow");
    for (let j = bytes - 1; j >= 0; j--) {
      out[o + j] = Number(num & 0xffn);
      num >>= 8n;
    }
    o += bytes;
  }
  return out;
}
