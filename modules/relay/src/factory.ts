import { z } from "zod";
import { RelayServerModule } from "./server/server.js";

// The relay needs no federation-wide settings today; the entry is an empty object so that a later
// field (e.g. a postage price) is an explicit config change, and unknown fields are refused.
const configSchema = z.strictObject({});

/** Builds the relay module from its federation-config entry (validated: config comes from a file). */
export function relayModuleFactory(instanceId: number, config: Record<string, unknown>): RelayServerModule {
  configSchema.parse(config);
  return new RelayServerModule(instanceId);
}
