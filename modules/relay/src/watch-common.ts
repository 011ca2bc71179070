// Watch and push: wire formats shared by the relay's server and client halves (browser-safe).
//
// A client names what it waits for as (kind, key): "tx" (a federation transaction: its status and
// outcomes, the operation's result), "monero-tx" (a Monero txid's depth on this guardian's own node,
// no view key), "wxmr-mint" / "wxmr-burn" (the bridge). It is told the state now, then every change
// (Cashu NUT-17's rule), over one of three channels:
//   - WebSocket /v1/modules/relay/ws: {"type":"watch","id","kind","key"} -> "watching", "state"...;
//   - webhook: a signed POST (Standard Webhooks headers) to the client's own server, retried;
//   - Web Push (RFC 8030/8291/8292): a wake-up of constant size and content; the client then asks
//     POST watch/states what changed. The push service learns only that something happened.
import { z } from "zod";

/** Watches one WebSocket connection may hold. */
export const WATCHES_PER_CONNECTION_MAX = 64;
/** Watches one webhook or push registration may hold, and one states request may ask about. */
export const WATCHES_PER_REGISTRATION_MAX = 64;
/** Longest a webhook or push registration lives without renewal (7 days). */
export const REGISTRATION_TTL_SECONDS_MAX = 7 * 24 * 3600;
/** The wake-up's plaintext: always these bytes, whatever happened (RFC 8291 encrypts it). */
export const WAKE_PAYLOAD = "conclave-wake-v1".padEnd(64, ".");
/** The push Topic (RFC 8030 5.4): an undelivered wake-up is replaced by the next one. */
export const WAKE_TOPIC = "conclave-wake";

export const WatchKindSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,32}$/, "a watch kind: tx, monero-tx, wxmr-mint or wxmr-burn");
export const WatchKeySchema = z
  .string()
  .regex(/^[0-9A-Za-z:_-]{1,128}$/, "a watch key: up to 128 characters of [0-9A-Za-z:_-]");
export const WatchTargetSchema = z.strictObject({ kind: WatchKindSchema, key: WatchKeySchema });
export type WatchTarget = z.output<typeof WatchTargetSchema>;

export const WatchIdSchema = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, "a watch id: 1-64 of [0-9A-Za-z_-]");

/** What a client sends on /v1/modules/relay/ws. */
export const WatchClientMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("watch"), id: WatchIdSchema, kind: WatchKindSchema, key: WatchKeySchema }),
  z.strictObject({ type: z.literal("unwatch"), id: WatchIdSchema }),
  /** The client's keep-alive (browsers cannot send WebSocket pings): answered by "pong". */
  z.strictObject({ type: z.literal("ping") }),
]);
export type WatchClientMessage = z.output<typeof WatchClientMessageSchema>;

/** What the guardian sends on /v1/modules/relay/ws. */
export const WatchServerMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("watching"), id: WatchIdSchema }),
  z.object({ type: z.literal("unwatched"), id: WatchIdSchema }),
  z.object({ type: z.literal("pong") }),
  z.object({
    type: z.literal("state"),
    id: WatchIdSchema,
    kind: WatchKindSchema,
    key: WatchKeySchema,
    state: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal("error"),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type WatchServerMessage = z.output<typeof WatchServerMessageSchema>;

const watchList = z.array(WatchTargetSchema).min(1).max(WATCHES_PER_REGISTRATION_MAX);
const ttl = z.number().int().min(60).max(REGISTRATION_TTL_SECONDS_MAX).optional();

export const WebhookRegisterRequestSchema = z.strictObject({
  /** Where to POST: https, or an origin this guardian's operator allowed; never this host or a private address. */
  url: z.string().max(2048),
  watches: watchList,
  ttlSeconds: ttl,
});
export const RegisteredSchema = z.strictObject({
  id: z.string(),
  /** Proves the registration is yours (delete); for a webhook also the Standard Webhooks signing secret. */
  secret: z.string(),
  expiresAtMs: z.number().int(),
});
export type Registered = z.output<typeof RegisteredSchema>;

export const PushSubscriptionSchema = z.strictObject({
  endpoint: z.string().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({
    p256dh: z.string().max(128),
    auth: z.string().max(64),
  }),
});
export type PushSubscriptionJson = z.output<typeof PushSubscriptionSchema>;

export const PushRegisterRequestSchema = z.strictObject({
  subscription: PushSubscriptionSchema,
  watches: watchList,
  ttlSeconds: ttl,
});

export const RegistrationParamsSchema = z.strictObject({ id: z.string().regex(/^[0-9a-f]{32}$/) });
export const DeleteRegistrationRequestSchema = z.strictObject({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{1,64}$/),
});
export const DeletedSchema = z.strictObject({ deleted: z.boolean() });

export const StatesRequestSchema = z.strictObject({ watches: watchList });
export const StatesResponseSchema = z.strictObject({
  states: z.array(
    z.strictObject({
      kind: WatchKindSchema,
      key: WatchKeySchema,
      state: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

export const PushKeyResponseSchema = z.strictObject({
  /** This guardian's VAPID public key (P-256, base64url): the applicationServerKey to subscribe with. */
  vapidPublicKey: z.string(),
});

/** The body of a webhook POST (signed with the registration's secret, Standard Webhooks headers). */
export const WebhookBodySchema = z.strictObject({
  type: z.literal("state"),
  registration: z.string(),
  guardian: z.number().int(),
  kind: WatchKindSchema,
  key: WatchKeySchema,
  state: z.record(z.string(), z.unknown()),
});
export type WebhookBody = z.output<typeof WebhookBodySchema>;
