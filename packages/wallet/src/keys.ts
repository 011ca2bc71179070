// Keys: everything secret in a wallet comes from its BIP39 mnemonic, so the mnemonic alone restores it.
//
// Derivation (all HKDF-SHA256 / HMAC-SHA256 from @noble/hashes; u64be = 8 bytes big-endian):
//
//   seed            = BIP39 seed of the mnemonic, empty passphrase                      (64 bytes)
//   root            = HKDF(ikm = seed, salt = federation id (32 bytes),
//                          info = "conclave/wallet/v1", 32 bytes)
//                     One root per federation: one mnemonic gives wallets in several federations
//                     that no guardian can link (the salt differs, HKDF outputs are independent).
//   spendSeed(i)    = HKDF-Expand(root, "conclave/wallet/v1/note/spend" | u64be(i), 32)
//                     Ed25519 seed of note i; its public key is the note nonce.
//   blindingKey(i)  = randomScalar(rng_i) of core-common (48 bytes read big-endian, reduced mod the
//                     BLS12-381 group order r, a zero result draws the next 48 bytes), where rng_i's
//                     k-th draw is HKDF-Expand(root, "conclave/wallet/v1/note/blind" | u64be(i) | u32be(k), 48).
//                     The TBS backends' own `blind(nonce, rng)` consumes it, so the blinded message
//                     of note i is the same in the browser (noble) and in Node (blst).
//   backupKey       = HKDF-Expand(root, "conclave/wallet/v1/backup/encryption", 32)  XChaCha20-Poly1305 key
//   backupIdSeed    = HKDF-Expand(root, "conclave/wallet/v1/backup/id", 32)          Ed25519 seed; its public
//                     key names the backup at the guardians and signs it.
//   claimSeed(j)    = HKDF-Expand(root, "conclave/wallet/v1/deposit/claim" | u64be(j), 32)
//                     Ed25519 seed of deposit claim j; its public key is the claim key a Monero deposit
//                     is bound to (it signs the transaction that turns the deposit into notes).
//
// Note indexes i come from one counter per wallet, persisted before a note with that index is
// blinded for a transaction, so a blinded message is never reused after a crash. Claim indexes j
// come from a second counter, persisted with the claim before it is sent to any guardian.
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { generateMnemonic, mnemonicToSeed, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { utf8 } from "@conclave/core-common";
import { ROOT_BYTES } from "@conclave/core-client";
import { WalletError } from "./errors.js";

export const WALLET_INFO = "conclave/wallet/v1";
export { ROOT_BYTES } from "@conclave/core-client";

/** A fresh mnemonic: 12 words (128 bits) by default, or 24 (256 bits). */
export function newMnemonic(words: 12 | 24 = 12): string {
  return generateMnemonic(wordlist, words === 12 ? 128 : 256);
}

/** Lowercase, single spaces: how a mnemonic typed or pasted by a person is read. */
export function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.trim().toLowerCase().split(/\s+/).join(" ");
}

/** Throws invalid_mnemonic saying what is wrong (word count, unknown word, checksum). */
export function checkMnemonic(mnemonic: string): string {
  const normalized = normalizeMnemonic(mnemonic);
  const words = normalized === "" ? [] : normalized.split(" ");
  if (words.length !== 12 && words.length !== 24)
    throw new WalletError(
      "invalid_mnemonic",
      `a mnemonic has 12 or 24 words, this one has ${words.length}; check that it was copied whole`,
      { words: words.length },
    );
  const unknown = words.findIndex((w) => !wordlist.includes(w));
  if (unknown >= 0)
    throw new WalletError(
      "invalid_mnemonic",
      `word ${unknown + 1} ("${words[unknown]}") is not in the BIP39 English word list; check its spelling`,
      { word: unknown + 1 },
    );
  if (!validateMnemonic(normalized, wordlist))
    throw new WalletError(
      "invalid_mnemonic",
      "the mnemonic's checksum does not match: a word is wrong or two words are swapped",
    );
  return normalized;
}

/** The federation root of a wallet (see the derivation above). */
export async function federationRoot(mnemonic: string, federationId: Uint8Array): Promise<Uint8Array> {
  const normalized = checkMnemonic(mnemonic);
  if (federationId.length !== 32) throw new TypeError("a federation id is 32 bytes");
  const seed = await mnemonicToSeed(normalized, "");
  return hkdf(sha256, seed, federationId, utf8.encode(WALLET_INFO), ROOT_BYTES);
}
