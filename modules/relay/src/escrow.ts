// The federation as a holder of a recovery shard, with no consensus (docs/relay.md, "The federation's
// shard"). Wire formats and the bytes both halves sign or seal (browser-safe).
//
// The owner splits the federation's shard again, t-of-n over the n guardians (t = n - f), and gives
// guardian g piece g with the owner's key (the wallet's inbox key) and a delay. To get the pieces, a
// recovering device names the shard set (the set id, which every shard of the set carries) and a
// temporary key; each guardian starts its own clock and, once the delay passed and no cancel signed
// by the owner's key for that request arrived, hands its piece out sealed (HPKE) to the temporary key.
// f guardians releasing early hand out f < t pieces: nothing (Shamir). A cancel names the request id,
// the guardian and the set: it cannot be replayed against another request or at another relay.
//
//   piece (plaintext, 16 + 66 bytes) = set id | shamir share of (shard body | checksum) (65 + 1 bytes)
import { Writer, utf8 } from "@conclave/core-common";
import { z } from "zod";

/** The pieces of one federation shard: 16-byte set id, then the library's share (65 + 1 bytes). */
export const ESCROW_PIECE_BYTES = 16 + 66;
/** Shortest delay a guardian accepts by default (1 day); a federation's config may lower it (tests). */
export const ESCROW_DELAY_MS_MIN_DEFAULT = 24 * 60 * 60 * 1000;
/** Longest delay an owner may ask for (30 days). */
export const ESCROW_DELAY_MS_MAX = 30 * 24 * 60 * 60 * 1000;
/** Open (uncancelled, unreleased) requests one deposit keeps at once; older ones beyond are refused. */
export const ESCROW_REQUESTS_MAX = 8;

const hex = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${what}: ${bytes} bytes as lowercase hex`);

/** The watch kind of a shard set's release requests at a guardian (key: the set id): the owner is woken by a request. */
export const ESCROW_WATCH_KIND = "recovery-escrow";

export const EscrowParamsSchema = z.strictObject({ setId: hex(16, "a shard set id") });

export const DepositRequestSchema = z.strictObject({
  owner: hex(32, "the owner's Ed25519 public key"),
  /** The piece, hex; empty: the deposit is withdrawn (the set was re-keyed). */
  piece: z.union([hex(ESCROW_PIECE_BYTES, "a piece"), z.literal("")]),
  delayMs: z.number().int().min(0).max(ESCROW_DELAY_MS_MAX),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  signature: hex(64, "an Ed25519 signature"),
});
export type DepositRequest = z.infer<typeof DepositRequestSchema>;
export const DepositResponseSchema = z.strictObject({ stored: z.boolean(), version: z.number().int() });

export const ReleaseRequestSchema = z.strictObject({
  requestId: hex(16, "a request id"),
  /** The recovering device's temporary Ed25519 key; the piece is sealed to its X25519 form. */
  tempKey: hex(32, "a temporary public key"),
});
export const RequestResponseSchema = z.strictObject({
  requestId: z.string(),
  requestedAtMs: z.number().int(),
  releaseAtMs: z.number().int(),
});

export const CancelRequestSchema = z.strictObject({
  requestId: hex(16, "a request id"),
  signature: hex(64, "an Ed25519 signature"),
});
export const CancelResponseSchema = z.strictObject({ cancelled: z.boolean() });

export const CollectRequestSchema = z.strictObject({ requestId: hex(16, "a request id") });
export const CollectResponseSchema = z.strictObject({
  /** HPKE `enc | ciphertext` of the piece, to the request's temporary key, base64url. */
  sealed: z.string().max(512),
});

export const EscrowStatusSchema = z.strictObject({
  owner: z.string(),
  version: z.number().int(),
  delayMs: z.number().int(),
  withdrawn: z.boolean(),
  requests: z.array(
    z.strictObject({
      requestId: z.string(),
      requestedAtMs: z.number().int(),
      releaseAtMs: z.number().int(),
      cancelled: z.boolean(),
    }),
  ),
});
export type EscrowStatus = z.infer<typeof EscrowStatusSchema>;

const DOMAIN = "conclave/relay/escrow/v1";

/** What the owner signs to deposit (or withdraw: empty piece) at guardian `guardian`. */
export function depositSigningBytes(
  hash: (b: Uint8Array) => Uint8Array,
  instance: number,
  guardian: number,
  setId: Uint8Array,
  version: number,
  delayMs: number,
  piece: Uint8Array,
): Uint8Array {
  return new Writer(256)
    .bytes(utf8.encode(`${DOMAIN}/deposit`))
    .u32(instance)
    .u32(guardian)
    .fixed(setId, 16)
    .u64(version)
    .u64(delayMs)
    .fixed(hash(piece), 32)
    .finish();
}

/** What the owner signs to cancel one request at one guardian (so it replays nowhere else). */
export function cancelSigningBytes(
  instance: number,
  guardian: number,
  setId: Uint8Array,
  requestId: Uint8Array,
): Uint8Array {
  return new Writer(128)
    .bytes(utf8.encode(`${DOMAIN}/cancel`))
    .u32(instance)
    .u32(guardian)
    .fixed(setId, 16)
    .fixed(requestId, 16)
    .finish();
}

/** HPKE info of a released piece: bound to the set, the request and the guardian that released it. */
export function releaseInfo(setId: Uint8Array, requestId: Uint8Array, guardian: number): Uint8Array {
  return new Writer(96)
    .bytes(utf8.encode(`${DOMAIN}/release`))
    .fixed(setId, 16)
    .fixed(requestId, 16)
    .u32(guardian)
    .finish();
}
