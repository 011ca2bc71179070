// Mailbox items, sealed to the recipient's inbox key with HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, ChaCha20-Poly1305; the @hpke packages core-common's seal.ts already uses). Browser-safe.
//
// The inbox key is an Ed25519 key: its public half is the inbox id the guardians know and check
// signatures with, and maps to the X25519 key items are sealed to (as guardians' identity keys do in
// seal.ts). Sealed sender: who sent an item is only inside the ciphertext, with the sender's signature.
//
//   item       = enc(32) | HPKE ciphertext of padded(letter)        info = domain | recipient inbox
//   letter     = version u8 (1) | sender inbox(32) | message id(16) | sentAtMs u64 | kind u8 |
//                writtenTo u32 (bitmask of the guardians the sender wrote to) | body (u32 length) |
//                signature(64) by the sender's inbox key over domain | recipient | everything before it
//   padded(x)  = u16 length | x | zeros, to the smallest of ITEM_BUCKETS_BYTES minus 48 (enc + tag)
//
// Every item's length is one of ITEM_BUCKETS_BYTES, so a guardian learns the size class only. The
// message id lets a recipient recognise an item a guardian replays after it was acknowledged.
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Reader, Writer, bytesEqual, concatBytes, utf8 } from "@conclave/core-common";

export const ITEM_BUCKETS_BYTES = [512, 1024, 2048, 4096, 8192] as const;
const HPKE_OVERHEAD_BYTES = 32 + 16;
const LETTER_FIXED_BYTES = 1 + 32 + 16 + 8 + 1 + 4 + 4 + 64;
/** Largest letter body (the largest bucket less the HPKE overhead, the padding prefix and the header). */
export const LETTER_BODY_BYTES_MAX = 8192 - HPKE_OVERHEAD_BYTES - 2 - LETTER_FIXED_BYTES;

const INFO_DOMAIN = utf8.encode("conclave/relay/mailbox/v1");
const SIGN_DOMAIN = utf8.encode("conclave/relay/letter/v1");

/** What a letter carries, by kind: a text message, a recovery shard, a contact card. */
export const LETTER_KINDS = { text: 1, shard: 2, contact: 3 } as const;
export type LetterKind = keyof typeof LETTER_KINDS;

export interface Letter {
  readonly sender: Uint8Array;
  readonly messageId: Uint8Array;
  readonly sentAtMs: number;
  readonly kind: LetterKind;
  /** Guardians the sender wrote the item to (indices). */
  readonly writtenTo: readonly number[];
  readonly body: Uint8Array;
}

export class MailboxFormatError extends Error {
  override readonly name = "MailboxFormatError";
}

function suite(): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

function kindOf(code: number): LetterKind {
  for (const [k, v] of Object.entries(LETTER_KINDS)) if (v === code) return k as LetterKind;
  throw new MailboxFormatError(`unknown letter kind ${code}`);
}

function mask(guardians: readonly number[]): number {
  let m = 0;
  for (const g of guardians) {
    if (!Number.isInteger(g) || g < 0 || g > 31) throw new RangeError(`guardian ${g} is outside 0..31`);
    m |= 1 << g;
  }
  return m >>> 0;
}

function unmask(m: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < 32; g++) if ((m >>> g) & 1) out.push(g);
  return out;
}

function signedPart(letter: Letter): Uint8Array {
  return new Writer(LETTER_FIXED_BYTES + letter.body.length)
    .u8(1)
    .fixed(letter.sender, 32)
    .fixed(letter.messageId, 16)
    .u64(letter.sentAtMs)
    .u8(LETTER_KINDS[letter.kind])
    .u32(mask(letter.writtenTo))
    .bytes(letter.body)
    .finish();
}

/** Seals `letter`, signed by the sender's inbox seed, to the inbox `recipient` (Ed25519 public key). */
export async function sealItem(
  recipient: Uint8Array,
  senderSeed: Uint8Array,
  letter: Letter,
): Promise<Uint8Array> {
  if (letter.body.length > LETTER_BODY_BYTES_MAX)
    throw new RangeError(
      `a letter carries at most ${LETTER_BODY_BYTES_MAX} bytes, this one ${letter.body.length}`,
    );
  const part = signedPart(letter);
  const signature = ed25519.sign(concatBytes(SIGN_DOMAIN, recipient, part), senderSeed);
  const plain = concatBytes(part, signature);
  const bucket = ITEM_BUCKETS_BYTES.find((b) => b - HPKE_OVERHEAD_BYTES - 2 >= plain.length)!;
  const padded = new Uint8Array(bucket - HPKE_OVERHEAD_BYTES);
  new DataView(padded.buffer).setUint16(0, plain.length);
  padded.set(plain, 2);
  const s = suite();
  const recipientPublicKey = await s.kem.importKey(
    "raw",
    arrayBuffer(ed25519.utils.toMontgomery(recipient)),
    true,
  );
  const { ct, enc } = await s.seal({ recipientPublicKey, info: concatBytes(INFO_DOMAIN, recipient) }, padded);
  return concatBytes(new Uint8Array(enc), new Uint8Array(ct));
}

/**
 * Opens an item sealed to the inbox whose Ed25519 seed is `inboxSeed` and checks the sender's
 * signature. Throws MailboxFormatError for anything that does not open or verify (a forgery, another
 * inbox's item, garbage a guardian made up).
 */
export async function openItem(inboxSeed: Uint8Array, item: Uint8Array): Promise<Letter> {
  if (!ITEM_BUCKETS_BYTES.some((b) => b === item.length))
    throw new MailboxFormatError(
      `an item is one of ${ITEM_BUCKETS_BYTES.join(", ")} bytes, not ${item.length}`,
    );
  const recipient = ed25519.getPublicKey(inboxSeed);
  const s = suite();
  let padded: Uint8Array;
  try {
    const recipientKey = await s.kem.importKey(
      "raw",
      arrayBuffer(ed25519.utils.toMontgomerySecret(inboxSeed)),
      false,
    );
    padded = new Uint8Array(
      await s.open(
        { recipientKey, enc: item.subarray(0, 32), info: concatBytes(INFO_DOMAIN, recipient) },
        item.subarray(32),
      ),
    );
  } catch {
    throw new MailboxFormatError("the item does not open with this inbox's key");
  }
  try {
    const length = new DataView(padded.buffer, padded.byteOffset).getUint16(0);
    if (length + 2 > padded.length || padded.subarray(2 + length).some((b) => b !== 0))
      throw new MailboxFormatError("bad padding");
    const plain = padded.subarray(2, 2 + length);
    const r = new Reader(plain);
    if (r.u8() !== 1) throw new MailboxFormatError("unknown letter version");
    const sender = r.fixed(32);
    const messageId = r.fixed(16);
    const sentAtMs = r.u64();
    const kind = kindOf(r.u8());
    const writtenTo = unmask(r.u32());
    const body = r.bytes(LETTER_BODY_BYTES_MAX);
    const signature = r.fixed(64);
    r.end();
    const part = plain.subarray(0, plain.length - 64);
    if (!ed25519.verify(signature, concatBytes(SIGN_DOMAIN, recipient, part), sender))
      throw new MailboxFormatError("the sender's signature does not verify");
    const letter = { sender, messageId, sentAtMs, kind, writtenTo, body };
    if (!bytesEqual(signedPart(letter), part)) throw new MailboxFormatError("non-canonical letter");
    return letter;
  } catch (e) {
    if (e instanceof MailboxFormatError) throw e;
    throw new MailboxFormatError(`malformed letter: ${e instanceof Error ? e.message : String(e)}`);
  }
}
