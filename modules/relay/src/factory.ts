import { z } from "zod";
import { RelayServerModule } from "./server/server.js";
import { DEFAULT_PUSH_LIMITS } from "./server/push.js";

// The relay's federation-wide settings; unknown fields are refused. `escrowDelayMsMin`: the shortest
// delay before a guardian releases its piece of a federation-held shard (default 1 day; dev and
// tests lower it).
const configSchema = z.strictObject({ escrowDelayMsMin: z.number().int().min(0).optional() });

// This guardian's own settings (guardian.local.json), all optional: origins its webhooks and push
// requests may reach although they are not public https addresses (its operator's push gateway), and
// the VAPID subject (RFC 8292: a mailto: or https: contact for push services), and the mean number of
// cover wake-ups per push registration per day (push.ts; default 4, 0 turns them off).
const localSchema = z.strictObject({
  coverWakeupsPerDay: z.number().min(0).max(1440).optional(),
  outboundAllowedOrigins: z.array(z.string().url()).max(16).optional(),
  vapidSubject: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, "a mailto: or https: URL")
    .optional(),
});

/** Builds the relay module from its federation-config entry (validated: config comes from a file). */
export function relayModuleFactory(
  instanceId: number,
  config: Record<string, unknown>,
  _shares: readonly bigint[] = [],
  local: Readonly<Record<string, unknown>> = {},
): RelayServerModule {
  const c = configSchema.parse(config);
  const l = localSchema.parse(local);
  return new RelayServerModule(instanceId, {
    limits: {
      ...(c.escrowDelayMsMin === undefined ? {} : { escrowDelayMsMin: c.escrowDelayMsMin }),
      ...(l.coverWakeupsPerDay === undefined
        ? {}
        : { push: { ...DEFAULT_PUSH_LIMITS, coverWakeupsPerDay: l.coverWakeupsPerDay } }),
    },
    ...(l.outboundAllowedOrigins
      ? { outboundAllowedOrigins: l.outboundAllowedOrigins.map((u) => new URL(u).origin) }
      : {}),
    ...(l.vapidSubject ? { vapidSubject: l.vapidSubject } : {}),
  });
}
