// The test-only `testWalletNotFederation` (a guardian whose wallet is not its share of the
// federation's wallet reports no reserves) can never run in a production federation: it builds a
// test-only module, which the guardian refuses outside "dev" (as testByzantinePayout).
import { describe, expect, it } from "vitest";
import { ModuleConfigError } from "@conclave/core-server";
import { MoneroConfigError, parseMoneroLocal } from "./factory.js";
import { LOCAL, buildWithLocal } from "./factory-fixtures.js";

describe("a guardian whose wallet is not the federation's (testWalletNotFederation)", () => {
  it("is refused by a production federation and loads only in a dev one", () => {
    const notShare = { ...LOCAL, testWalletNotFederation: true };
    expect(() => buildWithLocal("production", notShare)).toThrow(ModuleConfigError);
    expect(() => buildWithLocal("production", notShare)).toThrow(
      /test-only and refused in a production federation/,
    );
    expect(buildWithLocal("dev", notShare)[0]!.testOnly).toBe(true);
  });

  it("takes only `true`", () => {
    expect(() => parseMoneroLocal({ ...LOCAL, testWalletNotFederation: false })).toThrow(MoneroConfigError);
  });
});
