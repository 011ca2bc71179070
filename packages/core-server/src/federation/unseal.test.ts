import { SealError, parseFederationConfig, sealTo, toHex, utf8 } from "@conclave/core-common";
import type { Sealed } from "@conclave/core-common";
import { describe, expect, it } from "vitest";
import { ed25519PublicKeyOf, sha256 } from "../node-crypto.js";
import { federationId } from "@conclave/core-common";
import { sealOpener } from "./unseal.js";

const seeds = [1, 2, 3, 4].map((n) => new Uint8Array(32).fill(n));
const federation = parseFederationConfig({
  version: 1,
  name: "seal test",
  guardians: seeds.map((s, i) => ({
    name: `g${i}`,
    publicKey: toHex(ed25519PublicKeyOf(s)),
    p2p: { host: "127.0.0.1", port: 1000 + i },
    api: { url: `http://127.0.0.1:${2000 + i}` },
  })),
  consensus: { heightsPerSession: 8 },
});
const fid = federationId(federation, sha256);
const PURPOSE = "monero/claim";
const message = utf8.encode("claim bytes");

const openerAt = (self: number, instanceId = 2) =>
  sealOpener({ federation, federationId: fid, self, secretSeed: seeds[self]!, instanceId });

const sealFor = (guardian: number, change: Partial<Sealed> = {}) =>
  sealTo(
    ed25519PublicKeyOf(seeds[guardian]!),
    { federationId: fid, instanceId: 2, guardian },
    PURPOSE,
    message,
  ).then((s): Sealed => ({ ...s, ...change }));

async function refusal(p: Promise<unknown>): Promise<SealError> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(SealError);
  return e as SealError;
}

describe("sealOpener (the guardian's unseal capability)", () => {
  it("opens a message sealed to this guardian for this module instance", async () => {
    expect(await openerAt(2)(await sealFor(2), PURPOSE)).toEqual(message);
  });

  it("refuses a message for another guardian, naming that guardian and where to reach it", async () => {
    const e = await refusal(openerAt(1)(await sealFor(2), PURPOSE));
    expect(e.code).toBe("misdirected_sealed");
    expect(e.message).toContain("for guardian 2 (g2, http://127.0.0.1:2002)");
    expect(e.message).toContain("send it to guardian 2");
    expect(e.details).toEqual({ guardian: 2, name: "g2", url: "http://127.0.0.1:2002" });
  });

  it("refuses a guardian index the federation does not have", async () => {
    const e = await refusal(openerAt(1)(await sealFor(2, { guardian: 9 }), PURPOSE));
    expect(e.code).toBe("misdirected_sealed");
    expect(e.message).toContain("which this federation does not have (4 guardians)");
  });

  it("refuses a message for another federation or another module instance", async () => {
    const other = await refusal(openerAt(2)(await sealFor(2, { federationId: new Uint8Array(32) }), PURPOSE));
    expect(other.code).toBe("misdirected_sealed");
    expect(other.message).toContain("another federation");
    const instance = await refusal(openerAt(2, 3)(await sealFor(2), PURPOSE));
    expect(instance.code).toBe("misdirected_sealed");
    expect(instance.message).toContain("module instance 2");
  });

  it("refuses a message whose header was rewritten to name this guardian (it does not open)", async () => {
    const e = await refusal(openerAt(1)(await sealFor(2, { guardian: 1 }), PURPOSE));
    expect(e.code).toBe("unsealable");
  });
});
