import { z } from "zod";
import { DummyServerModule } from "./server.js";

const amount = z.string().regex(/^\d{1,20}$/, "an amount in base units, as a decimal string");
const configSchema = z.strictObject({ faucetAmountMax: amount, feePerInput: amount });

/** Builds the dummy module from its federation-config entry (validated: config comes from a file). */
export function dummyModuleFactory(instanceId: number, config: Record<string, unknown>): DummyServerModule {
  const c = configSchema.parse(config);
  return new DummyServerModule(instanceId, {
    faucetAmountMax: BigInt(c.faucetAmountMax),
    feePerInput: BigInt(c.feePerInput),
  });
}
