import { z } from "zod";
import { RelayServerModule } from "./server/server.js";

// The relay needs no federation-wide settings today; the entry is an empty object so that a later
// field (e.g. a postage price) is an explicit config change, and unknown fields are refused.
const configSchema = z.strictObject({});

// This guardian's own settings (guardian.local.json), all optional: origins its webhooks and push
// requests may reach although they are not public https addresses (its operator's push gateway), and
// the VAPID subject (RFC 8292: a mailto: or https: contact for push services).
const localSchema = z.strictObject({
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
  configSchema.parse(config);
  const l = localSchema.parse(local);
  return new RelayServerModule(instanceId, {
    ...(l.outboundAllowedOrigins
      ? { outboundAllowedOrigins: l.outboundAllowedOrigins.map((u) => new URL(u).origin) }
      : {}),
    ...(l.vapidSubject ? { vapidSubject: l.vapidSubject } : {}),
  });
}
