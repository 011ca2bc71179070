// The relay's watch routes: webhook and Web Push registrations, this guardian's VAPID key, and the
// states a client fetches after a wake-up. Each guardian answers alone (no consensus).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RateLimitedError } from "@conclave/core-common";
import type { ModuleApiEndpoint, WatchFn } from "@conclave/core-server";
import { TokenBuckets } from "@conclave/core-server";
import webpush from "web-push";
import { z } from "zod";
import {
  DeleteRegistrationRequestSchema,
  DeletedSchema,
  PushKeyResponseSchema,
  PushRegisterRequestSchema,
  REGISTRATION_TTL_SECONDS_MAX,
  RegisteredSchema,
  RegistrationParamsSchema,
  StatesRequestSchema,
  StatesResponseSchema,
  WebhookRegisterRequestSchema,
} from "../watch-common.js";
import { EmptyRequestSchema } from "../common.js";
import type { PushRegistrations, VapidKeys } from "./push.js";
import { parseOrRefuse } from "./watch-socket.js";

/** This guardian's VAPID keys: made once, kept in the module's data directory (mode 0600). */
export function loadVapidKeys(dataDir: string, subject: string): VapidKeys {
  const file = join(dataDir, "vapid.json");
  const schema = z.strictObject({ publicKey: z.string(), privateKey: z.string() });
  if (existsSync(file)) return { ...schema.parse(JSON.parse(readFileSync(file, "utf8"))), subject };
  const keys = webpush.generateVAPIDKeys();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return { ...keys, subject };
}

/** States one client network may fetch per minute (each answers up to 64 watches). */
const STATES_PER_CLIENT_PER_MINUTE = 120;

export function watchEndpoints(
  push: () => PushRegistrations,
  vapid: () => VapidKeys,
  watch: () => WatchFn,
  now: () => number,
): ModuleApiEndpoint[] {
  const statesBuckets = new TokenBuckets({
    perSecond: STATES_PER_CLIENT_PER_MINUTE / 60,
    burst: STATES_PER_CLIENT_PER_MINUTE,
    now,
  });
  const ttl = (s: number | undefined) => s ?? REGISTRATION_TTL_SECONDS_MAX;
  return [
    {
      method: "POST",
      path: "watch/webhooks",
      summary: "Register a webhook for watches: a signed POST at every change (retried with back-off)",
      body: WebhookRegisterRequestSchema,
      response: RegisteredSchema,
      handle: ({ body, client = "unknown" }) => {
        const b = parseOrRefuse(WebhookRegisterRequestSchema.safeParse(body), "body");
        return push().webhook(client, b.url, b.watches, ttl(b.ttlSeconds));
      },
    },
    {
      method: "POST",
      path: "watch/push/key",
      summary: "This guardian's VAPID public key (the applicationServerKey of a push subscription for it)",
      body: EmptyRequestSchema,
      response: PushKeyResponseSchema,
      handle: ({ body }) => {
        parseOrRefuse(EmptyRequestSchema.safeParse(body), "body");
        return { vapidPublicKey: vapid().publicKey };
      },
    },
    {
      method: "POST",
      path: "watch/push",
      summary: "Register a Web Push subscription for watches: a content-free wake-up at every change",
      body: PushRegisterRequestSchema,
      response: RegisteredSchema,
      handle: ({ body, client = "unknown" }) => {
        const b = parseOrRefuse(PushRegisterRequestSchema.safeParse(body), "body");
        return push().push(client, b.subscription, b.watches, ttl(b.ttlSeconds));
      },
    },
    {
      method: "POST",
      path: "watch/registrations/:id/delete",
      summary: "Delete a webhook or push registration (with the secret its registration returned)",
      params: RegistrationParamsSchema,
      body: DeleteRegistrationRequestSchema,
      response: DeletedSchema,
      handle: ({ params, body }) => {
        const { id } = parseOrRefuse(RegistrationParamsSchema.safeParse(params), "path");
        const b = parseOrRefuse(DeleteRegistrationRequestSchema.safeParse(body), "body");
        return { deleted: push().delete(id, b.secret) };
      },
    },
    {
      method: "POST",
      path: "watch/states",
      summary: "What this guardian knows now of up to 64 watches (null: nothing yet)",
      body: StatesRequestSchema,
      response: StatesResponseSchema,
      handle: async ({ body, client = "unknown" }) => {
        const waitMs = statesBuckets.take(client);
        if (waitMs > 0) throw new RateLimitedError(waitMs);
        const b = parseOrRefuse(StatesRequestSchema.safeParse(body), "body");
        const w = watch();
        const states = await Promise.all(
          b.watches.map(async (t) => {
            const h = w(t.kind, t.key, () => {});
            try {
              const s = await h.current();
              return { kind: t.kind, key: t.key, state: s === undefined ? null : { ...s } };
            } finally {
              h.unsubscribe();
            }
          }),
        );
        return { states };
      },
    },
  ];
}
