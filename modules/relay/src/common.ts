// The relay module's wire formats and limits, shared by its server and client halves (browser-safe:
// no node: imports). The relay runs at every guardian with no consensus: each guardian keeps its own
// copy of what clients give it, and clients write to several guardians and read from several, so that
// no one guardian is a point of failure or of observation (docs/relay.md).
//
// Binary fields travel as lowercase hex (keys, ids, signatures, tokens) or base64url without padding
// (items, ciphertexts). Every request that reads or deletes an inbox carries a signature by the inbox
// key over `authSigningBytes(...)`, bound to a single-use challenge this guardian issued.
import { Writer, utf8 } from "@conclave/core-common";
import { z } from "zod";

export const RELAY_KIND = "relay";

/** Largest mailbox item a guardian stores (bytes, decoded): the largest padding bucket. */
export const MAILBOX_ITEM_BYTES_MAX = 8192;
/** Items one fetch answers with at most (8 KiB items as base64url: under 400 KB a page). */
export const FETCH_ITEMS_MAX = 32;
/** Ids one acknowledgement deletes at most. */
export const ACK_IDS_MAX = 64;
/** Delivery-token hashes one tokens request adds or removes at most. */
export const TOKEN_CHANGES_MAX = 64;
/** Largest recovery-store ciphertext (the largest padding bucket, docs/relay.md). */
export const RECOVERY_CIPHERTEXT_BYTES_MAX = 64 * 1024;

const hex = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${what}: ${bytes} bytes as lowercase hex`);
const base64url = (bytesMax: number, what: string) =>
  z
    .string()
    .max(Math.ceil((bytesMax * 4) / 3))
    .regex(/^[A-Za-z0-9_-]+$/, `${what}: base64url without padding`);

export const InboxIdSchema = hex(32, "an inbox id (the inbox's Ed25519 public key)");
export const InboxParamsSchema = z.strictObject({ inbox: InboxIdSchema });
export const ItemIdSchema = hex(32, "an item id (SHA-256 of the item)");
export const TokenSchema = hex(16, "a delivery token");
export const TokenHashSchema = hex(32, "a delivery token's SHA-256");
export const ChallengeSchema = hex(40, "a challenge from this guardian");
export const SignatureSchema = hex(64, "an Ed25519 signature");

export const ChallengeRequestSchema = z.strictObject({});
export const ChallengeResponseSchema = z.strictObject({
  challenge: ChallengeSchema,
  expiresAtMs: z.number().int().nonnegative(),
});

export const PutItemRequestSchema = z.strictObject({
  /** The sender's delivery token for this guardian; needed once the inbox registered any. */
  token: TokenSchema.optional(),
  item: base64url(MAILBOX_ITEM_BYTES_MAX, "item"),
});
export const PutItemResponseSchema = z.strictObject({
  id: ItemIdSchema,
  /** False when this guardian already held the same item (de-duplicated by hash). */
  stored: z.boolean(),
});

const authFields = { challenge: ChallengeSchema, signature: SignatureSchema };
export const FetchRequestSchema = z.strictObject({
  ...authFields,
  /** Resume after this id (items are served in id order, which says nothing about arrival). */
  after: ItemIdSchema.optional(),
});
export const FetchResponseSchema = z.strictObject({
  items: z
    .array(z.strictObject({ id: ItemIdSchema, item: base64url(MAILBOX_ITEM_BYTES_MAX, "item") }))
    .max(FETCH_ITEMS_MAX),
  more: z.boolean(),
});
export const AckRequestSchema = z.strictObject({
  ...authFields,
  ids: z.array(ItemIdSchema).min(1).max(ACK_IDS_MAX),
});
export const AckResponseSchema = z.strictObject({ deleted: z.number().int().nonnegative() });
export const TokensRequestSchema = z.strictObject({
  ...authFields,
  add: z.array(TokenHashSchema).max(TOKEN_CHANGES_MAX),
  remove: z.array(TokenHashSchema).max(TOKEN_CHANGES_MAX),
});
export const TokensResponseSchema = z.strictObject({ tokens: z.number().int().nonnegative() });

export const RecoveryParamsSchema = z.strictObject({ id: hex(32, "a recovery record id (its Ed25519 key)") });
export const EmptyRequestSchema = z.strictObject({});

export type AuthAction = "fetch" | "ack" | "tokens";

/**
 * What the inbox key signs to read, acknowledge or change tokens at one guardian: the domain, the
 * action, where (module instance, guardian), the inbox, the guardian's single-use challenge and the
 * hash of the request's arguments. A signature made for one guardian, action or argument list is
 * worth nothing for another.
 */
export function authSigningBytes(
  hash: (m: Uint8Array) => Uint8Array,
  action: AuthAction,
  instanceId: number,
  guardian: number,
  inbox: Uint8Array,
  challenge: Uint8Array,
  args: Uint8Array,
): Uint8Array {
  return new Writer()
    .bytes(utf8.encode("conclave/relay/auth/v1"))
    .bytes(utf8.encode(action))
    .u16(instanceId)
    .u8(guardian)
    .fixed(inbox, 32)
    .fixed(challenge, 40)
    .fixed(hash(args), 32)
    .finish();
}

/** The arguments a fetch, ack or tokens request signs (length-prefixed, in order). */
export function authArgs(parts: readonly string[]): Uint8Array {
  const w = new Writer();
  for (const p of parts) w.bytes(utf8.encode(p));
  return w.finish();
}
