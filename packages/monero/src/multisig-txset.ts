// Reads the key images a Monero 0.18 multisig transaction set really spends, from the set itself,
// so that a signer need not trust the creator's word for them (wallet-rpc's describe_transfer shows
// no key images). Follows monero v0.18 src/wallet/wallet2.cpp:
//
//   multisig_txset (wallet-rpc hex) = "Monero multisig unsigned tx set\001" || ciphertext
//   ciphertext = iv (8) || chacha20(key, iv, plaintext) || signature (64)       (wallet2::encrypt,
//                authenticated = true for encrypt_with_view_secret_key)
//   key        = cn_slow_hash variant 0 of the 32-byte view secret key        (chacha.h
//                generate_chacha_key, kdf_rounds 1 in wallet-rpc)
//   signature  = Monero Schnorr signature (crypto::generate_signature) of cn_fast_hash(iv ||
//                encrypted bytes) by the view key: wallet2::decrypt checks it with the public view
//                key, so a wrong key is told apart from garbage here the same way
//   plaintext  = binary_archive of multisig_tx_set (no version field of its own): varint count, then
//                each pending_tx: VERSION_FIELD varint, the transaction (prefix: varint version 2,
//                unlock_time, vin (tag 0x02 txin_to_key: varint amount, varint count + varint
//                key_offsets, 32-byte k_image), vout, extra; RingCT base: type byte, varint fee,
//                8-byte amounts, 32-byte commitments; prunable: range proofs, one CLSAG per input,
//                pseudo-outputs), dust, fee, flags, change, selected_transfers, key_images text,
//                tx keys, destinations, then tx_construction_data whose first field is `sources`,
//                each with its multisig_kLRki (k, L, R, ki)
//
// Which key images: wallet2's sign_multisig does not sign the tx.vin it is handed. It rebuilds the
// inputs from the construction data's sources, sorted by key image (multisig_tx_builder_ringct.cpp
// sort_sources, set_tx_inputs), signs that and writes it back. So the reader parses through to the
// sources, returns their key images in that order (what an honest signer's wallet signs) and refuses
// a set whose tx.vin differs from them (an edited set: multisig-txset-regtest.test.ts makes one).
//
// Only the first pending_tx is read, up to its construction data's sources: a set of more than one
// transaction is refused (MoneroMultisigError). wallet-rpc's `transfer` never makes one (it answers
// "transaction would be too large, try transfer_split" instead) and Conclave's creator always calls
// `transfer`; reaching a second pending_tx would mean parsing the rest of the first one (the rest of
// its construction data, its multisig nonces), surface for no use. Every count is checked against the bytes left,
// every varint as wallet2 reads it (no overflow, no trailing zero group), so a crafted set gives a
// MoneroMultisigError, never a crash, a hang or an allocation beyond its own size. wallet2 would
// also accept the pre-0.18 boost portable-binary format, but only with the wallet setting
// load-deprecated-formats on (off by default): such a set is refused here.
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { cnSlowHashV0 } from "./cryptonight.js";
import { MoneroMultisigError } from "./errors.js";
import { EXPORT_INFO_CHARS_MAX, TXSET_CHARS_MAX } from "./multisig.js";
import { ED25519_ORDER, hashToScalar, isCanonicalScalar, scalarFromLe, scalarToLe } from "./tx-proof.js";

/** What wallet2 puts before the ciphertext of every multisig transaction set. */
export const MULTISIG_TXSET_MAGIC = "Monero multisig unsigned tx set\u0001";
const MAGIC_BYTES = new TextEncoder().encode(MULTISIG_TXSET_MAGIC);
const IV_BYTES = 8;
const SIGNATURE_BYTES = 64;
/** cryptonote_config.h CURRENT_TRANSACTION_VERSION in 0.18. */
const TX_VERSION_MAX = 2;
const TXIN_TO_KEY_TAG = 0x02;
/** The smallest txin_to_key: tag, amount, offsets count (0), k_image. */
const TXIN_TO_KEY_MIN_BYTES = 1 + 1 + 1 + 32;

function fail(message: string, details: Record<string, unknown> = {}): never {
  throw new MoneroMultisigError(`multisig transaction set: ${message}`, details);
}

