// Social recovery (browser-safe). The seed is never split: a random 32-byte data key is, with the
// audited `shamir-secret-sharing` (Privy; Cure53 and Zellic audits; GF(2^8), no integrity check of
// its own), and the seed is stored at every guardian encrypted under a key derived from that data key
// (the recovery store's format, recovery.ts, under a record id derived from it too). So:
//   - shards are small and all alike (33 bytes + metadata), whatever the seed;
//   - re-keying (2-of-3 growing to 3-of-5) makes a new data key and new shards, and replaces the old
//     record at the guardians by a signed tombstone: old shards then recover nothing from them;
//   - mixed or forged shards are detected (SLIP-39's idea): every shard of a set carries the set id,
//     the threshold, the count and a digest = HMAC(data key, set id)[0..8], which only the right data
//     key reproduces; with more than t shards the odd ones out are found and named.
//
//   shard text = "cshard1" + base64url(body | SHA-256("conclave/relay/shard" | body)[0..4])
//   body       = version u8 (1) | set id (16) | threshold u8 | total u8 | holder u8 | digest (8) |
//                share (33: the library's 32 bytes and its x coordinate)
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { combine, split } from "shamir-secret-sharing";
import {
  Reader,
  Writer,
  base64UrlDecode,
  base64UrlEncode,
  bytesEqual,
  concatBytes,
  fromHex,
  toHex,
  utf8,
} from "@conclave/core-common";
import type { BackupRecord } from "@conclave/core-common";
import { ClientError } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { downloadRecords, newestCopy, openRecovery, sealRecovery, signRecord } from "./recovery.js";

export const SHARD_PREFIX = "cshard1";
const SHARE_BYTES = 33;
const BODY_BYTES = 1 + 16 + 1 + 1 + 1 + 8 + SHARE_BYTES;
/** Most shards a set may have (one byte each for the count and the index; the library allows 255). */
export const SHARDS_MAX = 16;
/** Longest secret the guardians keep for a set (a 24-word mnemonic is under 250 bytes). */
export const SOCIAL_SECRET_BYTES_MAX = 1024;

export const HOLDERS = { device: 0, friend: 1, offline: 2, federation: 3, other: 4 } as const;
export type HolderKind = keyof typeof HOLDERS;

export interface Shard {
  readonly setId: Uint8Array;
  readonly threshold: number;
  readonly total: number;
  readonly holder: HolderKind;
  readonly digest: Uint8Array;
  readonly share: Uint8Array;
}

const socialError = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new ClientError(code, message, details);

const derive = (dataKey: Uint8Array, label: string) =>
  hkdf(sha256, dataKey, undefined, utf8.encode(`conclave/relay/social/${label}`), 32);

export function setDigest(dataKey: Uint8Array, setId: Uint8Array): Uint8Array {
  return hmac(sha256, dataKey, concatBytes(utf8.encode("conclave/relay/social-digest/v1"), setId)).subarray(
    0,
    8,
  );
}

/** The keys the data key gives: the guardians' record's signing seed (its id) and encryption key. */
export function setKeys(dataKey: Uint8Array): { signSeed: Uint8Array; id: Uint8Array; key: Uint8Array } {
  const signSeed = derive(dataKey, "sign/v1");
  return { signSeed, id: ed25519.getPublicKey(signSeed), key: derive(dataKey, "key/v1") };
}

function checksum(body: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8.encode("conclave/relay/shard"), body)).subarray(0, 4);
}

export function encodeShard(s: Shard): string {
  const body = new Writer(BODY_BYTES)
    .u8(1)
    .fixed(s.setId, 16)
    .u8(s.threshold)
    .u8(s.total)
    .u8(HOLDERS[s.holder])
    .fixed(s.digest, 8)
    .fixed(s.share, SHARE_BYTES)
    .finish();
  return SHARD_PREFIX + base64UrlEncode(concatBytes(body, checksum(body)));
}

