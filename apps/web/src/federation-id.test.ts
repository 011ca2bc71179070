// The page's federation id (apps/web/page/federation-id.ts) against core-common's federationId, the
// one the guardians compute: equal for real configs (as GET /v1/federation serves them, after a JSON
// round trip), different once anything the id covers changes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { federationId, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { DEV_MODULES_WITH_MINT, writeLocalFederation } from "../../guardiand/src/index.js";
import { canonicalJson, federationIdOf } from "../page/federation-id.js";

const tmp = mkdtempSync(join(tmpdir(), "conclave-fedid-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BRIDGE = {
  instanceId: 3,
  kind: "bridge",
  config: {
    chainId: 31337,
    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    guardians: ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"],
    threshold: 2,
    confirmations: 1,
  },
};

const served = (c: FederationConfig): unknown => JSON.parse(JSON.stringify(c));
const coreId = (c: FederationConfig) => toHex(federationId(c, sha256));

describe("the page's federation id", () => {
  it("equals core-common's for real configs of 1, 4 and 7 guardians, with and without a bridge", async () => {
    for (const [n, modules] of [
      [1, DEV_MODULES_WITH_MINT],
      [4, [...DEV_MODULES_WITH_MINT, BRIDGE]],
      [7, [BRIDGE]],
    ] as const) {
      const { config } = await writeLocalFederation(join(tmp, `f${n}`), n, { heightsPerSession: 8 }, [
        ...modules,
      ]);
      expect(federationIdOf(served(config))).toBe(coreId(config));
    }
  });

  it("changes when a guardian key, the consensus, the environment or a module's config changes; not with names or URLs", async () => {
    const { config } = await writeLocalFederation(join(tmp, "g"), 4, { heightsPerSession: 8 }, [
      ...DEV_MODULES_WITH_MINT,
      BRIDGE,
    ]);
    const id = federationIdOf(served(config));
    const variant = (f: (c: FederationConfig) => void) => {
      const c = structuredClone(config);
      f(c);
      return federationIdOf(served(c));
    };
    expect(variant((c) => (c.guardians[2]!.publicKey = "ab".repeat(32)))).not.toBe(id);
    expect(variant((c) => (c.consensus.heightsPerSession = 9))).not.toBe(id);
    expect(variant((c) => (c.environment = c.environment === "dev" ? "production" : "dev"))).not.toBe(id);
    expect(
      variant((c) => ((c.modules[2]!.config as { contract: string }).contract = "0x" + "11".repeat(20))),
    ).not.toBe(id);
    // Not covered by the id (docs/web.md says so): names and API URLs.
    expect(variant((c) => (c.guardians[1]!.name = "someone else"))).toBe(id);
    expect(variant((c) => (c.guardians[1]!.api = { url: "http://127.0.0.1:1" }))).toBe(id);
  });

  it("refuses a config without what the id needs, and sorts keys as core-common does", () => {
    expect(() => federationIdOf({ guardians: [{ publicKey: "zz" }] })).toThrow(
      /heightsPerSession|public key/,
    );
    expect(() => federationIdOf(null)).toThrow(/no guardian list/);
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: "x" }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });
});