function parseHex(hex: string, what: string, maxChars: number): Uint8Array {
  if (
    typeof hex !== "string" ||
    hex.length % 2 !== 0 ||
    hex.length > maxChars ||
    !/^[0-9a-fA-F]*$/.test(hex)
  ) {
    fail(`${what} is not hex of at most ${maxChars / 2} bytes`);
  }
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

const CHACHA_KEYS_MAX = 16;
const chachaKeys = new Map<string, Uint8Array>();

/**
 * The chacha20 key wallet2 encrypts the wallet's exports with: cn_slow_hash (CryptoNight variant 0,
 * about a second here) of the view secret key, once (kdf_rounds 1). Cached per view key.
 */
export function multisigTxSetChachaKey(viewKey: Uint8Array): Uint8Array {
  const id = bytesToHex(viewKey);
  let key = chachaKeys.get(id);
  if (key === undefined) {
    key = cnSlowHashV0(viewKey);
    if (chachaKeys.size >= CHACHA_KEYS_MAX) chachaKeys.delete(chachaKeys.keys().next().value!);
    chachaKeys.set(id, key);
  }
  return key;
}

/**
 * crypto::check_signature(cn_fast_hash(signed), public view key, signature), as wallet2::decrypt
 * calls it: c, r canonical, c non-zero, comm = c·P + r·G not the identity, Hs(hash || P || comm) = c.
 */
function viewKeySignatureValid(signed: Uint8Array, viewKey: Uint8Array, signature: Uint8Array): boolean {
  const cBytes = signature.subarray(0, 32);
  const rBytes = signature.subarray(32, 64);
  if (!isCanonicalScalar(cBytes) || !isCanonicalScalar(rBytes)) return false;
  const c = scalarFromLe(cBytes);
  if (c === 0n) return false;
  const pub = ed25519.Point.BASE.multiply(scalarFromLe(viewKey));
  const comm = pub.multiplyUnsafe(c).add(ed25519.Point.BASE.multiplyUnsafe(scalarFromLe(rBytes)));
  if (comm.equals(ed25519.Point.ZERO)) return false;
  const buf = new Uint8Array(96);
  buf.set(keccak_256(signed), 0);
  buf.set(pub.toBytes(), 32);
  buf.set(comm.toBytes(), 64);
  return hashToScalar(buf) === c;
}

/** A bounded reader of wallet2's binary_archive. */
class ArchiveReader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly onError: (message: string) => never = fail,
  ) {}

  remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(what: string): number {
    if (this.pos >= this.bytes.length) this.onError(`truncated at ${what}`);
    return this.bytes[this.pos++]!;
  }

  blob(n: number, what: string): Uint8Array {
    if (this.remaining() < n) this.onError(`truncated at ${what}`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * tools::read_varint for a `bits`-bit unsigned integer: refuses overflow and a zero group after the
   * first byte, as wallet2 does; also refuses a varint cut off by the end (wallet2 would take it and
   * fail later). The value is exact up to 2^53 and only compared beyond that.
   */
  varint(what: string, bits = 64): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte(what);
      if (shift + 7 >= bits && b >= 2 ** (bits - shift))
        this.onError(`${what}: varint overflows ${bits} bits`);
      if (b === 0 && shift !== 0) this.onError(`${what}: varint has a trailing zero group`);
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }

  /** A container's element count, checked against the bytes left for elements of `minBytes` each. */
  count(what: string, minBytes: number): number {
    const n = this.varint(what);
    if (n * minBytes > this.remaining()) {
      this.onError(`${what}: ${n} elements of at least ${minBytes} bytes in ${this.remaining()} bytes left`);
    }
    return n;
  }
}

function parseViewKey(viewKeyHex: string): Uint8Array {
  const viewKey = parseHex(viewKeyHex, "the view key", 64);
  if (viewKey.length !== 32 || !isCanonicalScalar(viewKey) || scalarFromLe(viewKey) === 0n) {
    fail("the view key is not a canonical non-zero scalar of 32 bytes");
  }
  return viewKey;
}

/**
 * The plaintext archive of a multisig transaction set (wallet2::parse_multisig_tx_from_str's
 * decryption): checks the magic and the view key's signature, then chacha20. Throws
 * MoneroMultisigError for anything else.
 */
export function openMultisigTxSet(txsetHex: string, viewKeyHex: string): Uint8Array {
  return openEnvelope(txsetHex, viewKeyHex, MAGIC_BYTES, "the set", TXSET_CHARS_MAX, fail);
}

