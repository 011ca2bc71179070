// TEST ONLY: what the factory tests share (factory.test.ts, payout-byzantine.test.ts): a 4-guardian
// federation running one monero module (instance 2), the local settings a guardian gives it, and
// building that guardian's modules from them, as the guardian does at start.
import { parseFederationConfig } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { instantiateModules } from "@conclave/core-server";
import type { ServerModule } from "@conclave/core-server";
import { moneroModuleFactory } from "./factory.js";

// A standard mainnet address (the Monero project's donation address).
export const ADDRESS =
  "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";

/** A guardian's local settings for the module: its own monerod and wallet-rpc (never reached here). */
export const LOCAL = { daemonUrl: "http://127.0.0.1:1", walletRpcUrl: "http://127.0.0.1:2" };

export function federation(environment: "production" | "dev"): FederationConfig {
  return parseFederationConfig({
    version: 1,
    name: "test",
    environment,
    guardians: Array.from({ length: 4 }, (_, i) => ({
      name: `guardian-${i}`,
      publicKey: String(i + 1).padStart(64, "0"),
      p2p: { host: "127.0.0.1", port: 30000 + i },
    })),
    consensus: { heightsPerSession: 16 },
    modules: [
      { instanceId: 2, kind: "monero", config: { network: "mainnet", address: ADDRESS, guardians: 4 } },
    ],
  });
}

/** The modules a guardian of `federation(environment)` builds with these local settings for the module. */
export function buildWithLocal(
  environment: "production" | "dev",
  local: Readonly<Record<string, unknown>>,
): ServerModule[] {
  return instantiateModules(federation(environment), { monero: moneroModuleFactory }, {}, { "2": local });
}