export function decodeShard(text: string): Shard {
  const t = text.replace(/\s+/g, "");
  if (!t.startsWith(SHARD_PREFIX))
    throw socialError("bad_shard", `a recovery shard starts with ${SHARD_PREFIX}`);
  const d = base64UrlDecode(t.slice(SHARD_PREFIX.length));
  if (!d.ok || d.bytes.length !== BODY_BYTES + 4)
    throw socialError("bad_shard", "the shard is damaged: check every character (or scan its QR code again)");
  const body = d.bytes.subarray(0, BODY_BYTES);
  if (!bytesEqual(checksum(body), d.bytes.subarray(BODY_BYTES)))
    throw socialError("bad_shard", "the shard's checksum does not match: a character is wrong");
  const r = new Reader(body);
  if (r.u8() !== 1) throw socialError("bad_shard", "unknown shard version");
  const setId = r.fixed(16);
  const threshold = r.u8();
  const total = r.u8();
  const code = r.u8();
  const holder = (Object.keys(HOLDERS) as HolderKind[]).find((k) => HOLDERS[k] === code) ?? "other";
  const digest = r.fixed(8);
  const share = r.fixed(SHARE_BYTES);
  r.end();
  if (threshold < 2 || threshold > total || total > SHARDS_MAX)
    throw socialError("bad_shard", `the shard says ${threshold} of ${total}: not a valid set`);
  return { setId, threshold, total, holder, digest, share };
}

export interface SplitSet {
  readonly setId: Uint8Array;
  readonly dataKey: Uint8Array;
  readonly shards: readonly Shard[];
  /** The record to store at every guardian: the secret encrypted under the data key's key. */
  readonly record: BackupRecord;
  readonly signSeed: Uint8Array;
}

/** Splits a fresh data key `threshold`-of-`holders.length` and seals `secret` under it. */
export async function splitSecret(
  federationId: Uint8Array,
  secret: Uint8Array,
  threshold: number,
  holders: readonly HolderKind[],
  random: (bytes: number) => Uint8Array,
  version: number,
): Promise<SplitSet> {
  const total = holders.length;
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > total || total > SHARDS_MAX)
    throw socialError(
      "bad_threshold",
      `a shard set is t of n with 2 <= t <= n <= ${SHARDS_MAX}; asked ${threshold} of ${total}`,
    );
  if (secret.length === 0 || secret.length > SOCIAL_SECRET_BYTES_MAX)
    throw socialError("bad_secret", `the secret is 1 to ${SOCIAL_SECRET_BYTES_MAX} bytes`);
  const dataKey = random(32);
  const setId = random(16);
  const digest = setDigest(dataKey, setId);
  const shares = await split(dataKey, total, threshold);
  const keys = setKeys(dataKey);
  const ciphertext = await sealRecovery([["secret", secret]], keys.key, keys.id, version, random(24));
  return {
    setId,
    dataKey,
    signSeed: keys.signSeed,
    shards: shares.map((share, i) => ({ setId, threshold, total, holder: holders[i]!, digest, share })),
    record: signRecord(federationId, keys.signSeed, version, ciphertext),
  };
}

/** The record that replaces a set's record when the set is re-keyed: it opens, and holds no secret. */
export async function tombstone(
  federationId: Uint8Array,
  signSeed: Uint8Array,
  key: Uint8Array,
  version: number,
  random: (bytes: number) => Uint8Array,
): Promise<BackupRecord> {
  const id = ed25519.getPublicKey(signSeed);
  const ciphertext = await sealRecovery([["revoked", utf8.encode("re-keyed")]], key, id, version, random(24));
  return signRecord(federationId, signSeed, version, ciphertext);
}

function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = start; i < n; i++) {
    acc.push(i);
    yield* subsets(n, k, i + 1, acc);
    acc.pop();
  }
}

export interface CombinedShards {
  readonly dataKey: Uint8Array;
  readonly setId: Uint8Array;
  /** Shards (indices into the input) left out because they do not fit the others: forged or damaged. */
  readonly forged: readonly number[];
}

/**
 * Checks that the shards are of one set (else `mixed_shards`, naming who differs), combines t of them
 * and checks the digest; with more than t, finds t that verify and names the rest as forged.
 */