/**
 * wallet2's envelope of what it encrypts with the view key (encrypt_with_view_secret_key, authenticated):
 * `magic`, then iv, chacha20 of the plaintext, and the view key's signature of both. Returns the
 * plaintext; `fault` throws (MoneroMultisigError) for anything else.
 */
function openEnvelope(
  hex: string,
  viewKeyHex: string,
  magic: Uint8Array,
  what: string,
  maxChars: number,
  fault: (message: string) => never,
): Uint8Array {
  const viewKey = parseViewKey(viewKeyHex);
  const blob = parseHex(hex, what, maxChars);
  if (blob.length < magic.length || magic.some((b, i) => blob[i] !== b)) {
    fault(`it does not start with wallet2's magic for ${what}`);
  }
  const ciphertext = blob.subarray(magic.length);
  if (ciphertext.length < IV_BYTES + SIGNATURE_BYTES) {
    fault(`its ciphertext has ${ciphertext.length} bytes, fewer than iv and signature`);
  }
  const signedPart = ciphertext.subarray(0, ciphertext.length - SIGNATURE_BYTES);
  const signature = ciphertext.subarray(ciphertext.length - SIGNATURE_BYTES);
  if (!viewKeySignatureValid(signedPart, viewKey, signature)) {
    fault("it is not encrypted with this wallet's view key (its signature does not verify)");
  }
  const iv = ciphertext.subarray(0, IV_BYTES);
  return chacha20orig(
    multisigTxSetChachaKey(viewKey),
    iv,
    ciphertext.subarray(IV_BYTES, ciphertext.length - SIGNATURE_BYTES),
  );
}

/** What wallet2 puts before the ciphertext of a multisig export (export_multisig_info). */
export const MULTISIG_EXPORT_MAGIC = "Monero multisig export\u0001";
const EXPORT_MAGIC_BYTES = new TextEncoder().encode(MULTISIG_EXPORT_MAGIC);
/** A multisig_info: signer (32), LR count, partial key images count (the counts at least a byte each). */
const MULTISIG_INFO_MIN_BYTES = 32 + 1 + 1;

function failExport(message: string): never {
  throw new MoneroMultisigError(`multisig export: ${message}`);
}

/**
 * Reads a multisig export (wallet-rpc `export_multisig_info`) of this wallet as wallet2's
 * import_multisig reads it before it changes anything, and answers its signer (hex) and how many
 * outputs it covers. `exportHex` as wallet-rpc returns it: "Monero multisig export\001" then the
 * envelope (iv, chacha20 under the CryptoNight-derived view key, the view key's signature) of a
 * header (the wallet's public spend and view keys, the signer's public key) and a binary archive of
 * one multisig_info per output (its signer, its L/R nonce pairs, its partial key images). Checked:
 * the envelope, the header's keys against `account` (the multisig address's), the archive read to its
 * last byte, every element's signer equal to the header's. Throws MoneroMultisigError otherwise:
 * garbage (what a broken wallet-rpc or a lazy Byzantine guardian sends), another wallet's, a cut or
 * padded archive. A participant whose own import fails on one export fails on all of them (the call
 * takes them all or none); reading each first lets it import the others. Cost: linear in the bytes
 * (no point is decoded). Not checked, so a Byzantine guardian (it holds the view key) can still seal
 * an export that reads well and breaks the import (review of 4819c19): points off the curve or
 * outside the main subgroup, a signer that is no member of the wallet or another member's key, fewer
 * outputs than the others (wallet2 then imports as many as the shortest), wrong partial key images
 * (0.18 exports carry no proof of them). Closing that needs each guardian's signer key pinned at the
 * multisig ceremony (docs/monero.md, "Missing (payouts)").
 */
