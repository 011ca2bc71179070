// The test-only `testWalletNotFederation` (a guardian whose wallet is not its share of the
// federation's wallet reports no reserves) can never run in a production federation: it builds a
// test-only module, which the guardian refuses outside "dev" (as testByzantinePayout).
import { describe, expect, it } from "vitest";
import { parseFederationConfig } from "@conclave/core-common";
import { ModuleConfigError, instantiateModules } from "@conclave/core-server";
import { MoneroConfigError, moneroModuleFactory, parseMoneroLocal } from "./factory.js";

// A standard mainnet address (the Monero project's donation address).
const ADDRESS =
  "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const local = { daemonUrl: "http://127.0.0.1:1", walletRpcUrl: "http://127.0.0.1:2" };

function federation(environment: "production" | "dev") {
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

describe("a guardian whose wallet is not the federation's (testWalletNotFederation)", () => {
  it("is refused by a production federation and loads only in a dev one", () => {
    const notShare = { "2": { ...local, testWalletNotFederation: true } };
    const build = (environment: "production" | "dev") =>
      instantiateModules(federation(environment), { monero: moneroModuleFactory }, {}, notShare);
    expect(() => build("production")).toThrow(ModuleConfigError);
    expect(() => build("production")).toThrow(/test-only and refused in a production federation/);
    expect(build("dev")[0]!.testOnly).toBe(true);
  });

  it("takes only `true`", () => {
    expect(() => parseMoneroLocal({ ...local, testWalletNotFederation: false })).toThrow(MoneroConfigError);
  });
});