export async function combineShards(shards: readonly Shard[]): Promise<CombinedShards> {
  const first = shards[0];
  if (!first) throw socialError("not_enough_shards", "no shards given");
  const odd = shards
    .map((s, i) => ({ s, i }))
    .filter(
      ({ s }) =>
        !bytesEqual(s.setId, first.setId) || s.threshold !== first.threshold || s.total !== first.total,
    );
  if (odd.length > 0)
    throw socialError(
      "mixed_shards",
      `shards ${odd.map((o) => o.i + 1).join(", ")} belong to another shard set than shard 1`,
      {
        sets: [...new Set(shards.map((s) => toHex(s.setId)))],
      },
    );
  const unique = shards.filter(
    (s, i) => shards.findIndex((o) => o.share[SHARE_BYTES - 1] === s.share[SHARE_BYTES - 1]) === i,
  );
  if (unique.length < first.threshold)
    throw socialError(
      "not_enough_shards",
      `${unique.length} distinct shards of a ${first.threshold}-of-${first.total} set: ${first.threshold - unique.length} more needed`,
    );
  for (const pick of subsets(unique.length, first.threshold)) {
    const chosen = pick.map((i) => unique[i]!);
    if (!chosen.every((s) => bytesEqual(s.digest, chosen[0]!.digest))) continue;
    const dataKey = await combine(chosen.map((s) => s.share));
    if (!bytesEqual(setDigest(dataKey, first.setId), chosen[0]!.digest)) continue;
    const forged = shards.flatMap((s, i) => (chosen.includes(s) || unique.indexOf(s) < 0 ? [] : [i]));
    // A shard outside the chosen t is good only if it lies on the same polynomial: t shards fix it.
    const bad: number[] = [];
    for (const i of forged) {
      const others = chosen.slice(0, first.threshold - 1);
      const again = await combine([...others, shards[i]!].map((s) => s.share));
      if (!bytesEqual(again, dataKey)) bad.push(i);
    }
    return { dataKey, setId: first.setId, forged: bad };
  }
  throw socialError(
    "forged_shards",
    `no ${first.threshold} of these ${shards.length} shards reproduce the set's digest: at least one is forged or from another set${
      unique.length === first.threshold ? " (give one more shard to find which)" : ""
    }`,
  );
}

export interface RecoveredSecret {
  readonly secret: Uint8Array;
  readonly version: number;
  readonly forged: readonly number[];
  /** Guardians that served the newest record, an older one, or a forgery. */
  readonly from: readonly number[];
  readonly older: readonly number[];
  readonly forgedAt: readonly number[];
}

/**
 * Recovers the secret from shard texts: combines them (combineShards), then fetches the set's record
 * from every guardian and opens the newest that verifies. A re-keyed set's record is a tombstone:
 * `set_revoked`. Needs no wallet: a new device calls it with a client joined from the invite.
 */
export async function recoverSecret(
  client: FederationClient,
  texts: readonly string[],
): Promise<RecoveredSecret> {
  const combined = await combineShards(texts.map(decodeShard));
  const keys = setKeys(combined.dataKey);
  const copies = await downloadRecords(client, toHex(keys.id));
  const best = await newestCopy(fromHex(client.federationId), copies, (c, v) =>
    openRecovery(c, keys.key, keys.id, v),
  );
  if (!best)
    throw socialError(
      "no_recovery_record",
      "no guardian holds this shard set's record (or none that verifies)",
    );
  const entry = (k: string) => best.value.find(([key]) => key === k)?.[1];
  if (entry("revoked"))
    throw socialError(
      "set_revoked",
      "this shard set was replaced by a newer one (re-keyed): its shards recover nothing; use the new set's shards",
    );
  const secret = entry("secret");
  if (!secret) throw socialError("no_recovery_record", "the set's record holds no secret");
  return {
    secret,
    version: best.version,
    forged: combined.forged,
    from: best.from,
    older: best.older,
    forgedAt: best.forged,
  };
}