export function readMultisigExport(
  exportHex: string,
  viewKeyHex: string,
  account: { readonly publicSpendKey: Uint8Array; readonly publicViewKey: Uint8Array },
): { readonly signer: string; readonly outputs: number } {
  const plain = openEnvelope(
    exportHex,
    viewKeyHex,
    EXPORT_MAGIC_BYTES,
    "a multisig export",
    EXPORT_INFO_CHARS_MAX,
    failExport,
  );
  const ar = new ArchiveReader(plain, failExport);
  const spend = ar.blob(32, "the public spend key");
  const view = ar.blob(32, "the public view key");
  const signer = ar.blob(32, "the signer");
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(spend, account.publicSpendKey) || !same(view, account.publicViewKey)) {
    failExport("it is for a different account");
  }
  const outputs = ar.count("the outputs", MULTISIG_INFO_MIN_BYTES);
  for (let n = 0; n < outputs; n++) {
    if (!same(ar.blob(32, `output ${n}'s signer`), signer)) failExport(`output ${n} names another signer`);
    // The points are skipped, not decoded: checking each on the curve and in the main subgroup costs
    // about a millisecond, and a crafted export of the largest size consensus takes holds ~120,000
    // of them (minutes of this guardian's event loop at every read; review of 4819c19). wallet2's
    // import checks them itself (rct::isInMainSubgroup), in C++.
    ar.blob(64 * ar.count(`output ${n}'s nonces`, 64), `output ${n}'s nonces`);
    ar.blob(32 * ar.count(`output ${n}'s partial key images`, 32), `output ${n}'s partial key images`);
  }
  if (ar.remaining() !== 0) failExport(`${ar.remaining()} bytes after the last output`);
  return { signer: bytesToHex(signer), outputs };
}

/**
 * wallet2::save_multisig_tx's envelope around a plaintext archive (the inverse of
 * openMultisigTxSet): magic, a random iv, chacha20, and crypto::generate_signature by the view key
 * (k·G, c = Hs(cn_fast_hash(iv || ciphertext) || P || k·G), r = k − c·a). Anyone holding the view
 * key, so every participant, can make a set wallet-rpc accepts: tests use it to play a Byzantine
 * creator that edits a set.
 */
export function sealMultisigTxSet(plaintext: Uint8Array, viewKeyHex: string): string {
  return sealEnvelope(plaintext, viewKeyHex, MAGIC_BYTES);
}

/**
 * wallet2::export_multisig's envelope around a plaintext (header and archive; the inverse of the
 * opening in readMultisigExport). As sealMultisigTxSet, any holder of the view key can make one:
 * tests use it to play a Byzantine exporter.
 */
export function sealMultisigExport(plaintext: Uint8Array, viewKeyHex: string): string {
  return sealEnvelope(plaintext, viewKeyHex, EXPORT_MAGIC_BYTES);
}

function sealEnvelope(plaintext: Uint8Array, viewKeyHex: string, magic: Uint8Array): string {
  const viewKey = parseViewKey(viewKeyHex);
  const a = scalarFromLe(viewKey);
  const iv = randomBytes(IV_BYTES);
  const body = chacha20orig(multisigTxSetChachaKey(viewKey), iv, plaintext);
  const signed = new Uint8Array(IV_BYTES + body.length);
  signed.set(iv, 0);
  signed.set(body, IV_BYTES);
  const pub = ed25519.Point.BASE.multiply(a).toBytes();
  let c = 0n;
  let r = 0n;
  while (c === 0n || r === 0n) {
    const k = scalarFromLe(randomBytes(64)) % ED25519_ORDER || 1n;
    const buf = new Uint8Array(96);
    buf.set(keccak_256(signed), 0);
    buf.set(pub, 32);
    buf.set(ed25519.Point.BASE.multiply(k).toBytes(), 64);
    c = hashToScalar(buf);
    r = (((k - c * a) % ED25519_ORDER) + ED25519_ORDER) % ED25519_ORDER;
  }
  const out = new Uint8Array(magic.length + signed.length + SIGNATURE_BYTES);
  out.set(magic, 0);
  out.set(signed, magic.length);
  out.set(scalarToLe(c), magic.length + signed.length);
  out.set(scalarToLe(r), magic.length + signed.length + 32);
  return bytesToHex(out);
}

/**
 * The key images (hex) each transaction of a Monero 0.18 multisig transaction set spends, as
 * wallet2's sign_multisig signs them: its construction data's sources, sorted by key image
 * (descending), which is also the order of `tx.vin` and of wallet-rpc's `spent_key_images`. A set
 * whose `tx.vin` differs from them is refused (edited: what it shows is not what gets signed).
 * `txsetHex` as wallet-rpc returns it (`transfer`'s multisig_txset, `sign_multisig`'s tx_data_hex),
 * `viewKeyHex` the multisig wallet's private view key (wallet-rpc `query_key` view_key,
 * WalletRpc.queryViewKey; every participant has it). Returns one array per transaction; sets of
 * more than one transaction are refused. Throws MoneroMultisigError for anything else: not hex, too
 * long, wrong magic, too short, not encrypted with this view key (the ciphertext's signature
 * fails), an unknown format, a truncated or crafted archive. The first call for a view key takes a
 * fraction of a second (CryptoNight); later ones take milliseconds.
 */
