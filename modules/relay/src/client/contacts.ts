// Contact cards: what two people exchange (by QR code or as text) to write to each other's inbox.
// A card names the inbox key, the federation whose guardians hold the inbox, a delivery secret (from
// which the holder derives a different token for every guardian), optionally a Monero address or an
// e-cash receiving key, the guardians' API URLs, and is signed by the inbox key. Its fingerprint is what two people compare.
//
//   text = "ccard1" + base64url(UTF-8 JSON of the card)
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64UrlDecode, base64UrlEncode, fromHex, toHex, utf8 } from "@conclave/core-common";
import { ClientError } from "@conclave/core-client";
import { z } from "zod";

export const CARD_PREFIX = "ccard1";
export const CARD_CHARS_MAX = 6144;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));

const CardBodySchema = z.strictObject({
  v: z.literal(1),
  name: z.string().min(1).max(64),
  inbox: hex(32),
  federationId: hex(32),
  delivery: hex(16),
  address: z.string().max(200).optional(),
  /** The guardians' API URLs, so that a holder of the card knows where the inbox is. */
  guardians: z.array(z.string().max(160)).max(16).optional(),
});
export type CardBody = z.infer<typeof CardBodySchema>;
const CardSchema = CardBodySchema.extend({ sig: hex(64) });
export type ContactCard = z.infer<typeof CardSchema>;

function signingBytes(body: CardBody): Uint8Array {
  // Fixed field order (the schema's), so that signer and verifier hash the same bytes.
  const ordered = {
    v: body.v,
    name: body.name,
    inbox: body.inbox,
    federationId: body.federationId,
    delivery: body.delivery,
    ...(body.address === undefined ? {} : { address: body.address }),
    ...(body.guardians === undefined ? {} : { guardians: body.guardians }),
  };
  return utf8.encode(`conclave/relay/card/v1|${JSON.stringify(ordered)}`);
}

export function signCard(body: CardBody, inboxSeed: Uint8Array): ContactCard {
  return { ...body, sig: toHex(ed25519.sign(signingBytes(body), inboxSeed)) };
}

export function encodeCard(card: ContactCard): string {
  return CARD_PREFIX + base64UrlEncode(utf8.encode(JSON.stringify(card)));
}

const bad = (message: string) => new ClientError("bad_card", message);

/** Parses and verifies a card's text; throws ClientError("bad_card") saying what is wrong. */
export function decodeCard(text: string): ContactCard {
  const t = text.replace(/\s+/g, "");
  if (t.length > CARD_CHARS_MAX) throw bad(`a contact card is at most ${CARD_CHARS_MAX} characters`);
  if (!t.startsWith(CARD_PREFIX)) throw bad(`a contact card starts with ${CARD_PREFIX}`);
  const decoded = base64UrlDecode(t.slice(CARD_PREFIX.length));
  if (!decoded.ok) throw bad(`the card is damaged at character ${decoded.position + CARD_PREFIX.length}`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(decoded.bytes));
  } catch {
    throw bad("the card is damaged (not JSON)");
  }
  const r = CardSchema.safeParse(value);
  if (!r.success) throw bad(`the card is not a contact card: ${r.error.issues[0]?.message ?? "bad shape"}`);
  const { sig, ...body } = r.data;
  if (!ed25519.verify(fromHex(sig), signingBytes(body), fromHex(body.inbox)))
    throw bad("the card's signature does not verify: it was changed after its owner signed it");
  return r.data;
}

/** What two people read to each other to check they hold the same card: 5 groups of 4 hex digits. */
export function fingerprint(inbox: string): string {
  const h = toHex(sha256(utf8.encode(`conclave/relay/fingerprint/v1|${inbox}`))).slice(0, 20);
  return h.match(/.{4}/g)!.join(" ");
}
