// The test-only Byzantine last signer can never run in a production federation: a guardian whose
// local settings ask for it builds a test-only module, which the guardian refuses outside "dev".
import { describe, expect, it } from "vitest";
import { ModuleConfigError } from "@conclave/core-server";
import { MoneroConfigError, parseMoneroLocal } from "./factory.js";
import { LOCAL, buildWithLocal } from "./factory-fixtures.js";

describe("the test-only Byzantine last signer (testByzantinePayout)", () => {
  it("is refused by a production federation and loads only in a dev one", () => {
    const byzantine = { ...LOCAL, testByzantinePayout: "silent" };
    expect(() => buildWithLocal("production", byzantine)).toThrow(ModuleConfigError);
    expect(() => buildWithLocal("production", byzantine)).toThrow(
      /test-only and refused in a production federation/,
    );
    expect(buildWithLocal("dev", byzantine)[0]!.testOnly).toBe(true);
    // An honest guardian's module is not test-only: it loads anywhere.
    expect(buildWithLocal("production", LOCAL)[0]!.testOnly).toBe(false);
  });

  it("takes only the modes it knows", () => {
    expect(() => parseMoneroLocal({ ...LOCAL, testByzantinePayout: "steal" })).toThrow(MoneroConfigError);
  });
});