export function readMultisigTxSetKeyImages(txsetHex: string, viewKeyHex: string): string[][] {
  const plaintext = openMultisigTxSet(txsetHex, viewKeyHex);

  return readMultisigTxSetArchiveKeyImages(plaintext);
}

/** RCTTypeBulletproofPlus: the only RingCT type monerod accepts since the v15 hard fork (2022). */
const RCT_TYPE_BULLETPROOF_PLUS = 6;

/** cryptonote::tx_destination_entry: original (string), amount (varint), address (64), 2 flags. */
function skipDestination(ar: ArchiveReader, what: string): void {
  ar.blob(ar.count(`${what}'s original`, 1), `${what}'s original`);
  ar.varint(`${what}'s amount`);
  ar.blob(64 + 1 + 1, `${what}'s address and flags`);
}

/** A vector of 32-byte keys (rct::keyV, std::vector<crypto::public_key>): varint count, keys. */
function skipKeys(ar: ArchiveReader, what: string): number {
  const n = ar.count(what, 32);
  ar.blob(32 * n, what);
  return n;
}

/** A little-endian uint64 FIELD (fixed 8 bytes), exact below 2^53 and only compared beyond. */
function uint64Le(ar: ArchiveReader, what: string): number {
  const b = ar.blob(8, what);
  let v = 0;
  for (let i = 7; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
}

/** The smallest tx_source_entry: outputs count, real_output, keys and indices, flags, mask, kLRki. */
const SOURCE_MIN_BYTES = 1 + 8 + 32 + 1 + 8 + 8 + 1 + 32 + 128;

/**
 * The parsing step of readMultisigTxSetKeyImages on the decrypted archive (exported for tests).
 * Reads the first pending_tx through its transaction (prefix, RingCT base and prunable parts) and
 * its fields up to the construction data's sources, whose key images wallet2's sign_multisig
 * signs (it rebuilds tx.vin from them, sorted by key image, descending); refuses a set whose tx.vin
 * is not that list.
 */
export function readMultisigTxSetArchiveKeyImages(plaintext: Uint8Array): string[][] {
  const ar = new ArchiveReader(plaintext);
  const ptxCount = ar.count("the pending transactions' count", 1);
  if (ptxCount === 0) fail("it holds no transaction");
  if (ptxCount > 1) {
    fail(`it holds ${ptxCount} transactions; only single-transaction sets (wallet-rpc transfer) are read`, {
      transactions: ptxCount,
    });
  }
  ar.varint("the pending transaction's version", 32);

  // cryptonote::transaction, version 2 (RingCT): the prefix ...
  const txVersion = ar.varint("the transaction's version");
  if (txVersion !== TX_VERSION_MAX) fail(`transaction version ${txVersion}, not ${TX_VERSION_MAX} (RingCT)`);
  ar.varint("the transaction's unlock_time");
  const inputs = ar.count("the transaction's inputs", TXIN_TO_KEY_MIN_BYTES);
  if (inputs === 0) fail("the transaction has no input");
  const vinKeyImages: string[] = [];
  let mixin = 0;
  for (let i = 0; i < inputs; i++) {
    const tag = ar.byte(`input ${i}'s type`);
    if (tag !== TXIN_TO_KEY_TAG) fail(`input ${i} is of type 0x${tag.toString(16)}, not txin_to_key`);
    ar.varint(`input ${i}'s amount`);
    const offsets = ar.count(`input ${i}'s key offsets`, 1);
    if (i === 0) {
      if (offsets === 0) fail("input 0 has no ring member");
      mixin = offsets - 1;
    }
    for (let k = 0; k < offsets; k++) ar.varint(`input ${i}'s key offset ${k}`);
    vinKeyImages.push(bytesToHex(ar.blob(32, `input ${i}'s key image`)));
  }
  const outputs = ar.count("the transaction's outputs", 1 + 1 + 32);
  for (let o = 0; o < outputs; o++) {
    ar.varint(`output ${o}'s amount`);
    const tag = ar.byte(`output ${o}'s type`);
    if (tag === 0x02) ar.blob(32, `output ${o}'s key`);
    else if (tag === 0x03) ar.blob(33, `output ${o}'s key and view tag`);
    else fail(`output ${o} is of type 0x${tag.toString(16)}, not txout_to_key or txout_to_tagged_key`);
  }
  ar.blob(ar.count("the transaction's extra", 1), "the transaction's extra");
  // ... its RingCT signatures: the base (type, fee, ecdhInfo, outPk) ...
  const rctType = ar.byte("the RingCT type");
  if (rctType !== RCT_TYPE_BULLETPROOF_PLUS) fail(`RingCT type ${rctType}, not Bulletproof+ (6)`);
  ar.varint("the RingCT fee");
  ar.blob(8 * outputs, "the encrypted amounts");
  ar.blob(32 * outputs, "the output commitments");
  // ... and the prunable part: range proofs, one CLSAG per input, pseudo-outputs.
  const proofs = ar.varint("the range proofs' count", 32);
  if (proofs > outputs) fail(`${proofs} range proofs for ${outputs} outputs`);
  for (let p = 0; p < proofs; p++) {
    // Bulletproof+: A, A1, B, r1, s1, d1, then the vectors L and R.
    ar.blob(32 * 6, `range proof ${p}`);
    const l = skipKeys(ar, `range proof ${p}'s L`);
    const r = skipKeys(ar, `range proof ${p}'s R`);
    if (l === 0 || l !== r) fail(`range proof ${p} has L and R of ${l} and ${r} keys`);
  }
  if ((mixin + 3) * 32 * inputs > ar.remaining()) fail("truncated at the CLSAG signatures");
  ar.blob((mixin + 3) * 32 * inputs, "the CLSAG signatures");
  ar.blob(32 * inputs, "the pseudo-outputs");

  // The pending_tx's own fields up to the construction data.
  ar.blob(8 + 8 + 1, "dust, fee and dust_added_to_fee");
  skipDestination(ar, "the change destination");
  const selected = ar.count("selected_transfers", 1);
  for (let i = 0; i < selected; i++) ar.varint(`selected transfer ${i}`);
  ar.blob(ar.count("the key images text", 1), "the key images text");
  ar.blob(32, "the tx key");
  skipKeys(ar, "the additional tx keys");
  const dests = ar.count("the destinations", 1 + 1 + 64 + 2);
  for (let d = 0; d < dests; d++) skipDestination(ar, `destination ${d}`);

  // tx_construction_data.sources: the inputs wallet2 signs.
  const sources = ar.count("the construction data's sources", SOURCE_MIN_BYTES);
  if (sources !== inputs) fail(`${sources} sources for ${inputs} inputs`);
  const signedKeyImages: Uint8Array[] = [];
  for (let i = 0; i < sources; i++) {
    const members = ar.count(`source ${i}'s ring`, 1 + 1 + 1 + 64);
    for (let m = 0; m < members; m++) {
      if (ar.varint(`source ${i}'s ring member ${m}`) !== 2)
        fail(`source ${i}'s ring member ${m} is not a pair`);
      ar.varint(`source ${i}'s ring member ${m}'s index`);
      ar.blob(64, `source ${i}'s ring member ${m}'s keys`);
    }
    const realOutput = uint64Le(ar, `source ${i}'s real output`);
    if (realOutput >= members)
      fail(`source ${i}'s real output ${realOutput} is outside its ring of ${members}`);
    ar.blob(32, `source ${i}'s tx public key`);
    skipKeys(ar, `source ${i}'s additional tx public keys`);
    ar.blob(8 + 8 + 1 + 32, `source ${i}'s output index, amount, rct flag and mask`);
    const kLRki = ar.blob(128, `source ${i}'s multisig k, L, R, ki`);
    signedKeyImages.push(kLRki.subarray(96, 128));
  }
  // multisig_tx_builder_ringct.cpp sort_sources: by key image, memcmp descending.
  signedKeyImages.sort((x, y) => Buffer.compare(y, x));
  const keyImages = signedKeyImages.map((k) => bytesToHex(k));
  if (keyImages.some((k, i) => k !== vinKeyImages[i])) {
    fail(
      "its transaction's inputs (tx.vin) are not its construction data's sources, which wallet2 signs: an edited set",
      {
        vin: vinKeyImages,
        sources: keyImages,
      },
    );
  }
  return [keyImages];
}
